"""``tide update`` with nothing to do is told without opening (cloning) the source (the no-op test itself
is in test_issue19_import.py, which builds the sources once)."""

from __future__ import annotations

from tests.registry.conftest import git


def test_issue19_resolve_rev_without_clone(tmp_path):
    from tide.ops.registry_gitside import resolve_rev

    src = tmp_path / "g"
    src.mkdir()
    git(src, "init", "-q", "-b", "main")
    (src / "f").write_text("1")
    git(src, "add", "f")
    git(src, "commit", "-qm", "one")
    git(src, "tag", "v1")
    git(src, "tag", "-a", "-m", "annotated", "v1a")
    v1 = git(src, "rev-parse", "HEAD")
    (src / "f").write_text("2")
    git(src, "commit", "-qam", "two")
    git(src, "branch", "v1b", "v1")  # a branch and a tag of the same name: the branch, as git clone -b
    git(src, "tag", "v1b")
    head = git(src, "rev-parse", "HEAD")
    for url in (f"file://{src}", str(src)):
        assert resolve_rev(url, None) == head
        assert resolve_rev(url, "main") == head
        assert resolve_rev(url, "v1") == v1
        assert resolve_rev(url, "v1a") == v1          # peeled to its commit
        assert resolve_rev(url, "no-such-rev") is None
    assert resolve_rev(f"file://{src}", "v1b") == v1
    assert resolve_rev(f"file://{src}", v1[:8]) is None       # a short id: the source must be opened
    assert resolve_rev(str(src), v1[:8]) == v1
    assert resolve_rev(head, head) == head                    # a full id never moves: nothing asked
    assert resolve_rev(f"file://{tmp_path}/nonexistent", "main") is None
