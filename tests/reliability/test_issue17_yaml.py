"""Issue 17, findings 2 and 4, and the rule "Files are read the way dvc reads them".

* Finding 4: two YAML readers (YAML 1.1 and 1.2) read the same files differently, depending on whether a
  file was read in the workspace or at a git revision. Now one reader, ``tide.core.yamlio``, with the
  semantics of dvc's (ruamel.yaml ``typ="safe"``), compared here with ruamel itself in dvc's venv; a lint
  test refuses any other YAML reader in tide's sources.
* Finding 2: a dvc.lock with a misspelt key (``mdd5:``) was accepted, the output looked hashless and
  ``tide gc -w -f`` removed the only copy of its object. Now ``.dvc``, ``dvc.yaml`` and ``dvc.lock`` are
  checked against dvc's schemas (``tide.core.dvcschema``); a matrix of malformed files is given to real
  dvc 3.67.1 and to tide, which must accept and refuse the same ones.
"""

from __future__ import annotations

import ast
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.conftest import dvc_bin, git
from tide.core import yamlio
from tide.core.errors import FileFormatError

SRC = Path(__file__).resolve().parents[2] / "src" / "tide"

# --- finding 4: one reader, dvc's semantics ----------------------------------------------------------

# what both sides print for a parsed document: types spelled out, so 755 and '755' and 0o755 differ
CANON = r'''
import datetime, math
def canon(v):
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", str(v)]
    if isinstance(v, float): return ["float", "nan" if math.isnan(v) else repr(v)]
    if isinstance(v, str): return ["str", v]
    if v is None: return ["null"]
    if isinstance(v, (datetime.datetime, datetime.date)): return [type(v).__name__, v.isoformat()]
    if isinstance(v, bytes): return ["bytes", v.hex()]
    if isinstance(v, dict): return ["map", [[canon(k), canon(x)] for k, x in v.items()]]
    if isinstance(v, (list, tuple)): return ["seq", [canon(x) for x in v]]
    return ["other", type(v).__name__]
'''

ORACLE = CANON + r'''
import json, sys
from ruamel.yaml import YAML
out = []
for text in json.load(sys.stdin):
    try:
        out.append(canon(YAML(typ="safe").load(text)))  # dvc/utils/serialize/_yaml.py: parse_yaml
    except Exception as exc:
        out.append(["error"])
json.dump(out, sys.stdout)
'''

SCALARS = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "True", "TRUE", "tRue", "false", "null", "Null",
    "NULL", "nULL", "~", "", "0755", "0o755", "0x1F", "0b101", "0", "00", "09", "08", "-0", "+12", "1_000",
    "1__0", "_1", "0_7", "1e5", "1E-5", "1e-5", "-.5e3", ".5", "1.", "1.0", "3.14", ".inf", "-.inf", "+.inf",
    ".NaN", ".nan", "NaN", "inf", "1:20", "12:30:00", "1:20.5", "190:20:30", "2024-01-02", "2024-1-2",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "=", "0o", "0x", "-_", "._", "+", "-",
    "'0755'", '"yes"', "!!str 0755", "!!int 0755", "!!float 1", "!!bool yes", "a b", "x#y", "é",
    "3863d0e317dee0a55c4e59d2ec0eef33", "123e4567", "0e1234", "12e", "1_0.5", "0x_1", "1:2:3", "-1:20",
]


