"""Issue 21 item 4: git plumbing lives in tide.core.git, one behaviour per question asked of git."""

from __future__ import annotations

import subprocess

import pytest

from tide.core.errors import GitError
from tide.core.git import Git


def sh(cwd, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    sh(root, "init", "-q", "-b", "main")
    sh(root, "config", "user.name", "t")
    sh(root, "config", "user.email", "t@example.com")
    (root / "a.txt").write_text("a\n")
    (root / "d").mkdir()
    (root / "d" / "keep.txt").write_text("k\n")
    sh(root, "add", "-A")
    sh(root, "commit", "-qm", "one")
    return root


def test_issue21_remote_head_matches_the_branch_exactly(repo, tmp_path):
    bare = tmp_path / "r.git"
    sh(tmp_path, "init", "-q", "--bare", str(bare))
    sh(repo, "push", "-q", str(bare), "main:refs/heads/x/refs/heads/main")
    git = Git(str(repo))
    # ls-remote matches a pattern by its tail: refs/heads/x/refs/heads/main is not branch main
    assert git.remote_head(str(bare), "main") == ""
    assert git.remote_head(str(bare), "x/refs/heads/main") == sh(repo, "rev-parse", "HEAD")
    sh(repo, "push", "-q", str(bare), "main")
    assert git.remote_head(str(bare), "main") == sh(repo, "rev-parse", "HEAD")


def test_issue21_remote_head_of_an_unreadable_remote_is_an_error_not_absent(repo, tmp_path):
    with pytest.raises(GitError, match="cannot read remote"):
        Git(str(repo)).remote_head(str(tmp_path / "nowhere.git"), "main")


def test_issue21_commit_on_branch_leaves_head_index_and_worktree(repo):
    git = Git(str(repo))
    head = sh(repo, "rev-parse", "HEAD")
    (repo / "a.txt").write_text("edited, not staged\n")
    sha = git.commit_on_branch({"d/new/m.json": b"{}\n", "a.txt": b"b\n"}, "tide-run/x", "msg")
    assert sh(repo, "rev-parse", "refs/heads/tide-run/x") == sha
    assert sh(repo, "rev-parse", f"{sha}^") == head == sh(repo, "rev-parse", "HEAD")
    assert sh(repo, "show", f"{sha}:d/new/m.json") == "{}"
    assert sh(repo, "show", f"{sha}:d/keep.txt") == "k"  # the rest of the tree is HEAD's
    assert sh(repo, "show", f"{sha}:a.txt") == "b"
    assert (repo / "a.txt").read_text() == "edited, not staged\n"
    assert sh(repo, "diff", "--cached", "--name-only") == ""


def test_issue21_commit_worktree_builds_in_a_temporary_index(repo):
    git = Git(str(repo))
    head = sh(repo, "rev-parse", "HEAD")
    assert git.commit_worktree(head, ["a.txt"], "nothing") is None  # nothing differs from the parent
    (repo / "a.txt").write_text("changed\n")
    (repo / "new.txt").write_text("n\n")
    assert sorted(git.changed_files()) == ["a.txt", "new.txt"]
    sha = git.commit_worktree(head, ["a.txt"], "one file", {"GIT_AUTHOR_NAME": "bot"})
    assert sh(repo, "show", "-s", "--format=%an %s", sha) == "bot one file"
    assert sh(repo, "show", f"{sha}:a.txt") == "changed"
    assert sh(repo, "ls-tree", "--name-only", sha).split() == ["a.txt", "d"]  # new.txt was not named
    assert sh(repo, "rev-parse", "HEAD") == head and sh(repo, "diff", "--cached", "--name-only") == ""
    assert git.has_commit(sha) and not git.has_commit("0" * 40)
