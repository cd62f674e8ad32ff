"""http:// remotes can be pushed to, as with dvc: POST (default) or PUT with a chunked body, basic / digest /
custom-header authentication, ssl_verify, a size check after each upload, and real dvc on the same remote.
Against a real server on loopback (tests/fakes/http_upload.py) that stores what it is sent."""

from __future__ import annotations

import io
import os
import subprocess

import pytest

from tests.conftest import git
from tests.storage.certs import self_signed
from tests.storage.workspace_data import populate, workspace_files
from tide.core.config import Env
from tide.core.errors import ConfigError
from tide.storage.base import RemoteSpec, StorageNotFound, StoragePermanent, StorageTransient
from tide.storage.registry import open_backend
from tide.storage.wrappers import RetryingBackend, RetryPolicy


def _backend(server, sub, **options):
    return open_backend(RemoteSpec("web", server.url(sub), tuple(options.items())), Env({}))


def _src(tmp_path, data: bytes, name: str = "src"):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


AUTHS = {
    "basic": {"auth": "basic", "user": "tide", "password": "s3cret-http"},
    "digest": {"auth": "digest", "user": "tide", "password": "s3cret-http"},
    "custom": {"auth": "custom", "custom_auth_header": "X-Tide-Token", "password": "tok-123"},
}


@pytest.mark.parametrize("auth", sorted(AUTHS))
def test_auth_methods_push_and_read(upload_http, tmp_path, auth):
    b = _backend(upload_http, f"{auth}/{tmp_path.name}", **AUTHS[auth])
    data = os.urandom(70_000)
    key = "files/md5/ab/cdef"
    assert not b.exists(key)
    b.put_file(_src(tmp_path, data), key)
    assert b.size(key) == len(data)
    with b.open(key) as f:
        assert f.read() == data
    b.get_file(key, str(tmp_path / "got"))
    assert (tmp_path / "got").read_bytes() == data
    assert (tmp_path / "got").read_bytes() == open(  # noqa: SIM115
        os.path.join(upload_http.root, auth, tmp_path.name, "files", "md5", "ab", "cdef"), "rb").read()
    b.delete(key)
    assert not b.exists(key)
    # wrong credentials are an error, never "the object is missing"
    bad = dict(AUTHS[auth], password="wrong")
    with pytest.raises(StoragePermanent, match="access refused"):
        _backend(upload_http, f"{auth}/{tmp_path.name}", **bad).exists(key)


def test_auth_options_checked_like_dvc(upload_http):
    with pytest.raises(ConfigError, match="needs both 'user' and 'password'"):
        _backend(upload_http, "basic/x", auth="basic", user="tide")
    with pytest.raises(ConfigError, match="'custom_auth_header' and 'password'"):
        _backend(upload_http, "custom/x", auth="custom", password="p")
    with pytest.raises(ConfigError, match="is not one of basic, digest, custom"):
        _backend(upload_http, "basic/x", auth="ntlm")
    with pytest.raises(ConfigError, match="is not POST or PUT"):
        _backend(upload_http, "open/x", method="PATCH")


def test_user_from_url(upload_http, tmp_path):
    url = upload_http.url(f"basic/{tmp_path.name}").replace("://", "://tide@")
    b = open_backend(RemoteSpec("web", url, (("auth", "basic"), ("password", "s3cret-http"))), Env({}))
    b.put_file(_src(tmp_path, b"x"), "files/md5/00/aa")
    assert b.exists("files/md5/00/aa")


@pytest.mark.parametrize("method", ["POST", "PUT", None])
def test_upload_method_and_chunked_body(upload_http, tmp_path, method):
    sub = f"open/m-{method}-{tmp_path.name}"
    b = _backend(upload_http, sub, **({"method": method.lower()} if method else {}))
    b.put_file(_src(tmp_path, b"a" * 12_000_000), "files/md5/11/big")  # several 5 MiB chunks
    b.put_stream(io.BytesIO(b"streamed"), "runs/aa/bb/cc", 8)
    ups = [u for u in upload_http.state.uploads() if sub in u[1]]
    assert [u[0] for u in ups] == [method or "POST"] * 2
    assert all(chunked for _, _, chunked in ups)  # dvc sends chunked bodies too
    assert b.size("files/md5/11/big") == 12_000_000


def test_truncated_upload_is_removed_then_retried(upload_http, tmp_path):
    b = _backend(upload_http, f"open/{tmp_path.name}")
    src = _src(tmp_path, os.urandom(10_000))
    upload_http.state.truncate_next = 1
    with pytest.raises(StorageTransient, match="holds 5000 bytes after the upload, 10000 were sent"):
        b.put_file(src, "files/md5/22/t")
    assert not b.exists("files/md5/22/t")  # nothing partial left to be trusted
    upload_http.state.truncate_next = 1
    RetryingBackend(b, RetryPolicy(base_delay=0.01)).put_file(src, "files/md5/22/t")
    assert b.size("files/md5/22/t") == 10_000


