"""Real dvc and tide share remotes: what one pushes the other pulls, byte for byte, and both agree on
``status -c``. Over a local directory, S3 (moto server) and SFTP (OpenSSH sshd)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import git
from tests.fakes import servers
from tests.storage.workspace_data import populate, workspace_files

KINDS = ["local", "s3", "ssh"]


@pytest.fixture
def remote_for(request, tmp_path, monkeypatch):
    """``remote_for(kind)`` -> (url, [(option, value)...]) of a fresh remote both tools can use."""

    def make(kind):
        if kind == "local":
            return str(tmp_path / "remote"), []
        if kind == "s3":
            s3 = request.getfixturevalue("moto_s3")
            for k, v in servers.S3_ENV.items():
                monkeypatch.setenv(k, v)
            return f"s3://{s3.new_bucket('interop')}/dvcstore", [("endpointurl", s3.endpoint)]
        d = request.getfixturevalue("sshd")
        return d.url(str(tmp_path / "sftp-remote")), [("keyfile", d.client_key)]

    return make


def _configure(tool, repo, url, options):
    tool("remote", "add", "-d", "store", url, cwd=repo)
    for k, v in options:
        tool("remote", "modify", "store", k, v, cwd=repo)


def _clone(src, dst):
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True)
    return dst


@pytest.mark.parametrize("kind", KINDS)
def test_tide_pushes_dvc_pulls(repo_dir, tide, dvc, tmp_path, remote_for, kind):
    url, options = remote_for(kind)
    _configure(tide, repo_dir, url, options)
    populate(repo_dir, parts=6)
    tide("add", "data", "model.pkl", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = _clone(repo_dir, tmp_path / "clone")
    dvc("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)
    assert "in sync" in dvc("status", "-c", cwd=clone).stdout
    assert "in sync" in tide("status", "-c", cwd=clone).stdout


@pytest.mark.parametrize("kind", KINDS)
def test_dvc_pushes_tide_pulls(repo_dir, tide, dvc, tmp_path, remote_for, kind):
    url, options = remote_for(kind)
    _configure(tide, repo_dir, url, options)  # config files are byte-identical to dvc's (test_remote_cmd)
    populate(repo_dir, parts=6)
    dvc("add", "data", "model.pkl", cwd=repo_dir)
    dvc("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    assert "in sync" in tide("status", "-c", cwd=repo_dir).stdout
    clone = _clone(repo_dir, tmp_path / "clone")
    assert tide("status", "-c", "--json", cwd=clone).stdout.count('"deleted"') >= 2
    tide("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)
    assert "in sync" in dvc("status", "-c", cwd=clone).stdout


def test_status_agrees_when_partly_pushed(repo_dir, tide, dvc, tmp_path):
    remote = tmp_path / "remote"
    _configure(tide, repo_dir, str(remote), [])
    (repo_dir / "a.txt").write_text("a\n")
    tide("add", "a.txt", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    (repo_dir / "b.txt").write_text("b\n")
    tide("add", "b.txt", cwd=repo_dir)
    ours = tide("status", "-c", cwd=repo_dir).stdout
    theirs = dvc("status", "-c", cwd=repo_dir).stdout
    assert ours.split() == theirs.split() == ["new:", "b.txt"]


@pytest.mark.parametrize("kind", KINDS)
def test_gc_cloud_keeps_young_objects_deletes_old_ones_and_dvc_agrees(repo_dir, tide, dvc, tmp_path, remote_for,
                                                                     kind, monkeypatch):
    """gc -c on each remote: unused objects younger than the grace period stay, older ones go (on
    S3 the ages come from the listing and the deletes go in one DeleteObjects request); what stays
    is what dvc and a fresh clone need. Ages only grow, so neither check depends on timing."""
    import time

    url, options = remote_for(kind)
    _configure(tide, repo_dir, url, options)
    populate(repo_dir, parts=3)
    model = (repo_dir / "model.pkl").read_bytes()
    for version in (b"", b"v2", b"v3"):  # v1 and v2 of the model end up unused
        (repo_dir / "model.pkl").write_bytes(model + version)
        tide("add", "data", "model.pkl", cwd=repo_dir)
        tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    young = tide("gc", "-c", "-w", "--dry", cwd=repo_dir, env={**os.environ, "TIDE_GC_GRACE": "3600"}).stdout
    assert "Kept 2 unused objects" in young and "0 objects would be removed from remote" in young, young
    time.sleep(1.5)
    monkeypatch.setenv("TIDE_GC_GRACE", "1")
    assert "2 objects would be removed from remote" in tide("gc", "-c", "-w", "--dry", cwd=repo_dir).stdout
    tide("gc", "-c", "-w", "-f", cwd=repo_dir)
    assert "in sync" in dvc("status", "-c", cwd=repo_dir).stdout
    assert "0 objects would be removed from remote" in tide("gc", "-c", "-w", "--dry", cwd=repo_dir).stdout
    clone = _clone(repo_dir, tmp_path / "clone")
    dvc("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)
