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


def test_issue27_n56_forced_repro_of_a_command_that_makes_its_dependency(both):
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo x > u && echo y > p\\n    deps: [u]\\n    outs: [p]\\n'"
             " > dvc.yaml")
        assert r.t("repro", "-f", check=False).returncode == 0, r.name
    locks = [(r.path / "dvc.lock").read_text() for r in both]
    assert locks[0] == locks[1] and "path: u" in locks[0]
    assert both[0].cache_files() == both[1].cache_files()


def test_issue27_n56_dry_repro_with_a_missing_dependency(both):
    """Unforced ``--dry`` fails when dvc's run-cache lookup hashes the inputs (a stage with a command,
    inputs and outputs, persist or not, not always_changed); ``-f --dry`` only prints."""
    stages = {"plain": "outs: [p]", "persist": "outs: [{p: {persist: true}}]", "always": "always_changed: true"}
    for kind, tail in stages.items():
        for r in both:
            r.sh(f"printf 'stages:\\n  s:\\n    cmd: echo x > p\\n    deps: [u]\\n    {tail}\\n' > dvc.yaml")
            failed = r.t("repro", "--dry", check=False).returncode != 0
            assert failed == (kind != "always"), (r.name, kind)
            if kind == "plain":
                assert r.t("repro", "-f", "--dry", check=False).returncode == 0, (r.name, kind)
            assert not os.path.exists(r.p("p"))
