"""The start-up shortcuts of frequent commands give exactly what the full machinery gives.

``tide status`` and ``tide push`` avoid importing PyYAML, configobj and argparse on their fast
path (tide.core.yamlfast, the plain-config reader in tide.core.config, and main's defaults-only
parser). Each shortcut either returns the same result as the full parser or declines.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import random
import subprocess
import sys
import time

import pytest

from tide.cli import main as cli_main
from tide.core import yamlfast, yamlio
from tide.core.config import _read_simple

# --- .dvc files ---------------------------------------------------------------------------------

WORDS = [
    "data", "model.pkl", "a/b/c.csv", "yes", "no", "on", "off", "y", "n", "null", "Null", "true", "True",
    "false", "FALSE", "1", "0", "007", "12", "1.0", "1e5", "1E-5", ".5", "0x1f", "0o17", "0b101", "1_000", "_",
    "_a", "2024-01-02", "12:30", "nan", ".inf", "-1", "+1", "~", "a b", "a#b", "#a", "a: b", "'q'", '"q"',
    "data-v1.0", "ünïcode", "x=y", "x@y", "-", "--x", "[a]", "{a}", "*a", "&a", "!a", "%a", "a,b", "3d2f",
    "3863d0e317dee0a55c4e59d2ec0eef33.dir", "0b3863d0e317dee0a55c4e59d2ec0eef", "123e4567", "1e", "e1",
    "0", "00", "10000", "1.", "infinity", "NaN", ".NaN", "Yes", "ON", "a.b.c", "md5", "a/", "/a", "a//b",
]
PLAIN = ["data", "model.pkl", "a/b/c.csv", "1", "12", "true", "false", "md5", "3863d0e317dee0a55c4e59d2ec0eef33.dir"]
KEYS = ["md5", "size", "nfiles", "hash", "path", "isexec", "cache", "push", "remote", "desc", "Path", "a-b", "1x"]


def _doc(rng: random.Random) -> str:
    lines = []
    if rng.random() < 0.3:
        lines.append(f"{rng.choice(KEYS)}: {rng.choice(WORDS)}")
    lines.append(rng.choice(["outs:", "outs:", "deps:", "outs: []", "outs: x"]))
    for _ in range(rng.randint(0, 3)):
        keys = rng.sample(KEYS[:5] if rng.random() < 0.7 else KEYS, rng.randint(1, 5))
        for i, k in enumerate(keys):
            lead = "- " if i == 0 else ("  " if rng.random() < 0.9 else rng.choice(["   ", " "]))
            sep = ": " if rng.random() < 0.9 else rng.choice([":  ", ":", " : "])
            word = rng.choice(PLAIN if rng.random() < 0.6 else WORDS)
            lines.append(f"{lead}{k}{sep}{word}")
    if rng.random() < 0.1:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["# c", "", "---", "  # c", "\t"]))
    text = "\n".join(lines) + ("\n" if rng.random() < 0.9 else rng.choice(["", "\r\n"]))
    return text


def _value(rng: random.Random, depth: int):
    r = rng.random()
    if depth < 3 and r < 0.15:
        return {rng.choice(KEYS + WORDS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if depth < 3 and r < 0.3:
        return [_value(rng, depth + 1) if rng.random() < 0.4 else
                {k: _value(rng, depth + 2) for k in rng.sample(KEYS, rng.randint(0, 4))}
                for _ in range(rng.randint(0, 3))]
    return rng.choice([rng.choice(WORDS), rng.choice(PLAIN), rng.randint(-5, 10**12), None, True, False, 1.5,
                       "x" * rng.choice([70, 79, 80, 130]), rng.choice(KEYS) * 30, "a b " * 30])


def test_yaml12_dumps_as_yamlstyle_or_declines():
    """The PyYAML-free writer of simple documents (``.dvc`` files) gives yamlstyle's bytes or declines;
    the usual ``.dvc`` shapes never decline."""
    from tide.core import yaml12, yamlstyle

    rng = random.Random(12)
    written = 0
    for _ in range(20000):
        doc = {rng.choice(KEYS + WORDS): _value(rng, 0) for _ in range(rng.randint(1, 4))}
        fast = yaml12.dumps(doc)
        if fast is not None:
            written += 1
            assert fast == yamlstyle.dumps(doc), doc
    assert written > 500  # (most random documents hold a word that needs quotes: yamlstyle writes them)
    for md5 in ("3863d0e317dee0a55c4e59d2ec0eef33", "12345678901234567890123456789e12", "0" * 32):
        for out in ({"md5": md5, "size": 6, "hash": "md5", "path": "f.txt"},
                    {"md5": md5 + ".dir", "size": 93000000, "nfiles": 2226, "hash": "md5", "path": "data"}):
            doc = {"outs": [out]}
            want = yamlstyle.dumps(doc)
            # written, unless the md5 reads as a number (yamlstyle quotes it: 1 in ~10^4 md5s)
            assert yaml12.dumps(doc) == (None if "'" in want else want), doc


def test_yamlfast_agrees_with_the_full_loader_or_declines():
    rng = random.Random(1234)
    taken = 0
    for _ in range(3000):
        text = _doc(rng)
        fast = yamlfast.parse(text)
        if fast is None:
            continue
        taken += 1
        assert fast == yamlio.load_full(text, "t.dvc"), text
        assert {type(v) for v in fast.values()} <= {str, int, float, bool, list, dict, type(None)}
    assert taken > 100  # the shortcut is taken for the common shape


def _nested_doc(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 3)):
        lines.append(rng.choice(["remotes:", "registry:", "ci:", "outs:", f"{rng.choice(KEYS)}: {rng.choice(PLAIN)}"]))
        for _ in range(rng.randint(0, 3)):
            lead = "  " if rng.random() < 0.9 else rng.choice(["   ", " ", "- ", "    "])
            k = rng.choice(KEYS + ["store", "format", "chunk_size"])
            if rng.random() < 0.5:
                lines.append(f"{lead}{k}:")
                for _ in range(rng.randint(0 if rng.random() < 0.1 else 1, 3)):
                    sub = "    " if rng.random() < 0.9 else rng.choice(["   ", "     ", "  - ", "      "])
                    sep = ": " if rng.random() < 0.95 else rng.choice([":", " : "])
                    lines.append(f"{sub}{rng.choice(KEYS + ['format'])}{sep}"
                                 f"{rng.choice(PLAIN + ['chunked', '65536'] if rng.random() < 0.7 else WORDS)}")
            else:
                lines.append(f"{lead}{k}: {rng.choice(PLAIN if rng.random() < 0.7 else WORDS)}")
    if rng.random() < 0.1:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["# c", "", "    # c", "\t", "      x: 1"]))
    return "\n".join(lines) + ("\n" if rng.random() < 0.95 else "")


def test_yamlfast_nested_mappings_agree_with_the_full_loader_or_decline():
    """tide.yaml's sections (``remotes: {store: {format: chunked}}``): read without PyYAML, as it reads them."""
    rng = random.Random(4321)
    taken = 0
    for _ in range(3000):
        text = _nested_doc(rng)
        fast = yamlfast.parse(text)
        try:
            full = yamlio.load_full(text, "tide.yaml")
        except Exception:
            assert fast is None, text
            continue
        if fast is None:
            continue
        taken += 1
        assert fast == full, text
    assert taken > 100
    text = "remotes:\n  store:\n    format: chunked\n    chunk_size: 65536\n"
    assert yamlfast.parse(text) == {"remotes": {"store": {"format": "chunked", "chunk_size": 65536}}}


