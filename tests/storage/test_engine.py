"""The transfer engine and the retry wrapper, in process, with fault-injecting backends."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from tide.core import manifest
from tide.objects.cache import ObjectCache
from tide.objects.remote import DvcLayoutStore, ObjRef, object_key
from tide.objects.transfer import DirPlan, fetch, push
from tide.storage.base import Backend, StoragePermanent, StorageTransient
from tide.storage.errors import is_transient, translate
from tide.storage.local import LocalBackend
from tide.storage.wrappers import RetryingBackend, RetryPolicy


class Flaky(Backend):
    """Wraps a backend; ``fail(key)`` decides per call whether to raise a transient error first."""

    def __init__(self, inner, fail=lambda op, key: False):
        self.inner, self.fail = inner, fail
        self.url, self.capabilities = inner.url, inner.capabilities
        self.puts: list[str] = []
        self.lock = threading.Lock()

    def _check(self, op, key):
        if self.fail(op, key):
            raise StorageTransient(f"{op} {key}: Connection reset by peer")

    def exists(self, key):
        self._check("exists", key)
        return self.inner.exists(key)

    def list(self, prefix=""):
        self._check("list", prefix)
        return self.inner.list(prefix)

    def size(self, key):
        return self.inner.size(key)

    def open(self, key):
        self._check("open", key)
        return self.inner.open(key)

    def get_file(self, key, path):
        return self.inner.get_file(key, path)

    def put_file(self, path, key):
        self._check("put", key)
        with self.lock:
            self.puts.append(key)
        return self.inner.put_file(path, key)

    def put_stream(self, stream, key, size, sha256=None):
        return self.inner.put_stream(stream, key, size)

    def delete(self, key):
        return self.inner.delete(key)

    def close(self):
        pass


def _cache_with_dir(tmp_path, n=20):
    cache = ObjectCache(str(tmp_path / "cache"))
    entries = []
    for i in range(n):
        data = f"item {i}\n".encode()
        oid = cache.put_bytes(data)
        entries.append(manifest.Entry(f"f{i}.txt", oid))
    raw = manifest.serialize(entries)
    dir_oid = manifest.tree_oid(raw)
    cache.put_bytes(raw, dir_oid)
    return cache, DirPlan(ObjRef(dir_oid), tuple(ObjRef(e.md5) for e in entries))


def _no_sleep(_):
    pass


def test_retry_wrapper_retries_transient_only():
    calls = []

    class B:
        url = "x"
        capabilities = LocalBackend.capabilities

        def exists(self, key):
            calls.append(key)
            if len(calls) < 3:
                raise StorageTransient("reset")
            return True

        def size(self, key):
            calls.append(key)
            raise StoragePermanent("denied")

    r = RetryingBackend(B(), RetryPolicy(attempts=5), sleep=_no_sleep)
    assert r.exists("k") is True and len(calls) == 3 and r.retries == 2
    calls.clear()
    with pytest.raises(StoragePermanent):
        r.size("k")
    assert len(calls) == 1
    r2 = RetryingBackend(B(), RetryPolicy(attempts=2), sleep=_no_sleep)
    calls.clear()
    with pytest.raises(StorageTransient, match="gave up after 2 attempts"):
        r2.exists("k")


def test_error_classification():
    assert is_transient(ConnectionResetError(104, "Connection reset by peer"))
    assert is_transient(TimeoutError())
    assert type(translate(FileNotFoundError("x"), "read k")).__name__ == "StorageNotFound"
    assert isinstance(translate(PermissionError(13, "Permission denied"), "upload k"), StoragePermanent)

    class EndpointConnectionError(Exception):  # botocore's name, matched without importing botocore
        pass

    assert isinstance(translate(EndpointConnectionError("could not connect"), "upload k"), StorageTransient)
    assert not is_transient(ValueError("bad bucket name"))


def test_push_retries_then_resumes_without_resending(tmp_path):
    cache, plan = _cache_with_dir(tmp_path)
    remote = LocalBackend(str(tmp_path / "remote"))
    seen: dict[str, int] = {}
    lock = threading.Lock()
    shaky = {object_key(r) for r in plan.children[::2]} | {object_key(plan.ref)}

    def fail(op, key):  # the first upload of every other object is reset
        if op != "put" or key not in shaky:
            return False
        with lock:
            seen[key] = seen.get(key, 0) + 1
            return seen[key] == 1

    flaky = Flaky(remote, fail)
    retrying = RetryingBackend(flaky, sleep=_no_sleep)
    res = push(cache, DvcLayoutStore(retrying), [], [plan], jobs=4)
    assert res.ok and res.transferred == 21 and retrying.retries == 11
    # a permanently broken object: the manifest stays off the remote; the rest arrives
    remote2 = LocalBackend(str(tmp_path / "remote2"))
    bad = object_key(plan.children[7])
    flaky2 = Flaky(remote2, lambda op, key: op == "put" and key == bad)
    store2 = DvcLayoutStore(RetryingBackend(flaky2, RetryPolicy(attempts=3), sleep=_no_sleep))
    res = push(cache, store2, [], [plan], jobs=4)
    assert not res.ok and [r for r, _ in res.failed] == [plan.children[7], plan.ref]
    assert not remote2.exists(object_key(plan.ref))
    assert "gave up after 3 attempts" in res.failed[0][1]
    # the network heals: a re-run sends only what is missing
    flaky3 = Flaky(remote2)
    res = push(cache, DvcLayoutStore(flaky3), [], [plan], jobs=4)
    assert res.ok and sorted(flaky3.puts) == sorted([bad, object_key(plan.ref)])
    assert remote2.exists(object_key(plan.ref))
    # and with the manifest present, nothing is asked about its files
    flaky4 = Flaky(remote2, lambda op, key: op == "exists" and not key.endswith(".dir"))
    res = push(cache, DvcLayoutStore(flaky4), [], [plan], jobs=4)
    assert res.ok and res.transferred == 0 and flaky4.puts == []


def test_fetch_verifies_and_discards_corrupt_objects(tmp_path):
    src_cache, plan = _cache_with_dir(tmp_path / "src")
    remote = LocalBackend(str(tmp_path / "remote"))
    assert push(src_cache, DvcLayoutStore(remote), [], [plan], jobs=2).ok
    victim = plan.children[3]
    path = os.path.join(remote.root, *object_key(victim).split("/"))
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(b"evil\n")
    cache = ObjectCache(str(tmp_path / "dst"))
    res = fetch(cache, DvcLayoutStore(remote), [], [plan.ref], jobs=4)
    assert res.corrupt == [victim] and res.transferred == 20
    assert not cache.exists(victim.oid)
    leftovers = [f for _, _, fs in os.walk(cache.root) for f in fs if f.endswith(".tmp")]
    assert leftovers == []
    for ref in plan.children:
        if ref != victim:
            p = cache.path(ref.oid)
            assert hashlib.md5(open(p, "rb").read()).hexdigest() == ref.oid  # noqa: SIM115
            assert os.stat(p).st_mode & 0o777 == 0o444


def test_fetch_reports_missing_objects(tmp_path):
    cache = ObjectCache(str(tmp_path / "cache"))
    remote = LocalBackend(str(tmp_path / "remote"))
    ghost = ObjRef(hashlib.md5(b"ghost").hexdigest())
    res = fetch(cache, DvcLayoutStore(remote), [ghost], [], jobs=2)
    assert res.missing_remote == [ghost] and not res.ok


def _remote_holding(tmp_path, data: bytes):
    """A local remote holding one object with ``data``, and its id."""
    oid = hashlib.md5(data).hexdigest()
    remote = LocalBackend(str(tmp_path / "remote"))
    src = tmp_path / "object-source"
    src.write_bytes(data)
    remote.put_file(str(src), object_key(ObjRef(oid)))
    return remote, oid


def test_large_object_streams_through_the_hashing_pipeline(tmp_path):
    cache = ObjectCache(str(tmp_path / "cache"))
    data = os.urandom(5 * 1024 * 1024 + 3)
    remote, oid = _remote_holding(tmp_path, data)
    res = fetch(cache, DvcLayoutStore(remote), [ObjRef(oid)], [], jobs=1)
    assert res.ok and res.nbytes == len(data)
    assert open(cache.path(oid), "rb").read() == data  # noqa: SIM115


def test_interrupted_local_upload_leaves_no_object(tmp_path, monkeypatch):
    from tide.storage import localcopy

    remote = LocalBackend(str(tmp_path / "remote"))
    src = tmp_path / "big"
    src.write_bytes(os.urandom(200_000))

    def broken_copy(src_fd, dst_fd, *a, **k):
        os.write(dst_fd, b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(localcopy, "copy_fd", broken_copy)
    with pytest.raises(KeyboardInterrupt):
        remote.put_file(str(src), "files/md5/ab/cdef")
    assert not remote.exists("files/md5/ab/cdef")
    assert os.listdir(tmp_path / "remote" / "files" / "md5" / "ab") == []


def test_progress_rendering_and_ci_summary():
    import io

    from rich.console import Console

    from tide.cli.transfer_progress import RichProgress, human_bytes, is_interactive, make_progress, summary_line
    from tide.core.config import Env

    assert summary_line("pushed", 3, 3 * 1024 * 1024, 1.5) == "3 files pushed (3.0 MB in 1.5s, 2.0 MB/s)"
    assert human_bytes(512) == "512 B" and human_bytes(1536) == "1.5 KB"
    assert not is_interactive(Env({"CI": "true"}))
    assert make_progress("push", quiet=False, env=Env({"CI": "1"})) is None  # CI logs get the summary only
    buf = io.StringIO()
    p = RichProgress("push", console=Console(file=buf, force_terminal=True, width=100))
    p.start(2, 2048)
    p.advance(1024)
    p.advance(1024)
    p.close()
    assert p._done == 2 and p._bytes == 2048
    assert "push 2/2 files" in buf.getvalue()


class Cut(Flaky):
    """A network remote (no cheap open) whose first download of each object stops half way."""

    def __init__(self, inner, cuts: int = 1):
        super().__init__(inner)
        self.capabilities = inner.capabilities.replace(cheap_open=False)
        self.cuts = cuts
        self.sent = 0

    def get_file(self, key, path):
        with self.inner.open(key) as src:
            data = src.read()
        with open(path, "wb") as f:
            if self.cuts > 0:
                self.cuts -= 1
                f.write(data[: len(data) // 2])
                self.sent += len(data) // 2
                raise StorageTransient(f"download {key}: Connection reset by peer")
            f.write(data)
            self.sent += len(data)

    def open(self, key):
        outer = self
        f = self.inner.open(key)

        class Counting:
            def __enter__(self):
                return self

            def __exit__(self, *a):
                f.close()

            def seek(self, n):
                return f.seek(n)

            def read(self, n=-1):
                b = f.read(n)
                outer.sent += len(b)
                return b

        return Counting()


def test_interrupted_download_resumes_where_it_stopped(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    remote, oid = _remote_holding(tmp_path, data)
    cache = ObjectCache(str(tmp_path / "cache"))
    cut = Cut(remote, cuts=1)
    # the retry wrapper's next attempt resumes (the engine itself repeats nothing)
    res = fetch(cache, DvcLayoutStore(RetryingBackend(cut, sleep=_no_sleep)), [ObjRef(oid)], [], jobs=1)
    assert res.ok and open(cache.path(oid), "rb").read() == data  # noqa: SIM115
    assert cut.sent == len(data)  # half, then only the other half: nothing sent twice
    # across runs: every attempt of the first run is cut; the second run picks up the partial file
    cache2 = ObjectCache(str(tmp_path / "cache2"))
    cut2 = Cut(remote, cuts=1)

    class Dead(Cut):
        def open(self, key):
            raise StorageTransient("Connection reset by peer")

    dead = Dead(remote, cuts=1)
    res = fetch(cache2, DvcLayoutStore(RetryingBackend(dead, sleep=_no_sleep)), [ObjRef(oid)], [], jobs=1)
    assert res.failed and not cache2.exists(oid)
    partial = os.path.join(os.path.dirname(cache2.path(oid)), f".{oid}.partial.tmp")
    assert os.path.getsize(partial) == len(data) // 2
    cut2.cuts = 0
    res = fetch(cache2, DvcLayoutStore(cut2), [ObjRef(oid)], [], jobs=1)
    assert res.ok and cut2.sent == len(data) - len(data) // 2 and not os.path.exists(partial)
    assert open(cache2.path(oid), "rb").read() == data  # noqa: SIM115


def test_a_bad_partial_file_is_fetched_again_whole(tmp_path):
    data = os.urandom(200_000)
    remote, oid = _remote_holding(tmp_path, data)
    cache = ObjectCache(str(tmp_path / "cache"))
    d = os.path.dirname(cache.path(oid))
    os.makedirs(d)
    with open(os.path.join(d, f".{oid}.partial.tmp"), "wb") as f:
        f.write(b"garbage that is not the start of the object")
    res = fetch(cache, DvcLayoutStore(Cut(remote, cuts=0)), [ObjRef(oid)], [], jobs=1)
    assert res.ok and open(cache.path(oid), "rb").read() == data  # noqa: SIM115


def test_a_packing_store_is_given_its_objects_from_one_thread(tmp_path):
    """A store that packs objects in memory (the chunked format: ``capabilities.packs``) uploads on its
    own threads: the engine puts from one thread whatever ``jobs`` says (eight only contended for the
    GIL), and every object arrives; a store that does not pack gets its puts on ``jobs`` threads."""
    from tide.objects.chunked import ChunkedStore

    cache, plan = _cache_with_dir(tmp_path, n=200)
    files = list(plan.children)
    (tmp_path / "remote").mkdir()

    def recorded(store):
        threads: set[str] = set()
        real = store.put

        def put(ref, path):
            threads.add(threading.current_thread().name)
            return real(ref, path)

        store.put = put
        return threads

    chunked = ChunkedStore(LocalBackend(str(tmp_path / "remote")), str(tmp_path / "local"))
    assert chunked.capabilities.packs
    threads = recorded(chunked)
    try:
        res = push(cache, chunked, [], [plan], jobs=8)
    finally:
        chunked.close()
    assert not res.failed and res.transferred == len(files) + 1
    assert len(threads) == 1
    reread = ChunkedStore(LocalBackend(str(tmp_path / "remote")), str(tmp_path / "again"))
    assert reread.has_many([plan.ref, *files], 1) == {plan.ref, *files}
    plain = DvcLayoutStore(LocalBackend(str(tmp_path / "plain")))
    assert not plain.capabilities.packs
    threads = recorded(plain)
    assert not push(cache, plain, [], [plan], jobs=8).failed
    assert len(threads) > 1
