"""Deliberate N79 (seed 68001 sequence 1895), side by side with dvc: a stage restored from the run cache gets
its ``cache: false`` output as the plain writable copy a run leaves; dvc links it from the cache like a cached
one (a symlink, or a read-only hardlink whose ``chmod u+w`` and edit would corrupt the object)."""

from __future__ import annotations

import os
import stat

import pytest

YAML = ("stages:\n  s1:\n    cmd: cat d d > u1\n    deps: [d]\n    outs:\n    - u1:\n        cache: false\n"
        "  s2:\n    cmd: cat u1 > o2\n    deps: [u1]\n    outs: [o2]\n")


@pytest.mark.parametrize("cache_type", ["symlink", "hardlink"])
def test_run_cache_restore_writes_the_uncached_output_as_a_copy(both, cache_type):
    seen = {}
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh(f"echo 1 > d; cat > dvc.yaml <<'EOF'\n{YAML}EOF")
        r.t("repro", "-q")
        r.sh("echo hello > u1")
        r.t("checkout", "-q")
        out = r.t("repro").stdout
        assert "Stage 's1' is cached - skipping run, checking out outputs" in out, out
        st = os.lstat(r.p("u1"))
        with open(r.p("u1")) as f:
            seen[r.name] = (f.read(), stat.S_ISLNK(st.st_mode), st.st_nlink, stat.S_IMODE(os.stat(r.p("u1")).st_mode))
    assert seen["dvc"][0] == seen["tide"][0] == "1\n1\n"
    assert seen["tide"][1:] == (False, 1, 0o644)  # a plain writable file, as after a run
    assert seen["dvc"][1:] == ((True, 1, 0o444) if cache_type == "symlink" else (False, 3, 0o444))  # dvc links it