def test_yamlfast_reads_what_dvc_writes():
    text = ("outs:\n- md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir\n  size: 10240000\n  nfiles: 10000\n"
            "  hash: md5\n  path: data\n")
    assert yamlfast.parse(text) == yamlio.load_full(text, "x") == {"outs": [{
        "md5": "3863d0e317dee0a55c4e59d2ec0eef33.dir", "size": 10240000, "nfiles": 10000, "hash": "md5",
        "path": "data"}]}


@pytest.mark.parametrize("value", ["1e5", "yes", "0x1f", "2024-01-02", "a  b", "'q''s'", "1_000", "Null", "007",
                                   "2001-12-14 21:59:43", "1 2", "a #b", "a: b", "a b ", '"q"', "- x", "[a]", "1.",
                                   ".5", "+1", "00.5", "1.5e3"])
def test_yamlfast_declines_values_the_full_loader_must_decide(value):
    assert yamlfast.parse(f"outs:\n- path: {value}\n") is None


def test_yamlfast_reads_dvc_yaml_and_dvc_lock():
    """issue 26: a pipeline's files were read by PyYAML (its import alone ~25 ms of a `repro` with
    nothing to do); their usual shapes are read directly, as the full reader reads them."""
    texts = [
        "stages:\n  prep:\n    cmd: python3 prep.py --seed 2 > log.txt\n    deps:\n    - prep.py\n    - data\n"
        "    outs:\n    - prepared\n  train:\n    cmd: python train.py\n    params:\n    - train.lr\n"
        "    metrics:\n    - metrics.json:\n        cache: false\n",
        "schema: '2.0'\nstages:\n  prep:\n    cmd: python3 prep.py\n    deps:\n    - path: data\n      hash: md5\n"
        "      md5: e2f1563bc684f135df76bf43bc236fe5.dir\n      size: 96828568\n      nfiles: 2226\n"
        "    params:\n      params.yaml:\n        train.lr: 0.01\n        train.epochs: 10\n        seed: -3\n"
        "    outs:\n    - path: prepared\n      hash: md5\n      md5: d3c8d8d70f655c72bcf25e3c459b05c4.dir\n",
    ]
    for text in texts:
        fast = yamlfast.parse(text)
        assert fast is not None and fast == yamlio.load_full(text, "dvc.yaml"), text
    lock = yamlfast.parse(texts[1])
    assert lock["schema"] == "2.0" and lock["stages"]["prep"]["params"]["params.yaml"]["train.lr"] == 0.01


