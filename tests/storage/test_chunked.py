"""Issue 23: the chunked remote format (objects/chunked*.py) - conformance over backends, dedup,
crash, concurrency, gc, fsck and the round trip with a DVC repository."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from tide.objects.ref import ObjRef

SMALL = dict(avg=1024, pack=64 << 10, level=1)  # small chunks and packs: many of each on little data


def _store(case, tmp_path, **kw):
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams

    return ChunkedStore(case.open(), str(tmp_path / f"local-{case.kind}-{random.random()}"),
                        ChunkParams(**{**SMALL, **kw}))


def _obj(tmp_path, data: bytes, name: str | None = None) -> tuple[ObjRef, str]:
    oid = hashlib.md5(data).hexdigest()
    p = tmp_path / (name or f"o-{oid}")
    p.write_bytes(data)
    return ObjRef(oid), str(p)


def _csv(rows: int, seed: int = 1, start: int = 0) -> bytes:
    r = random.Random(seed)
    return "".join(f"{i},{r.randrange(10**9)},{r.choice('abcd')},{r.random():.6f}\n"
                   for i in range(start, start + rows)).encode()


def Counting(inner):
    """``inner`` behind a wrapper that records the name of every operation called (``.calls``)."""
    from tide.storage.wrappers import BackendWrapper

    class _Counting(BackendWrapper):
        def __init__(self, inner):
            super().__init__(inner)
            self.calls = []

        def _call(self, fn):
            self.calls.append(fn.__code__.co_names[-1])  # the inner operation's name
            return fn()

    return _Counting(inner)


def _push(store, objs) -> dict:
    for ref, path in objs:
        store.put(ref, path)
    return store.flush()


def _read(store, ref) -> bytes:
    with store.stream(ref) as f:
        return f.read()


@pytest.mark.parametrize("kind", ["local", "s3", "ssh", "webdav", "gs", "azure", "gdrive", "webhdfs"])
def test_issue23_chunked_store_conformance_over_backends(kind, make_case, tmp_path):
    """put/flush/has_many/stream/size/ages/gc/verify of the chunked format over each backend."""
    case = make_case(kind)
    store = _store(case, tmp_path, pack=16 << 10)
    big = _csv(3000)  # ~90 KB: many chunks, several packs (compressed)
    small = [_obj(tmp_path, f"small file {i}\n".encode()) for i in range(30)]
    bigref = _obj(tmp_path, big)
    manifest = json.dumps([{"md5": r.oid, "relpath": f"f{i}"} for i, (r, _) in enumerate(small)]).encode()
    dref = ObjRef(hashlib.md5(manifest).hexdigest() + ".dir")
    (tmp_path / "m.dir").write_bytes(manifest)
    assert store.has_many([bigref[0], dref], 4) == set()
    assert _push(store, [bigref, *small, (dref, str(tmp_path / "m.dir"))]) == {}
    keys = list(case.open().list("chunked/"))
    packs = [k for k in keys if k.startswith("chunked/packs/")]
    assert 2 <= len(packs) <= 8 and sum(k.startswith("chunked/index/") for k in keys) == 1
    assert not [k for k in keys if k.startswith("chunked/locks/")]  # released
    # a second clone (no local copies of the index) sees every object
    other = _store(case, tmp_path, pack=16 << 10)
    refs = [bigref[0], dref] + [r for r, _ in small]
    assert other.has_many(refs + [ObjRef("0" * 32)], 4) == set(refs)
    assert _read(other, bigref[0]) == big and other.size(bigref[0]) == len(big)
    assert _read(other, dref) == manifest
    assert all(time.time() - 600 < a <= time.time() + 1 for a in other.ages().values())
    assert other.verify(None, 4) == []
    # gc drops the big object: its packs go, the small files stay readable
    assert other.gc([bigref[0]], 4) == 1
    third = _store(case, tmp_path)
    assert third.has_many(refs, 4) == set(refs) - {bigref[0]}
    assert _read(third, small[3][0]) == b"small file 3\n"
    assert third.verify(None, 4) == []
    after = list(case.open().list("chunked/packs/"))
    assert len(after) < len(packs) and sum(k.startswith("chunked/index/") for k in case.open().list("chunked/")) == 1


def test_issue23_chunked_refuses_plain_http_in_one_line(make_case, tmp_path):
    """Plain HTTP cannot list, so no pusher could find another's index files: refused in one line."""
    from tide.core.errors import StorageError

    store = _store(make_case("http"), tmp_path, pack=16 << 10)
    ref, path = _obj(tmp_path, b"x\n")
    for call in (lambda: store.has_many([ref], 4), lambda: _push(store, [(ref, path)])):
        with pytest.raises(StorageError, match="cannot be listed, which the chunked format needs") as e:
            call()
        assert "\n" not in str(e.value)


