"""Issue 27 (differential findings N56, N57), each scenario run on dvc 3.67.1 and tide in fresh repositories
(``git init; T init; T remote add -d r ../remote; commit``): ``repro -f`` with a missing input, and the
empty directories ``checkout`` removes inside a directory output."""

from __future__ import annotations

import os

from tests.foundation.conftest import ToolRepo


def _tree(r: ToolRepo) -> list[str]:
    """Every path in the workspace except git and tool internals (directories end with '/')."""
    out = []
    for d, dirs, files in os.walk(r.path):
        dirs[:] = sorted(x for x in dirs if x not in (".git", ".dvc"))
        rel = os.path.relpath(d, r.path)
        out += [os.path.join(rel, x) + "/" for x in dirs] + [os.path.join(rel, f) for f in files]
    return sorted(p.removeprefix("./") for p in out)


N56_STAGE = "stages:\n  s:\n    cmd: mkdir -p o && echo hi > o/f && echo x > p\n    {inputs}\n    outs: [o, p]\n"


def test_issue27_n56_forced_repro_runs_the_command_then_fails_on_a_missing_input(both):
    """dvc's ``--force`` checks no status: the outputs are removed, the command runs, and the missing
    dependency / parameters file / parameter fails the save: no dvc.lock, no .gitignore, what the
    command wrote stays."""
    cases = [("deps: [u]", None, "dependency 'u' does not exist"),
             ("params: [lr]", None, "parameters file 'params.yaml' does not exist"),
             ("params: [lr]", "x: 1", "parameters 'lr' are missing from 'params.yaml'")]
    for inputs, params, says in cases:
        for r in both:
            r.sh("rm -rf o p params.yaml; printf '" + N56_STAGE.format(inputs=inputs) + "' > dvc.yaml")
            if params:
                r.sh(f"echo '{params}' > params.yaml")
            res = r.t("repro", "-f", check=False)
            assert res.returncode != 0, (r.name, inputs)
            if r.name == "tide":
                assert res.stderr.strip().splitlines() == [f"ERROR: failed to reproduce 's': {says}"]
                assert "Traceback" not in res.stderr
            assert "o/f" in _tree(r) and "p" in _tree(r), (r.name, inputs)
        assert _tree(both[0]) == _tree(both[1]), inputs
        assert not any(os.path.exists(r.p(n)) for r in both for n in ("dvc.lock", ".gitignore"))
        assert both[0].runs() == both[1].runs() == []


def test_issue27_n56_dry_repro_with_a_missing_dependency_and_a_command_that_makes_it(both):
    """Unforced ``--dry`` fails when dvc's run-cache lookup hashes the inputs (a stage with a command,
    inputs and outputs, persist or not, not always_changed); ``-f --dry`` only prints. ``repro -f`` of a
    command that makes its dependency records the stage."""
    stages = {"plain": "outs: [p]", "persist": "outs: [{p: {persist: true}}]", "always": "always_changed: true"}
    for kind, tail in stages.items():
        for r in both:
            r.sh(f"printf 'stages:\\n  s:\\n    cmd: echo x > p\\n    deps: [u]\\n    {tail}\\n' > dvc.yaml")
            failed = r.t("repro", "--dry", check=False).returncode != 0
            assert failed == (kind != "always"), (r.name, kind)
            if kind == "plain":
                assert r.t("repro", "-f", "--dry", check=False).returncode == 0, (r.name, kind)
            assert not os.path.exists(r.p("p"))
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo x > u && echo y > p\\n    deps: [u]\\n    outs: [p]\\n'"
             " > dvc.yaml")
        assert r.t("repro", "-f", check=False).returncode == 0, r.name
    locks = [(r.path / "dvc.lock").read_text() for r in both]
    assert locks[0] == locks[1] and "path: u" in locks[0]
    assert both[0].cache_files() == both[1].cache_files()


N57_EMPTIES = "mkdir -p d/e d/sub/e2 d/e3/e4 d/ro d/ign d/only && chmod 555 d/ro && echo t > d/only/a.tmp"


def _d(r: ToolRepo) -> list[str]:
    return [p for p in _tree(r) if p.startswith("d/")]


def _lines(res) -> list[str]:
    return [" ".join(line.split()) for line in res.stdout.splitlines()]


def test_issue27_n57_checkout_removes_empty_directories_inside_a_directory_output(both):
    """dvc-data's checkout removes (rmdir, deepest first, errors ignored) every directory of a directory
    output with no tracked file below it, reporting ``M d/`` and counting each as a deleted file; status
    sees no change; an ignored empty directory stays unseen, one holding only ignored files stays (still
    reported); a read-only empty directory goes. add/commit keep them."""
    for r in both:
        r.sh("printf 'd/ign\\n*.tmp\\n' > .dvcignore; mkdir -p d/sub && echo 1 > d/sub/x")
        r.t("add", "-q", "d")
        r.sh(N57_EMPTIES)
        assert r.j("status", "--json") == {}, r.name
        assert "M d/" in _lines(r.t("checkout")), r.name
    assert _d(both[0]) == _d(both[1]) == ["d/", "d/ign/", "d/only/", "d/only/a.tmp", "d/sub/", "d/sub/x"]
    for r in both:
        r.sh("mkdir -p d/e3/e4 d/e && echo y > d/e3/e4/y")
    assert [_lines(r.t("checkout", "--summary", check=False))[-1:] for r in both] == [[]] * 2  # y: not cached
    assert [_lines(r.t("checkout", "-f", "--summary")) for r in both] == [["5 files deleted"]] * 2
    for r in both:
        r.sh("mkdir d/e")
        r.t("add", "-q", "d")
        r.t("commit", "-q", "-f")
    assert _d(both[0]) == _d(both[1]) and "d/e/" in _d(both[1])


def test_issue27_n57_pull_removes_empty_directories(both):
    for r in both:
        r.sh("mkdir -p d/sub && echo 1 > d/sub/x")
        r.t("add", "-q", "d")
        r.t("push", "-q")
        r.sh("mkdir -p d/e d/sub/e2")
        assert "M d/" in _lines(r.t("pull")), r.name
    assert _d(both[0]) == _d(both[1]) == ["d/", "d/sub/", "d/sub/x"]


def test_issue27_n57_noop_checkout_finds_empty_directories_in_its_one_walk(repo_dir, tide, monkeypatch):
    """The directories with no file below are known from the listing the unchanged-check makes: a
    checkout opens each directory of the output once, with or without empty ones."""
    from tide.ops.checkout import checkout
    from tide.workspace.repo import Repo

    for i in range(3):
        os.makedirs(repo_dir / "d" / f"s{i}" / "t")
        (repo_dir / "d" / f"s{i}" / "t" / "f").write_text(str(i))
    tide("add", "-q", "d", cwd=repo_dir)
    os.makedirs(repo_dir / "d" / "s1" / "e" / "e2")
    opened = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": opened.append(str(p)) or real(p))
    for expect_pruned in (True, False):
        opened.clear()
        repo = Repo.find(str(repo_dir))
        res = checkout(repo, cwd=str(repo_dir))
        repo.close()
        walked = [p for p in opened if p.startswith(str(repo_dir / "d"))]
        assert sorted(walked) == sorted(set(walked)) and len(walked) == 7 + 2 * expect_pruned
        assert (res.modified, res.files["deleted"]) == ((["d/"], 2) if expect_pruned else ([], 0))
    assert not (repo_dir / "d" / "s1" / "e").exists()
