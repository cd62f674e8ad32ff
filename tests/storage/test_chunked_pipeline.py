"""Issue 23 (speed): how the chunked format's push and pull spread their work over threads without
changing what lands on the remote (objects/chunked.py ``_batches``, ``_send_later``, ``_pieces``;
chunked_format.py ``PackBuilder``, ``Reader``). The timings themselves: bench/chunked_rows.py."""

from __future__ import annotations

import hashlib
import random
import threading

import pytest

from tide.objects.ref import ObjRef

pytest.importorskip("pyfastcdc")
pytest.importorskip("zstandard")

SMALL = dict(avg=1024, pack=64 << 10, level=1)


def _store(backend, tmp_path, **kw):
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams

    return ChunkedStore(backend, str(tmp_path / f"local-{random.random()}"), ChunkParams(**{**SMALL, **kw}))


def _local(tmp_path):
    from tide.storage.local import LocalBackend

    root = tmp_path / f"remote-{random.random()}"
    return LocalBackend(str(root), str(root))


def _obj(tmp_path, data: bytes) -> tuple[ObjRef, str]:
    oid = hashlib.md5(data).hexdigest()
    p = tmp_path / f"o-{oid}"
    p.write_bytes(data)
    return ObjRef(oid), str(p)


def _csv(rows: int, seed: int = 1) -> bytes:
    r = random.Random(seed)
    return "".join(f"{i},{r.randrange(10**9)},{r.choice('abcd')},{r.random():.6f}\n" for i in range(rows)).encode()


def _mixed(n: int) -> bytes:
    r = random.Random(5)
    return b"".join(r.choice([r.randbytes(3000), b"abc" * 900, bytes(2500), _csv(40, r.randrange(99))])
                    for _ in range(n))


def _read(store, ref) -> bytes:
    with store.stream(ref) as f:
        return f.read()


def test_issue23_h23_a_file_read_in_blocks_is_cut_as_if_whole(tmp_path, monkeypatch):
    """A large file is read a block at a time and each block cut in memory: the chunks are those of
    the whole file cut at once (a block's last chunk is cut again at the next block's head), for
    blocks far smaller than a chunk's maximum too."""
    from pyfastcdc import FastCDC

    from tide.objects import chunked

    data = _mixed(400)
    ref, path = _obj(tmp_path, data)
    for avg, block in ((1024, 5000), (1024, 1 << 20), (4096, 3000), (65536, 100_000)):
        monkeypatch.setattr(chunked, "READ", block)
        store = _store(_local(tmp_path), tmp_path, avg=avg)
        got = [bytes(p) for batch in store._batches(path, len(data)) for p in batch]
        assert got == [bytes(c.data) for c in FastCDC(avg).cut_buf(data)], (avg, block)


def test_issue23_h23_packs_are_sealed_and_sent_off_the_pushing_thread(tmp_path):
    """A full pack is sealed (copied, sha256) and uploaded on a sending thread while the pushing
    thread cuts the next chunks (before: on the pushing thread, under the store's lock); the last
    pack and the index file at flush. What lands is the same: every object reads back."""
    from tide.storage.wrappers import BackendWrapper

    where: list[tuple[str, str]] = []

    class Recording(BackendWrapper):
        def put_stream(self, stream, key, size, sha256=None):
            where.append((key, threading.current_thread().name))
            if key.startswith("chunked/packs/"):  # the pack's name is its SHA-256: handed on for S3's signature
                start = stream.tell()
                assert sha256 == hashlib.sha256(stream.read()).hexdigest() == key.rpartition("/")[2]
                stream.seek(start)
            return self.inner.put_stream(stream, key, size)

    store = _store(Recording(_local(tmp_path)), tmp_path)
    data = _csv(20000)  # ~0.6 MB: several 64 KiB packs
    ref, path = _obj(tmp_path, data)
    try:
        store.put(ref, path)
        assert store.flush() == {}
        packs = [t for k, t in where if k.startswith("chunked/packs/")]
        assert len(packs) >= 3
        me = threading.current_thread().name
        assert all(t != me for t in packs[:-1]), packs  # full packs: on the sending threads
        assert _read(store, ref) == data
    finally:
        store.close()


def test_issue23_h23_a_pack_that_fails_to_upload_fails_its_objects_at_flush(tmp_path):
    """An upload failing on a sending thread fails, at flush, exactly the objects whose chunks it
    held (one line each), never the put that filled it with an exception from another thread; a
    later push sends them again."""
    from tide.storage.base import StorageError
    from tide.storage.wrappers import BackendWrapper

    class Failing(BackendWrapper):
        packs = 0

        def put_stream(self, stream, key, size, sha256=None):
            if key.startswith("chunked/packs/"):
                Failing.packs += 1
                if Failing.packs == 3:
                    raise StorageError("disk full (injected)")
            return self.inner.put_stream(stream, key, size)

    local = _local(tmp_path)
    small = _obj(tmp_path, b"a small file\n")
    big = _obj(tmp_path, _csv(20000, seed=2))
    store = _store(Failing(local), tmp_path)
    try:
        store.put(*small)
        store.put(*big)  # no exception here: the failure is the sending thread's
        failed = store.flush()
    finally:
        store.close()
    assert set(failed) == {big[0]} and "disk full (injected)" in failed[big[0]]
    again = _store(local, tmp_path)
    try:
        assert again.has_many({small[0], big[0]}, 1) == {small[0]}
        again.put(*big)
        assert again.flush() == {}
        assert _read(again, big[0]) == _csv(20000, seed=2)
        assert _read(again, small[0]) == b"a small file\n"
    finally:
        again.close()


