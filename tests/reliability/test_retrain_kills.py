"""A small fixed-seed slice of the retrain kill torture (scripts/torture.py runs 60+ trials): tide retrain
SIGKILLed at named points of its steps, with forge faults, converges after one healthy re-run."""

from __future__ import annotations

from tests.reliability import retrainkill


def test_retrain_killed_at_named_points_converges(tmp_path):
    res = retrainkill.run(4, seed=1, work=tmp_path, runner_share=0.25, point_share=1.0)
    assert res["failures"] == [], "\n\n".join(res["failures"])
    counts = res["counts"]
    assert counts["trials"] == 4 and counts["killed"] + counts["failed_on_fault"] >= 2, counts
