"""Issue 20: everyday commands dvc users script with (freeze/unfreeze, unprotect, root), run by tide and
by real dvc 3.67.1 on the same repository and compared: exit status, stdout, the files written."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import breadth

PIPE = ("stages:\n  # a comment dvc keeps\n  s:\n    cmd: cp s o   # copy\n    deps: [s]\n    outs:\n    - o\n"
        "  t:\n    cmd: echo t\n")


def _read(r, rel):
    with open(r.p(rel), encoding="utf-8") as f:
        return f.read()


def _same(both, fn):
    seen = [fn(r) for r in both]
    assert seen[0] == seen[1], seen
    return seen[0]


def test_issue20_freeze_edits_the_stage_in_place_as_dvc(both):
    def go(r):
        r.sh("echo a > s")
        r.sh(f"printf '{PIPE}' > dvc.yaml")
        r.t("repro", "-q")
        steps = []
        for argv in (["freeze", "s"], ["freeze", "s", "t"], ["unfreeze", "t"], ["unfreeze", "dvc.yaml:s"]):
            res = r.t(*argv)
            steps.append((res.returncode, res.stdout, _read(r, "dvc.yaml"), _read(r, "dvc.lock")))
        return steps

    steps = _same(both, go)
    assert "    - o\n    frozen: true\n  t:" in steps[0][2]      # after the stage's last line, comments kept
    assert "frozen" not in steps[-1][2] and steps[-1][3] == steps[0][3]  # dvc.lock untouched


def test_issue20_frozen_stage_is_not_reproduced(both):
    def go(r):
        r.sh("echo a > s")
        r.sh(f"printf '{PIPE}' > dvc.yaml")
        r.t("repro", "-q")
        r.t("freeze", "-q", "s")
        r.sh("echo changed > s")
        r.t("repro", "-q")
        return _read(r, "o")

    assert _same(both, go) == "a\n"


def test_issue20_freeze_a_dvc_file_appends_the_flag_as_dvc(both):
    def go(r):
        r.sh("echo x > f")
        r.t("add", "-q", "f")
        a = r.t("freeze", "f.dvc")
        frozen = _read(r, "f.dvc")
        b = r.t("unfreeze", "f.dvc")
        return a.returncode, a.stdout, frozen, b.returncode, _read(r, "f.dvc")

    rc, out, frozen, rc2, after = _same(both, go)
    assert frozen.endswith("frozen: true\n") and "frozen" not in after


@pytest.mark.parametrize("argv", breadth([["freeze", "o"], ["unfreeze", "t@1"], ["freeze", "nope"],
                                          ["freeze", "dvc.yaml"], ["freeze", "g.dvc"], ["freeze", "s:x"]], keep=2))
def test_issue20_freeze_refuses_what_dvc_refuses_and_changes_nothing(both, argv):
    def go(r):
        r.sh("echo a > s")
        r.sh(f"printf '{PIPE}' > dvc.yaml")
        before = _read(r, "dvc.yaml")
        res = r.t(*argv, check=False)
        return res.returncode != 0, _read(r, "dvc.yaml") == before

    assert _same(both, go) == (True, True)


def test_issue20_freeze_checks_every_target_before_changing_any(tide, tmp_path):
    from tests.conftest import git

    d = tmp_path / "r"
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    tide("init", "-q", cwd=d)
    (d / "dvc.yaml").write_text(PIPE)
    res = tide("freeze", "s", "nope", cwd=d, check=False)
    assert res.returncode == 1 and "nope" in res.stderr and "Traceback" not in res.stderr
    assert "frozen" not in (d / "dvc.yaml").read_text()


@pytest.mark.parametrize("cache_type", breadth(["hardlink", "symlink", "copy"], keep=2))
def test_issue20_unprotect_makes_writable_copies_as_dvc(both, cache_type):
    def go(r):
        r.t("config", "cache.type", cache_type)
        r.sh("echo a > f; mkdir d; echo b > d/x")
        r.t("add", "-q", "f", "d")
        res = r.t("unprotect", "f", "d")
        modes = []
        for p in ("f", "d/x"):
            st = os.lstat(r.p(p))
            modes.append((stat.S_ISREG(st.st_mode), st.st_nlink, bool(st.st_mode & 0o200)))
        r.sh("echo edited > f")  # the cache is not touched
        status = r.j("status", "--json")
        return res.returncode, res.stdout, modes, r.cache_files(), sorted(status)

    rc, _, modes, _, _ = _same(both, go)
    assert rc == 0 and modes == [(True, 1, True)] * 2


def test_issue20_unprotect_missing_fails(both):
    _same(both, lambda r: r.t("unprotect", "nope", check=False).returncode != 0)


def test_issue20_root_from_a_subdirectory(both):
    def go(r):
        r.sh("mkdir -p a/b")
        return [r.run("root", cwd=r.p(d)).stdout for d in (".", "a", "a/b")]

    assert _same(both, go) == [".\n", "..\n", "../..\n"]


IGNORE = "*.log\\n!keep.log\\ndata/tmp/\\n# c\\n"


CHECK_IGNORE_ARGVS = [
    ["a.log"], ["keep.log"], ["b.txt"], ["-d", "a.log", "keep.log", "b.txt", "data/tmp", "data/tmp/x", "sub/z.bin"],
    ["-d", "-n", "a.log", "b.txt"], ["-a", "-d", "a.log"], ["-d", "data/tmp/x/y"], ["/etc/passwd"],
]


def test_issue20_check_ignore_as_dvc(both):
    for r in both:
        r.sh(f"printf '{IGNORE}' > .dvcignore; mkdir -p data/tmp sub; printf '*.bin\\n!keep.bin\\n' > sub/.dvcignore")
    for argv in CHECK_IGNORE_ARGVS:  # read-only: one pair of repositories for every case
        seen = [(res.returncode, res.stdout) for res in (r.t("check-ignore", *argv, check=False) for r in both)]
        assert seen[0] == seen[1], (argv, seen)
    for argv in (["-n", "a.log"], []):  # usage errors
        _same(both, lambda r, argv=argv: r.t("check-ignore", *argv, check=False).returncode != 0)


def _hooks(path):
    d = os.path.join(path, ".git", "hooks")
    return sorted(n for n in os.listdir(d) if not n.endswith(".sample"))


def test_issue20_install_writes_the_hooks_dvc_writes_and_refuses_to_overwrite(both):
    def go(r):
        first = r.t("install", check=False).returncode
        hooks = _hooks(r.path)
        modes = [bool(os.stat(os.path.join(r.path, ".git/hooks", h)).st_mode & 0o100) for h in hooks]
        before = [_read(r, f".git/hooks/{h}") for h in hooks]
        again = r.t("install", check=False).returncode
        after = [_read(r, f".git/hooks/{h}") for h in hooks]
        return first, hooks, modes, again != 0, before == after

    assert _same(both, go) == (0, ["post-checkout", "pre-commit", "pre-push"], [True] * 3, True, True)


def test_issue20_installed_hooks_keep_data_in_step_with_git(tide, tmp_path):
    """The hooks run: git checkout of a branch checks the data out, git push pushes it to the remote."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import git

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tide"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m tide "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    d, remote, bare = tmp_path / "r", tmp_path / "remote", tmp_path / "bare.git"
    d.mkdir()
    remote.mkdir()
    git(d, "init", "-q", "-b", "main")
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    tide("init", "-q", cwd=d)
    tide("remote", "add", "-q", "-d", "r", str(remote), cwd=d)
    tide("install", cwd=d)
    (d / "f").write_text("a\n")
    tide("add", "-q", "f", cwd=d)
    run = lambda *a: subprocess.run(a, cwd=d, env=env, check=True, capture_output=True, text=True)  # noqa: E731
    run("git", "add", "-A")
    run("git", "commit", "-qm", "a")
    run("git", "checkout", "-q", "-b", "b2")
    (d / "f").write_text("b\n")
    tide("add", "-q", "f", cwd=d)
    run("git", "commit", "-qam", "b")
    run("git", "checkout", "-q", "main")
    assert (d / "f").read_text() == "a\n"          # post-checkout ran tide checkout
    run("git", "checkout", "-q", "b2")
    assert (d / "f").read_text() == "b\n"
    assert not any(remote.rglob("*"))
    run("git", "remote", "add", "origin", str(bare))
    run("git", "push", "-q", "origin", "b2")
    assert len([p for p in remote.rglob("*") if p.is_file()]) == 1   # pre-push ran tide push
    shutil.rmtree(bare)


