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
import threading
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
BATCH = 4 << 20  # bytes of a large file's chunks hashed and compressed together, on several threads


class _Session:
    """One push: its lock, the pack being filled and what it wrote."""

    def __init__(self, lock: str, base: F.State) -> None:
        self.lock = lock
        self.base = base  # the index as read under the lock: what this push dedups against
        self.locked_at = time.time()
        self.pack = F.PackBuilder()
        self.pending: dict[bytes, F.PackBuilder] = {}  # chunk id -> the unsent pack holding it
        self.unindexed: dict[str, list] = {}  # pack id -> its entries (uploaded, in no index file yet)
        self.durable: set[bytes] = set()  # chunks in uploaded packs
        self.recipes: dict[ObjRef, tuple[int, tuple[bytes, ...]]] = {}
        self.children: dict[ObjRef, list[ObjRef]] = {}  # a manifest's files
        self.errors: list[str] = []


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
        self.capabilities = caps._replace(cheap_open=False, listing_ages=True, batch_delete=True, assembles=True)
        self.codec = F.Codec()
        self._mu = threading.Lock()
        self._docs: dict[str, dict] = {}
        self._state: F.State | None = None
        self._session: _Session | None = None
        self._refused: StorageError | None = None  # this push could not take its lock
        from collections import OrderedDict

        self._windows: OrderedDict = OrderedDict()  # (pack, n) -> bytes, or an Event while being read
        self._pool = None  # threads that hash and compress a large file's chunks (sha256 and zstd free the GIL)

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
        """The remote's index now: list the index files, read the ones not read before."""
        if names is None:
            names = self._names()
        new = [n for n in names if n not in self._docs]
        if len(new) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(8, len(new))) as pool:
                list(pool.map(self._read_index, new))
        docs = {n: self._read_index(n) for n in names}
        if self._state is None or self._state.names != set(names):
            self._state = F.State.of(docs)
        return self._state

    def _listable(self) -> None:
        if not self.backend.capabilities.listable:
            raise StorageError(f"remote '{self.url}' cannot be listed, which the chunked format needs "
                               "(use a remote that can list, or the dvc format)")

    def _write_index(self, packs: dict, recipes: dict[ObjRef, F.Recipe], supersedes: list[str] = ()) -> str:
        name, data = F.encode_index(time.time(), self._chunker(), packs, recipes, supersedes)
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
            known = F.read_refs(self._refs_path(names))
            if known is None:
                known = self._load(names).recipes
                F.write_refs(self._refs_path(names), known)  # and drops the lists of older sets
        else:
            known = self._load().recipes
        return {r for r in refs if r in known}

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
                self._session = _Session(lock, base)
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(max(2, min(4, os.cpu_count() or 2)))
            return self._session

    def put(self, ref: ObjRef, path: str) -> None:
        s = self._begin()
        st = s.base
        size = os.path.getsize(path)
        cids: list[bytes] = []
        level = [self.params.level]  # set to 0 once an object's first chunks show zstd does not pay
        tried = [0, 0]  # chunks compressed, of which smaller

        def prepare(piece: bytes) -> tuple[bytes, bytes | None, str]:
            cid = F.sha256(piece)
            if cid in st.locs or cid in s.durable or cid in s.pending:
                return cid, None, ""
            blob, comp = self.codec.encode(piece, level[0])
            return cid, blob, comp

        for batch in self._batches(path, size):
            if len(batch) > 1 and self._pool is not None:
                prepared = list(self._pool.map(prepare, batch))
            else:
                prepared = [prepare(p) for p in batch]
            full: list[F.PackBuilder] = []
            with self._mu:
                for piece, (cid, blob, comp) in zip(batch, prepared, strict=True):
                    cids.append(cid)
                    if blob is None or cid in s.pending or cid in s.durable:
                        continue
                    s.pack.add(cid, blob, len(piece), comp)
                    s.pending[cid] = s.pack
                    if len(s.pack.buf) >= self.params.pack:
                        full.append(s.pack)
                        s.pack = F.PackBuilder()
            for p in full:
                self._send(s, p)
            if level[0] and tried[0] < 8:  # zstd "when it pays": judged on the object's first chunks
                tried[0] += sum(1 for _, b, _ in prepared if b is not None)
                tried[1] += sum(1 for _, b, c in prepared if c == "zstd")
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
            if children:
                s.children[ref] = children

    def _batches(self, path: str, size: int) -> Iterator[list[bytes]]:
        """The file's chunks, a few MB at a time (hashed and compressed on the store's threads)."""
        if size <= self.params.avg:  # small files go into packs whole
            with open(path, "rb") as f:
                yield [f.read()]
            return
        from pyfastcdc import FastCDC

        batch: list[bytes] = []
        have = 0
        for c in FastCDC(self.params.avg).cut_file(path):
            batch.append(bytes(c.data))
            have += c.length
            if have >= BATCH:
                yield batch
                batch, have = [], 0
        if batch:
            yield batch

    def _send(self, s: _Session, pack: F.PackBuilder) -> None:
        """Upload a full pack (in the calling thread: pushes of several files fill packs in parallel)."""
        pid, data = pack.seal()
        try:
            self.backend.put_stream(io.BytesIO(data), F.pack_key(pid), len(data))
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
                self._write_index(interim, {})
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
                    self._write_index(s.unindexed, ok)
                except StorageError as exc:
                    failed.update((r, f"index upload failed: {exc}") for r in ok)
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
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.backend.close()

    # --- pull --------------------------------------------------------------------------------------
    def _pieces(self, ref: ObjRef) -> Iterator[bytes]:
        """The object's bytes, chunk after chunk; consecutive chunks stored side by side in one pack
        are read with one request."""
        rec = self._recipe(ref)
        locs = self._state.locs
        run: list[F.Loc] = []
        cids: list[bytes] = []
        for cid in rec.chunks:
            loc = locs.get(cid)
            if loc is None:
                raise StorageError(f"{ref.oid}: chunk {cid.hex()} is in no index file (run 'tide fsck -c')")
            if run and (loc.pack != run[-1].pack or loc.offset != run[-1].offset + run[-1].length
                        or loc.offset + loc.length - run[0].offset > RUN):
                yield from self._read_run_moved(run, cids)
                run, cids = [], []
            run.append(loc)
            cids.append(cid)
        if run:
            yield from self._read_run_moved(run, cids)

    def _read_run_moved(self, run: list[F.Loc], cids: list[bytes]) -> Iterator[bytes]:
        """``_read_run``; if the pack is gone (a gc repacked it since this clone read the index),
        the index is read again once and the chunks are read from where they are now."""
        try:
            pieces = list(self._read_run(run))
        except StorageNotFound:
            with self._mu:
                self._state = None
            locs = self._load().locs
            pieces = []
            for cid in cids:
                loc = locs.get(cid)
                if loc is None:
                    raise
                pieces.extend(self._read_run([loc]))
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
        for loc in run:
            yield self.codec.decode(data[loc.offset - start:loc.offset - start + loc.length], loc)

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

