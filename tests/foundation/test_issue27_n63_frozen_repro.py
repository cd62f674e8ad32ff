"""Issue 27, N63: frozen stages in ``repro`` as dvc 3.67.1 treats them, each scenario run on dvc and tide
in fresh repositories. A frozen stage's command never runs, not even with ``-f``: when forced, or when its
outputs or command changed (or it has no dvc.lock entry), dvc verifies that its outputs exist ("missing
data 'source'" otherwise) and saves them as they are (dvc.lock, cache, run cache, .gitignore). Its
dependencies never count, and they are cut from the graph (upstream stages are not planned through it)."""

from __future__ import annotations

import os

from tests.foundation.conftest import ToolRepo

FROZEN = "stages:\\n  s:\\n    cmd: echo x > p\\n    deps: [u]\\n    frozen: true\\n    outs: [p]\\n"


def _read(r: ToolRepo, rel: str) -> str | None:
    p = r.p(rel)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read()


def _state(r: ToolRepo, *files: str) -> tuple:
    return (tuple(_read(r, f) for f in (*files, "dvc.lock", ".gitignore")), tuple(r.cache_files()), tuple(r.runs()))


def test_issue27_n63_frozen_stage_never_runs_its_command(both):
    """Missing output: ``repro`` and ``repro -f`` fail before anything is written; ``--dry`` does nothing;
    ``-f`` records the output as it is; changed dependencies alone change nothing; a changed output or
    command is recorded (with the dependencies' hashes of now), the command still not run."""
    steps = [
        ("", ("repro",), False),
        ("", ("repro", "-f"), False),
        ("echo old > p", ("repro", "--dry"), True),
        ("", ("repro", "-f"), True),
        ("echo 2 > u", ("repro",), True),           # frozen: dependencies do not count
        ("rm -f p; echo y > p", ("repro",), True),  # output changed: recorded as it is
        ("sed -i 's/echo x/echo z/' dvc.yaml", ("repro",), True),  # command changed: recorded, not run
        ("rm -rf .dvc/cache/files", ("repro",), True),  # not in cache: cached again
    ]
    seen: list[list] = [[], []]
    for k, r in enumerate(both):
        r.sh(f"printf '{FROZEN}' > dvc.yaml; echo 1 > u")
        for pre, argv, ok in steps:
            if pre:
                r.sh(pre)
            res = r.t(*argv, check=False)
            assert (res.returncode == 0) == ok, (r.name, pre, argv, res.stderr)
            if not ok:  # both tools: dvc's warning, then one error line, on stderr
                assert res.stderr.strip().splitlines()[-2:] == [
                    "WARNING: stage: 's' is frozen. Its dependencies are not going to be reproduced.",
                    "ERROR: failed to reproduce 's': missing data 'source': p"], r.name
            if r.name == "tide" and argv[0] == "repro":
                assert "Running stage" not in res.stdout
            seen[k].append(_state(r, "p"))
        seen[k].append(r.t("status", "--json").stdout)
    assert seen[0] == seen[1]
    final = seen[1][-2]
    assert final[0][0] == "y\n" and "cmd: echo z > p" in final[0][1]


def test_issue27_n63_frozen_stage_in_a_pipeline(both):
    """a -> b (frozen) -> c: ``repro -f`` runs a and c, only verifies b (its lock takes a's new output);
    ``repro -f c`` plans b and c, not a (a frozen stage is cut from its dependencies); ``--downstream a``
    stops at b. The frozen stage's deps changing makes nothing downstream run."""
    yaml = ("stages:\\n  a:\\n    cmd: cat u > ao\\n    deps: [u]\\n    outs: [ao]\\n"
            "  b:\\n    cmd: cat ao > bo; echo b >> bo\\n    deps: [ao]\\n    outs: [bo]\\n"
            "  c:\\n    cmd: cat bo > co\\n    deps: [bo]\\n    outs: [co]\\n")
    seen: list[list] = [[], []]
    for k, r in enumerate(both):
        r.sh(f"printf '{yaml}' > dvc.yaml; echo 1 > u")
        r.t("repro", "-q")
        r.t("freeze", "-q", "b")
        for pre, argv in (("echo 2 > u", ("repro", "--downstream", "a")),
                          ("echo 3 > u; rm -f bo; echo zz > bo", ("repro", "-f", "c")),
                          ("", ("repro", "-f"))):
            r.sh(pre or "true")
            res = r.t(*argv, check=False)
            assert res.returncode == 0, (r.name, argv, res.stderr)
            seen[k].append(_state(r, "ao", "bo", "co"))
    assert seen[0] == seen[1]
    assert seen[1][-1][0][:3] == ("3\n", "zz\n", "zz\n")