def test_issue23_h23_a_large_object_is_decoded_on_threads_ahead_of_the_reader(tmp_path, monkeypatch):
    """A large object's pull reads and decodes its runs on other threads than the one writing it
    (before: all on the reading thread); the bytes are the object's, whatever sizes are read."""
    from tide.objects import chunked
    from tide.objects import chunked_format as F

    monkeypatch.setattr(chunked, "BATCH", 64 << 10)
    local = _local(tmp_path)
    data = _csv(30000, seed=3)
    ref, path = _obj(tmp_path, data)
    store = _store(local, tmp_path)
    try:
        store.put(ref, path)
        assert store.flush() == {}
    finally:
        store.close()
    seen: set[str] = set()
    decode = F.Codec.decode

    def recording(self, blob, loc, base=None):
        seen.add(threading.current_thread().name)
        return decode(self, blob, loc, base)

    monkeypatch.setattr(F.Codec, "decode", recording)
    reader = _store(local, tmp_path)
    try:
        with reader.stream(ref) as f:
            r = random.Random(4)
            parts = []
            while part := f.read(r.choice([1, 100, 4096, 70000, 1 << 20])):
                parts.append(part)
        assert b"".join(parts) == data
        assert seen and threading.current_thread().name not in seen
    finally:
        reader.close()


def test_issue23_h23_stream_reader_returns_exactly_what_is_asked():
    """``Reader.read(n)`` returns at most n bytes (exactly n until the end), keeping the rest of a
    piece uncopied for the next read; read() returns the rest; pieces may be bytes or views."""
    from tide.objects.chunked_format import Reader

    r = random.Random(1)
    for _ in range(300):
        pieces = [r.randbytes(r.randint(0, 50)) for _ in range(r.randint(0, 20))]
        if r.random() < 0.5:
            pieces = [memoryview(p) for p in pieces]
        whole = b"".join(pieces)
        reader = Reader(lambda p=pieces: iter(p))
        got, at = [], 0
        while True:
            n = r.choice([-1, 0, 1, 7, 33, 100])
            d = reader.read(n)
            assert isinstance(d, bytes)
            if n >= 0:
                assert len(d) == min(n, len(whole) - at)
            at += len(d)
            got.append(d)
            if n == -1 or at == len(whole) and n > 0:
                break
        assert b"".join(got) == whole
        assert reader.read(10) == b""


def test_issue23_h23_status_c_on_a_chunked_remote_imports_no_settings_dataclasses(repo_dir, tide, tmp_path):
    """``status -c`` on a chunked remote reads the remote's format without tide.core.settings (its
    dataclasses and ``inspect``: ~10 ms of a ~100 ms command) and imports neither the chunker, zstd
    nor ``threading``; its answer is unchanged (in sync, then one file new)."""
    import os
    import subprocess
    import sys

    (repo_dir / "data").mkdir()
    for i in range(3):
        (repo_dir / "data" / f"f{i}.txt").write_text(f"file {i}\n")
    tide("remote", "add", "-d", "store", str(tmp_path / "cstore"), cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n")
    tide("add", "data", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    code = ("import sys\nfrom tide.cli.main import main\nrc = main(['status', '-c'])\n"
            "print(rc, sorted(m for m in ('dataclasses', 'inspect', 'threading', 'tide.core.settings', "
            "'pyfastcdc', 'zstandard') if m in sys.modules))\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__import__("tide").__file__)))
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_dir, capture_output=True, text=True, env=env)
    assert out.stdout.strip().splitlines() == ["Cache and remote 'store' are in sync.", "0 []"], out.stderr
    (repo_dir / "data" / "f3.txt").write_text("file 3\n")
    tide("add", "data", cwd=repo_dir)
    assert "new:" in tide("status", "-c", cwd=repo_dir).stdout


def test_issue23_h23_a_network_remote_gets_packs_sent_in_parallel(tmp_path):
    """Packs go two at a time to a local remote (the CPU is the limit there) and as many as the
    remote's parallel requests (up to 8) to a network one: a push of many small files from several
    threads fills packs faster than one request at a time would send them."""
    from tide.objects import chunked
    from tide.storage.wrappers import BackendWrapper

    class Network(BackendWrapper):
        def __init__(self, inner, jobs):
            super().__init__(inner)
            self.capabilities = inner.capabilities.replace(cheap_open=False, default_jobs=jobs)

    assert _store(_local(tmp_path), tmp_path)._sending() == chunked.SENDING == 2
    assert _store(Network(_local(tmp_path), 16), tmp_path)._sending() == chunked.SENDING_NET == 8
    assert _store(Network(_local(tmp_path), 4), tmp_path)._sending() == 4
