"""webhdfs:// remotes (dvc's webhdfs type) against a stateful fake of the WebHDFS REST API
(tests/fakes/webhdfs.py: no Hadoop can run here), real dvc with dvc-webhdfs on the same fake,
and hdfs:// refused in one line."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import git
from tests.storage.workspace_data import populate, workspace_files
from tide.core.config import Env
from tide.core.errors import ConfigError
from tide.storage.base import RemoteSpec, StoragePermanent, StorageTransient
from tide.storage.registry import open_backend
from tide.storage.wrappers import RetryingBackend, RetryPolicy


@pytest.fixture(scope="module")
def secured():
    """A cluster that refuses anonymous requests (no user.name, token or basic auth)."""
    from tests.fakes.webhdfs import FakeWebHdfs

    s = FakeWebHdfs(require_identity=True)
    yield s
    s.stop()


def _open(fake, path, **options):
    return open_backend(RemoteSpec("hd", fake.url(path), tuple(options.items())), Env({}))


def _src(tmp_path, data: bytes, name: str = "src") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_upload_goes_through_the_datanode_and_a_rename(webhdfs_fake, tmp_path):
    b = _open(webhdfs_fake, f"user/tide/{tmp_path.name}", user="tide")
    ns = webhdfs_fake.ns
    start = len(ns.log)
    b.put_file(_src(tmp_path, b"payload"), "files/md5/ab/cdef")
    calls = [(role, method, op) for role, method, op, _ in ns.log[start:]]
    assert calls == [("namenode", "PUT", "CREATE"), ("datanode", "PUT", "CREATE"),
                     ("namenode", "GET", "GETFILESTATUS"), ("namenode", "PUT", "RENAME")]
    path = f"/user/tide/{tmp_path.name}/files/md5/ab/cdef"
    assert ns.files()[path] == b"payload" and ns.nodes[path].owner == "tide"
    assert not [p for p in ns.files() if p.endswith(".tmp")]
    # putting an existing key replaces it (HDFS will not rename onto a file: tide deletes it first)
    b.put_file(_src(tmp_path, b"second"), "files/md5/ab/cdef")
    assert ns.files()[path] == b"second"
    with b.open("files/md5/ab/cdef") as f:  # seekable ranged reads (downloads resume with seek)
        f.seek(3)
        assert f.read() == b"ond"


def test_truncated_upload_never_becomes_visible(webhdfs_fake, tmp_path):
    b = _open(webhdfs_fake, f"user/tide/{tmp_path.name}", user="tide")
    src = _src(tmp_path, os.urandom(50_000))
    webhdfs_fake.ns.truncate_next = 1
    with pytest.raises(StorageTransient, match="HDFS holds 25000 bytes after the upload, 50000 were sent"):
        b.put_file(src, "files/md5/11/t")
    assert not b.exists("files/md5/11/t")
    assert not [p for p in webhdfs_fake.ns.files() if tmp_path.name in p]  # the temporary file is gone too
    webhdfs_fake.ns.truncate_next = 1
    RetryingBackend(b, RetryPolicy(base_delay=0.01)).put_file(src, "files/md5/11/t")
    assert b.size("files/md5/11/t") == 50_000


def test_errors_map_to_storage_errors(webhdfs_fake, tmp_path):
    b = _open(webhdfs_fake, "locked/store", user="tide")
    with pytest.raises(StoragePermanent, match="access refused.*AccessControlException: Permission denied"):
        b.put_file(_src(tmp_path, b"x"), "files/md5/00/aa")
    ok = _open(webhdfs_fake, f"user/tide/{tmp_path.name}", user="tide")
    webhdfs_fake.ns.faults.append(("CREATE", 403, "StandbyException"))  # namenode fail-over in progress
    with pytest.raises(StorageTransient, match="StandbyException"):
        ok.put_file(_src(tmp_path, b"x"), "files/md5/00/aa")
    webhdfs_fake.ns.faults.append(("GETFILESTATUS", 500, "RetriableException"))
    assert not RetryingBackend(ok, RetryPolicy(base_delay=0.01)).exists("files/md5/00/aa")


def test_identity_options(secured, tmp_path):
    data = _src(tmp_path, b"who")
    with pytest.raises(StoragePermanent, match="access refused.*Authentication required"):
        _open(secured, "data/anon").exists("files/md5/00/aa")
    # delegation token (the user is in the token)
    tok = _open(secured, "data/tok", token=secured.token)
    tok.put_file(data, "files/md5/00/aa")
    assert secured.ns.nodes["/data/tok/files/md5/00/aa"].owner == secured.token_user
    with pytest.raises(StoragePermanent, match="access refused.*InvalidToken"):
        _open(secured, "data/tok", token="forged").exists("files/md5/00/aa")
    # basic auth (a gateway such as Knox), and a proxy user
    basic = _open(secured, "data/basic", user=secured.basic_user, password=secured.basic_password, proxy_to="ana")
    basic.put_file(data, "files/md5/00/aa")
    assert secured.ns.nodes["/data/basic/files/md5/00/aa"].owner == "ana"
    with pytest.raises(StoragePermanent, match="access refused"):
        _open(secured, "data/basic", user=secured.basic_user, password="wrong").exists("files/md5/00/aa")
    # the user in the URL, as in dvc (webhdfs://user@host/path)
    url = secured.url("data/url").replace("://", "://carla@")
    open_backend(RemoteSpec("hd", url, ()), Env({})).put_file(data, "files/md5/00/aa")
    assert secured.ns.nodes["/data/url/files/md5/00/aa"].owner == "carla"


def test_option_mistakes_are_one_line(webhdfs_fake):
    with pytest.raises(ConfigError, match="do not set 'user' or 'proxy_to'"):
        _open(webhdfs_fake, "x", token="t", user="u")
    with pytest.raises(ConfigError, match="'password' \\(basic auth\\) needs 'user'"):
        _open(webhdfs_fake, "x", password="p")
    with pytest.raises(ConfigError, match="kerberos.*(do not set 'user'|requests-kerberos)"):
        _open(webhdfs_fake, "x", kerberos="true", user="u")
    with pytest.raises(ConfigError, match="kerberos"):
        _open(webhdfs_fake, "x", kerberos="maybe")


def test_data_proxy_target_maps_the_namenode_address(webhdfs_fake, tmp_path):
    """dvc's data_proxy_target: the cluster's own address is unreachable, a proxy stands in for it."""
    spec = RemoteSpec("hd", f"webhdfs://namenode.invalid:9870/user/tide/{tmp_path.name}", (
        ("user", "tide"), ("data_proxy_target", f"http://127.0.0.1:{webhdfs_fake.port}/webhdfs/v1")))
    b = open_backend(spec, Env({}))
    b.put_file(_src(tmp_path, b"via proxy"), "files/md5/22/bb")
    assert list(b.list("")) == ["files/md5/22/bb"]


# --- the CLI and real dvc (dvc-webhdfs) on the same cluster ------------------------------------------------
def _setup(tool, repo, url):
    tool("remote", "add", "-d", "hd", url, cwd=repo)
    tool("remote", "modify", "hd", "user", "tide", cwd=repo)


def _clone(src, dst):
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True)
    return dst


def test_tide_pushes_to_webhdfs_and_dvc_pulls(repo_dir, tide, dvc, tmp_path, webhdfs_fake):
    _setup(tide, repo_dir, webhdfs_fake.url(f"user/tide/t2d-{tmp_path.name}"))
    populate(repo_dir, model_bytes=7_000_000)
    tide("add", "data", "model.pkl", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    assert "in sync" in dvc("status", "-c", cwd=repo_dir).stdout
    clone = _clone(repo_dir, tmp_path / "clone")
    dvc("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)


def test_dvc_pushes_to_webhdfs_and_tide_pulls(repo_dir, tide, dvc, tmp_path, webhdfs_fake):
    _setup(tide, repo_dir, webhdfs_fake.url(f"user/tide/d2t-{tmp_path.name}"))
    populate(repo_dir, model_bytes=7_000_000)
    dvc("add", "data", "model.pkl", cwd=repo_dir)
    dvc("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    assert "in sync" in tide("status", "-c", cwd=repo_dir).stdout
    clone = _clone(repo_dir, tmp_path / "clone")
    tide("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)
    tide("gc", "-c", "-w", "-f", cwd=clone)  # lists the tree with LISTSTATUS, deletes nothing in use
    assert "in sync" in dvc("status", "-c", cwd=clone).stdout


def test_hdfs_urls_fail_in_one_line(repo_dir, tide):
    tide("remote", "add", "-d", "h", "hdfs://me@namenode:8020/data/store", cwd=repo_dir)
    (repo_dir / "a.txt").write_text("a\n")
    tide("add", "a.txt", cwd=repo_dir)
    p = tide("push", cwd=repo_dir, check=False)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "libhdfs" in lines[0]
    assert "webhdfs://me@namenode:9870/data/store" in lines[0]
