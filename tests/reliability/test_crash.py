"""Crash injection (the make-test slice; scripts/torture.py runs hundreds of trials).

tide runs in a real subprocess and is killed with SIGKILL, once just before a chosen filesystem
mutation and once after a random delay. Afterwards fsck finds nothing corrupt or missing, no file the
user had is lost, and re-running the command completes with the expected workspace.
"""

from __future__ import annotations

import random

import pytest

from tests.reliability import crashlib

SCENARIOS = [s for s in crashlib.SCENARIOS.values() if crashlib.available(s)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_sigkill_at_a_mutation_then_rerun(scenario, template, crash_env, tmp_path):
    rng = random.Random(f"make-test-{scenario.name}")
    mutations, _ = crashlib.calibrate(scenario, template, tmp_path, crash_env, seed=1)
    assert mutations > 0, "the command changed nothing on disk: the scenario does not exercise it"
    trial = crashlib.run_trial(scenario, template, tmp_path, crash_env, rng, "point", rng.randint(1, mutations))
    assert not trial.problems, trial.describe()


def test_sigkill_at_a_random_moment_then_rerun(template, crash_env, tmp_path):
    scenario = crashlib.SCENARIOS["add"]
    rng = random.Random("make-test-timed")
    trial = crashlib.run_trial(scenario, template, tmp_path, crash_env, rng, "time", rng.uniform(0.15, 0.4))
    assert not trial.problems, trial.describe()


def test_hardlink_cache_leaves_no_temporary_files(tmp_path, crash_env):
    """Regression: with cache.type=hardlink, `tide add` relinked each file from the cache through a
    temporary name; rename() of two links to one inode is a no-op, so `.XXXX.tmp` files stayed
    behind in the tracked directory (found by the crash harness: the workspace never matched)."""
    root = tmp_path / "r"
    root.mkdir()
    crashlib.git(root, "init", "-q", "-b", "main", env=crash_env)
    crashlib.tide(["init", "-q"], root, crash_env)
    crashlib.tide(["config", "cache.type", "hardlink"], root, crash_env)
    state = {"data/a.bin": b"a" * 100, "data/sub/b.bin": b"b" * 5000, "model.bin": b"m" * 70000}
    crashlib.write_state(root, {}, state)
    crashlib.tide(["add", "-q", "data", "model.bin"], root, crash_env)
    assert crashlib.read_state(root) == state
    assert not [p for p in root.rglob("*.tmp") if ".dvc" not in p.parts]
    crashlib.tide(["checkout", "-q", "--relink"], root, crash_env)
    assert crashlib.read_state(root) == state


KILLED_MID_WRITE = """
import os, signal, sys
from tide.workspace.repo import Repo
tmp = Repo.find(sys.argv[1]).temps.name(sys.argv[2])
with open(tmp, "wb") as f:
    f.write(b"half of something")
print(tmp, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_mid_write(root, dst, env) -> str:
    """A tide process that made its temporary for ``dst`` (journaled, core/temps.py) and was killed
    before the rename; returns the temporary's path."""
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(root), str(dst)], env=env,
                       capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    return p.stdout.strip()


def test_leftover_temporary_file_is_not_taken_for_data(tmp_path, crash_env):
    """Regression: a SIGKILL between creating a temporary link in a tracked directory and renaming it
    left its temporary behind; the re-run of `tide add` then tracked it as part of the data. Since
    issue 17 only a temporary that a tide process journaled is recognised (a user's file that looks
    like one is data), and the next command that takes the repository lock deletes it."""
    import os

    root = tmp_path / "r"
    root.mkdir()
    crashlib.git(root, "init", "-q", "-b", "main", env=crash_env)
    crashlib.tide(["init", "-q"], root, crash_env)
    state = {"data/a.bin": b"a", "data/sub/b.bin": b"b"}
    crashlib.write_state(root, {}, state)
    crashlib.tide(["add", "-q", "data"], root, crash_env)
    pointer = (root / "data.dvc").read_text()
    leftover = killed_mid_write(root, root / "data" / "sub" / "b.bin", crash_env)
    assert os.path.exists(leftover)
    assert crashlib.tide(["status", "--json"], root, crash_env).stdout.strip() == "{}"
    crashlib.tide(["add", "-q", "data"], root, crash_env)
    assert (root / "data.dvc").read_text() == pointer
    assert not os.path.exists(leftover)  # swept when `add` took the lock
    assert not os.listdir(root / ".dvc" / "tmp" / "tide" / "temps")  # and the journal with it
