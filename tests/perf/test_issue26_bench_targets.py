"""Issue 26's no-op target in `make bench`: "≥ 10× dvc, or within 3× of Python start-up plus one stat
of each tracked file, whichever is reached first". The verdict passes a row that meets either condition
and fails one that meets neither. (The speed itself is measured by ``make bench``, not here.)"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from harness import OpResult, Sample
from report import target_for, verdict


def _row(op: str, tide: float, dvc: float, floor: float | None) -> OpResult:
    r = OpResult("mid-hardlink", op)
    r.samples = {"tide": [Sample(tide, 1000, 0)] * 3, "dvc": [Sample(dvc, 2000, 0)] * 3}
    r.limit = floor
    return r


def test_issue26_a_noop_meets_its_target_by_ratio_or_by_its_floor():
    t = target_for("mid-symlink", "checkout-noop")
    assert t.either and t.min_ratio == 10 and t.max_vs_limit == 3
    assert target_for("tiny", "status").either
    assert not target_for("mid", "add").either and target_for("mid", "add").min_ratio == 3
    assert verdict(_row("checkout-noop", 0.060, 0.700, 0.030)) == ("✅", [])  # both hold
    assert verdict(_row("checkout-noop", 0.080, 0.700, 0.030)) == ("✅", [])  # 8.8×, but ≤ 3× the floor
    assert verdict(_row("checkout-noop", 0.080, 0.900, 0.020)) == ("✅", [])  # 4× the floor, but 11×
    mark, why = verdict(_row("checkout-noop", 0.080, 0.700, 0.020))  # neither
    assert mark == "❌" and len(why) == 1 and "ratio 8.8× < 10×" in why[0] and "4.00× its limit > 3×" in why[0]
    mark, why = verdict(_row("add", 0.5, 1.0, 0.4))  # not a no-op: the ratio alone
    assert mark == "❌" and why == ["ratio 2.0× < 3×"]


def test_issue26_a_repro_miss_says_when_the_stage_commands_alone_put_it_out_of_reach():
    """The repro row's floor is the two stage commands run alone: when dvc's time over that floor is
    under the ratio asked, the miss says no tool could meet it; otherwise it is a plain miss."""
    r = _row("repro", 1.2, 3.0, 1.1)
    r.limit_name = "the two stage commands alone"
    mark, why = verdict(r)
    assert mark == "❌" and why == ["ratio 2.5× < 3× (out of reach: dvc ÷ the two stage commands alone = 2.7×)"]
    r.limit = 0.8  # 3.0 / 0.8 = 3.75: reachable
    assert verdict(r) == ("❌", ["ratio 2.5× < 3×"])
    r.limit_name = "python start-up"  # another row's limit says nothing of reach
    r.limit = 1.1
    assert verdict(r) == ("❌", ["ratio 2.5× < 3×"])
    c = _row("checkout", 1.2, 3.0, 1.1)  # the checkout row's floor: the files made from the cache alone
    c.limit_name = "the files alone (2 threads)"
    assert verdict(c) == ("❌", ["ratio 2.5× < 3× (out of reach: dvc ÷ the files alone (2 threads) = 2.7×)"])


def test_issue26_the_files_floor_makes_each_file_as_the_cache_type_does(tmp_path):
    """The checkout row's floor (bench/scenarios.py FILES_FLOOR_SCRIPT) must do the work a checkout into
    an emptied workspace cannot avoid, no less: every listed file made from its object, as a copy, a hard
    link or a symbolic link to the object's path, in as many directories as listed."""
    import subprocess

    from scenarios import FILES_FLOOR_SCRIPT

    objs = tmp_path / "objs"
    objs.mkdir()
    pairs = []
    for i in range(30):
        o = objs / f"o{i}"
        o.write_bytes(b"x" * i)
        pairs.append((o, f"d{i % 4}/f{i}"))
    for kind in ("copy", "hardlink", "symlink"):
        out = tmp_path / kind
        listing = tmp_path / f"{kind}.txt"
        listing.write_text("\n".join(f"{o}\t{out / rel}" for o, rel in pairs))
        subprocess.run([sys.executable, "-c", FILES_FLOOR_SCRIPT, str(listing), kind], check=True)
        for o, rel in pairs:
            f = out / rel
            assert f.read_bytes() == o.read_bytes()
            assert f.is_symlink() == (kind == "symlink")
            assert (os.readlink(f) == str(o)) if kind == "symlink" else (f.stat().st_ino == o.stat().st_ino) == (
                kind == "hardlink")
        assert sorted(p.name for p in out.iterdir()) == ["d0", "d1", "d2", "d3"]
