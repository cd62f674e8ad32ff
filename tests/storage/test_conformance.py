"""The backend contract (tide.storage.base.Backend), run against every backend on a real loopback server
(or, for Google Drive, the stateful Drive v3 fake)."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest

from tests.storage.conftest import BACKENDS
from tide.storage.base import Backend, StorageError, StorageNotFound


@pytest.fixture(params=BACKENDS)
def case(request, make_case):
    return make_case(request.param)


def _put(case, backend, key: str, data: bytes, tmp_path) -> None:
    if case.seed is not None:
        case.seed(key, data)
        return
    p = tmp_path / f"src-{hashlib.md5(key.encode()).hexdigest()}"
    p.write_bytes(data)
    backend.put_file(str(p), key)


def test_protocol_and_capabilities(case):
    b = case.open()
    assert isinstance(b, Backend)
    caps = b.capabilities
    assert caps.default_jobs >= 1
    assert caps.writable
    assert caps.listable == (case.kind != "http")


def test_put_exists_size_read(case, tmp_path):
    b = case.open()
    data = b"hello remote\n" * 100
    key = "files/md5/ab/cdef0123456789abcdef0123456789"
    assert not b.exists(key)
    _put(case, b, key, data, tmp_path)
    assert b.exists(key)
    assert b.size(key) == len(data)
    with b.open(key) as f:
        assert f.read() == data
    dst = tmp_path / "got"
    b.get_file(key, str(dst))
    assert dst.read_bytes() == data
    # issue 23: the chunked format reads chunks out of packs with read_range
    assert b.read_range(key, 5, 20) == data[5:25]
    assert b.read_range(key, len(data) - 3, 100) == data[-3:]


def test_missing_key(case, tmp_path):
    b = case.open()
    assert not b.exists("files/md5/00/nothere")
    with pytest.raises(StorageNotFound):
        b.size("files/md5/00/nothere")
    with pytest.raises(StorageNotFound):
        b.open("files/md5/00/nothere").read()
    with pytest.raises(StorageNotFound):
        b.get_file("files/md5/00/nothere", str(tmp_path / "x"))
    with pytest.raises(StorageNotFound):
        b.read_range("files/md5/00/nothere", 0, 10)


def test_list(case, tmp_path):
    b = case.open()
    keys = ["files/md5/aa/111", "files/md5/aa/222", "files/md5/bb/333", "runs/cc/x/y"]
    for k in keys:
        _put(case, b, k, k.encode(), tmp_path)
    if not b.capabilities.listable:
        return
    assert sorted(b.list("files/md5/aa/")) == keys[:2]
    assert sorted(b.list("files/")) == keys[:3]
    assert sorted(b.list("")) == sorted(keys)
    assert list(b.list("files/md5/zz/")) == []


def test_empty_and_binary_objects(case, tmp_path):
    b = case.open()
    blobs = {"files/md5/d4/1d8cd98f00b204e9800998ecf8427e": b"", "files/md5/00/bin": bytes(range(256)) * 64}
    for k, v in blobs.items():
        _put(case, b, k, v, tmp_path)
    for k, v in blobs.items():
        assert b.size(k) == len(v)
        with b.open(k) as f:
            assert f.read() == v


def test_large_object_round_trip(case, tmp_path):
    b = case.open()
    data = os.urandom(3 * 1024 * 1024 + 17)
    _put(case, b, "files/md5/12/big", data, tmp_path)
    out = tmp_path / "big.out"
    b.get_file("files/md5/12/big", str(out))
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()


def test_writes(case, tmp_path):
    b = case.open()
    if not b.capabilities.writable:
        return
    src = tmp_path / "v1"
    src.write_bytes(b"one")
    b.put_file(str(src), "files/md5/01/k")
    src.write_bytes(b"second")
    b.put_file(str(src), "files/md5/01/k")  # replacing (content-addressed: same bytes in practice)
    assert b.size("files/md5/01/k") in (3, 6)
    b.put_stream(io.BytesIO(b"streamed bytes"), "runs/ab/c/d", 14)
    with b.open("runs/ab/c/d") as f:
        assert f.read() == b"streamed bytes"
    b.delete("runs/ab/c/d")
    assert not b.exists("runs/ab/c/d")
    b.delete("runs/ab/c/d")  # deleting a missing key is fine
    if b.capabilities.listable:
        assert not any(k.endswith(".tmp") for k in b.list(""))


def test_failed_put_leaves_nothing(case, tmp_path):
    b = case.open()
    if not b.capabilities.writable:
        return
    with pytest.raises((StorageError, OSError)):
        b.put_file(str(tmp_path / "does-not-exist"), "files/md5/02/never")
    assert not b.exists("files/md5/02/never")
    if b.capabilities.listable:
        assert list(b.list("files/md5/02/")) == []


def test_concurrent_puts(case, tmp_path):
    b = case.open()
    if not b.capabilities.writable:
        return
    errors = []

    def worker(i: int) -> None:
        try:
            p = tmp_path / f"c{i}"
            p.write_bytes(b"x" * i)
            b.put_file(str(p), f"files/md5/{i % 4:02d}/obj{i}")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(24):
        assert b.size(f"files/md5/{i % 4:02d}/obj{i}") == i


def test_object_store_queries_agree(case, tmp_path):
    """Per-object checks and prefix listings give the same answer (DvcLayoutStore.has_many)."""
    from tide.objects.remote import DvcLayoutStore, ObjRef, object_key

    b = case.open()
    refs = [ObjRef(hashlib.md5(str(i).encode()).hexdigest()) for i in range(40)]
    present = refs[::3]
    for r in present:
        _put(case, b, object_key(r), b"x", tmp_path)
    store = DvcLayoutStore(b)
    assert store.has_many(refs[:3], jobs=4) == set(present[:1])
    assert store.last_query.method == "exists"
    found = store.has_many(refs, jobs=4)
    assert found == set(present)
    if b.capabilities.flat_listing:  # a small remote is cheaper to traverse than to query object by object
        assert store.last_query.method == "traverse"
    # with many objects in few prefixes, listing-capable remotes list instead of asking per object
    same_prefix = [ObjRef("ab" + hashlib.md5(str(i).encode()).hexdigest()[2:]) for i in range(30)]
    for r in same_prefix[:5]:
        _put(case, b, object_key(r), b"y", tmp_path)
    assert store.has_many(same_prefix, jobs=4) == set(same_prefix[:5])
    assert store.last_query.method == ("list" if b.capabilities.listable else "exists")


def test_gdrive_oauth_user_credentials_and_refused_keys(gdrive_fake, tmp_path, monkeypatch):
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tide.core.config import Env
    from tide.storage.base import RemoteSpec, StoragePermanent
    from tide.storage.registry import open_backend

    env = Env({"TIDE_GDRIVE_API_URL": gdrive_fake.base, "GDRIVE_CREDENTIALS_DATA": json.dumps({
        "client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "token_uri": f"{gdrive_fake.base}/token"})})
    folder = gdrive_fake.new_folder()
    b = open_backend(RemoteSpec("g", f"gdrive://{folder}/u", ()), env)
    src = tmp_path / "x"
    src.write_bytes(b"user data")
    b.put_file(str(src), "files/md5/aa/bb")
    assert b.exists("files/md5/aa/bb") and list(b.list("")) == ["files/md5/aa/bb"]
    # a service-account key the server did not issue is refused with one clear error
    keyfile = gdrive_fake.service_account_file(str(tmp_path / "sa.json"))
    data = json.loads(open(keyfile).read())  # noqa: SIM115
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()
    env2 = Env({"TIDE_GDRIVE_API_URL": gdrive_fake.base, "GDRIVE_CREDENTIALS_DATA": json.dumps(data)})
    bad = open_backend(RemoteSpec("g", f"gdrive://{folder}/u", (("gdrive_use_service_account", "true"),)), env2)
    with pytest.raises(StoragePermanent, match="sign-in refused"):
        bad.exists("files/md5/aa/bb")
    with pytest.raises(StoragePermanent, match="needs credentials"):
        open_backend(RemoteSpec("g", f"gdrive://{folder}/u", (("gdrive_use_service_account", "true"),)),
                     Env({}))
