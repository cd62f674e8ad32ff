"""Issue 23's growing-table bench (bench/growing_table.py) at a tiny size: the numbers it reports come from
what the remotes hold, and its cut-short plain remotes (``plain_days``, for the 1 GB run) count exactly
the bytes a plain remote would have stored."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import growing_table


def test_issue23_growing_bench_measures_the_remotes_and_computes_cut_plain_ones(tmp_path):
    full = growing_table.run(0.2, 3, work=str(tmp_path / "full"))
    cut = growing_table.run(0.2, 3, work=str(tmp_path / "cut"), plain_days=1)
    sizes = [size for _, size, *_ in full["tools"]["plain"]]
    # a plain remote holds each day's version whole: measured on disk, and computed when cut short
    assert full["computed"] == [] and abs(full["stored"]["plain"] - sum(sizes)) < 0.01 * sum(sizes)
    assert cut["computed"] == ["plain"] and cut["stored"]["plain"] == sum(sizes)
    assert len(cut["tools"]["plain"]) == 1 and len(cut["tools"]["chunked"]) == 3
    assert not os.path.exists(tmp_path / "cut" / "plain")  # its remote left the disk once cut
    # the same data, so the chunked remote stores about the same either way (index files carry times and
    # random names), and far less than the plain one
    assert abs(cut["stored"]["chunked"] - full["stored"]["chunked"]) < 0.01 * full["stored"]["chunked"]
    assert full["stored"]["chunked"] < full["stored"]["plain"] / 2
    # older versions left the local cache: one object (this day's table) per repository
    objs = [f for _, _, fs in os.walk(tmp_path / "cut" / "chunked" / "repo" / ".dvc" / "cache") for f in fs]
    assert len(objs) == 1
    md = "\n".join(growing_table.markdown(cut))
    assert "(computed: ran 1 of 3 days)" in md and "tide, chunked |" in md