TWO = ("stages:\n  # c\n  s:\n    cmd: cp s o   # copy\n    deps: [s]\n    outs:\n    - o\n"
       "  t:\n    cmd: cp o p\n    deps: [o]\n    outs: [p]\n")


def _files(r):
    return {n: _read(r, n) for n in ("dvc.yaml", "dvc.lock", ".gitignore") if os.path.exists(r.p(n))}


@pytest.mark.parametrize("cache_type", ["copy", "hardlink"])
def test_issue20_remove_stage_updates_dvc_yaml_and_lock_as_dvc(both, cache_type):
    def go(r):
        r.t("config", "cache.type", cache_type)
        r.sh(f"echo a > s; printf '{TWO}' > dvc.yaml")
        r.t("repro", "-q")
        one = r.t("remove", "t")
        after_t = _files(r), r.ls(), bool(os.stat(r.p("p")).st_mode & 0o200), os.stat(r.p("p")).st_nlink
        two = r.t("remove", "--outs", "s")
        return one.returncode, one.stdout, after_t, two.returncode, _files(r), r.ls()

    res = _same(both, go)
    assert res[2][0]["dvc.yaml"].startswith("stages:\n  # c\n  s:\n    cmd: cp s o   # copy\n")
    assert res[4] == {} and res[5] == ["p", "s"]


