"""Issue 19's `make bench` rows (bench/registry_rows.py): selected by `--only registry`, given the issue's
targets, and never vacuous: the check after each timed run fails when the command did not do its work.
(The speed itself is measured by ``make bench``, not here.)"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import registry_rows
from harness import BenchError, Tool
from report import target_for
from scenarios import OPS


def test_issue19_bench_only_registry_selects_the_rows_and_their_own_section():
    import run

    args = run.parse_args(["--dvc", "dvc", "--only", "registry"])
    assert args.workloads == ["registry"]
    assert set(registry_rows.REGISTRY_OPS) <= args.ops
    assert all(op in OPS for op in registry_rows.REGISTRY_OPS)  # each row has its label
    assert "registry" in run.parse_args(["--dvc", "dvc"]).workloads  # in the default run too


def test_issue19_bench_targets_are_the_issues():
    for op in ("get", "import", "ls", "ls-dvc-only", "get-git", "import-git"):
        assert target_for("registry", op).min_ratio == 3
    for op in ("update-noop", "update-noop-git"):
        assert target_for("registry", op).min_ratio == 10


class _Lab:
    def __init__(self, work: str) -> None:
        self.work = work
        self.tools = [Tool("tide", ("tide",)), Tool("dvc", ("dvc",))]


def test_issue19_bench_checks_fail_a_run_that_did_not_do_its_work(tmp_path):
    suite = registry_rows.RegistrySuite(_Lab(str(tmp_path)), set(), n=3)
    suite.want_files, suite.want_bytes = 3, 6
    t = suite.lab.tools[0]
    out = suite.dir(t, "out")
    os.makedirs(os.path.join(out, "d"))
    with pytest.raises(BenchError, match="0 files"):
        suite._check_out("out")(t)  # nothing written
    for i in range(3):
        with open(os.path.join(out, "d", f"f{i}"), "wb") as f:
            f.write(b"ab" if i else b"a")
    with pytest.raises(BenchError, match="5 bytes"):
        suite._check_out("out")(t)  # a short file
    with open(os.path.join(out, "d", "f0"), "wb") as f:
        f.write(b"ab")
    suite._check_out("out")(t)

    consumer = suite.dir(t, "consumer")
    os.makedirs(consumer)
    os.rename(out, os.path.join(consumer, "out"))
    with open(os.path.join(consumer, "out.dvc"), "w") as f:
        f.write("outs:\n- path: out\n")  # data there, but not an import's .dvc file
    with pytest.raises(BenchError, match="not an import"):
        suite._check_import("consumer")(t)
    with open(os.path.join(consumer, "out.dvc"), "w") as f:
        f.write("frozen: true\ndeps:\n- repo:\n    rev_lock: abc\n")
    suite._check_import("consumer")(t)

    suite._imported_dvc["consumer"] = b"frozen: true\n"
    with pytest.raises(BenchError, match="changed out.dvc"):
        suite._check_unchanged("consumer")(t)  # an update that rewrote the .dvc file