def _documents(rng: random.Random) -> list[str]:
    docs = []
    for s in SCALARS:
        docs.append(f"a: {s}\n")
        docs.append(f"- {s}\n")
        docs.append(f"{s}: x\n" if s else "? ''\n: x\n")
        docs.append(f"%YAML 1.1\n---\na: {s}\n")
    docs += [
        "a: 1\na: 2\n", "{a: 1, a: 2}\n", "- {a: 1, a: 1}\n", "a: 1\nA: 2\n", "1: a\n'1': b\n", "1: a\n01: b\n",
        "0x1: a\n1: b\n", "x: &a {k: 1}\ny:\n  <<: *a\n  k: 2\n", "x: &a {k: 1}\ny:\n  <<: *a\n  <<: *a\n",
        "x: &a {k: 1}\ny: &b {k: 3, j: 1}\nz:\n  <<: [*a, *b]\n", "a: 1\n---\nb: 2\n", "", "# c\n", "---\n",
        "a: !foo x\n", "? [1, 2]\n: x\n", "%YAML 1.2\n---\na: yes\n", "# c\n%YAML 1.1\n---\na: 0755\n",
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: yes\n",
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: data\n  path: other\n",
        "schema: '2.0'\nstages:\n  t:\n    cmd: echo\n    outs:\n    - path: 0755\n      md5: 1e5\n",
        "a: !!binary aGVsbG8=\n", "a:\n  b:\n    c: [1, {d: off}]\n",
        "\ufeffa: 1\n", "a: 1\r\nb: yes\r\n", "a:\tb\n", "a: |\n  x\n  y\n", "a: >\n  x\n  y\n",
        "a: 'it''s'\n", "a: \"\\x41\"\n", "- - 1\n  - 2\n", "a: &x [1]\nb: *x\n", "--- |\n  text\n",
        "a: b: c\n", "\t\n", "a: 1 # c\n", "a: 1\n...\n", "%TAG !e! tag:e.com,2000:\n---\na: 1\n",
        "%YAML 1.3\n---\na: yes\n", "a: \tb\n", "a:\t b\n", "-\tb\n", "a: [1,\t2]\n", "a: b\t\n", "a:\t\n",
        "a: b \t# c\n", "{a:\tb}\n", "a: b\tc\n", "a: 'b\tc'\n", "a: |\n  \tx\n", "a:\n\t- 1\n", "a: 1 #\tc\n",
        "a:\n  b: 1\n\t\n", "a: \"\t\"\n", "\ta: 1\n", "a: [\n\t1]\n",
        "%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "a: !!timestamp 2001-12-14\n",
        "a: b\x00\n", "a: b\x07\n", "a: b\x7f\n", "a: b\ufeffc\n", "a: \U0001F600\n",
        "a: \"\\U0001F600\"\n", "a: b\rc\n", "a: \x0b\n", "a: \ue000\n", "a: \ufffe\n",
    ]
    # known difference left: NEL, LS and PS (U+0085, U+2028, U+2029) inside a plain scalar break the line for
    # libyaml and PyYAML, not for ruamel (`a: b<U+2028>c`): tide refuses such a file, dvc reads it
    for _ in range(300):  # random nests of the scalars above
        keys = rng.sample([s for s in SCALARS if s and not s.startswith(("!", "'", '"'))], 3)
        vals = [rng.choice(SCALARS) for _ in range(3)]
        docs.append(f"{keys[0]}: {vals[0]}\n{keys[1]}:\n- {vals[1]}\n- {keys[2]}: {vals[2]}\n")
    return docs


def _canon(v):
    ns: dict = {}
    exec(CANON, ns)  # the same function the oracle runs
    return ns["canon"](v)


def test_issue17_f04_reader_reads_as_dvcs_ruamel():
    docs = _documents(random.Random(17))
    python = os.path.join(os.path.dirname(dvc_bin()), "python")
    proc = subprocess.run([python, "-c", ORACLE], input=json.dumps(docs), capture_output=True, text=True,
                          check=True)
    expected = json.loads(proc.stdout)
    mismatches = []
    for text, want in zip(docs, expected, strict=True):
        for read in (yamlio.loads, yamlio.load_full):  # with and without the fast path
            try:
                got = json.loads(json.dumps(_canon(read(text, "t.yaml"))))
            except FileFormatError as exc:
                assert "\n" not in str(exc) and str(exc).startswith("t.yaml: ")
                got = ["error"]
            if got != want:
                mismatches.append((text, read.__name__, got, want))
    assert not mismatches, "\n".join(map(repr, mismatches))