def test_issue20_remove_stage_refuses_unknown_targets_and_changes_nothing(both):
    def go(r):
        r.sh(f"echo a > s; printf '{TWO}' > dvc.yaml")
        r.t("repro", "-q")
        res = r.t("remove", "t", "nope", check=False)
        return res.returncode != 0, r.ls()

    assert _same(both, go)[0]


def test_issue20_remove_checks_every_target_first(tide, tmp_path):
    """dvc removes the targets before a bad one; tide changes nothing (safer, as freeze)."""
    from tests.conftest import git

    d = tmp_path / "r"
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    tide("init", "-q", cwd=d)
    (d / "dvc.yaml").write_text(TWO)
    before = (d / "dvc.yaml").read_text()
    res = tide("remove", "t", "nope", cwd=d, check=False)
    assert res.returncode != 0 and "nope" in res.stderr and (d / "dvc.yaml").read_text() == before


def _tree(r):
    out = {}
    for d, dirs, files in os.walk(r.path):
        dirs[:] = [x for x in dirs if x != ".git"]
        for f in files:
            p = os.path.join(d, f)
            st = os.lstat(p)
            out[os.path.relpath(p, r.path)] = (stat.S_ISREG(st.st_mode), st.st_nlink, bool(st.st_mode & 0o200),
                                               _read(r, os.path.relpath(p, r.path)))
    return out


@pytest.mark.parametrize("cache_type", ["symlink", "hardlink"])
def test_issue20_destroy_leaves_plain_files_as_dvc(both, cache_type):
    def go(r):
        r.t("config", "cache.type", cache_type)
        r.sh("echo a > s; echo x > f; mkdir d; echo y > d/z")
        r.t("add", "-q", "f", "d")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s o\\n    deps: [s]\\n    outs: [o]\\n' > dvc.yaml")
        r.t("repro", "-q")
        refused = r.t("destroy", check=False).returncode != 0 and os.path.isdir(r.p(".dvc"))
        res = r.t("destroy", "-f")
        return refused, res.returncode, _tree(r)

    refused, rc, tree = _same(both, go)
    assert refused and rc == 0 and set(tree) == {".gitignore", "f", "d/z", "o", "s"}


def _data_status_runs(r, *argvs):
    out = []
    for argv in argvs:
        res = r.t("data", "status", *argv)
        out.append((res.returncode, res.stdout.replace("tide ", "dvc ") if not argv or "--json" not in argv
                    else json.loads(res.stdout)))
    return out


def test_issue20_data_status_as_dvc(both):
    """committed, uncommitted (modified dir, deleted, added inside a dir, renamed), untracked, unchanged,
    granular, targets, the empty repository; text and --json (unchanged sorted: dvc prints a set)."""

    def go(r):
        steps = _data_status_runs(r, [], ["--json"])
        r.sh("echo a > f; mkdir d; echo y > d/z; echo w > d/w; echo q > g")
        r.t("add", "-q", "f", "d", "g")
        steps += _data_status_runs(r, ["--json"])
        r.sh("git add -A; git commit -qm a")
        steps += _data_status_runs(r, [], ["--json"])
        r.sh("echo b > f")
        r.t("add", "-q", "f")
        r.sh("echo y2 > d/z; echo new > d/n; rm g; echo u > untracked")
        steps += _data_status_runs(r, [], ["--granular", "--untracked-files"], ["--json"], ["--granular", "--json"],
                                   ["--json", "d"], ["--json", "--granular", "d"], ["--json", "--untracked-files"])
        r.sh("git add -A; git commit -qm b; rm untracked; mv d/w d/w2")
        steps += _data_status_runs(r, ["--granular", "--json"], ["--granular"])
        res = r.t("data", "status", "--json", "--unchanged", "--granular")
        steps.append(sorted(json.loads(res.stdout).get("unchanged", [])))
        return steps

    _same(both, go)


