"""The transfer engine: move objects between the local cache and an ``ObjectStore``.

Push: ask the remote which ``.dir`` manifests it has (a present manifest means its files are
present: pushes upload a manifest only after all its files), then which remaining objects it
has (batched; listing when cheaper), then upload the rest with ``jobs`` parallel workers. A
manifest goes up only when every one of its files is on the remote.

Fetch: download missing manifests first (to learn their files), then the missing files. Every
downloaded object is hashed while it streams into a temporary file in the cache and enters the
cache (renamed, read-only) only if its hash matches its id; a corrupt object is reported by
name and discarded.

Transient failures are retried by the backend wrapper; objects already complete on the other
side are never sent again, so re-running an interrupted transfer resumes it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Collection, Iterable

from tide.core import manifest
from tide.core.errors import FileFormatError, StorageError
from tide.core.fsutil import tmp_name, write_all
from tide.core.hashing import file_md5, file_md5_dos2unix
from tide.objects.cache import READONLY, ObjectCache, ObjectRefused
from tide.objects.ref import DirPlan, ObjRef, TransferResult

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # the engine never needs these at run time: a one-object push starts no thread pool
    import queue
    from typing import BinaryIO, Protocol

    from tide.objects.remote import ObjectStore

    class Progress(Protocol):
        """Receives transfer progress; implementations render it (rich on a terminal) or stay quiet."""

        def start(self, objects: int, nbytes: int | None) -> None: ...
        def advance(self, nbytes: int) -> None: ...
        def close(self) -> None: ...

CHUNK = 1 << 20


class NoProgress:  # a Progress that shows nothing
    def start(self, objects: int, nbytes: int | None) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def close(self) -> None:
        pass




# --- push --------------------------------------------------------------------------------------
def push(cache: ObjectCache, store: ObjectStore, files: Iterable[ObjRef], dirs: Iterable[DirPlan],
         jobs: int, progress: Progress | None = None, known: Collection[ObjRef] = ()) -> TransferResult:
    """Upload what the remote lacks. ``known``: objects a local index says the remote has already."""
    progress = progress or NoProgress()
    res = TransferResult()
    known = set(known)
    dirs = list({d.ref: d for d in dirs}.values())
    ask = [d.ref for d in dirs if d.ref not in known]
    dir_present = {d.ref for d in dirs if d.ref in known} | (store.has_many(ask, jobs) if ask else set())
    todo_dirs = [d for d in dirs if d.ref not in dir_present]
    res.present += len(dir_present)
    wanted: dict[ObjRef, None] = dict.fromkeys(r for r in files if not r.is_dir)
    for d in todo_dirs:
        wanted.update(dict.fromkeys(d.children))
    absent = set(missing_from(cache, wanted))  # by listing cache directories: no stat per object
    local = [r for r in wanted if r not in absent]
    res.missing_local = [r for r in wanted if r in absent]
    ask = [r for r in local if r not in known]
    present = {r for r in local if r in known} | (store.has_many(ask, jobs) if ask else set())
    res.present += len(present)
    res.confirmed += list(dir_present) + list(present)
    send = [r for r in local if r not in present]
    dir_send = [d for d in todo_dirs if cache.exists(d.ref.oid, d.ref.legacy)]
    res.missing_local += [d.ref for d in todo_dirs if not cache.exists(d.ref.oid, d.ref.legacy)]
    if send or dir_send:
        store.check_writable()  # one clear error instead of one failure per object
    sizes = {r: _size(cache.path(r.oid, r.legacy)) for r in send}
    progress.start(len(send) + len(dir_send), sum(sizes.values()) + sum(
        _size(cache.path(d.ref.oid, d.ref.legacy)) for d in dir_send))
    failed: set[ObjRef] = set()
    put_jobs = 1 if store.capabilities.packs else jobs  # a packing store uploads on its own threads
    try:
        _run_pool(send, put_jobs, lambda r: _upload(cache, store, r, sizes[r]), res, failed, progress, sizes)
        ok = []
        missing = set(res.missing_local)
        for d in dir_send:
            lost = [c for c in d.children if c in failed]
            absent = [c for c in d.children if c in missing]
            if lost:
                res.failed.append((d.ref, f"manifest not uploaded: {len(lost)} of its files failed"))
            elif absent:
                res.missing_local.append(d.ref)  # never upload a manifest whose files the remote lacks
            else:
                ok.append(d.ref)
        dsizes = {r: _size(cache.path(r.oid, r.legacy)) for r in ok}
        _run_pool(ok, put_jobs, lambda r: _upload(cache, store, r, dsizes[r]), res, failed, progress, dsizes)
        if send or dir_send:
            _flushed(store, res, {**sizes, **dsizes})
    finally:
        progress.close()
    return res


def _flushed(store: ObjectStore, res: TransferResult, sizes: dict[ObjRef, int]) -> None:
    """Let the store make what it accepted durable (a format that batches objects writes its last
    pack and index now); what it could not is a failure, not a confirmed object."""
    lost = store.flush()
    if not lost:
        return
    res.confirmed = [r for r in res.confirmed if r not in lost]
    for ref, why in lost.items():
        res.transferred -= 1
        res.nbytes -= sizes.get(ref, 0)
        res.failed.append((ref, why))


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _upload(cache: ObjectCache, store: ObjectStore, ref: ObjRef, size: int) -> int:
    store.put(ref, cache.path(ref.oid, ref.legacy))
    return size


def _run_pool(refs: list[ObjRef], jobs: int, fn, res: TransferResult, failed: set[ObjRef],
              progress: Progress, sizes: dict[ObjRef, int] | None = None) -> None:
    if not refs:
        return

    def record(ref: ObjRef, outcome: int | BaseException) -> None:
        if isinstance(outcome, BaseException):
            failed.add(ref)
            if isinstance(outcome, _Corrupt):
                res.corrupt.append(ref)
            elif isinstance(outcome, _NotThere):
                res.missing_remote.append(ref)
            else:
                res.failed.append((ref, str(outcome)))
            progress.advance(0)
            return
        res.transferred += 1
        res.nbytes += outcome
        res.confirmed.append(ref)
        progress.advance(outcome)

    def guarded(ref: ObjRef) -> int | BaseException:
        try:
            return fn(ref)
        except (StorageError, OSError, FileFormatError) as exc:
            return exc

    if jobs <= 1 or len(refs) == 1:
        for r in refs:
            record(r, guarded(r))
        return
    # small batches per task: 10,000 tiny objects should not cost 10,000 futures
    size = max(1, min(32, len(refs) // (jobs * 8)))
    batches = [refs[i:i + size] for i in range(0, len(refs), size)]

    def run_batch(batch: list[ObjRef]) -> list[tuple[ObjRef, int | BaseException]]:
        return [(r, guarded(r)) for r in batch]

    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(max(1, min(jobs, len(batches))))
    try:
        futures = [pool.submit(run_batch, b) for b in batches]
        for fut in as_completed(futures):
            for ref, outcome in fut.result():
                record(ref, outcome)
    except BaseException:
        # interrupted (Ctrl-C): drop what has not started; objects in flight finish or vanish atomically
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# --- fetch -------------------------------------------------------------------------------------
class _Corrupt(StorageError):
    pass


class _NotThere(StorageError):
    pass


def fetch(cache: ObjectCache, store: ObjectStore, files: Iterable[ObjRef], dirs: Iterable[ObjRef],
          jobs: int, progress: Progress | None = None, verify: bool = True,
          spares: Collection[ObjRef] = ()) -> TransferResult:
    """Download what the cache lacks of ``files`` and of directories ``dirs`` (manifests and contents).

    ``verify=False`` (the remote's ``verify = false``) trusts file objects by name: they are copied
    without being hashed again. Manifests are always checked. ``spares``: objects a checkout will
    copy into the workspace next (``tide pull``; a directory stands for its files): see ``download``."""
    progress = progress or NoProgress()
    res = TransferResult()
    dirs = list(dict.fromkeys(dirs))
    want_files: dict[ObjRef, None] = dict.fromkeys(r for r in files if not r.is_dir)
    spares = set(spares)
    failed: set[ObjRef] = set()
    try:
        _fetch_manifests(cache, store, dirs, jobs, res, failed, progress)
        for d in dirs:
            if d in failed:
                continue
            try:
                entries = manifest.parse(cache.read_bytes(d.oid, d.legacy), where=f"manifest {d.oid}")
            except FileNotFoundError:
                continue
            children = dict.fromkeys(ObjRef(e.md5, d.legacy) for e in entries)
            want_files.update(children)
            if d in spares:
                spares.update(children)
        todo = missing_from(cache, want_files)
        res.present += len(want_files) - len(todo)
        progress.start(len(todo), None)
        _run_pool(todo, jobs, lambda r: download(cache, store, r, verify, r in spares), res, failed, progress)
    finally:
        # every download has ended: no thread is about to write into these directories
        cache.remove_empty_parents(cache.path(r.oid, r.legacy) for r in failed)
        progress.close()
    return res


def fetch_manifests(cache: ObjectCache, store: ObjectStore, dirs: Iterable[ObjRef], jobs: int) -> TransferResult:
    """Download the ``.dir`` manifests of ``dirs`` the cache lacks, not their files (``status -c``
    expands a directory to its files from its manifest). Each is hashed before it enters the cache,
    as every manifest ``fetch`` downloads; a corrupt or missing one is reported, never cached."""
    res = TransferResult()
    failed: set[ObjRef] = set()
    try:
        _fetch_manifests(cache, store, list(dict.fromkeys(dirs)), jobs, res, failed, NoProgress())
    finally:
        cache.remove_empty_parents(cache.path(r.oid, r.legacy) for r in failed)
    return res


def _fetch_manifests(cache: ObjectCache, store: ObjectStore, dirs: list[ObjRef], jobs: int, res: TransferResult,
                     failed: set[ObjRef], progress: Progress) -> None:
    need = missing_from(cache, dirs)
    res.present += len(dirs) - len(need)
    if need:
        progress.start(len(need), None)
        _run_pool(need, jobs, lambda r: download(cache, store, r), res, failed, progress)


def download(cache: ObjectCache, store: ObjectStore, ref: ObjRef, verify: bool = True, spare: bool = False) -> int:
    """Copy one object into the cache, verifying its hash first (unless ``verify`` is False and the
    object is a file, not a manifest). Returns its size.

    ``spare``: a checkout will copy this object into the workspace next. A large object from a
    local remote is copied in the kernel while a second thread hashes it, and hashing takes several
    times longer than copying: the copying thread uses that time to make a second, writable copy
    (``cache.spares``), which the checkout renames into place instead of copying the object again.
    A small object's bytes (up to ``SPARE_FILE``) stay in memory for the checkout, up to
    ``cache.spare_budget`` in all.
    A spare is kept only if the object verifies (``cache.offer_spare``)."""
    dst = cache.path(ref.oid, ref.legacy)
    cache.ensure_parent(dst)
    verify = verify or ref.is_dir
    if not store.cheap_open:
        src = store.stream(ref) if not os.path.exists(_partial_name(ref, dst)) else None
        if src is None:  # no stream, or a download to resume
            return _download_resumable(cache, store, ref, dst, verify)
        with src:
            return _download_streamed(cache, store, ref, src, dst, verify, spare)
    tmp = extra = ""  # temporary names, made only for objects that are not small
    made = False
    try:
        with _storage_errors(ref), store.open(ref) as src:
            fd, size = _regular_file(src)
            if size > 2 * CHUNK:
                # a large local file: the kernel copies it
                tmp, extra = tmp_name(dst), (tmp_name(dst) if spare else None)
                digest, n, made = _copy_file(fd, tmp, verify, extra)
            else:
                first = src.read(CHUNK if size < 0 else min(CHUNK, size + 1))  # no 1 MiB buffer per 1 KB file
                # a short read is not always the end of a stream: read again unless the whole file is in
                second = src.read(CHUNK) if first and not 0 <= size <= len(first) else b""
                if not second:  # a small object: hashed in memory, written under its name once it checks
                    _store_small(cache, ref, first, dst)
                    if spare:  # the checkout needs not read it back
                        cache.offer_spare(dst, first)
                    return len(first)
                tmp = tmp_name(dst)
                digest, n, _ = _copy_hashing(src, tmp, first, second)  # hashed anyway: it costs nothing
        if digest is not None and not _matches(ref, digest, tmp):
            raise _Corrupt(f"{ref.oid}: the remote object is corrupt (its content hashes to {digest})")
        cache.admit(tmp, ref.oid, ref.legacy, digest, trusted=not verify)  # created read-only (0444) already
        if made:
            cache.offer_spare(dst, extra)
        return n
    except BaseException:
        if tmp:
            _unlink_quiet(tmp)
        if made:
            _unlink_quiet(extra)
        raise


def _regular_file(src: BinaryIO) -> tuple[int, int]:
    """The descriptor and size of ``src`` when it is a regular local file (a local remote), else
    ``(-1, -1)``."""
    try:
        fd = src.fileno()
        st = os.fstat(fd)
        return (fd, st.st_size) if stat.S_ISREG(st.st_mode) else (-1, -1)
    except (AttributeError, OSError, ValueError):
        return -1, -1


def _copy_file(src_fd: int, tmp: str, verify: bool, spare: str | None = None) -> tuple[str | None, int, bool]:
    """Copy a local file into the new file ``tmp`` in the kernel (a reflink where the filesystem
    shares blocks); with ``verify``, hash what was written on a second thread as it lands. With
    ``spare``, also copy it to that new writable file: while the hash is being computed, or, without
    ``verify``, on a second thread at the same time as the first copy (two copies take about as long
    as one on two cores). Never after a reflink: the checkout will reflink too. Returns the digest,
    the size and whether the spare was made."""
    from tide.storage.localcopy import copy_fd, reflink_fd

    made: list[bool] = []

    def make_spare() -> None:
        try:
            out = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for checkout
            try:
                copy_fd(src_fd, out, reflink=False)
            finally:
                os.close(out)
            made.append(True)
        except OSError:  # only an optimisation: the checkout copies from the cache instead
            _unlink_quiet(spare)

    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, READONLY)
    try:
        if spare and not verify:
            if reflink_fd(src_fd, fd):
                return None, os.fstat(fd).st_size, False
            import threading

            second = threading.Thread(target=make_spare, name="tide-spare", daemon=True)
            second.start()
            try:
                n, digest = copy_fd(src_fd, fd, reflink=False)
            finally:
                second.join()
            return digest, n, bool(made)
        n, digest = copy_fd(src_fd, fd, hashing=verify, meanwhile=make_spare if spare else None)
    except BaseException:
        if made:
            _unlink_quiet(spare)
        raise
    finally:
        os.close(fd)
    return digest, n, bool(made)


def _download_streamed(cache: ObjectCache, store: ObjectStore, ref: ObjRef, src: BinaryIO, dst: str,
                       verify: bool, spare: bool) -> int:
    """A network object read as one stream (S3). A small one is hashed in memory and, for a
    checkout, kept there (as from a local remote). A large one streams into the resumable partial
    file ``_download_resumable`` uses (a transfer cut short is resumed from it) while a second
    thread hashes it; with ``spare``, its bytes also go to a writable copy the checkout renames
    into place, so the object is read and written once and never copied again."""
    from tide.storage.base import StorageTransient

    try:
        with _storage_errors(ref):
            first = src.read(CHUNK)
            second = src.read(CHUNK) if first else b""
    except StorageTransient:  # a stream's reads are not retried: the resumable download's calls are
        return _download_resumable(cache, store, ref, dst, verify)
    if not second:
        _store_small(cache, ref, first, dst)
        if spare:
            cache.offer_spare(dst, first)
        return len(first)
    part = _partial_name(ref, dst)
    extra = tmp_name(dst) if spare else None
    try:
        with _storage_errors(ref):
            digest, n, made = _copy_hashing(src, part, first, second, verify, extra, keep=True)
    except (StorageTransient, KeyboardInterrupt) as exc:  # the partial file stays, to be resumed
        if extra:
            _unlink_quiet(extra)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return _download_resumable(cache, store, ref, dst, verify)  # asks only for the bytes after what arrived
    except BaseException:
        _unlink_quiet(part)
        if extra:
            _unlink_quiet(extra)
        raise
    if digest is not None and not _matches(ref, digest, part):
        _unlink_quiet(part)
        if extra:
            _unlink_quiet(extra)
        raise _Corrupt(f"{ref.oid}: the remote object is corrupt (its content hashes to {digest})")
    os.chmod(part, READONLY)
    cache.admit(part, ref.oid, ref.legacy, digest, trusted=not verify)
    if made:
        cache.offer_spare(dst, extra)
    return n


def _partial_name(ref: ObjRef, dst: str) -> str:
    return os.path.join(os.path.dirname(dst), f".{ref.oid.replace('/', '')}.partial.tmp")


def _download_resumable(cache: ObjectCache, store: ObjectStore, ref: ObjRef, dst: str, verify: bool = True) -> int:
    """Network remotes: one request for the whole object, into ``.<oid>.partial.tmp`` beside its final
    name. A transfer cut short leaves the partial file, and the next attempt (the retry wrapper's,
    or the next run's) asks only for the bytes after it; the hash of the whole is checked before the
    object is trusted. Nothing is repeated here: the store's wrapper retries."""
    from tide.storage.base import StorageTransient

    part = _partial_name(ref, dst)
    try:
        with _storage_errors(ref):
            resumed = store.get_file_resuming(ref, part)
        n = _size(part)
        if not verify and not resumed:  # trusted by name (the remote's verify = false)
            os.chmod(part, READONLY)
            cache.admit(part, ref.oid, ref.legacy, trusted=True)
            return n
        digest = file_md5(part, n)
        if not _matches(ref, digest, part) and resumed:
            _unlink_quiet(part)  # the partial file may be what is wrong: fetch it whole once more
            with _storage_errors(ref):
                store.get_file(ref, part)
            n = _size(part)
            digest = file_md5(part, n)
        if not _matches(ref, digest, part):
            _unlink_quiet(part)
            raise _Corrupt(f"{ref.oid}: the remote object is corrupt (its content hashes to {digest})")
        os.chmod(part, READONLY)
        cache.admit(part, ref.oid, ref.legacy, digest)
        return n
    except BaseException as exc:
        if not isinstance(exc, (StorageTransient, KeyboardInterrupt)):
            _unlink_quiet(part)  # keep a partial download only for a resumable interruption
        raise


class _storage_errors:  # used as a context manager
    """Map errors raised while downloading ``ref`` to storage errors (missing -> _NotThere)."""

    def __init__(self, ref: ObjRef) -> None:
        self.ref = ref

    def __enter__(self) -> None:
        return None

    def __exit__(self, et, exc, tb) -> bool:
        from tide.storage.base import StorageNotFound

        if exc is None or isinstance(exc, (_NotThere, _Corrupt)):
            return False
        if isinstance(exc, StorageNotFound):
            raise _NotThere(f"{self.ref.oid} is missing on the remote") from exc
        if isinstance(exc, (StorageError, OSError)) or not isinstance(exc, Exception):
            return False
        from tide.storage.errors import translate

        raise translate(exc, f"download {self.ref.oid}") from exc  # an SDK error while streaming


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _matches(ref: ObjRef, digest: str, path: str) -> bool:
    want = ref.oid.removesuffix(".dir")
    if digest == want:
        return True
    if ref.legacy and not ref.is_dir:
        return file_md5_dos2unix(path) == want
    return False


def _store_small(cache: ObjectCache, ref: ObjRef, data: bytes, dst: str) -> None:
    """Put a small downloaded object into the cache through its door, which hashes it."""
    try:
        cache.admit_bytes(data, ref.oid, ref.legacy)
    except ObjectRefused as exc:
        raise _Corrupt(f"{ref.oid}: the remote object is corrupt (its content hashes to {exc.digest})") from None


def _copy_hashing(src: BinaryIO, tmp: str, first: bytes, second: bytes, verify: bool = True,
                  spare: str | None = None, keep: bool = False) -> tuple[str | None, int, bool]:
    """Stream ``src`` into the new file ``tmp`` while a second thread hashes it (unless not
    ``verify``); ``first`` and ``second``: the chunks already read from it. With ``spare``, a third
    thread writes every chunk to that new writable file too: on two cores, hashing and each file's
    page-cache writes then overlap. The spare is only an optimisation: one that cannot be written is
    deleted and the last value returned (whether it was made) is False. ``keep``: ``tmp`` may exist
    already (a partial download, overwritten). Returns the digest (None without ``verify``) and size."""
    h = hashlib.md5(usedforsecurity=False)
    n = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if keep else os.O_EXCL), 0o600 if keep else READONLY)
    workers: list[_Worker] = []
    try:
        if verify:
            workers.append(_Worker(h.update))
        if spare:
            try:
                out2 = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for checkout
                workers.append(_Worker(lambda chunk: write_all(out2, chunk), out2))
            except OSError:
                spare = None
        chunk = first
        while chunk:
            for w in workers:
                w.put(chunk)
            write_all(fd, chunk)
            n += len(chunk)
            chunk, second = (second, b"") if second else (src.read(CHUNK), b"")
        for w in workers:
            w.finish()
        if spare and workers[-1].error is not None:
            _unlink_quiet(spare)
            spare = None
    except BaseException:
        for w in workers:
            w.finish()
        if spare:
            _unlink_quiet(spare)
        raise
    finally:
        os.close(fd)
    return (h.hexdigest() if verify else None), n, spare is not None


