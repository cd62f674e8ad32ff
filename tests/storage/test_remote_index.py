"""The remote index (what a clone knows the remote has) never makes a push skip an object that
another clone's ``tide gc -c`` deleted: gc writes a new epoch token, and the index is dropped."""

from __future__ import annotations

import os

from tests.conftest import git


def test_push_resends_what_another_clones_gc_deleted(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "r", str(remote), cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "remote")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo_dir), str(other))  # knows nothing of a.txt

    (repo_dir / "a.txt").write_text("precious\n")
    tide("add", "a.txt", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    objects = sorted(p for p in remote.rglob("*") if p.is_file())
    assert len(objects) == 1
    assert "Everything is up to date" in tide("push", cwd=repo_dir).stdout  # the index answers

    # the other clone does not use a.txt: its gc -c deletes it from the remote
    env = {**os.environ, "TIDE_GC_GRACE": "0"}
    tide("gc", "-c", "-w", "-f", cwd=other, env=env)
    assert not objects[0].exists()
    assert (remote / "tide-gc-epoch").is_file()

    out = tide("push", cwd=repo_dir).stdout
    assert "1 file" in out and objects[0].exists()  # re-sent, not trusted from the stale index
    assert "Everything is up to date" in tide("push", cwd=repo_dir).stdout
    (repo_dir / "a.txt").unlink()
    tide("pull", cwd=repo_dir)
    assert (repo_dir / "a.txt").read_text() == "precious\n"


def test_dvc_ignores_the_epoch_file(repo_dir, tide, dvc, tmp_path):
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "r", str(remote), cwd=repo_dir)
    (repo_dir / "b.txt").write_text("b\n")
    tide("add", "b.txt", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    (repo_dir / "old.txt").write_text("old\n")
    tide("add", "old.txt", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    tide("remove", "old.txt.dvc", cwd=repo_dir)
    tide("gc", "-c", "-w", "-f", cwd=repo_dir, env={**os.environ, "TIDE_GC_GRACE": "0"})
    assert (remote / "tide-gc-epoch").is_file()
    assert dvc("status", "-c", cwd=repo_dir).returncode == 0
    dvc("gc", "-c", "-w", "-f", cwd=repo_dir)
    (repo_dir / "b.txt").unlink()
    dvc("pull", cwd=repo_dir)
    assert (repo_dir / "b.txt").read_text() == "b\n"