@pytest.mark.parametrize("cwd,argv", [
    (".", []), (".", ["--all"]), (".", ["-R", "."]), (".", ["sub"]), (".", ["sub/dvc.yaml:inner"]),
    (".", ["f.dvc"]), (".", ["--name-only"]), (".", ["nope"]), (".", ["sub/dvc.yaml"]), ("sub", ["--all"]),
    ("sub", []),
])
def test_issue20_stage_list_as_dvc(both, cwd, argv):
    sub = ("stages:\n  inner:\n    cmd: echo\n    deps: [../f]\n  long_name_stage:\n    cmd: echo\n"
           "    desc: |\n\n      first line here\n      second\n")

    def go(r):
        r.t("stage", "add", "-q", "-n", "s1", "--outs", "o1", "--metrics", "m.json", "echo")
        r.t("stage", "add", "-q", "-n", "s2", "-d", "o1", "--outs-no-cache", "o2", "--metrics-no-cache", "m2.json",
            "--desc", "second stage", "echo")
        r.sh(f"echo x > f; mkdir sub; printf '{sub}' > sub/dvc.yaml")
        r.t("add", "-q", "f")
        res = r.run("stage", "list", *argv, cwd=r.p(cwd), check=False)
        return res.returncode != 0, res.stdout, _read(r, "dvc.yaml")

    _same(both, go)


@pytest.mark.parametrize("cmd,fails", [("echo ${a[${b}]}", True), ("echo ${a.x} \\\\${b}", False),
                                       ("echo ${b", True), ("echo ${b} ${a.x}", False)])
def test_issue20_nested_interpolation_is_a_parse_error_as_in_dvc(both, cmd, fails):
    """``${a[${b}]}`` is refused before anything runs (tide ran the literal text); an unclosed ``${b`` is
    passed to the shell as dvc passes it (and the shell fails)."""
    def go(r):
        r.sh(f"printf 'vars:\\n- b: x\\n- a: {{x: 1}}\\nstages:\\n  z:\\n    cmd: {cmd} > out\\n' > dvc.yaml")
        res = r.t("repro", check=False)
        return res.returncode != 0, os.path.exists(r.p("out")) and _read(r, "out")

    assert _same(both, go)[0] is fails


def test_checkout_prints_its_lines_as_dvc(both):
    """dvc writes ``A<TAB>path`` through rich, which expands the tab: "A" and 7 spaces; and no count line
    (that is ``--summary``'s)."""
    def go(r):
        r.sh("mkdir d e && echo 1 > e/f && echo 2 > g")
        r.t("add", "-q", "d", "e", "g")
        r.sh("rm -rf d e g")
        plain = r.t("checkout")
        r.sh("rm -rf e g")
        summary = r.t("checkout", "--summary")
        return plain.returncode, plain.stdout, summary.returncode, summary.stdout

    assert _same(both, go) == (0, "A       d/\nA       e/\nA       g\n", 0, "2 files added\n")


def test_pull_prints_its_lines_and_counts_as_dvc(both):
    """dvc's changed outputs (modified, added, deleted) and ``get_summary`` (``3 files fetched and 2 files
    added``, ``1 file added``); tide adds the bytes and the time in parentheses after it."""
    def go(r):
        r.sh("mkdir e && echo 1 > e/f && echo 2 > g")
        r.t("add", "-q", "e", "g")
        r.t("push", "-q")
        r.sh("rm -rf e g .dvc/cache")
        fetched = r.t("pull").stdout
        r.sh("rm g")
        from_cache = r.t("pull").stdout
        return fetched.split(" (")[0].rstrip("\n"), from_cache, r.t("pull").stdout

    assert _same(both, go) == ("A       e/\nA       g\n3 files fetched and 2 files added",
                               "A       g\n1 file added\n", "Everything is up to date.\n")
