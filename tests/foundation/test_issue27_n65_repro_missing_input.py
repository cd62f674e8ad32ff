"""Issue 27, differential finding N65 (seed 61801, sequences 186, 284, 635): ``repro`` of a changed stage
whose dependency or parameter is missing. dvc's ``Stage.run`` removes the stage's outputs first (cached and
uncached, metrics and plots; a ``persist`` one is unprotected instead), then its run-cache lookup /
``save_deps`` fails on the missing input: the stage is left with no outputs, the pipeline stops there and
``.gitignore`` keeps its lines. Run on dvc 3.67.1 and tide in fresh repositories, ``cache.type hardlink``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.foundation.conftest import ToolRepo
from tests.foundation.test_issue27_repro_force_checkout_parity import _tree

N65_STAGES = """stages:
  s1:
    cmd: cp x o && cp x u && echo 1 > m.json && echo 1 > g.csv && cat x >> p
    deps: [x]
    params: [lr]
    outs: [{p: {persist: true}}, o, {u: {cache: false}}]
    metrics: [{m.json: {cache: false}}]
    plots: [g.csv]
  s2:
    cmd: cp o t
    deps: [o]
    outs: [t]
"""


def _state(r: ToolRepo) -> list[tuple[str, str]]:
    """Each workspace path with its mode and link count (files), for comparing the two tools."""
    out = []
    for p in _tree(r):
        st = os.stat(r.p(p))
        out.append((p, "" if p.endswith("/") else f"{st.st_mode & 0o777:o} n{st.st_nlink}"))
    return out


def _corrupt(r: ToolRepo) -> list[str]:
    """Cache objects whose bytes do not hash to their name."""
    base = Path(r.p(".dvc/cache/files/md5"))
    return [f for f in r.cache_files() if not f.endswith(".dir")
            and hashlib.md5((base / f).read_bytes()).hexdigest() != f.replace("/", "")]


def test_issue27_n65_repro_removes_the_outputs_then_fails_on_a_missing_input(both):
    for r in both:
        r.t("config", "cache.type", "hardlink")
        r.sh(f"echo a > x && echo 'lr: 1' > params.yaml && cat > dvc.yaml <<'EOF'\n{N65_STAGES}EOF")
        r.t("repro", "-q")
        r.sh("echo b > x")
        r.t("repro", "-q")  # the persist output is unprotected first: appending to it leaves its object intact
        assert Path(r.p("p")).read_text() == "a\nb\n" and _corrupt(r) == [], r.name
    for repair, break_input in (("", "rm x"), ("echo c > x", "echo 'lx: 1' > params.yaml")):
        for r in both:
            if repair:
                r.sh(repair)
                r.t("repro", "-q")
            r.sh(break_input)
            assert r.t("repro", "-q", check=False).returncode != 0, (r.name, break_input)
        states = [_state(r) for r in both]
        assert states[0] == states[1], break_input
        names = [p for p, _ in states[0]]
        assert "p" in names and "t" in names and not {"o", "u", "m.json", "g.csv"} & set(names), break_input
        if not repair:  # the same, reported
            assert both[0].j("status", "--json") == both[1].j("status", "--json")
            assert both[0].j("diff", "--json") == both[1].j("diff", "--json")
        assert [Path(r.p(".gitignore")).read_text() for r in both] == ["/p\n/o\n/g.csv\n/t\n"] * 2
    assert [_corrupt(r) for r in both] == [[], []]