def test_issue17_f04_same_file_reads_the_same_in_workspace_and_at_a_revision(repo_dir, tide):
    """`path: yes` and a hash written as a plain number: one reading everywhere (was 'yes' in the
    workspace and True at a revision, so the same .dvc file named two different outputs)."""
    from tide.ops.index import collect, outs_at_rev
    from tide.workspace.repo import Repo

    (repo_dir / "yes").write_text("hello\n")
    tide("add", "yes", cwd=repo_dir)
    text = (repo_dir / "yes.dvc").read_text()
    assert "path: yes\n" in text  # written plain, as dvc writes it
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "yes")
    repo = Repo(str(repo_dir))
    ws = [t.out for t in collect(repo)]
    at_rev = outs_at_rev(repo, "HEAD")
    assert [o.path for o in ws] == [o.path for o in at_rev] == ["yes"]
    assert ws == at_rev
    tide("status", cwd=repo_dir)


def test_issue17_f04_duplicate_key_refused_in_one_line(repo_dir, tide):
    (repo_dir / "data.dvc").write_text(
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: data\n  path: other\n")
    proc = tide("status", cwd=repo_dir, check=False)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "data.dvc" in lines[0] and "duplicate key 'path'" in lines[0]


# the only module that may read YAML; examples are the user's own scripts, run in the user's environment
READER = SRC / "core" / "yamlio.py"
EXEMPT = {SRC / "example"}
YAML_READERS = {"load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all", "full_load_all",
                "unsafe_load_all", "compose", "compose_all", "parse", "scan", "SafeLoader", "CSafeLoader",
                "Loader", "CLoader", "FullLoader", "CFullLoader", "UnsafeLoader", "CUnsafeLoader", "BaseLoader",
                "CBaseLoader", "CParser", "Parser"}


def _reads_yaml(tree: ast.AST) -> list[str]:
    found = []
    modules = {"yaml", "_yaml"} | {a.asname for n in ast.walk(tree) if isinstance(n, ast.Import)
                                 for a in n.names if a.name == "yaml" and a.asname}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in YAML_READERS and isinstance(node.value, ast.Name) \
                and node.value.id in modules:
            found.append(f"yaml.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "parse" and isinstance(node.value, ast.Name) \
                and node.value.id == "yamlfast":
            found.append("yamlfast.parse")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module == "yaml" and names & YAML_READERS:
                found.append(f"from yaml import {sorted(names & YAML_READERS)}")
            if node.module.startswith("ruamel") or node.module == "tide.core.yamlfast" or \
                    (node.module == "tide.core" and "yamlfast" in names):
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import) and any(a.name.startswith("ruamel") for a in node.names):
            found.append("import ruamel")
    return found


def test_issue17_rule_one_yaml_reader_lint():
    """Close the class: nothing in tide (nor the fuzzers) reads YAML except tide.core.yamlio."""
    files = [p for p in SRC.rglob("*.py") if p != READER and not any(e in p.parents for e in EXEMPT)]
    files.append(Path(__file__).with_name("fuzzlib.py"))
    offenders = {}
    for p in files:
        found = _reads_yaml(ast.parse(p.read_text(encoding="utf-8")))
        if found:
            offenders[str(p)] = found
    assert not offenders, offenders
    # the lint itself finds what it is for
    assert _reads_yaml(ast.parse("import yaml\nyaml.safe_load(s)\n")) == ["yaml.safe_load"]
    assert _reads_yaml(ast.parse("yaml.load(s, Loader=yaml.CSafeLoader)\n"))
    assert _reads_yaml(ast.parse("from ruamel.yaml import YAML\n"))
    assert _reads_yaml(ast.parse("from tide.core import yamlfast\nyamlfast.parse(t)\n"))
    assert not _reads_yaml(ast.parse("import yaml\nyaml.safe_dump(d)\n"))
    assert _reads_yaml(ast.parse("import yaml as y\ny.load(s)\n"))


# --- finding 2: dvc's schemas, with dvc's strictness -------------------------------------------------
MD5 = "b1946ac92492d2347c6235b4d2611184"
OUT = f"- md5: {MD5}\n  size: 6\n  hash: md5\n  path: hello.txt\n"
PTR = "outs:\n" + OUT
STAGE_YAML = "stages:\n  t:\n    cmd: echo hi > b.txt\n    outs:\n    - b.txt\n"
LOCK_OUT = f"    - path: b.txt\n      hash: md5\n      md5: {MD5}\n      size: 3\n"
LOCK = "schema: '2.0'\nstages:\n  t:\n    cmd: echo hi > b.txt\n    outs:\n" + LOCK_OUT


def _lock(extra_out: str = "", extra_stage: str = "", top: str = "schema: '2.0'\n") -> str:
    return (f"{top}stages:\n  t:\n    cmd: echo hi > b.txt\n{extra_stage}    outs:\n" + LOCK_OUT + extra_out)


# (file name, text): real dvc decides whether the file is valid; tide must decide the same
MATRIX = {
    # .dvc files dvc accepts
    "dvc_plain": ("hello.txt.dvc", PTR),
    "dvc_legacy_no_hash": ("hello.txt.dvc", f"outs:\n- md5: {MD5}\n  size: 6\n  path: hello.txt\n"),
    "dvc_top_keys": ("hello.txt.dvc", f"md5: {MD5}\nfrozen: true\ndesc: d\nmeta:\n  a: 1\nwdir: .\n"
                     "always_changed: false\n" + PTR),
    "dvc_out_annotations": ("hello.txt.dvc", PTR + "  desc: d\n  type: model\n  labels:\n  - a\n  meta:\n    k: v\n"
                            "  cache: false\n  persist: true\n  remote: r\n  push: false\n"),
    "dvc_dir_isexec": ("d.dvc", f"outs:\n- md5: {MD5}.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: d\n"),
    "dvc_isexec": ("hello.txt.dvc", f"outs:\n- md5: {MD5}\n  size: 6\n  isexec: true\n  hash: md5\n"
                   "  path: hello.txt\n"),
    "dvc_cloud_versioning": ("hello.txt.dvc", PTR + "  cloud:\n    myremote:\n      version_id: v1\n"
                             "      etag: abcdef\n"),
    "dvc_worktree_files": ("d.dvc", f"outs:\n- md5: {MD5}.dir\n  size: 6\n  nfiles: 1\n  hash: md5\n  path: d\n"
                           f"  files:\n  - relpath: a.txt\n    md5: {MD5}\n    size: 6\n"
                           "    cloud:\n      r:\n        version_id: v1\n        etag: abc\n"),
    "dvc_import_url_deps": ("hello.txt.dvc", f"md5: {MD5}\nfrozen: true\ndeps:\n- md5: {MD5}\n  size: 6\n"
                            "  hash: md5\n  path: /tmp/src.txt\n" + PTR),
    "dvc_etag_version_id": ("hello.txt.dvc", PTR + "  etag: abcdef\n  version_id: v2\n"),
    "dvc_empty_md5": ("hello.txt.dvc", "outs:\n- md5: ''\n  path: hello.txt\n"),
    # .dvc files dvc refuses
    "dvc_typo_in_out": ("hello.txt.dvc", PTR.replace("  md5:", "  mdd5:").replace("- md5:", "- mdd5:")),
    "dvc_top_typo": ("hello.txt.dvc", PTR.replace("outs:", "out:") + "outs:\n" + OUT),
    "dvc_top_cmd": ("hello.txt.dvc", "cmd: echo\n" + PTR),
    "dvc_top_type": ("hello.txt.dvc", "type: model\n" + PTR),
    "dvc_top_labels": ("hello.txt.dvc", "labels:\n- a\n" + PTR),
    "dvc_size_word": ("hello.txt.dvc", PTR.replace("size: 6", "size: big")),
    "dvc_size_null": ("hello.txt.dvc", PTR.replace("size: 6", "size:")),
    "dvc_desc_number": ("hello.txt.dvc", PTR + "  desc: 1\n"),
    "dvc_labels_not_list": ("hello.txt.dvc", PTR + "  labels: a\n"),
    "dvc_cache_word": ("hello.txt.dvc", PTR + "  cache: maybe\n"),
    "dvc_cache_yes": ("hello.txt.dvc", PTR + "  cache: yes\n"),  # YAML 1.2: the string 'yes'
    "dvc_md5_short": ("hello.txt.dvc", "outs:\n- md5: ab\n  path: hello.txt\n"),
    "dvc_two_clouds": ("hello.txt.dvc", PTR + "  cloud:\n    a:\n      etag: abc\n    b:\n      etag: abc\n"),
    "dvc_cloud_typo": ("hello.txt.dvc", PTR + "  cloud:\n    a:\n      etagg: abc\n"),
    "dvc_files_no_relpath": ("d.dvc", f"outs:\n- md5: {MD5}.dir\n  hash: md5\n  path: d\n"
                             f"  files:\n  - md5: {MD5}\n"),
    "dvc_metric_key": ("hello.txt.dvc", PTR + "  metric: true\n"),
    "dvc_duplicate_key": ("hello.txt.dvc", PTR + "  path: other\n"),
    # dvc.lock files dvc accepts (with the dvc.yaml above)
    "lock_plain": ("dvc.lock", LOCK),
    "lock_params_deps": ("dvc.lock", _lock(extra_stage=f"    deps:\n    - path: a.txt\n      hash: md5\n"
                                           f"      md5: {MD5}\n      size: 6\n      isexec: true\n"
                                           "    params:\n      params.yaml:\n        lr: 0.1\n")),
    "lock_datasets": ("dvc.lock", "datasets:\n- name: x\n" + LOCK),
    "lock_cloud_files": ("dvc.lock", _lock(extra_out="      cloud:\n        r:\n          version_id: v\n")),
    "lock_legacy_entry": ("dvc.lock", LOCK.replace("      hash: md5\n", "")),
    # dvc.lock files dvc refuses
    "lock_typo_mdd5": ("dvc.lock", LOCK.replace("      md5:", "      mdd5:")),
    "lock_out_key": ("dvc.lock", _lock(extra_stage="    out:\n    - path: b.txt\n")),
    "lock_wdir": ("dvc.lock", _lock(extra_stage="    wdir: .\n")),
    "lock_cache_in_out": ("dvc.lock", _lock(extra_out="      cache: false\n")),
    "lock_no_schema": ("dvc.lock", _lock(top="")),
    "lock_schema_1": ("dvc.lock", _lock(top="schema: '1.0'\n")),
    "lock_schema_number": ("dvc.lock", _lock(top="schema: 2.0\n")),
    "lock_v1_format": ("dvc.lock", f"t:\n  cmd: echo hi > b.txt\n  outs:\n  - path: b.txt\n    md5: {MD5}\n"),
    "lock_empty": ("dvc.lock", ""),
    "lock_no_cmd": ("dvc.lock", LOCK.replace("    cmd: echo hi > b.txt\n", "")),
    "lock_no_path": ("dvc.lock", LOCK.replace("    - path: b.txt\n      hash", "    - hash")),
    "lock_size_word": ("dvc.lock", LOCK.replace("size: 3", "size: three")),
    "lock_params_flat": ("dvc.lock", _lock(extra_stage="    params:\n      lr: 0.1\n")),
    "lock_top_typo": ("dvc.lock", "stagess: {}\n" + LOCK),
    # dvc.yaml files dvc accepts
    "yaml_full_stage": ("dvc.yaml", "stages:\n  t:\n    cmd:\n    - echo a\n    - echo b\n    wdir: .\n"
                        "    deps:\n    - a.txt\n    params:\n    - lr\n    - other.yaml:\n      - k\n"
                        "    outs:\n    - o.bin:\n        cache: false\n        persist: true\n        push: false\n"
                        "        remote: r\n        desc: d\n        type: t\n        labels: [a]\n"
                        "        meta: {x: 1}\n    metrics:\n    - m.json:\n        cache: false\n"
                        "    plots:\n    - p.csv:\n        x: a\n        y: b\n        template: linear\n"
                        "        title: T\n        x_label: a\n        y_label: b\n        header: true\n"
                        "    frozen: false\n    always_changed: true\n    desc: d\n    meta: anything\n"),
    "yaml_top_keys": ("dvc.yaml", "vars:\n- n: 1\nparams:\n- p.yaml\nmetrics:\n- m.json\nplots:\n- p.csv\n"
                      "- id1:\n    x: a\n    y: [b, c]\n    template: linear\nartifacts:\n  model:\n"
                      "    path: model.pkl\n    type: model\n    desc: d\n    labels: [x]\n" + STAGE_YAML),
    "yaml_foreach": ("dvc.yaml", "stages:\n  t:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n"),
    "yaml_matrix": ("dvc.yaml", "stages:\n  t:\n    matrix:\n      m: [x, y]\n      n: [1, 2]\n"
                    "    cmd: echo ${item.m} ${item.n}\n"),
    "yaml_stage_vars": ("dvc.yaml", "stages:\n  t:\n    vars:\n    - v: 1\n    cmd: echo ${v}\n"),
    # dvc.yaml files dvc refuses
    "yaml_unknown_stage_key": ("dvc.yaml", STAGE_YAML + "    outz:\n    - c.txt\n"),
    "yaml_unknown_out_option": ("dvc.yaml", "stages:\n  t:\n    cmd: x\n    outs:\n    - o:\n        cach: false\n"),
    "yaml_frozen_word": ("dvc.yaml", STAGE_YAML + "    frozen: yes\n"),
    "yaml_frozen_interpolated": ("dvc.yaml", "vars:\n- f: true\n" + STAGE_YAML + "    frozen: ${f}\n"),
    "yaml_top_typo": ("dvc.yaml", "stagez: {}\n" + STAGE_YAML),
    "yaml_foreach_extra": ("dvc.yaml", "stages:\n  t:\n    foreach: [a]\n    do:\n      cmd: x\n    cmd: y\n"),
    "yaml_cmd_number": ("dvc.yaml", "stages:\n  t:\n    cmd: 123\n"),
    "yaml_artifact_no_path": ("dvc.yaml", "artifacts:\n  model:\n    type: model\n" + STAGE_YAML),
    "yaml_plot_empty": ("dvc.yaml", "plots:\n- {}\n" + STAGE_YAML),
    "yaml_deps_mapping": ("dvc.yaml", STAGE_YAML + "    deps:\n    - a.txt:\n        cache: false\n"),
    "yaml_out_none_options": ("dvc.yaml", "stages:\n  t:\n    cmd: x\n    outs:\n    - o:\n"),
}

DVC_ORACLE = r'''
import contextlib, io, json, os, sys
from dvc.cli import main
out = {}
for name, d in json.load(sys.stdin).items():
    os.chdir(d)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        out[name] = main(["status"])
json.dump(out, sys.stdout)
'''


def test_issue17_f02_strictness_matches_real_dvc(tmp_path, tide):
    """Each malformed (or unusual but valid) file: `dvc status` and `tide status` agree on valid/invalid."""
    template = tmp_path / "template"
    template.mkdir()
    git(template, "init", "-q")
    subprocess.run([dvc_bin(), "init", "-q"], cwd=template, check=True)
    dirs = {}
    for name, (fname, text) in MATRIX.items():
        d = tmp_path / name
        subprocess.run(["cp", "-a", str(template), str(d)], check=True)
        if fname == "dvc.lock":
            (d / "dvc.yaml").write_text(STAGE_YAML)
        (d / fname).write_text(text)
        dirs[name] = str(d)
    python = os.path.join(os.path.dirname(dvc_bin()), "python")
    proc = subprocess.run([python, "-c", DVC_ORACLE], input=json.dumps(dirs), capture_output=True, text=True,
                          check=True)
    dvc_rc = json.loads(proc.stdout)
    disagree = []
    for name, d in dirs.items():
        res = tide("status", cwd=d, check=False)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        if res.returncode != 0:
            assert len(lines) == 1 and "Traceback" not in res.stderr, (name, res.stderr)
        if (dvc_rc[name] == 0) != (res.returncode == 0):
            disagree.append(f"{name}: dvc rc {dvc_rc[name]}, tide rc {res.returncode} {lines[-1:] or ''}")
    assert not disagree, "\n".join(disagree)
    # the matrix holds both kinds for each file
    for prefix in ("dvc_", "lock_", "yaml_"):
        assert {dvc_rc[n] == 0 for n in MATRIX if n.startswith(prefix)} == {True, False}


def _one_line_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0, proc.stdout
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("link", ["copy", "symlink"])
def test_issue17_f02_lock_typo_never_loses_the_output(repo_dir, tide, link):
    """The issue's repro: a `mdd5:` typo in dvc.lock made `tide gc -w -f` remove the only copy of b.txt's
    object (with symlinks the workspace file became a dangling link). Now every command that reads the
    lock refuses it in one line naming the file and the key, and nothing is removed."""
    tide("config", "cache.type", link, cwd=repo_dir)
    (repo_dir / "dvc.yaml").write_text("stages:\n  t:\n    cmd: echo PRECIOUS > b.txt\n    outs:\n    - b.txt\n")
    tide("repro", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "t")
    objects = sorted(p for p in (repo_dir / ".dvc" / "cache").rglob("*") if p.is_file())
    assert objects
    lock = repo_dir / "dvc.lock"
    lock.write_text(lock.read_text().replace("      md5:", "      mdd5:"))
    for command in (("gc", "-w", "-f"), ("status",), ("fsck",), ("checkout",), ("push",)):
        line = _one_line_error(tide(*command, cwd=repo_dir, check=False))
        assert "dvc.lock" in line and "mdd5" in line, (command, line)
    assert sorted(p for p in (repo_dir / ".dvc" / "cache").rglob("*") if p.is_file()) == objects
    assert (repo_dir / "b.txt").read_text() == "PRECIOUS\n"
    lock.write_text(lock.read_text().replace("      mdd5:", "      md5:").replace("    outs:", "    out:"))
    line = _one_line_error(tide("gc", "-w", "-f", cwd=repo_dir, check=False))
    assert "dvc.lock" in line and "unknown key 'out'" in line
    assert sorted(p for p in (repo_dir / ".dvc" / "cache").rglob("*") if p.is_file()) == objects


def test_issue17_f02_plain_pointer_shortcut_never_accepts_more_than_the_schema():
    from tide.core import dvcschema

    rng = random.Random(2)
    pool = [MD5, "ab", "", 6, -1, True, None, 1.5, "md5", "data", [1], {"a": 1}]
    keys = ["md5", "size", "nfiles", "isexec", "hash", "path", "mdd5", "cache"]
    taken = 0
    for _ in range(3000):
        outs = [{k: rng.choice(pool) for k in rng.sample(keys, rng.randint(1, 4))} for _ in range(rng.randint(0, 2))]
        doc = {"outs": outs} if rng.random() < 0.9 else {"outs": outs, rng.choice(keys): 1}
        if dvcschema._plain_pointer(doc):
            taken += 1
            dvcschema._validate(dvcschema.SINGLE_STAGE, doc, "x.dvc")  # must not raise
    assert taken > 50


def test_issue17_rule_lock_paths_are_relative_to_the_stage_wdir(repo_dir, tide, dvc):
    """dvc.lock paths are relative to the stage's `wdir` (dvc.yaml), as dvc reads them: `tide checkout`
    restored `sub/o.txt` as `./o.txt`, next to the lock file."""
    (repo_dir / "sub").mkdir()
    (repo_dir / "dvc.yaml").write_text(
        "stages:\n  t:\n    wdir: sub\n    cmd: echo hi > o.txt\n    outs:\n    - o.txt\n")
    dvc("repro", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "t")
    (repo_dir / "sub" / "o.txt").unlink()
    tide("checkout", cwd=repo_dir)
    assert (repo_dir / "sub" / "o.txt").read_text() == "hi\n"
    assert not (repo_dir / "o.txt").exists()
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    dvc("status", cwd=repo_dir)
