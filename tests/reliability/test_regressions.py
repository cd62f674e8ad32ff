"""Regression tests for bugs the reliability suite found that no other test of this area covers."""

from __future__ import annotations

import sys

from tests.reliability import crashlib


def test_run_on_a_commit_with_an_empty_tree(tmp_path, crash_env):
    """`tide run` on a commit without files died with a tarfile traceback."""
    repo = tmp_path / "p"
    repo.mkdir()
    crashlib.git(repo, "init", "-q", "-b", "main", env=crash_env)
    crashlib.git(repo, "commit", "-q", "--allow-empty", "-m", "empty", env=crash_env)
    p = crashlib.tide(["run", "--on", "local", "--no-setup", "--no-push", "--", sys.executable, "-c", "print(42)"],
                      repo, crash_env, check=False)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert "42" in p.stdout


def test_unreachable_remote_is_an_error_not_an_empty_remote(tmp_path, crash_env):
    """fsspec's exists() swallows every error: an unreachable SSH remote looked empty, so
    `status -c` reported every object as new instead of failing."""
    repo = tmp_path / "r"
    repo.mkdir()
    crashlib.git(repo, "init", "-q", "-b", "main", env=crash_env)
    crashlib.tide(["init", "-q"], repo, crash_env)
    (repo / "x").write_text("x")
    crashlib.tide(["add", "-q", "x"], repo, crash_env)
    crashlib.tide(["remote", "add", "-d", "s", "webdav://127.0.0.1:9/d"], repo, crash_env)
    env = dict(crash_env, TIDE_REMOTE_RETRIES="1")
    p = crashlib.tide(["status", "-c"], repo, env, check=False)
    assert p.returncode != 0 and p.stderr.startswith("ERROR: "), p.stdout + p.stderr
    assert "new" not in p.stdout


def test_remote_retries_setting(tmp_path, crash_env):
    """TIDE_REMOTE_RETRIES=0 meant the default (5 attempts); a non-number gave a traceback."""
    repo = tmp_path / "r"
    repo.mkdir()
    crashlib.git(repo, "init", "-q", "-b", "main", env=crash_env)
    crashlib.tide(["init", "-q"], repo, crash_env)
    (repo / "x").write_text("x")
    crashlib.tide(["add", "-q", "x"], repo, crash_env)
    crashlib.tide(["remote", "add", "-d", "s", str(tmp_path / "remote")], repo, crash_env)
    bad = crashlib.tide(["push"], repo, dict(crash_env, TIDE_REMOTE_RETRIES="many"), check=False)
    assert bad.returncode != 0 and bad.stderr.strip() == \
        "ERROR: TIDE_REMOTE_RETRIES must be a whole number, got 'many'"
    crashlib.tide(["push", "-q"], repo, dict(crash_env, TIDE_REMOTE_RETRIES="0"))
