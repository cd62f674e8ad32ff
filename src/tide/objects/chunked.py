"""``ChunkedStore``: the opt-in ``chunked`` remote format behind the ``ObjectStore`` interface.

Objects are cut into content-defined chunks (FastCDC), each identified by its sha256; chunks new to
the remote are compressed (zstd, when that pays) into packs of tens of MB, each written once under
the hash of its bytes. One index file per push says where each new chunk is and which chunks make
each DVC object (its *recipe*): push, pull, ``status -c`` and ``gc -c`` work by DVC object ids, as
on DVC's layout, while storage and uploads cost only what changed. The cache, ``.dvc`` files and
``dvc.lock`` are untouched: only the remote's layout differs. Structures: ``chunked_format.py``;
locks, gc and fsck: ``chunked_maint.py``; the specification: docs/storage.md.

A push (the transfer engine's ``put`` calls, then ``flush``) holds a shared lock on the remote, so
that ``gc -c`` (exclusive) never removes a chunk the push dedups against; pushes need no lock
against each other: each writes its own packs and index file, under names no other can take.
Nothing is visible before the push's index file is written; a push killed before leaves packs no
index names, which the next ``gc -c`` removes.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Collection, Iterator
from typing import BinaryIO

from tide.objects import chunked_format as F
from tide.objects.ref import ObjRef
from tide.objects.remote import ObjectStore
from tide.storage.base import Backend, StorageError, StorageNotFound

CHUNKER = "fastcdc2020"
RUN = 8 << 20  # bytes read from a pack in one request when consecutive chunks lie next to each other
WINDOW = 1 << 20  # small objects are read from packs a window of this size at a time (kept in memory)
WINDOWS = 16  # windows kept
SMALL_RUN = 64 << 10  # runs up to this size are read through windows
READS = 4  # attempts at reading the index or a chunk while a gc -c replaces index files and packs
REBASE = 1 / 16  # a delta against an older whole version above this share of the chunk is weighed
# against the whole chunk compressed (stored whole when the delta costs more than half of it)
BATCH = 4 << 20  # bytes of a large file's chunks hashed and compressed together, on several threads
READ = 8 << 20  # a large file is read and cut this many bytes at a time
SENDING = 2  # full packs sealed and uploaded at once by a push to a local remote (each up to pack_size
# in memory); to a network remote, its default number of parallel requests, at most SENDING_NET
SENDING_NET = 8


class _Session:
    """One push: its lock, the pack being filled and what it wrote."""

    def __init__(self, lock: str, base: F.State, sending: int = SENDING) -> None:
        self.lock = lock
        self.base = base  # the index as read under the lock: what this push dedups against
        self.locked_at = time.time()
        self.pack = F.PackBuilder()
        self.pending: dict[bytes, F.PackBuilder] = {}  # chunk id -> the unsent pack holding it
        self.unindexed: dict[str, list] = {}  # pack id -> its entries (uploaded, in no index file yet)
        self.durable: set[bytes] = set()  # chunks in uploaded packs
        self.recipes: dict[ObjRef, tuple[int, tuple[bytes, ...]]] = {}
        self.children: dict[ObjRef, list[ObjRef]] = {}  # a manifest's files
        self.like: dict[ObjRef, tuple[ObjRef, tuple[bytes, ...]]] = {}  # object -> its previous version
        self.owner: dict[bytes, ObjRef] | None = None  # chunk -> the newest object of several chunks using it
        self.errors: list[str] = []
        import threading

        self.inflight = threading.Semaphore(sending)
        self.sends: list = []  # futures of the packs handed to the sending threads
        self.written: list[str] = []  # index files this push wrote


def _ahead(gen: Iterator[list[bytes]], depth: int = 2) -> Iterator[list[bytes]]:
    """``gen``'s items, produced by a thread up to ``depth`` ahead: a large file is cut while the
    previous batch is hashed and compressed (the push's CPU work spread over the cores)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(end)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    t = threading.Thread(target=produce, name="tide-chunker", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _hash_all(pieces: list) -> list[bytes]:
    return [F.sha256(p) for p in pieces]


def _pread(fd: int, n: int, pos: int) -> bytes:
    """``n`` bytes of the file at ``pos`` (fewer at its end)."""
    data = os.pread(fd, n, pos)
    if len(data) < n and data:  # a short read before the end: read on
        parts = [data]
        got = len(data)
        while got < n and (more := os.pread(fd, n - got, pos + got)):
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


class _Near:
    """Finds, for each new chunk of an object being pushed, the chunk at the same place in the
    object's previous version on the remote (the *base* its delta is compressed against).

    The previous version is the object of several chunks that holds the first already-known chunk
    met (the newest such object); places are matched by byte offset from the last chunk both share.
    A base is never itself a delta (a delta's base is taken instead): reading a chunk costs at most
    one more chunk."""

    def __init__(self, store: ChunkedStore, s: _Session, ref: ObjRef, path: str) -> None:
        self.store, self.s, self.ref, self.path = store, s, ref, path
        self.like: ObjRef | None = None
        self.old: tuple[bytes, ...] = ()
        self.starts: list[int] = []
        self.pos: dict[bytes, int] = {}
        self.anchor = (0, 0)  # (offset in the old version, offset in this one) where both agree
        self.far: set[bytes] = set()  # bases that are not the previous version's chunk but an older one

    def _owner(self, cid: bytes) -> ObjRef | None:
        s = self.s
        with self.store._mu:
            if s.owner is None:
                s.owner = {}
                for r, rec in sorted(s.base.recipes.items(), key=lambda kv: kv[1].time):
                    if len(rec.chunks) > 1:
                        for c in rec.chunks:
                            s.owner[c] = r
        return s.owner.get(cid)

    def adopt(self, cid: bytes) -> bool:
        """Take the object holding the known chunk ``cid`` as the previous version (once)."""
        like = self._owner(cid)
        if like is None:
            return False
        locs = self.s.base.locs
        self.like, self.old = like, self.s.base.recipes[like].chunks
        at = 0
        for i, c in enumerate(self.old):
            self.pos.setdefault(c, i)
            self.starts.append(at)
            at += locs[c].raw if c in locs else 0
        self.starts.append(at)
        return True

    def see(self, cid: bytes, offset: int, length: int, known: bool) -> bytes | None:
        """Record a chunk; for a new one, the id of its base (or None)."""
        locs = self.s.base.locs
        if known:
            if self.like is None and not self.adopt(cid):
                return None
            i = self.pos.get(cid)
            if i is not None:
                self.anchor = (self.starts[i + 1], offset + length)
            return None
        if self.like is None:
            return None
        target = self.anchor[0] + (offset - self.anchor[1])
        if not 0 <= target < self.starts[-1]:
            return None  # past the old version's end: appended bytes have no base
        import bisect

        base = self.old[bisect.bisect_right(self.starts, target) - 1]
        loc = locs.get(base)
        if loc is None:
            return None
        if loc.comp.startswith(F.DELTA):
            base = bytes.fromhex(loc.comp[len(F.DELTA):])
            if base not in locs or locs[base].comp.startswith(F.DELTA):
                return None
            self.far.add(base)  # (read by the encoding threads after this batch's see calls)
        return base

    def base_bytes(self, base: bytes) -> tuple[bytes, bytes] | None:
        """The base chunk's bytes: from the previous version in the local cache when it is there
        (verified), else from the remote; None when neither can give them (then no delta)."""
        like = self.like
        if like is not None and like.legacy == self.ref.legacy and base in self.pos:
            tail = os.path.join(self.ref.oid[:2], self.ref.oid[2:])
            if self.path.endswith(tail):
                old = self.path[:-len(tail)] + os.path.join(like.oid[:2], like.oid[2:])
                i = self.pos[base]
                try:
                    with open(old, "rb") as f:
                        f.seek(self.starts[i])
                        data = f.read(self.starts[i + 1] - self.starts[i])
                    if F.sha256(data) == base:
                        return base, data
                except OSError:
                    pass
        try:
            return base, self.store._chunk(base)
        except StorageError:
            return None


class ChunkedStore(ObjectStore):
    """The ``chunked`` format over any ``Backend`` (module docstring). ``local``: a directory of this
    clone where index files are kept once read (they never change: named by their hash)."""

    def __init__(self, backend: Backend, local: str, params: F.ChunkParams | None = None) -> None:
        self.backend = backend
        self.url = backend.url
        self.local = local
        self.params = params or F.ChunkParams()
        caps = backend.capabilities
        # a format that can list (it lists index files), reads ranges of packs and deletes in one gc
        self.capabilities = caps.replace(cheap_open=False, listing_ages=True, batch_delete=True, assembles=True,
                                           packs=True)
        self.codec = F.Codec()
        import _thread

        self._mu = _thread.allocate_lock()  # (not threading: status -c imports none of it)
        self._docs: dict[str, dict] = {}
        self._state: F.State | None = None
        self._session: _Session | None = None
        self._refused: StorageError | None = None  # this push could not take its lock
        from collections import OrderedDict

        self._windows: OrderedDict = OrderedDict()  # (pack, n) -> bytes, or an Event while being read
        self._bases: dict[bytes, bytes] = {}  # base chunks of deltas lately read (64 kept)
        self._pool = None  # threads that hash and compress a large file's chunks (sha256 and zstd free the GIL)
        self._sender = None  # threads that seal and upload full packs

    # --- the index ---------------------------------------------------------------------------------
    def _read_index(self, name: str) -> dict:
        doc = self._docs.get(name)
        if doc is not None:
            return doc
        path = os.path.join(self.local, "index", name)
        data = None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            pass
        if data is None:
            with self.backend.open(F.INDEX + name) as f:
                data = f.read()
            doc = F.decode_index(name, data)  # verified before it is kept
            F.write_atomic(path, data)
        else:
            doc = F.decode_index(name, data)
        self._docs[name] = doc
        return doc

    def _names(self) -> list[str]:
        self._listable()
        return sorted(n for k in self.backend.list(F.INDEX) if F.is_id(n := k.rsplit("/", 1)[-1]))

    def _load(self, names: list[str] | None = None) -> F.State:
        """The remote's index now: list the index files, read the ones not read before. An index
        file that vanished between the listing and the read was superseded by a ``gc -c`` running
        meanwhile (it writes its index before deleting the old ones): list again."""
        for attempt in range(READS):
            if names is None:
                names = self._names()
            new = [n for n in names if n not in self._docs]
            try:
                if len(new) > 1:
                    from concurrent.futures import ThreadPoolExecutor

                    with ThreadPoolExecutor(min(8, len(new))) as pool:
                        list(pool.map(self._read_index, new))
                docs = {n: self._read_index(n) for n in names}
                break
            except StorageNotFound:
                if attempt == READS - 1:
                    raise
                names = None
        if self._state is None or self._state.names != set(names):
            self._state = F.State.of(docs)
        return self._state

    def _listable(self) -> None:
        if not self.backend.capabilities.listable:
            raise StorageError(f"remote '{self.url}' cannot be listed, which the chunked format needs "
                               "(use a remote that can list, or the dvc format)")

    def _write_index(self, packs: dict, recipes: dict[ObjRef, F.Recipe], supersedes: list[str] = (),
                     like: dict | None = None) -> str:
        name, data = F.encode_index(time.time(), self._chunker(), packs, recipes, supersedes, like)
        self.backend.put_stream(io.BytesIO(data), F.INDEX + name, len(data))
        F.write_atomic(os.path.join(self.local, "index", name), data)
        self._docs[name] = F.decode_index(name, data)
        return name

    def _chunker(self) -> dict:
        a = self.params.avg
        return {"name": CHUNKER, "avg": a, "min": a // 4, "max": a * 4, "seed": 0, "hash": "sha256"}

    # --- existence and listing ---------------------------------------------------------------------
    def has_many(self, refs: Collection[ObjRef], jobs: int) -> set[ObjRef]:
        if not refs:
            return set()
        if self._state is None:  # first look in this process: the merged list of objects, if still current
            names = self._names()
            tags = F.read_refs(self._refs_path(names))
            if tags is not None:
                return {r for r in refs if ("L" if r.legacy else "M") + r.oid in tags}
            st = self._load(names)
            F.write_refs(self._refs_path(sorted(st.names)), st.recipes)  # and drops the lists of older sets
        else:
            st = self._load()
        return {r for r in refs if r in st.recipes}

    def _refs_path(self, names: list[str]) -> str:
        """The objects of the index files ``names`` (merged once, then read in O(1) files by ``status -c``)."""
        return os.path.join(self.local, "refs", F.sha256("\n".join(names).encode()).hex())

    def iter_refs(self) -> Iterator[ObjRef]:
        return iter(sorted(self._load().recipes))

    def ages(self) -> dict[ObjRef, float | None]:
        return {r: rec.time for r, rec in self._load().recipes.items()}

    def _recipe(self, ref: ObjRef) -> F.Recipe:
        st = self._state if self._state is not None and ref in self._state.recipes else self._load()
        rec = st.recipes.get(ref)
        if rec is None:
            raise StorageNotFound(f"{ref.oid} is not on the remote")
        return rec

    def size(self, ref: ObjRef) -> int:
        return self._recipe(ref).size

    def modified(self, ref: ObjRef) -> float | None:
        return self._recipe(ref).time

    # --- push --------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        self.backend.check_writable()

    def _begin(self) -> _Session:
        with self._mu:
            if self._session is None:
                from tide.objects.chunked_maint import acquire

                if self._refused is not None:  # one refusal per push, not one lock attempt per object
                    raise self._refused
                self.check_writable()
                self._listable()
                try:
                    lock = acquire(self.backend, exclusive=False, stale=self.params.stale)
                except StorageError as exc:
                    self._refused = exc
                    raise
                try:
                    base = self._load()  # after the lock: no gc removes what this push dedups against now
                except BaseException:
                    self.backend.delete(lock)
                    raise
                self._session = _Session(lock, base, self._sending())
                if self._sender is None:
                    from concurrent.futures import ThreadPoolExecutor

                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(max(2, min(4, os.cpu_count() or 2)))
                    self._sender = ThreadPoolExecutor(self._sending(), thread_name_prefix="tide-pack")
            return self._session

    def put(self, ref: ObjRef, path: str) -> None:
        s = self._begin()
        st = s.base
        size = os.path.getsize(path)
        cids: list[bytes] = []
        level = [self.params.level]  # set to 0 once an object's first chunks show zstd does not pay
        tried = [0, 0]  # chunks compressed, of which smaller
        near = _Near(self, s, ref, path) if size > self.params.avg else None

        def known(cid: bytes) -> bool:
            return cid in st.locs or cid in s.durable or cid in s.pending

        def encode(job: tuple[bytes, bytes, bytes | None]) -> tuple[bytes, str]:
            piece, cid, base = job
            blob, comp = self.codec.encode(piece, level[0], near.base_bytes(base) if base is not None else None)
            if comp.startswith(F.DELTA) and base in near.far and len(blob) > len(piece) * REBASE:
                # the base is an older whole version and the edits since have piled up: once the
                # delta costs half the whole chunk, store this version whole, so that the next
                # versions' deltas start from it (a delta's growth is bounded; the day it happens
                # costs at most twice that chunk's delta)
                whole = self.codec.encode(piece, level[0])
                if len(blob) * 2 > len(whole[0]):
                    return whole
            return blob, comp

        offset = 0
        for batch in _ahead(self._batches(path, size)) if size > BATCH else self._batches(path, size):
            hashed = self._map(_hash_all, batch)
            jobs: list[tuple[bytes, bytes, bytes | None]] = []
            if near is not None and near.like is None:  # chunks before the first known one get bases too
                for cid in hashed:
                    if known(cid) and near.adopt(cid):
                        break
            for piece, cid in zip(batch, hashed, strict=True):
                if near is not None:
                    base = near.see(cid, offset, len(piece), known(cid))
                else:
                    base = None
                if not known(cid):
                    jobs.append((piece, cid, base))
                offset += len(piece)
            blobs = self._map(lambda group: [encode(j) for j in group], jobs)
            new = {cid: (len(piece), blob, comp) for (piece, cid, _), (blob, comp) in zip(jobs, blobs, strict=True)}
            full: list[F.PackBuilder] = []
            with self._mu:
                for cid in hashed:
                    cids.append(cid)
                    if cid not in new or cid in s.pending or cid in s.durable:
                        continue
                    raw, blob, comp = new.pop(cid)
                    s.pack.add(cid, blob, raw, comp)
                    s.pending[cid] = s.pack
                    if s.pack.size >= self.params.pack:
                        full.append(s.pack)
                        s.pack = F.PackBuilder()
            for p in full:
                self._send_later(s, p)
            if level[0] and tried[0] < 8:  # zstd "when it pays": judged on the object's first chunks
                tried[0] += len(blobs)
                tried[1] += sum(1 for _, c in blobs if c != "raw")
                if tried[0] >= 8 and not tried[1]:
                    level[0] = 0
        if ref.is_dir:
            from tide.core import manifest

            with open(path, "rb") as f:
                entries = manifest.parse(f.read(), where=f"manifest {ref.oid}")
            children = [ObjRef(e.md5, ref.legacy) for e in entries]
        else:
            children = []
        with self._mu:
            s.recipes[ref] = (size, tuple(cids))
            if near is not None and near.like is not None:
                s.like[ref] = (near.like, st.recipes[near.like].chunks)
            if children:
                s.children[ref] = children

    def _batches(self, path: str, size: int) -> Iterator[list[bytes | memoryview]]:
        """The file's chunks, a few MB at a time (hashed and compressed on the store's threads).

        The file is read ``READ`` bytes at a time and each block cut in memory; a block's last
        chunk ends where the block does, not where the content says, so it is cut again at the head
        of the next block (FastCDC depends only on the bytes from a chunk's start: the cuts are
        those of the whole file at once). Chunks are views of the blocks, copied once, into a pack."""
        if size <= self.params.avg:  # small files go into packs whole
            with open(path, "rb") as f:
                yield [f.read()]
            return
        from pyfastcdc import FastCDC

        cdc = FastCDC(self.params.avg)
        block = max(READ, 2 * cdc.max_size)  # (a full block holds two chunks at least: each read moves on)
        batch: list[memoryview] = []
        have = 0
        fd = os.open(path, os.O_RDONLY)
        try:
            pos = 0  # where the block read next starts: the start of the previous block's last chunk
            while True:
                data = _pread(fd, block, pos)
                eof = len(data) < block
                last = None
                for c in cdc.cut_buf(data):
                    if last is not None:
                        batch.append(last.data)
                        have += last.length
                        if have >= BATCH:
                            yield batch
                            batch, have = [], 0
                    last = c
                if eof or last is None:
                    if last is not None:
                        batch.append(last.data)
                    break
                pos += last.offset  # (read again from the page cache: no copy of it kept here)
        finally:
            os.close(fd)
        if batch:
            yield batch

    def _sending(self) -> int:
        """Packs uploaded at once: two to a local remote (the disk is not the limit, the CPU is), as many
        as the remote's parallel requests to a network one (up to ``SENDING_NET``): a push of many
        small files fills packs faster than one request at a time sends them."""
        caps = self.backend.capabilities
        return SENDING if caps.cheap_open else max(SENDING, min(SENDING_NET, caps.default_jobs))

    def _map(self, fn, items: list, pool=None) -> list:
        """``fn`` (a list in, a list out) applied to ``items`` split among the store's threads (a few
        tasks per batch, not one per chunk: sha256 and zstd free the GIL on each piece)."""
        pool = pool or self._pool
        if pool is None or len(items) < 2:
            return fn(items)
        n = min(len(items), pool._max_workers * 4)  # several tasks per thread: a thread the machine
        step = -(-len(items) // n)  # runs late (other processes) leaves its tasks to the others
        out: list = []
        for part in pool.map(fn, [items[i:i + step] for i in range(0, len(items), step)]):
            out.extend(part)
        return out

    def _send_later(self, s: _Session, pack: F.PackBuilder) -> None:
        """Seal and upload a full pack on a sending thread (the next batches are cut meanwhile); at
        most ``_sending()`` packs wait or go at once. A failure is recorded in ``s.errors`` (``_send``):
        the objects whose chunks it held fail at ``flush``."""
        s.inflight.acquire()

        def go() -> None:
            try:
                self._send(s, pack)
            except BaseException as exc:  # recorded: the objects concerned fail at flush
                with self._mu:
                    if not s.errors:
                        s.errors.append(f"pack upload failed: {exc}")
            finally:
                s.inflight.release()

        try:
            fut = self._sender.submit(go)
        except BaseException:
            s.inflight.release()
            raise
        with self._mu:
            s.sends.append(fut)

    def _send(self, s: _Session, pack: F.PackBuilder) -> None:
        """Seal and upload a full pack (on a sending thread, ``_send_later``; the last one at ``flush``)."""
        pid, data = pack.seal()
        try:
            self.backend.put_stream(io.BytesIO(data), F.pack_key(pid), len(data), sha256=pid)
        except BaseException as exc:
            with self._mu:
                for e in pack.entries:
                    s.pending.pop(e[0], None)  # a later put stores these chunks again
                s.errors.append(f"pack upload failed: {exc}")
            raise
        with self._mu:
            s.unindexed[pid] = pack.entries
            for e in pack.entries:
                s.durable.add(e[0])
                s.pending.pop(e[0], None)
            refresh = time.time() - s.locked_at > self.params.refresh
            if refresh:
                s.locked_at = time.time()
            interim = None
            if len(s.unindexed) >= self.params.index_every:
                interim, s.unindexed = s.unindexed, {}
        if interim:  # chunks only, no recipe: a re-run after a kill finds them and sends the rest
            try:
                name = self._write_index(interim, {})
                with self._mu:
                    s.written.append(name)
            except BaseException:
                with self._mu:
                    s.unindexed.update(interim)  # the final index names them instead
                raise
        if refresh:
            from tide.objects.chunked_maint import refresh_lock

            refresh_lock(self.backend, s.lock, exclusive=False)

    def flush(self) -> dict[ObjRef, str]:
        """Send the last pack, then the index file naming what this push made durable."""
        with self._mu:
            s, self._session = self._session, None
            self._refused = None
        if s is None:
            return {}
        failed: dict[ObjRef, str] = {}
        try:
            for fut in list(s.sends):  # every full pack sent (or its failure recorded)
                fut.result()
            if s.pack.entries:
                try:
                    self._send(s, s.pack)
                except StorageError:
                    pass  # recorded in s.errors; the objects needing these chunks fail below
            why = s.errors[0] if s.errors else "its chunks were not uploaded"
            known = s.base.locs
            ok: dict[ObjRef, F.Recipe] = {}
            for ref, (size, cids) in s.recipes.items():
                if all(c in known or c in s.durable for c in cids):
                    ok[ref] = F.Recipe(size, 0.0, cids)
                else:
                    failed[ref] = why
            for ref in [r for r in ok if r.is_dir]:  # a manifest never goes without its files
                if any(c in failed for c in s.children.get(ref, ())):
                    del ok[ref]
                    failed[ref] = "manifest not uploaded: some of its files failed"
            if ok or s.unindexed:
                try:
                    s.written.append(self._write_index(s.unindexed, ok,
                                                       like={r: v for r, v in s.like.items() if r in ok}))
                except StorageError as exc:
                    failed.update((r, f"index upload failed: {exc}") for r in ok)
            if s.written:  # the merged list of objects for the index files as they are now (unless another
                # clone pushed meanwhile: then the names differ and the next status -c merges them)
                try:
                    F.write_refs(self._refs_path(sorted(s.base.names | set(s.written))), set(s.base.recipes) | set(ok))
                except OSError:
                    pass  # only a shortcut: status -c merges the index files instead
        finally:
            self._release(s.lock)
        return failed

    def _release(self, lock: str) -> None:
        try:
            self.backend.delete(lock)
        except StorageError:
            pass  # a lock left behind turns stale: it blocks nothing for long

    def close(self) -> None:
        with self._mu:
            s, self._session = self._session, None
        if s is not None:  # an interrupted push: its packs stay unreferenced until gc -c
            self._release(s.lock)
        if self._sender is not None:  # (after an interrupted push: its last packs stay unreferenced)
            self._sender.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.backend.close()

    # --- pull --------------------------------------------------------------------------------------
    def _pieces(self, ref: ObjRef) -> Iterator[bytes]:
        """The object's bytes, chunk after chunk; consecutive chunks stored side by side in one pack
        are read with one request. A large object's runs are read and decoded by a thread ahead of
        the caller (which writes and hashes them meanwhile)."""
        rec = self._recipe(ref)
        if rec.size > BATCH:
            for run in _ahead(self._runs(ref, rec)):
                yield from run
            return
        for run in self._runs(ref, rec):
            yield from run

    def _runs(self, ref: ObjRef, rec: F.Recipe) -> Iterator[list[bytes | memoryview]]:
        locs = self._state.locs
        run: list[F.Loc] = []
        cids: list[bytes] = []
        for cid in rec.chunks:
            loc = locs.get(cid)
            if loc is None:
                raise StorageError(f"{ref.oid}: chunk {cid.hex()} is in no index file (run 'tide fsck -c')")
            if run and (loc.pack != run[-1].pack or loc.offset != run[-1].offset + run[-1].length
                        or loc.offset + loc.length - run[0].offset > RUN):
                yield list(self._read_run_moved(run, cids))
                run, cids = [], []
            run.append(loc)
            cids.append(cid)
        if run:
            yield list(self._read_run_moved(run, cids))

    def _read_run_moved(self, run: list[F.Loc], cids: list[bytes]) -> Iterator[bytes]:
        """``_read_run``; if the pack is gone (a gc repacked it since this clone read the index),
        the index is read again once and the chunks are read from where they are now."""
        try:
            pieces = list(self._read_run(run))
        except StorageNotFound:
            for attempt in range(1, READS):
                with self._mu:
                    self._state = None
                locs = self._load().locs
                try:
                    pieces = []
                    for cid in cids:
                        loc = locs.get(cid)
                        if loc is None:
                            raise StorageNotFound(f"chunk {cid.hex()} is in no index file any more (removed by gc -c?)")
                        pieces.extend(self._read_run([loc]))
                    break
                except StorageNotFound:
                    if attempt == READS - 1:
                        raise
        yield from pieces

    def _read_run(self, run: list[F.Loc]) -> Iterator[bytes]:
        start = run[0].offset
        total = run[-1].offset + run[-1].length - start
        w = start // WINDOW
        if total <= SMALL_RUN and (start + total - 1) // WINDOW == w:
            window = self._window(run[0].pack, w)
            data = window[start - w * WINDOW:start - w * WINDOW + total]
        else:
            data = self.backend.read_range(F.pack_key(run[0].pack), start, total)
        if len(data) != total:
            raise StorageError(f"pack {run[0].pack} is shorter than its index says (run 'tide fsck -c')")
        view = memoryview(data)

        def decode(locs: list[F.Loc]) -> list[bytes | memoryview]:
            out = []
            for loc in locs:
                base = self._chunk(bytes.fromhex(loc.comp[len(F.DELTA):])) if loc.comp.startswith(F.DELTA) else None
                out.append(self.codec.decode(view[loc.offset - start:loc.offset - start + loc.length], loc, base))
            return out

        if sum(1 for loc in run if loc.comp != "raw") > 1:  # zstd frees the GIL: decoded on several threads
            yield from self._map(decode, run, self._threads())
        else:
            yield from decode(run)

    def _threads(self):
        """The store's worker threads (made on first use: a push's hashing and compressing, a pull's decoding)."""
        with self._mu:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max(2, min(4, os.cpu_count() or 2)))
            return self._pool

    def _chunk(self, cid: bytes) -> bytes:
        """One chunk's bytes, verified (the base of a delta blob; bases are never deltas themselves)."""
        with self._mu:
            got = self._bases.get(cid)
        if got is not None:
            return got
        st = self._state if self._state is not None and cid in self._state.locs else self._load()
        loc = st.locs.get(cid)
        if loc is None or loc.comp.startswith(F.DELTA):
            raise StorageError(f"chunk {cid.hex()}, the base of a delta, is {'a delta' if loc else 'in no index file'}"
                               " (run 'tide fsck -c')")
        data = b"".join(self._read_run_moved([loc], [cid]))
        if F.sha256(data) != cid:
            raise StorageError(f"chunk {cid.hex()} in pack {loc.pack} is corrupt (run 'tide fsck -c')")
        with self._mu:
            self._bases[cid] = data
            while len(self._bases) > 64:
                del self._bases[next(iter(self._bases))]
        return data

    def _window(self, pack: str, w: int) -> bytes:
        """One ``WINDOW`` of a pack, read once for the small objects it holds (a pull of many small
        files, pushed together and so packed side by side, costs one request per window, not one
        per file). The last ``WINDOWS`` windows are kept; threads wanting the same one wait for it."""
        key = (pack, w)
        with self._mu:
            got = self._windows.get(key)
            if isinstance(got, bytes):
                self._windows.move_to_end(key)
                return got
            if got is None:
                import threading

                got = self._windows[key] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            got.wait()
            with self._mu:
                data = self._windows.get(key)
            if isinstance(data, bytes):
                return data
            return self.backend.read_range(F.pack_key(pack), w * WINDOW, WINDOW)  # the reader failed
        try:
            data = self.backend.read_range(F.pack_key(pack), w * WINDOW, WINDOW)
        except BaseException:
            with self._mu:
                self._windows.pop(key, None)
            got.set()
            raise
        with self._mu:
            self._windows[key] = data
            while sum(isinstance(v, bytes) for v in self._windows.values()) > WINDOWS:
                old = next(k for k, v in self._windows.items() if isinstance(v, bytes))
                del self._windows[old]
        got.set()
        return data

    def open(self, ref: ObjRef) -> BinaryIO:
        return F.Reader(lambda: self._pieces(ref))

    def stream(self, ref: ObjRef) -> BinaryIO | None:
        return F.Reader(lambda: self._pieces(ref))

    def get_file(self, ref: ObjRef, path: str) -> None:
        with open(path, "wb") as out:
            for piece in self._pieces(ref):
                out.write(piece)

    def get_file_resuming(self, ref: ObjRef, path: str) -> bool:
        self.get_file(ref, path)  # chunks are small: a failed object is read again whole
        return False

    # --- gc and fsck -------------------------------------------------------------------------------
    def delete(self, ref: ObjRef) -> None:
        self.gc([ref], 1)

    def delete_many(self, refs: list[ObjRef]) -> None:
        self.gc(list(refs), 1)

    def gc(self, remove: list[ObjRef], jobs: int) -> int:
        from tide.objects.chunked_maint import collect

        return collect(self, remove)

    def verify(self, sample: int | None, jobs: int) -> list[str]:
        from tide.objects.chunked_maint import check

        return check(self, sample, jobs)