PIPE_KEYS = ["stages", "prep", "train", "cmd", "deps", "outs", "params", "metrics", "plots", "path", "md5", "hash",
             "params.yaml", "train.lr", "cache", "persist", "wdir", "schema", "Train", "a-b", "x_1"]
PIPE_WORDS = ["python3 prep.py", "python train.py --epochs 10 > log.txt", "data", "prepared", "2.0", "0.01",
              "-3", "1.5", "sums.txt", "echo a, b && ls", "make -j4 all", "d3c8d8d70f655c72bcf25e3c459b05c4.dir"]


def _pipe_value(rng: random.Random, depth: int):
    r = rng.random()
    if depth < 4 and r < 0.3:
        return {rng.choice(PIPE_KEYS): _pipe_value(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    if depth < 4 and r < 0.5:
        return [_pipe_value(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if r < 0.9:
        return rng.choice(PIPE_WORDS + PLAIN + [rng.randint(-9, 10**9), rng.choice([0.5, 1e-3, 2.25, -0.125])])
    return rng.choice(WORDS + [None, True, False, "a  b", "a: b", "x" * 90])


def test_yamlfast_reads_what_the_writer_writes_as_the_full_loader_does():
    """Random nested documents, written in dvc's style (``yamlio.dumps``: quotes, long lines folded,
    flow ``[]``/``{}``, nulls, floats): the fast reader gives the full reader's document or declines."""
    rng = random.Random(26)
    taken = nested = 0
    for n in range(8000):
        if n % 2:
            doc = {rng.choice(KEYS + WORDS): _value(rng, 0) for _ in range(rng.randint(1, 4))}
        else:  # a pipeline's shapes: mostly words tide and dvc write, a few hostile ones
            doc = {rng.choice(PIPE_KEYS): _pipe_value(rng, 0) for _ in range(rng.randint(1, 4))}
        text = yamlio.dumps(doc)
        fast = yamlfast.parse(text)
        if fast is None:
            continue
        taken += 1
        nested += any(isinstance(v, (dict, list)) and v for v in fast.values())
        assert fast == yamlio.load_full(text, "t.yaml"), text
    assert taken > 1000 and nested > 500


# --- config files -------------------------------------------------------------------------------

CONFIG_LINES = [
    "[core]", "[cache]", "['remote \"r\"']", "['remote \"my-remote.1\"']", "['remote \"a b\"']", "[Core]",
    "[ core ]", "[[x]]", "['machine \"m\"']", "  remote = r", "    url = /tmp/x", "url = s3://b/p",
    "    type = reflink,copy", "    type = \"reflink,copy\"", "    jobs = 4", "    x = a # c", "# comment",
    "   # comment", "", "    x =", "    x = ", "  y=1", "    url = /tmp/x  ", "    k = 'q'", "    k = a=b",
    "    autostage = true", "key = value", "    a_b = c-d", "    URL = /x",
]


def test_plain_config_reader_agrees_with_configobj_or_declines(tmp_path):
    from configobj import ConfigObj, ConfigObjError

    rng = random.Random(99)
    taken = 0
    for i in range(1500):
        text = "\n".join(rng.choice(CONFIG_LINES) for _ in range(rng.randint(1, 8))) + rng.choice(["\n", ""])
        fast = _read_simple(text.encode())
        if fast is None:
            continue
        taken += 1
        path = tmp_path / f"c{i}"
        path.write_text(text)
        try:
            co = ConfigObj(str(path), encoding="utf-8", list_values=True, interpolation=False)
        except ConfigObjError:
            pytest.fail(f"the plain reader accepted what configobj refuses:\n{text}")
        assert fast == {k: dict(v) for k, v in co.items()}, text
    assert taken > 100


# --- arguments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(cli_main.COMMANDS))
def test_plain_words_match_argparse(name):
    """A command run with no option (``tide push``, ``tide add data``): the shortcut's namespace is argparse's,
    or it declines."""
    module_name = cli_main.COMMANDS[name][0]
    if not cli_main.available(module_name):
        pytest.skip(f"{name} is not in this build")
    module = importlib.import_module(f"tide.cli.cmd_{module_name}")
    parser = cli_main.build_parser(name, module)
    for words in ([], ["data"], ["a b", "c.dvc", "x=y"], [""], ["help"]):
        fast = cli_main._plain_words(module, words)
        try:
            full = parser.parse_args(words)
        except SystemExit:
            assert fast is None, f"'tide {name} {words}' is refused by argparse: the shortcut must decline"
            continue
        if fast is not None:
            assert vars(fast) == vars(full), words


@pytest.mark.parametrize("argv", [["status"], ["checkout"], ["push"], ["pull"], ["fetch"], ["repro"], ["commit"],
                                  ["add", "data"], ["add", "a", "b"], ["checkout", "data.dvc"], ["push", "data"],
                                  ["status", "data"], ["diff"], ["gc", "-w"]])
def test_frequent_commands_take_the_shortcut(argv):
    """issue 26: the no-op rows; ``--run-cache`` was a BooleanOptionalAction, which sent push, pull and fetch
    to argparse. (``gc -w`` has an option: argparse, as every option does.)"""
    module = importlib.import_module(f"tide.cli.cmd_{cli_main.COMMANDS[argv[0]][0]}")
    fast = cli_main._plain_words(module, argv[1:]) if not any(w.startswith("-") for w in argv[1:]) else None
    assert (fast is None) == (argv[0] == "gc"), argv


def test_defaults_only_declines_subcommands():
    class Sub:
        @staticmethod
        def register(p: argparse.ArgumentParser) -> None:
            p.add_subparsers(dest="cmd")

    assert cli_main._plain_words(Sub, []) is None and cli_main._plain_words(Sub, ["x"]) is None


def test_status_fast_path_imports_nothing_heavy(tmp_path):
    """The shortcuts only pay off if nothing else drags the heavy modules in."""
    code = (
        "import sys, os; os.chdir(sys.argv[1]); from tide.cli.main import main; rc = main(['status']); "
        "heavy = [m for m in ('yaml', 'configobj', 'argparse', 'dataclasses', 'logging', 'typing', 're', 'json')"
        " if m in sys.modules]; print('HEAVY', heavy); sys.exit(rc)"
    )
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([sys.executable, "-m", "tide", "init", "-q"], cwd=repo, check=True)
    (repo / "data").mkdir()
    (repo / "data" / "f").write_text("x")
    subprocess.run([sys.executable, "-m", "tide", "add", "-q", "data"], cwd=repo, check=True)
    old = time.time_ns() - 3600 * 10**9  # files changed in the last second are re-checked in full
    for d, dirs, files in os.walk(repo):
        for n in dirs + files:
            os.utime(os.path.join(d, n), ns=(old, old), follow_symlinks=False)
    subprocess.run([sys.executable, "-m", "tide", "status"], cwd=repo, check=True)  # records the snapshots
    out = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out


# --- exp show -----------------------------------------------------------------------------------


def _plain_cases(rng: random.Random, parser: argparse.ArgumentParser, action: str) -> list[list[str]]:
    """Command lines for ``action``: its options with good and bad values, and what only argparse takes."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[action]
    opts = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    values = ["1", "3", "0", "-1", "x", "", "a b", "--json", "asc", "desc", "1.5", "train.lr", "=", "-"]
    odd = ["-h", "--help", "--", "pos", "--all-c", "--rev=x", "-Af", "-n5", "--nope", "-v", "-q", "--log", "debug"]
    cases = []
    for _ in range(400):
        words = [action]
        for _ in range(rng.randint(0, 4)):
            a = rng.choice(opts)
            words.append(rng.choice(a.option_strings))
            if a.nargs != 0:
                good = [str(c) for c in a.choices] if a.choices else values
                if rng.random() < 0.9:
                    words.append(rng.choice(good if rng.random() < 0.8 else values))
        if rng.random() < 0.15:
            words.insert(rng.randint(1, len(words)), rng.choice(odd))
        cases.append(words)
    return cases


def _plain_commands() -> list[str]:
    """The commands whose module declares PLAIN_ACTIONS (in this build)."""
    return sorted(n for n, (m, _) in cli_main.COMMANDS.items() if importlib.util.find_spec(f"tide.cli.cmd_{m}")
                  and getattr(importlib.import_module(f"tide.cli.cmd_{m}"), "PLAIN_ACTIONS", ()))


@pytest.mark.parametrize("name", _plain_commands())
def test_plain_args_match_argparse(name, capsys):
    """cli/plainargs.py gives the namespace argparse gives for each generated command line, or declines
    (then argparse parses it, help and errors included); it takes the common ones."""
    from tide.cli import plainargs

    module = importlib.import_module(f"tide.cli.cmd_{cli_main.COMMANDS[name][0]}")
    parser = cli_main.build_parser(name, module)
    rng = random.Random(2222)
    for action in sorted(module.PLAIN_ACTIONS):
        taken = 0
        for words in _plain_cases(rng, parser, action):
            fast = plainargs.parse(module, cli_main._global_options, words)
            try:
                full = parser.parse_args(words)
            except SystemExit:
                assert fast is None, words
                continue
            if fast is not None:
                taken += 1
                assert vars(fast) == vars(full), words
        assert taken > 150, (action, taken)
    capsys.readouterr()
    exp_show = plainargs.parse(module, cli_main._global_options, ["show", "-A", "--json"]) if name == "exp" else None
    assert name != "exp" or (exp_show is not None and exp_show.all_commits and exp_show.json)


def _head(d) -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=d, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


def _exp_repo(d) -> None:
    """A repository with one commit of a pipeline and two experiments on it (git fast-import)."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=d, check=True)
    subprocess.run([sys.executable, "-m", "tide", "init", "-q"], cwd=d, check=True)
    files = {"dvc.yaml": "stages:\n  train:\n    cmd: python3 t.py\n    params:\n    - lr\n    metrics:\n"
                         "    - m.json:\n        cache: false\n",
             "params.yaml": "lr: 1\n", "m.json": '{"score": 1}'}

    def commit(ref: str, when: int, parent: str, body: dict[str, str]) -> bytes:
        out = f"commit {ref}\ncommitter t <t@example.com> {when} +0000\ndata 1\nc\nfrom {parent}\n".encode()
        return out + b"".join(f"M 100644 inline {p}\ndata {len(t)}\n{t}\n".encode() for p, t in body.items()) + b"\n"

    subprocess.run(["git", "add", "-A"], cwd=d, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=d, check=True)
    base = _head(d)
    stream = commit("refs/heads/main", 1_767_225_600, base, files)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=d, input=stream, check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=d, check=True)
    head = _head(d)
    stream = b"".join(commit(f"refs/exps/{head[:2]}/{head[2:]}/e{i}", 1_767_225_700 + i, head,
                             {**files, "params.yaml": f"lr: {i + 2}\n", "m.json": f'{{"score": {i + 2}}}'})
                      for i in range(2))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=d, input=stream, check=True)
    old = time.time_ns() - 3600 * 10**9  # files changed in the last 2 s keep the workspace row from being kept
    for name in files:
        os.utime(d / name, ns=(old, old))


EXP_SHOW_HEAVY = ("argparse", "yaml", "configobj", "dataclasses", "logging", "typing", "ast", "datetime", "sqlite3",
                  "hashlib", "shutil", "rich", "tide.pipeline.definition", "tide.ops.metrics", "tide.ops.exp_queue")


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_exp_show_warm_path_imports_nothing_heavy(tmp_path, fmt):
    """A warm ``tide exp show -A`` (its cache filled) imports neither argparse, PyYAML nor the pipeline
    machinery: only what it needs to list the cached experiments (the bench row, issue 22: >= 10x dvc)."""
    repo = tmp_path / "r"
    repo.mkdir()
    _exp_repo(repo)
    first = subprocess.run([sys.executable, "-m", "tide", "exp", "show", "-A", *fmt], cwd=repo, check=True,
                           capture_output=True, text=True).stdout
    code = ("import sys, os; os.chdir(sys.argv[1]); from tide.cli.main import main; rc = main(sys.argv[2:]); "
            f"heavy = [m for m in {EXP_SHOW_HEAVY!r} if m in sys.modules]; print('HEAVY', heavy, file=sys.stderr); "
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(repo), "exp", "show", "-A", *fmt], capture_output=True,
                          text=True, check=True)
    assert proc.stdout == first  # the same output as the cold run
    assert "e0" in first and "e1" in first
    assert "HEAVY []" in proc.stderr, proc.stderr


def test_value_classes_without_dataclasses_keep_their_semantics():
    """Git and ExpRef were frozen dataclasses (``dataclasses`` costs exp show ~8 ms): still compared and
    hashed by value, read-only, copied and pickled; index's ``.dvc`` suffix is the pointer module's."""
    import copy
    import pickle

    from tide.core.git import Git
    from tide.ops.exp_refs import ExpRef
    from tide.workspace import index, pointers

    for a, b, other in ((Git("/r"), Git("/r"), Git("/s")), (ExpRef("a" * 40, "x"), ExpRef("a" * 40, "x"),
                                                             ExpRef("a" * 40, "y"))):
        assert a == b and hash(a) == hash(b) and a != other and len({a, b, other}) == 2
        assert pickle.loads(pickle.dumps(a)) == a == copy.deepcopy(a) and a != "x"
        with pytest.raises(AttributeError):
            a.name = "z"
    assert repr(Git("/r")) == "Git(root='/r')" and Git("/r", env={"A": "1"}).env == {"A": "1"}
    assert ExpRef("ab" + "c" * 38, "n").ref == "refs/exps/ab/" + "c" * 38 + "/n"
    assert ExpRef.parse("refs/exps/ab/" + "c" * 38 + "/n") == ExpRef("ab" + "c" * 38, "n")
    assert ExpRef.parse("refs/exps/ab/" + "C" * 38 + "/n") is None and ExpRef.parse("refs/exps/ab/cc/n") is None
    assert index.SUFFIX == pointers.SUFFIX


def test_value_records_behave_as_the_frozen_dataclasses_they_were():
    """tide.core.values.Value (issue 26: ``dataclasses`` and per-class code generation were ~18 ms of each
    command reading a dvc.yaml): construction, defaults, factories, replace, equality, hashing, read-only."""
    import copy
    import pickle

    from tide.core.git import Git
    from tide.ops.repro import ReproRequest
    from tide.pipeline.definition import DepDef, OutDef, Stage

    a = OutDef("m.pkl", "/r/m.pkl")
    b = OutDef("m.pkl", "/r/m.pkl")
    assert a.kind == "outs" and a.cache is True and a.remote is None and a.options == {}
    assert a == b and a.options is not b.options  # a fresh dict each (default_factory)
    assert a != OutDef("m.pkl", "/r/m.pkl", cache=False) and a != DepDef("m.pkl", "/r/m.pkl")
    assert repr(DepDef("d", "/r/d")) == "DepDef(path='d', abspath='/r/d')"
    assert hash(DepDef("d", "/r/d")) == hash(DepDef(path="d", abspath="/r/d")) and len({DepDef("d", "/r/d")} | {
        DepDef("d", "/r/d")}) == 1
    with pytest.raises(TypeError):  # a dict field: unhashable, as the dataclass was
        hash(a)
    s = Stage("train", "/r/dvc.yaml", "/r", "/r", "python t.py", outs=(a,))
    assert s.deps == () and s.frozen is False and s.addressing == "train" and s.outs[0] is a
    assert pickle.loads(pickle.dumps(s)) == s == copy.deepcopy(s) and s != "train"
    for bad in (lambda: a.__setattr__("path", "x"), lambda: delattr(a, "path")):
        with pytest.raises(AttributeError):
            bad()
    for bad_args, bad_kwargs in (((), {}), (("a", "b", "c", "d", "e", "f", "g", "h", "i"), {}),
                                 (("a",), {"path": "b", "abspath": "c"}), (("a", "b"), {"nope": 1})):
        with pytest.raises(TypeError):
            OutDef(*bad_args, **bad_kwargs)
    r = ReproRequest(force=True)
    assert r.targets == () and r.run_cache is True and r.force is True
    r2 = r.replace(targets=("x",))
    assert r2.targets == ("x",) and r2.force is True and r.targets == ()
    with pytest.raises(TypeError):
        r.replace(nope=1)
    assert repr(Git("/r", env={"TOKEN": "s3cret"})) == "Git(root='/r')"  # never the environment


def test_git_hint_words_are_quoted_as_shlex_quotes_them():
    """cli.output._shell_word: shlex.quote without importing shlex for a plain word (issue 26)."""
    import shlex

    from tide.cli.output import _shell_word

    rng = random.Random(26)
    chars = "ab/.-_ $'\"é@%+=:,*?~!#&;|<>()[]{}\\\t\n0Z"
    for _ in range(20000):
        word = "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))
        assert _shell_word(word) == shlex.quote(word), word


def test_url_scheme_is_the_regular_expression_it_replaced():
    """storage.registry.url_scheme: the scheme ``^([A-Za-z][A-Za-z0-9+.-]*)://`` captures, without ``re``."""
    import re

    from tide.storage.registry import url_scheme

    pattern = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
    rng = random.Random(26)
    for _ in range(50000):
        url = "".join(rng.choice("aZ09+.-:/_ é\\@") for _ in range(rng.randint(0, 9)))
        m = pattern.match(url)
        assert url_scheme(url) == (m.group(1).lower() if m else ""), url
    assert url_scheme("S3://bucket/x") == "s3" and url_scheme("/data") == "" and url_scheme("c:\\x") == ""


NOOP_HEAVY = ("yaml", "configobj", "argparse", "dataclasses", "logging", "typing", "re", "json", "subprocess",
              "shutil", "inspect")


def test_no_op_commands_import_nothing_heavy(tmp_path):
    """issue 26: the no-op rows (checkout, push, pull, status, repro with nothing to do) pay Python's start-up and
    their work, not imports they do not use: argparse (push, pull and fetch went there for ``--run-cache``),
    dataclasses (the pipeline's records), typing, re, json (a manifest parsed for a directory found unchanged),
    subprocess (a repro that runs nothing)."""
    repo = tmp_path / "r"
    remote = tmp_path / "remote"
    repo.mkdir()

    def tide(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "tide", *args], cwd=repo, check=True, capture_output=True)

    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    tide("init", "-q")
    (repo / "data" / "sub").mkdir(parents=True)
    for i in range(20):
        (repo / "data" / "sub" / f"f{i}").write_text(f"x{i}")
    tide("add", "-q", "data")
    tide("remote", "add", "-d", "store", str(remote))
    tide("push", "-q")
    (repo / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp -r data out\n    deps:\n    - data\n    outs:\n"
                                   "    - out\n")
    tide("repro", "-q")
    old = time.time_ns() - 3600 * 10**9  # files changed in the last second are re-checked in full
    for d, dirs, files in os.walk(repo):
        for n in dirs + files:
            os.utime(os.path.join(d, n), ns=(old, old), follow_symlinks=False)
    tide("status")  # records the snapshots
    code = (
        "import sys, os; os.chdir(sys.argv[1]); from tide.cli.main import main; rc = main(sys.argv[2:]); "
        f"heavy = [m for m in {NOOP_HEAVY!r} if m in sys.modules]; print('HEAVY', heavy); sys.exit(rc)"
    )
    for argv in (["status"], ["checkout"], ["push"], ["pull"], ["fetch"], ["repro"]):
        proc = subprocess.run([sys.executable, "-c", code, str(repo), *argv], capture_output=True, text=True)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "HEAVY []" in proc.stdout, (argv, proc.stdout)