class _Worker:
    """A thread applying ``fn`` to each chunk put to it, in order (at most 16 MiB waiting)."""

    def __init__(self, fn: Callable[[bytes], object], fd: int = -1) -> None:
        import queue
        import threading

        self.fn, self.fd, self.error = fn, fd, None
        self.q: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def put(self, chunk: bytes) -> None:
        self.q.put(chunk)

    def finish(self) -> None:
        """Wait for the chunks put so far; close ``fd`` (once)."""
        if self.t.ident is not None and self.t.is_alive():
            self.q.put(None)
            self.t.join()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _run(self) -> None:
        while (chunk := self.q.get()) is not None:
            if self.error is None:
                try:
                    self.fn(chunk)
                except Exception as exc:  # keep draining: the producer must never block
                    self.error = exc


def verify_cached(cache: ObjectCache, ref: ObjRef) -> bool:
    """Re-hash one cached object (used by callers that want to double-check)."""
    p = cache.path(ref.oid, ref.legacy)
    want = ref.oid.removesuffix(".dir")
    return file_md5(p) == want or (ref.legacy and file_md5_dos2unix(p) == want)


def missing_from(cache: ObjectCache, refs: Iterable[ObjRef]) -> list[ObjRef]:
    """The refs whose objects are not in the cache, in their order (directories listed in bulk)."""
    refs = list(refs)
    out: set[ObjRef] = set()
    for legacy in (False, True):
        group = [r for r in refs if r.legacy == legacy]
        if group:
            gone = set(cache.missing((r.oid for r in group), legacy))
            out.update(r for r in group if r.oid in gone)
    return [r for r in refs if r in out]
