"""A lock file a killed git left (``make torture``'s retrain part, seed 67001 trial 54: ``tide retrain`` was
SIGKILLed while ``model register`` ran ``git tag``; every re-run then failed on ``refs/tags/tiny@v0.0.1.lock``).
Every git command tide runs goes through ``Git.run``, which removes a stale lock and runs the command once
more; a lock a live git holds, a young one, or one outside the repository's git directory stays."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from tests.conftest import git
from tide.core import gitlock
from tide.core.errors import GitError
from tide.core.git import Git


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    (root / "a").write_text("a\n")
    git(root, "add", "a")
    git(root, "commit", "-qm", "one")
    return root


def _old(path, seconds=30):
    path.write_text("")
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_a_stale_tag_lock_is_removed_and_the_tag_created(repo, capsys):
    lock = _old(repo / ".git" / "refs" / "tags" / "tiny@v0.0.1.lock")
    Git(str(repo)).run("tag", "-a", "tiny@v0.0.1", "-m", "Registering")
    assert git(repo, "tag", "-l").split() == ["tiny@v0.0.1"] and not lock.exists()
    err = capsys.readouterr().err
    assert err.startswith("WARNING: removed the stale git lock") and "tiny@v0.0.1.lock" in err


def test_a_stale_index_lock_does_not_stop_add(repo, capsys):
    lock = _old(repo / ".git" / "index.lock")
    (repo / "b").write_text("b\n")
    Git(str(repo)).add(["b"])
    assert "b" in git(repo, "ls-files").split() and not lock.exists()
    assert "index.lock" in capsys.readouterr().err


def test_a_lock_a_running_git_holds_stays_and_the_error_names_it(repo, capsys):
    lock = _old(repo / ".git" / "refs" / "tags" / "v1.lock")
    live = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)  # a git process working in the repository
    try:
        with pytest.raises(GitError) as e:
            Git(str(repo)).run("tag", "v1")
    finally:
        live.communicate(b"")
    assert lock.exists() and git(repo, "tag", "-l") == ""
    assert f"'{lock}' exists" in str(e.value) and "remove that file" in str(e.value)
    assert "WARNING" not in capsys.readouterr().err


def test_a_young_lock_is_waited_for_not_removed(repo, capsys):
    lock = repo / ".git" / "refs" / "tags" / "v2.lock"
    lock.write_text("")
    threading.Timer(0.3, lock.unlink).start()  # its owner finishes
    t = time.monotonic()
    Git(str(repo)).run("tag", "v2")
    assert git(repo, "tag", "-l").split() == ["v2"] and time.monotonic() - t < gitlock.STALE_AFTER
    assert "WARNING" not in capsys.readouterr().err


def test_a_lock_outside_the_git_directory_is_never_removed(repo, tmp_path):
    elsewhere = _old(tmp_path / "other.lock")
    stderr = f"fatal: Unable to create '{elsewhere}': File exists.\n".encode()
    assert not gitlock.clear_stale(stderr, str(repo), wait=0.1) and elsewhere.exists()
    inside = _old(repo / "a.lock")  # the work tree is not the git directory either
    assert not gitlock.clear_stale(f"Unable to create '{inside}': File exists.".encode(), str(repo), wait=0.1)
    assert inside.exists()


def test_model_register_after_a_killed_tag(reg_repo, tide):
    """The torture's case from the command line: the tag's lock a killed ``git tag`` left."""
    (reg_repo / "model.txt").write_text("one")
    git(reg_repo, "add", "model.txt")
    git(reg_repo, "commit", "-qm", "model")
    lock = _old(reg_repo / ".git" / "refs" / "tags" / "churn@v0.0.1.lock")
    p = tide("model", "register", "churn", cwd=reg_repo)
    assert "churn@v0.0.1" in p.stdout and not lock.exists()
    assert "removed the stale git lock" in p.stderr


@pytest.fixture
def reg_repo(repo_dir):
    git(repo_dir, "commit", "-q", "--allow-empty", "-m", "init")
    return repo_dir


def test_a_stale_ref_lock_in_a_local_bare_remote_does_not_stop_a_push(repo, tmp_path, capsys):
    """``tide pr`` pushes to the local forge's bare repository; a push killed there leaves the branch's lock."""
    bare = tmp_path / "forge.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    lock = _old(bare / "refs" / "heads" / "main-cml-pr.lock")
    Git(str(repo)).run("push", "-q", "origin", "main:refs/heads/main-cml-pr")
    assert not lock.exists()
    assert git(bare, "rev-parse", "main-cml-pr") == git(repo, "rev-parse", "main")
    assert "removed the stale git lock" in capsys.readouterr().err


def test_a_lock_in_a_remote_that_is_no_repository_stays(repo, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    git(repo, "remote", "add", "odd", str(plain))
    lock = _old(plain / "x.lock")
    assert not gitlock.clear_stale(f"Unable to create '{lock}': File exists.".encode(), str(repo), wait=0.1)
    assert lock.exists()