@pytest.mark.parametrize(("status", "error", "message"), [
    (503, StorageTransient, "HTTP 503"),
    (403, StoragePermanent, "access refused"),
    (413, StoragePermanent, "HTTP 413"),
])
def test_refused_uploads(upload_http, tmp_path, status, error, message):
    b = _backend(upload_http, f"open/{tmp_path.name}")
    upload_http.state.fail_next = [status]
    with pytest.raises(error, match=message):
        b.put_file(_src(tmp_path, b"abc"), "files/md5/33/r")
    assert not b.exists("files/md5/33/r")


def test_read_only_server_says_so(upload_http, tmp_path):
    b = _backend(upload_http, f"open/{tmp_path.name}", method="PUT")
    upload_http.state.refuse = {"PUT", "DELETE"}
    try:
        with pytest.raises(StoragePermanent, match=r"does not accept PUT \(HTTP 405\).*read-only"):
            b.put_file(_src(tmp_path, b"abc"), "files/md5/44/r")
        with pytest.raises(StoragePermanent, match="does not allow DELETE"):
            b.delete("files/md5/44/r")
    finally:
        upload_http.state.refuse = set()
    with pytest.raises(StorageNotFound):
        b.size("files/md5/44/r")


# --- https and ssl_verify ---------------------------------------------------------------------------------
def test_https_and_ssl_verify(tmp_path):
    from tests.fakes.http_upload import UploadHttp

    certfile, keyfile = self_signed(tmp_path)
    server = UploadHttp(str(tmp_path / "tls-root"), certfile, keyfile)
    try:
        with pytest.raises(StoragePermanent, match="certificate"):
            _backend(server, "open/s").exists("files/md5/55/a")
        for verify in ("false", certfile):
            b = _backend(server, f"open/{verify[-4:]}", ssl_verify=verify)
            b.put_file(_src(tmp_path, b"secure"), "files/md5/55/a")
            with b.open("files/md5/55/a") as f:
                assert f.read() == b"secure"
        with pytest.raises(ConfigError, match="no CA bundle"):
            _backend(server, "open/s", ssl_verify=str(tmp_path / "nothere.pem"))
    finally:
        server.stop()


# --- the CLI, and real dvc on the same remote ---------------------------------------------------------------
def _configure(tool, repo, url, options):
    tool("remote", "add", "-d", "web", url, cwd=repo)
    for k, v in options:
        tool("remote", "modify", "--local", "web", k, v, cwd=repo)


def _clone(src, dst, options, tool):
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True)
    for k, v in options:
        tool("remote", "modify", "--local", "web", k, v, cwd=dst)
    return dst


HTTP_OPTIONS = [("auth", "basic"), ("user", "tide"), ("password", "s3cret-http"), ("method", "PUT")]


def test_tide_pushes_over_http_and_dvc_pulls(repo_dir, tide, dvc, tmp_path, upload_http):
    url = upload_http.url(f"basic/cli-{tmp_path.name}")
    _configure(tide, repo_dir, url, HTTP_OPTIONS)
    populate(repo_dir, model_bytes=6_000_000)
    tide("add", "data", "model.pkl", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    assert "in sync" in dvc("status", "-c", cwd=repo_dir).stdout
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    theirs = _clone(repo_dir, tmp_path / "dvc-clone", HTTP_OPTIONS, dvc)
    dvc("pull", cwd=theirs)
    assert workspace_files(theirs) == workspace_files(repo_dir)
    ours = _clone(repo_dir, tmp_path / "tide-clone", HTTP_OPTIONS, tide)
    tide("pull", cwd=ours)
    assert workspace_files(ours) == workspace_files(repo_dir)


def test_dvc_pushes_over_http_and_tide_pulls(repo_dir, tide, dvc, tmp_path, upload_http):
    url = upload_http.url(f"basic/dvc-{tmp_path.name}")
    options = HTTP_OPTIONS[:3]  # dvc's default method, POST
    _configure(tide, repo_dir, url, options)
    populate(repo_dir, model_bytes=6_000_000)
    dvc("add", "data", "model.pkl", cwd=repo_dir)
    dvc("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    assert "in sync" in tide("status", "-c", cwd=repo_dir).stdout
    clone = _clone(repo_dir, tmp_path / "clone", options, tide)
    tide("pull", cwd=clone)
    assert workspace_files(clone) == workspace_files(repo_dir)


def test_push_errors_are_one_line(repo_dir, tide, tmp_path, upload_http):
    url = upload_http.url(f"basic/err-{tmp_path.name}")
    _configure(tide, repo_dir, url, [("auth", "basic"), ("user", "tide"), ("password", "nope")])
    (repo_dir / "a.txt").write_text("a\n")
    tide("add", "a.txt", cwd=repo_dir)
    p = tide("push", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "access refused (HTTP 401)" in p.stderr and "nope" not in p.stderr
    tide("remote", "modify", "--local", "web", "password", "s3cret-http", cwd=repo_dir)
    tide("remote", "modify", "--local", "web", "auth", "basic", cwd=repo_dir)
    upload_http.state.truncate_next = 5  # every attempt arrives cut in half
    p = tide("push", cwd=repo_dir, check=False, env={**os.environ, "TIDE_REMOTE_RETRIES": "2"})
    assert p.returncode == 1 and "Traceback" not in p.stderr and "bytes after the upload" in p.stderr
    upload_http.state.truncate_next = 0
    tide("push", cwd=repo_dir)
    assert "in sync" in tide("status", "-c", cwd=repo_dir).stdout