def test_issue23_dedup_of_a_growing_csv_uploads_what_changed(tmp_path, make_case):
    """A table exported daily (+1% rows, edits among recent rows): stored bytes stay near the
    distinct bytes, and each day uploads little more than what changed (raw blobs: no zstd)."""
    case = make_case("local")
    store = _store(case, tmp_path, avg=4096, pack=1 << 20, level=0)
    rows = _csv(8000).splitlines(keepends=True)
    r = random.Random(7)
    uploaded = []
    for day in range(6):
        data = b"".join(rows)
        before = _stored(case)
        assert _push(store, [_obj(tmp_path, data, f"day{day}")]) == {}
        uploaded.append(_stored(case) - before)
        n = len(rows)
        for _ in range(n // 1000):  # 0.1% of rows edited, among the newest 5%
            i = n - 1 - r.randrange(n // 20)
            rows[i] = rows[i].replace(b",", b";", 1)
        rows += _csv(n // 100, seed=day + 10, start=n).splitlines(keepends=True)
    final = len(data)
    assert _stored(case) <= 1.5 * final, (_stored(case), final)  # plain remote: 6 whole copies
    for up in uploaded[1:]:
        assert up <= 0.2 * final, uploaded  # a day's change is ~1-5% of the file; a copy would be 100%


def test_issue23_compact_index_and_delta_chunks_upload_at_most_twice_the_changed_bytes(tmp_path, make_case):
    """The growing table with zstd: each day's upload (packs + index file) is at most twice the bytes
    that changed (measured 2.16x before: the index repeated every chunk id, and every edited chunk
    went whole). Edited chunks go as deltas against their previous version, recipes as deltas against
    the previous version's recipe; a fresh clone reads every version; gc of the old versions keeps
    the bases the new ones need; fsck finds nothing; an index file of version 1 is still read."""
    from tide.objects import chunked_format as F

    case = make_case("local")
    store = _store(case, tmp_path, avg=4096, pack=1 << 20)
    rows = _csv(8000).splitlines(keepends=True)
    r = random.Random(7)
    versions, ratios, changed = [], [], 0
    for day in range(5):
        data = b"".join(rows)
        before = _stored(case) + _indexed(case)
        assert _push(store, [obj := _obj(tmp_path, data, f"day{day}")]) == {}
        versions.append((obj[0], data))
        if day:
            ratios.append((_stored(case) + _indexed(case) - before) / changed)
        n, changed = len(rows), 0
        for _ in range(n // 1000):  # 0.1% of rows edited, among the newest 5%
            i = n - 1 - r.randrange(n // 20)
            rows[i] = rows[i].replace(b",", b";", 1)
            changed += len(rows[i])
        rows += _csv(n // 100, seed=day + 10, start=n).splitlines(keepends=True)
        changed += sum(len(x) for x in rows[n:])
    assert max(ratios) <= 2.0, ratios
    st = _store(case, tmp_path)._load()
    assert any(loc.comp.startswith(F.DELTA) for loc in st.locs.values())
    other = _store(case, tmp_path)
    assert all(_read(other, ref) == data for ref, data in versions)
    assert other.gc([ref for ref, _ in versions[:-1]], 2) == 4
    third = _store(case, tmp_path)
    assert _read(third, versions[-1][0]) == versions[-1][1] and third.verify(None, 2) == []
    # a chunk stored both as a delta and whole (two clones at once): readers take the whole copy, so
    # a delta whose base is that chunk never has to read a delta's base
    x, y = hashlib.sha256(b"x").digest(), hashlib.sha256(b"y").digest()
    docs = {n: json.loads(json.dumps({"version": 2, "time": t, "objects": [], "packs": {
        n: [F.b64ids([x]), [[0, 5, 9, comp]]]}})) for n, t, comp in
        (("a" * 64, 1.0, F.DELTA + y.hex()), ("b" * 64, 2.0, "zstd"))}
    assert F.State.of(docs).locs[x].comp == "zstd"
    # an index file of version 1 (hex ids, whole recipes), as the first release wrote them
    pb = F.PackBuilder()
    pb.add(hashlib.sha256(b"v1 chunk").digest(), b"v1 chunk", 8, "raw")
    pid, pack = pb.seal()
    b = case.open()
    b.put_stream(__import__("io").BytesIO(pack), F.pack_key(pid), len(pack))
    v1 = {"format": "tide-chunked-index", "version": 1, "time": 1.0, "supersedes": [],
          "packs": {pid: [[hashlib.sha256(b"v1 chunk").hexdigest(), 0, 8, 8, "raw"]]},
          "objects": [["M", hashlib.md5(b"v1 chunk").hexdigest(), 8, [hashlib.sha256(b"v1 chunk").hexdigest()], 1.0]]}
    import zstandard

    raw = zstandard.ZstdCompressor().compress(json.dumps(v1).encode())
    b.put_stream(__import__("io").BytesIO(raw), F.INDEX + hashlib.sha256(raw).hexdigest(), len(raw))
    fourth = _store(case, tmp_path)
    assert _read(fourth, ObjRef(hashlib.md5(b"v1 chunk").hexdigest())) == b"v1 chunk"
    assert _read(fourth, versions[-1][0]) == versions[-1][1] and fourth.verify(None, 2) == []


def test_issue23_a_delta_against_an_older_version_that_grew_large_is_stored_whole(tmp_path, make_case):
    """A chunk edited again goes as a delta against its last whole version (a base is never a
    delta); once the edits since piled up (a delta over 1/16 of the chunk), the chunk is stored
    whole, so that later deltas start from it instead of growing day after day (before: always a
    delta, growing without bound on tables edited everywhere)."""
    from tide.objects import chunked_format as F

    case = make_case("local")
    store = _store(case, tmp_path, avg=4096, pack=1 << 20)
    v0 = _csv(2000)
    mid = len(v0) // 2
    v1 = v0[:mid] + b";" + v0[mid + 1:]  # one byte: a small delta against v0's chunk
    v2 = v1[:mid - 3000] + _csv(200, seed=99)[:6000] + v1[mid + 3000:]  # rewritten around it
    refs = []
    for i, data in enumerate((v0, v1, v2)):
        before = set(store._load().locs) if i else set()
        assert _push(store, [ref := _obj(tmp_path, data, f"v{i}")]) == {}
        refs.append((ref[0], data))
        st = _store(case, tmp_path)._load()
        new = {c: st.locs[c] for c in st.recipes[ref[0]].chunks if c not in before}
        if i == 1:
            assert new and all(loc.comp.startswith(F.DELTA) for loc in new.values())
        if i == 2:
            assert any(not loc.comp.startswith(F.DELTA) for loc in new.values()), new
    other = _store(case, tmp_path)
    assert all(_read(other, ref) == data for ref, data in refs) and other.verify(None, 2) == []


def test_issue23_an_edit_in_the_first_chunk_goes_as_a_delta(tmp_path, make_case):
    """Chunks before the first unchanged one also find their base (before: the previous version was
    only known from the first unchanged chunk on, so an edited head of a file went whole)."""
    from tide.objects import chunked_format as F

    case = make_case("local")
    store = _store(case, tmp_path, avg=4096, pack=1 << 20)
    v0 = _csv(2000)
    v1 = b"#" + v0[1:]
    assert _push(store, [_obj(tmp_path, v0, "v0")]) == {}
    assert _push(store, [r1 := _obj(tmp_path, v1, "v1")]) == {}
    st = _store(case, tmp_path)._load()
    assert st.locs[st.recipes[r1[0]].chunks[0]].comp.startswith(F.DELTA)
    assert _read(_store(case, tmp_path), r1[0]) == v1


def _indexed(case) -> int:
    b = case.open()
    return sum(b.size(k) for k in b.list("chunked/index/"))


def _stored(case) -> int:
    b = case.open()
    return sum(b.size(k) for k in b.list("chunked/packs/"))


_KILLED_PUSH = r"""
import sys, os
from tide.objects.chunked import ChunkedStore
from tide.objects.chunked_format import ChunkParams
from tide.objects.ref import ObjRef
from tide.storage.local import LocalBackend
import hashlib
store = ChunkedStore(LocalBackend(sys.argv[1]), sys.argv[2], ChunkParams(avg=1024, pack=65536, level=0,
                                                                        index_every=4))
for i in range(10000):
    data = os.urandom(20000)
    p = os.path.join(sys.argv[2], "x")
    os.makedirs(sys.argv[2], exist_ok=True)
    open(p, "wb").write(data)
    store.put(ObjRef(hashlib.md5(data).hexdigest()), p)
    if i == 40:
        print("packs sent", flush=True)
"""


def test_issue23_killed_push_leaves_only_unreferenced_packs_which_gc_removes(tmp_path):
    """SIGKILL in the middle of a push: no object becomes visible; the chunks of the packs it sent
    are in interim index files (a re-run sends only the rest) or in no index; its lock is stale (its
    process is gone); the next gc removes them all, packs and index files."""
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams
    from tide.objects.chunked_maint import unreferenced_packs
    from tide.storage.local import LocalBackend

    remote = tmp_path / "remote"
    remote.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_PUSH, str(remote), str(tmp_path / "l1")],
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline() == b"packs sent\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    backend = LocalBackend(str(remote))
    store = ChunkedStore(backend, str(tmp_path / "l2"), ChunkParams(avg=1024, pack=65536))
    assert list(store.iter_refs()) == []
    assert len(list(backend.list("chunked/packs/"))) >= 9
    assert len(store._load().locs) > 100  # interim index files: a re-run would not send these again
    indexed = len(store._load().packs)
    assert unreferenced_packs(store) == len(list(backend.list("chunked/packs/"))) - indexed
    assert len(list(backend.list("chunked/locks/"))) == 1  # the dead push's lock, stale
    assert store.gc([], 2) == 0
    assert list(backend.list("chunked/")) == [] and unreferenced_packs(store) == 0


def test_issue23_concurrent_pushers_need_no_lock_and_gc_waits_for_them(tmp_path, make_case):
    """Two clones push overlapping objects at once: both complete, every object reads back; gc -c
    refuses while a push holds its lock (and a live lock of another process), not after."""
    from tide.objects.chunked_maint import RemoteLocked, acquire

    case = make_case("local")
    shared = [_obj(tmp_path, _csv(300, seed=s), f"shared{s}") for s in range(3)]
    own = [[_obj(tmp_path, _csv(300, seed=100 + 10 * k + s), f"own{k}{s}") for s in range(3)] for k in range(2)]
    stores = [_store(case, tmp_path) for _ in range(2)]
    barrier = threading.Barrier(2)
    results = [None, None]

    def push(k):
        barrier.wait()
        results[k] = _push(stores[k], shared + own[k])

    threads = [threading.Thread(target=push, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{}, {}]
    reader = _store(case, tmp_path)
    everything = shared + own[0] + own[1]
    assert reader.has_many([r for r, _ in everything], 4) == {r for r, _ in everything}
    for ref, path in everything:
        with open(path, "rb") as f:
            assert _read(reader, ref) == f.read()
    # a push in flight (its shared lock) blocks gc; so does a live process's lock from this host
    stores[0].put(*_obj(tmp_path, b"in flight\n"))
    with pytest.raises(RemoteLocked, match="locked by a push"):
        reader.gc([], 1)
    stores[0].flush()
    backend = case.open()
    body = json.dumps({"exclusive": False, "host": os.uname().nodename, "pid": os.getppid(),
                       "time": time.time()}).encode()
    import io

    backend.put_stream(io.BytesIO(body), "chunked/locks/other", len(body))
    with pytest.raises(RemoteLocked):
        acquire(backend, exclusive=True, stale=1800)
    backend.delete("chunked/locks/other")
    # a push refused by gc's lock fails each object with it, but asks for the lock once
    body = json.dumps({"exclusive": True, "host": os.uname().nodename, "pid": os.getppid(),
                       "time": time.time()}).encode()
    backend.put_stream(io.BytesIO(body), "chunked/locks/gc", len(body))
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams

    counting = Counting(case.open())
    refused = ChunkedStore(counting, str(tmp_path / "refused"), ChunkParams(**SMALL))
    for i in range(3):
        with pytest.raises(RemoteLocked, match="locked by gc -c"):
            refused.put(*_obj(tmp_path, f"late {i}\n".encode()))
    assert refused.flush() == {} and list(backend.list("chunked/locks/")) == ["chunked/locks/gc"]
    assert counting.calls.count("put_stream") == 1  # one lock attempt for the whole push
    backend.delete("chunked/locks/gc")
    assert reader.gc([shared[0][0]], 1) == 1
    assert reader.verify(None, 2) == []


def test_issue23_fsck_finds_a_damaged_pack_and_a_lost_pack(tmp_path, make_case):
    case = make_case("local")
    store = _store(case, tmp_path, level=0)
    objs = [_obj(tmp_path, _csv(400, seed=s), f"f{s}") for s in range(4)]
    assert _push(store, objs) == {}
    packs = sorted(case.open().list("chunked/packs/"))
    path = case.raw_path(packs[0])
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"X")
    problems = _store(case, tmp_path).verify(None, 2)
    assert any("does not hash to its name" in p for p in problems), problems
    os.unlink(path)
    problems = _store(case, tmp_path).verify(1, 2)
    assert any("missing on the remote" in p for p in problems), problems


def test_issue23_round_trip_with_a_dvc_repo(repo_dir, tide, dvc, tmp_path):
    """tide.yaml makes the remote chunked; push, fresh clone pull: .dvc files and the cache are DVC's
    (real dvc reads them); fsck -c passes; convert to a plain remote, which dvc pulls from."""
    from tests.conftest import git

    (repo_dir / "data").mkdir()
    for i in range(5):
        (repo_dir / "data" / f"f{i}.txt").write_text(f"file {i}\n")
    (repo_dir / "t.csv").write_bytes(_csv(4000))
    tide("add", "data", "t.csv", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(tmp_path / "cstore"), cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n    chunk_size: 4096\n")
    config = (repo_dir / ".dvc" / "config").read_text()
    assert "format" not in config and "chunk" not in config.replace(str(tmp_path), "")
    out = tide("push", cwd=repo_dir)
    assert "7 files pushed" in out.stdout
    assert sorted(os.listdir(tmp_path / "cstore")) == ["chunked"]  # nothing in DVC's layout
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo_dir), str(clone))
    tide("pull", cwd=clone)
    assert (clone / "t.csv").read_bytes() == (repo_dir / "t.csv").read_bytes()
    assert (clone / "data" / "f3.txt").read_text() == "file 3\n"
    assert (clone / "t.csv.dvc").read_text() == (repo_dir / "t.csv.dvc").read_text()
    assert "in sync" in tide("status", "-c", cwd=clone).stdout
    assert "0 problems" in tide("fsck", "-c", "--all", cwd=clone).stdout
    # dvc reads the cache tide pulled into
    (clone / "t.csv").unlink()
    dvc("checkout", "t.csv", cwd=clone)
    assert (clone / "t.csv").read_bytes() == (repo_dir / "t.csv").read_bytes()
    # back to a plain remote that dvc pulls from
    tide("remote", "add", "plain", str(tmp_path / "plain"), cwd=clone)
    out = tide("remote", "convert", "store", "plain", cwd=clone)
    assert "7 objects copied" in out.stdout
    assert "0 objects copied" in tide("remote", "convert", "store", "plain", cwd=clone).stdout  # resumable
    assert "7 objects, 0 problems" in tide("fsck", "-c", "-r", "plain", cwd=clone).stdout  # dvc's layout too
    # and from plain to another chunked remote
    tide("remote", "add", "back", str(tmp_path / "back"), cwd=clone)
    (clone / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n  back:\n    format: chunked\n")
    assert "7 objects copied" in tide("remote", "convert", "plain", "back", cwd=clone).stdout
    assert "7 objects, 0 problems (all checked)" in tide("fsck", "-c", "--all", "-r", "back", cwd=clone).stdout
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(repo_dir), str(fresh))
    import shutil

    shutil.copy(clone / ".dvc" / "config", fresh / ".dvc" / "config")
    dvc("pull", "-r", "plain", cwd=fresh)
    assert (fresh / "t.csv").read_bytes() == (repo_dir / "t.csv").read_bytes()


def test_issue23_tide_yaml_format_errors_are_one_line(repo_dir, tide, tmp_path):
    tide("remote", "add", "-d", "store", str(tmp_path / "r"), cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: packed\n")
    (repo_dir / "x").write_text("x\n")
    tide("add", "x", cwd=repo_dir)
    proc = tide("push", cwd=repo_dir, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "remotes.store.format' must be 'dvc' or 'chunked'" in proc.stderr
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n    chunk: 1\n")
    proc = tide("push", cwd=repo_dir, check=False)
    assert "unknown key 'remotes.store.chunk'" in proc.stderr


def test_issue23_many_small_files_cost_a_few_requests_each_way(tmp_path):
    """200 small files: the push sends one pack and one index file (plus its lock), not 200 objects;
    a pull of all of them reads the pack a window at a time, not once per file."""
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams
    from tide.storage.local import LocalBackend

    (tmp_path / "remote").mkdir()
    backend = Counting(LocalBackend(str(tmp_path / "remote")))
    store = ChunkedStore(backend, str(tmp_path / "l1"), ChunkParams())
    objs = [_obj(tmp_path, f"small file number {i}\n".encode() * (i % 7 + 1)) for i in range(200)]
    assert _push(store, objs) == {}
    assert backend.calls.count("put_stream") == 3, backend.calls  # lock, pack, index
    backend.calls.clear()
    reader = ChunkedStore(backend, str(tmp_path / "l2"), ChunkParams())
    for ref, path in objs:
        with open(path, "rb") as f:
            assert _read(reader, ref) == f.read()
    assert backend.calls.count("read_range") == 1, backend.calls


def test_issue23_a_reader_follows_chunks_a_gc_moved(tmp_path, make_case):
    """A clone read the index, then another clone's gc repacked: the reader finds the chunks anew.
    The rewritten index keeps each object's push time (gc -c's grace period must not restart)."""
    case = make_case("local")
    keep = [_obj(tmp_path, _csv(200, seed=s), f"k{s}") for s in range(2)]
    drop = [_obj(tmp_path, _csv(2000, seed=50 + s), f"d{s}") for s in range(2)]
    assert _push(_store(case, tmp_path, level=0, pack=1 << 20), keep + drop) == {}
    reader = _store(case, tmp_path)
    assert reader.has_many([r for r, _ in keep], 1) == {r for r, _ in keep}  # the index as it was
    ages = reader.ages()
    before = set(case.open().list("chunked/packs/"))
    assert _store(case, tmp_path).gc([r for r, _ in drop], 1) == 2
    assert not before & set(case.open().list("chunked/packs/"))  # the mostly-garbage pack was rewritten
    for ref, path in keep:
        with open(path, "rb") as f:
            assert _read(reader, ref) == f.read()
    assert _store(case, tmp_path).ages() == {r: ages[r] for r, _ in keep}  # gc keeps when each was pushed


def test_issue23_pull_during_gc_reads_the_index_again_when_files_vanish(tmp_path, make_case):
    """A pull that listed the index files just before a gc -c replaced them (index files deleted,
    packs repacked) lists again instead of failing (failed before: 'not found', a re-run passed);
    then pulls and gc's run at once in threads: every read of a kept object succeeds."""
    case = make_case("local")
    keep = [_obj(tmp_path, _csv(300, seed=s), f"k{s}") for s in range(2)]
    drop = [_obj(tmp_path, _csv(2000, seed=50 + s), f"d{s}") for s in range(2)]
    assert _push(_store(case, tmp_path, level=0, pack=1 << 20), keep[:1] + drop[:1]) == {}
    assert _push(_store(case, tmp_path, level=0, pack=1 << 20), keep[1:] + drop[1:]) == {}
    reader = _store(case, tmp_path)
    real = reader._names
    reader._names = lambda: (real(), _store(case, tmp_path).gc([r for r, _ in drop], 1))[0]
    want = {ref: open(path, "rb").read() for ref, path in keep}  # noqa: SIM115
    for ref, _ in keep:
        assert _read(reader, ref) == want[ref]
    reader._names = real
    stop, errors = threading.Event(), []

    def churn():
        for i in range(12):
            extra = _obj(tmp_path, _csv(1500, seed=100 + i), f"e{i}")
            try:
                _push(_store(case, tmp_path, level=0), [extra])
                _store(case, tmp_path).gc([extra[0]], 1)
            except Exception as exc:  # a push refused by a reader? readers take no lock: a failure
                errors.append(f"churn: {exc}")
        stop.set()

    t = threading.Thread(target=churn)
    t.start()
    reads = 0
    while not stop.is_set():
        for ref, _ in keep:
            try:
                assert _read(_store(case, tmp_path), ref) == want[ref]
                reads += 1
            except Exception as exc:
                errors.append(f"read: {exc!r}")
    t.join()
    assert not errors and reads, errors


def _crashrun(args, cwd, env, at=None, count=None):
    from tests.reliability.crashlib import CRASHRUN

    e = dict(env, TIDE_CRASH_ROOTS=env["REMOTE"])
    if at is not None:
        e["TIDE_CRASH_AT"] = str(at)
    if count is not None:
        e["TIDE_CRASH_COUNT"] = str(count)
    return subprocess.run([sys.executable, CRASHRUN, *args], cwd=cwd, env=e, capture_output=True, text=True)


def test_issue23_push_and_gc_killed_at_a_write_then_rerun(repo_dir, tide, tmp_path):
    """SIGKILL just before a write to the chunked remote (the middle one of a push, of a gc -c): the
    remote stays consistent (fsck -c --all), and a re-run completes with every object readable."""
    from tide.objects.chunked import ChunkedStore
    from tide.storage.local import LocalBackend

    remote = tmp_path / "remote"
    env = dict(os.environ, REMOTE=str(remote), TIDE_GC_GRACE="0")
    (repo_dir / "data").mkdir()
    for i in range(6):
        (repo_dir / "data" / f"f{i}.bin").write_bytes(random.Random(i).randbytes(30_000))
    (repo_dir / "t.csv").write_bytes(_csv(3000))
    tide("add", "data", "t.csv", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n    chunk_size: 1024\n"
                                        "    pack_size: 65536\n")

    def consistent(when):
        store = ChunkedStore(LocalBackend(str(remote)), str(tmp_path / f"check-{random.random()}"))
        assert store.verify(None, 2) == [], when

    def reset():
        shutil.rmtree(remote, ignore_errors=True)
        shutil.rmtree(repo_dir / ".dvc" / "tmp" / "tide", ignore_errors=True)

    count = tmp_path / "count"
    assert _crashrun(["push", "-q"], repo_dir, env, count=count).returncode == 0
    n = int(count.read_text())
    assert n >= 6
    # the suite kills at one point; TIDE_CHUNKED_CRASH_ALL=1 at every write of the push (long)
    points = range(1, n + 1) if os.environ.get("TIDE_CHUNKED_CRASH_ALL") == "1" else (n // 2,)
    for at in points:
        reset()
        p = _crashrun(["push", "-q"], repo_dir, env, at=at)
        assert p.returncode == -signal.SIGKILL, p.stderr
        consistent(f"push killed at write {at} of {n}")
        tide("push", "-q", cwd=repo_dir)
        consistent(f"push re-run after a kill at {at}")
    # a new version: the old one becomes garbage for gc -c -w
    (repo_dir / "t.csv").write_bytes(_csv(3000, seed=9))
    tide("add", "t.csv", cwd=repo_dir)
    tide("push", "-q", cwd=repo_dir)
    assert _crashrun(["gc", "-q", "-c", "-w", "-f"], repo_dir, env, count=count).returncode == 0
    n = int(count.read_text())
    (repo_dir / "t.csv").chmod(0o644)
    (repo_dir / "t.csv").write_bytes(_csv(3000, seed=10))
    tide("add", "t.csv", cwd=repo_dir)
    tide("push", "-q", cwd=repo_dir)
    p = _crashrun(["gc", "-q", "-c", "-w", "-f"], repo_dir, env, at=max(1, n // 2))
    assert p.returncode == -signal.SIGKILL, p.stderr
    consistent("gc killed in the middle")
    tide("gc", "-q", "-c", "-w", "-f", cwd=repo_dir)
    consistent("gc re-run")
    shutil.rmtree(repo_dir / ".dvc" / "cache")
    tide("pull", "-q", cwd=repo_dir)
    assert (repo_dir / "t.csv").read_bytes() == _csv(3000, seed=10)


def test_issue23_verify_false_does_not_skip_checking_a_reassembled_object(repo_dir, tide, tmp_path):
    """dvc's ``verify = false`` trusts objects by name; a chunked remote's objects are rebuilt by tide
    from chunks, so they are hashed anyway: a damaged blob is reported, never admitted to the cache."""
    remote = tmp_path / "remote"
    (repo_dir / "t.csv").write_bytes(_csv(90_000))  # > 2 MiB: small objects are hashed whatever verify says
    tide("add", "t.csv", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    tide("remote", "modify", "store", "verify", "false", cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n    compression: none\n")
    tide("push", "-q", cwd=repo_dir)
    (pack,) = [os.path.join(d, f) for d, _, fs in os.walk(remote / "chunked" / "packs") for f in fs]
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as f:
        f.seek(100)
        f.write(b"#")
    shutil.rmtree(repo_dir / ".dvc" / "cache")
    (repo_dir / "t.csv").unlink()
    p = tide("pull", cwd=repo_dir, check=False)
    assert p.returncode != 0 and "corrupt" in p.stderr, p.stderr
    assert not (repo_dir / "t.csv").exists()


def test_issue23_get_from_a_repository_whose_remote_is_chunked(repo_dir, tide, tmp_path):
    """tide get reads the source repository's tide.yaml at its revision: its chunked remote is read as such."""
    from tests.conftest import git

    (repo_dir / "t.csv").write_bytes(_csv(3000))
    tide("add", "t.csv", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(tmp_path / "remote"), cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text("remotes:\n  store:\n    format: chunked\n")
    tide("push", "-q", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = tmp_path / "src"
    git(tmp_path, "clone", "-q", str(repo_dir), str(clone))  # no cache: the data must come from the remote
    tide("get", str(clone), "t.csv", "-o", str(tmp_path / "got.csv"), cwd=tmp_path)
    assert (tmp_path / "got.csv").read_bytes() == (repo_dir / "t.csv").read_bytes()


def test_issue23_status_c_reads_one_merged_file_not_every_index_file(tmp_path, monkeypatch):
    """``has_many`` in a fresh process (``status -c``) reads the merged list of objects kept for the
    current set of index files, not each index file; a new index file, or a damaged merged list,
    makes it read the index files again (same answer as before)."""
    from tide.objects import chunked_format as F
    from tide.objects.chunked import ChunkedStore
    from tide.objects.chunked_format import ChunkParams
    from tide.storage.local import LocalBackend

    (tmp_path / "remote").mkdir()
    backend = LocalBackend(str(tmp_path / "remote"))
    local = str(tmp_path / "local")
    a = [_obj(tmp_path, _csv(50, seed=s), f"a{s}") for s in range(3)]
    b = [_obj(tmp_path, _csv(50, seed=10 + s), f"b{s}") for s in range(2)]
    for batch in a:  # three pushes: three index files
        assert _push(ChunkedStore(backend, str(tmp_path / "pusher"), ChunkParams(**SMALL)), [batch]) == {}
    decoded = []
    real = F.decode_index
    monkeypatch.setattr(F, "decode_index", lambda n, d: decoded.append(n) or real(n, d))
    everything = {r for r, _ in a + b}
    assert ChunkedStore(backend, local).has_many(everything, 1) == {r for r, _ in a}
    assert len(decoded) == 3
    decoded.clear()
    assert ChunkedStore(backend, local).has_many(everything, 1) == {r for r, _ in a}
    assert decoded == []  # one merged file read instead
    assert _push(ChunkedStore(backend, str(tmp_path / "pusher"), ChunkParams(**SMALL)), b) == {}
    decoded.clear()
    assert ChunkedStore(backend, local).has_many(everything, 1) == everything  # the new index file counts
    assert len(decoded) == 4  # every index file: the merged list was of the three before
    merged = [os.path.join(local, "refs", n) for n in os.listdir(os.path.join(local, "refs"))]
    assert len(merged) == 1  # the list of the older set was dropped
    for path in merged:  # a damaged merged list is not believed
        with open(path, "r+b") as f:
            f.seek(25)
            f.write(b"X")
    decoded.clear()
    assert ChunkedStore(backend, local).has_many(everything, 1) == everything
    assert len(decoded) == 4


def test_issue23_missing_extra_is_one_line_and_status_c_imports_no_chunker(tmp_path):
    """Without pyfastcdc/zstandard a chunked remote is refused in one line; with them, opening the
    store (every ``status -c``) does not import the chunker."""
    from tide.ops.remote_format import open_store
    from tide.storage.base import BackendMissing
    from tide.storage.local import LocalBackend

    (tmp_path / "r").mkdir()
    code = ("import sys; from tide.ops.remote_format import open_store; from tide.storage.local import LocalBackend\n"
            "from tide.objects.chunked_format import ChunkParams\n"
            "class S: name = 'r'; url = sys.argv[1]; get = lambda self, k: None\n"
            "open_store(LocalBackend(sys.argv[1]), S(), '', sys.argv[2], {}, ChunkParams())\n"
            "print('pyfastcdc' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r"), str(tmp_path)], capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
                             __import__("tide").__file__))))
    assert out.stdout.strip() == "False", out.stderr
    import importlib.util

    real = importlib.util.find_spec
    spec = type("S", (), {"name": "r", "url": str(tmp_path / "r"), "get": lambda self, k: None})()
    from tide.objects.chunked_format import ChunkParams

    try:
        importlib.util.find_spec = lambda m, *a: None if m == "zstandard" else real(m, *a)
        with pytest.raises(BackendMissing, match="need the 'chunked' extra.*'zstandard'"):
            open_store(LocalBackend(str(tmp_path / "r")), spec, "", str(tmp_path), {}, ChunkParams())
    finally:
        importlib.util.find_spec = real


def test_issue23_index_naming_a_pack_by_a_path_is_refused():
    """An index file is verified against its own hash, which anyone who can write to the remote can
    compute: the pack names inside it become keys, so only sha256 names are accepted (confinement)."""
    import hashlib
    import json

    import pytest
    import zstandard

    from tide.core.errors import StorageError
    from tide.objects import chunked_format as F

    doc = {"format": "tide-chunked-index", "version": F.VERSION, "packs": {"../../etc/x": []}, "objects": {}}
    data = zstandard.ZstdCompressor().compress(json.dumps(doc).encode())
    with pytest.raises(StorageError, match="not named by its sha256"):
        F.decode_index(hashlib.sha256(data).hexdigest(), data)
