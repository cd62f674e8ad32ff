"""The local content-addressed cache, laid out exactly like DVC 3's.

    <cache>/files/md5/ab/cdef...        file objects (mode 0444)
    <cache>/files/md5/ab/cdef....dir    directory manifests
    <cache>/ab/cdef...                  legacy (DVC 2.x, md5-dos2unix) objects
    <cache>/runs/...                    run cache

Every object enters under a temporary name in its final directory and is renamed into place,
so a reader never sees a partial object under a final name.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from tide.core.errors import CacheError
from tide.core.fsutil import NewFiles, parallel_io, tmp_name
from tide.core.hashing import CHUNK, EMPTY_MD5, file_md5, file_md5_dos2unix, md5_bytes

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.core.temps import TempJournal

READONLY = 0o444
EXEC = stat.S_IXUSR  # dvc-data marks an executable output ``u+x`` only (``stat.S_IEXEC``): 744 under umask 022
_FICLONE = 0x40049409
LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")
RACY_NS = 1_000_000_000  # timestamps younger than this are not trusted to reveal later changes
SMALL_COPY = 1 << 16  # files up to this size are copied with one read and one write
# downloaded objects of up to SPARE_FILE bytes are kept in memory for the checkout that follows (up to
# SPARE_BYTES in all): for such a file the open and read of a second pass cost more than its memory.
# Larger ones are read back from the page cache: holding 20-64 KB objects made a pull of 93 MB peak at
# 88 MB instead of 25 MB, and took 0.67-0.84 s instead of 0.61-0.63 s (issue 26, on tmpfs)
SPARE_FILE = 8 << 10
SPARE_BYTES = 16 << 20
LINK_THREADS_MIN = 4096  # from this many files on, link_many uses two threads on a local disk (_link_jobs)
LIST_THRESHOLD = 256  # from this many ids on, `missing` lists directories instead of stat-ing objects
# the object of every 0-byte file: never hard-linked (as in dvc), so empty workspace files stay plain
# writable files and do not all share one inode (ext4 allows 65,000 links to it, NTFS 1,024)
EMPTY_TAIL = os.sep + EMPTY_MD5[:2] + os.sep + EMPTY_MD5[2:]


REFLINK_ONLY = ("cache.type is 'reflink' and this file system cannot reflink: set "
                "'tide config cache.type reflink,copy' to copy where reflinks are not possible")


class ObjectRefused(CacheError):
    """Bytes offered to the cache under a name they do not hash to: refused, nothing written."""

    def __init__(self, oid: str, digest: str) -> None:
        super().__init__(f"object {oid} refused: its content hashes to {digest}")
        self.oid, self.digest = oid, digest


def _reflink(src: str, dst: str) -> None:
    import fcntl

    sfd = os.open(src, os.O_RDONLY)
    try:
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(dfd, _FICLONE, sfd)
        except OSError:
            os.close(dfd)
            os.unlink(dst)
            raise
        os.close(dfd)
    finally:
        os.close(sfd)


class ObjectCache:
    # a plain class, not a dataclass: `dataclasses` costs ~20 ms of import on every command
    __slots__ = ("root", "link_types", "shared", "_dirs", "_no_reflink", "spares", "spare_budget", "new_files",
                 "temps", "_spare_lock", "_bases")

    def __init__(self, root: str, link_types: tuple[str, ...] = ("reflink", "copy"), shared: bool = False,
                 temps: TempJournal | None = None) -> None:
        self.root = root
        # object path prefixes (md5 layout, legacy layout): ``path`` is called once per file
        self._bases = (os.path.join(root, "files", "md5", ""), os.path.join(root, ""))
        # temporary names in the workspace (materializing): the repository's journal, so that only
        # tide's own temporaries are ever swept (core/temps.py); without one, plain ``tmp_name``
        self.temps = temps
        self.link_types = link_types
        self.shared = shared
        self._dirs: set[str] = set()
        self._no_reflink = False
        # object path -> a spare of that verified object for the next copy-checkout (tide pull;
        # see transfer.download): a writable copy under a temporary name in the cache, made while
        # a large download was being hashed, renamed into the workspace instead of copied; or a
        # small object's bytes, still in memory, written instead of read back from the cache.
        # Download and checkout threads share them: read them freely, change them only through
        # offer_spare / take_spare / drop_spares, which hold ``_spare_lock``.
        self.spares: dict[str, str | bytes] = {}
        self.spare_budget = SPARE_BYTES  # bytes of small spares the cache may still hold in memory
        import _thread  # a lock without importing `threading` (start-up time)

        self._spare_lock = _thread.allocate_lock()
        self.new_files = NewFiles()  # small objects and workspace copies: see fsutil.NewFiles

    def __repr__(self) -> str:
        return f"ObjectCache({self.root!r}, {self.link_types!r}, shared={self.shared})"

    # --- layout ------------------------------------------------------------------------------
    def path(self, oid: str, legacy: bool = False) -> str:
        return f"{self._bases[legacy]}{oid[:2]}/{oid[2:]}"  # = os.path.join(base, oid[:2], oid[2:]) for hex ids

    def exists(self, oid: str, legacy: bool = False) -> bool:
        return os.path.exists(self.path(oid, legacy))

    def exists_protected(self, oid: str, legacy: bool = False) -> bool:
        """``exists``, and as dvc-data's ``check`` on ``status``: an object found with another mode than 444
        (``chmod`` through a hardlinked or symlinked output) is hashed and, its content intact, made
        read-only again. Costs what ``exists`` costs (one ``stat``) unless the mode is off (N17)."""
        path = self.path(oid, legacy)
        try:
            st = os.stat(path)
        except OSError:
            return False
        if stat.S_IMODE(st.st_mode) != READONLY and stat.S_ISREG(st.st_mode):
            try:
                actual = (file_md5_dos2unix if legacy else file_md5)(path)
            except OSError:
                return True  # unreadable: reported by whoever reads it
            if actual != oid.split(".")[0]:
                # written through a link: its name is a lie; dvc deletes it here too (the workspace
                # file, another link to the inode, keeps the bytes), so it is never pushed or linked again
                _unlink_quiet(path)
                return False
            try:
                os.chmod(path, READONLY)
            except OSError:
                pass  # not fatal (a shared or read-only cache), as in dvc
        return True

    def missing(self, oids: Iterable[str], legacy: bool = False) -> list[str]:
        """The ids among ``oids`` that are not in the cache, in their order.

        Many ids are checked by listing the two-letter directories they fall in (one ``listdir``
        instead of one ``stat`` per object); a few are checked one by one.
        """
        oids = list(oids)
        if len(oids) < LIST_THRESHOLD:
            return [o for o in oids if not self.exists(o, legacy)]
        base = self.root if legacy else os.path.join(self.root, "files", "md5")
        # the ids' tails per directory, each directory's listing struck off them in turn: one listing
        # held at a time (sets of every listed name of a million-object cache took ~150 MB, issue 26)
        wanted: dict[str, set[str]] = {}
        for o in oids:
            wanted.setdefault(o[:2], set()).add(o[2:])
        for pre, tails in wanted.items():
            try:
                tails.difference_update(os.listdir(os.path.join(base, pre)))
            except (FileNotFoundError, NotADirectoryError):
                pass
        return [o for o in oids if o[2:] in wanted[o[:2]]]

    def ensure_parent(self, path: str) -> None:
        """Create the directory an object or temporary file at ``path`` goes into (``CacheError`` if it cannot)."""
        self._ensure_dir(os.path.dirname(path))

    def remove_empty_parents(self, paths: Iterable[str]) -> None:
        """Remove the directories of ``paths`` that are empty (downloads that failed leave no empty
        two-letter directory, as dvc leaves none). Call it when no thread is writing into them."""
        for parent in {os.path.dirname(p) for p in paths}:
            try:
                os.rmdir(parent)
            except OSError:
                continue  # not empty: other objects, or a partial download kept to resume
            self._dirs.discard(parent)

    def _ensure_dir(self, d: str) -> None:
        if d in self._dirs:
            return
        try:
            os.makedirs(d, exist_ok=True)
        except PermissionError:
            raise CacheError(f"cannot write to the cache at '{self.root}': permission denied")
        except OSError as exc:
            raise CacheError(f"cannot write to the cache at '{self.root}': {exc.strerror}")
        self._dirs.add(d)

    def fingerprint(self, legacy: bool = False) -> str | None:
        """A digest of the two-letter directories' mtimes: it changes whenever an object is added to or
        removed from the cache. ``None`` when a directory changed in the last second (too recent to
        trust the timestamp's granularity)."""
        import time

        base = self.root if legacy else os.path.join(self.root, "files", "md5")
        try:
            names = sorted(n for n in os.listdir(base) if len(n) == 2)
        except FileNotFoundError:
            return ""
        recent = time.time_ns() - RACY_NS
        parts = []
        for n in names:
            try:
                st = os.stat(os.path.join(base, n))
            except FileNotFoundError:
                continue
            if st.st_mtime_ns >= recent:
                return None
            parts.append(f"{n}:{st.st_ino}:{st.st_mtime_ns}")
        return md5_bytes("\n".join(parts).encode())

    # --- writing -----------------------------------------------------------------------------
    def put_bytes(self, raw: bytes, oid: str | None = None) -> str:
        """Store ``raw`` (a manifest, or the bytes of a file) as object ``oid``; see ``admit_bytes``."""
        if oid is not None and self._holds(self.path(oid), len(raw)):
            return oid
        return self.admit_bytes(raw, oid)

    @staticmethod
    def _holds(path: str, size: int) -> bool:
        """Whether the object at ``path`` is there with ``size`` bytes (``size`` < 0: unknown). An object of
        another size was rewritten through a link to it (root ignores its read-only mode): storing the
        content its name stands for replaces it, instead of linking a new file to the corrupt bytes (N61;
        one ``stat``, paid only for objects already present; the same size is not checked)."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        return size < 0 or st.st_size == size

    def put_file(self, src: str, md5: str | None = None, size: int = -1, move: bool = False) -> str:
        """Store the file ``src`` (whose md5 may be known already) and return its oid.

        With ``move`` (hardlink/symlink cache types) the object is hard-linked from the source
        when possible, so no data is copied.
        """
        if md5 is not None:
            dst = self.path(md5)
            if self._holds(dst, size):
                return md5
            self._ensure_dir(os.path.dirname(dst))
            self._store_as(src, md5, dst, size, move)
            return md5
        # unknown hash: copy while hashing into a temporary name at the cache root, then rename
        self._ensure_dir(self.root)
        tmp = tmp_name(os.path.join(self.root, "x"))
        with self._writing(tmp):
            h = hashlib.md5(usedforsecurity=False)
            with open(src, "rb", buffering=0) as fin:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READONLY)
                with os.fdopen(fd, "wb", buffering=0) as fout:
                    buf = bytearray(CHUNK)
                    view = memoryview(buf)
                    while n := fin.readinto(buf):
                        h.update(view[:n])
                        fout.write(view[:n])
            oid = h.hexdigest()
            self.admit(tmp, oid, digest=oid)  # hashed from the bytes written
            return oid

    def store_hashed(self, src: str, oid: str, data: bytes) -> None:
        """Store the workspace file ``src`` as object ``oid``, given ``data``: its bytes, which the
        caller has just hashed to ``oid`` (``Hasher.hash_storing``), so they are written as they are,
        neither read nor hashed again. Nothing is done when the object is present and intact by size.
        Called for each small file as it is hashed: no file's bytes outlive their hashing (issue 26:
        keeping them until a later store held 64 MB more of fresh memory, and was slower)."""
        dst = self.path(oid)
        self._ensure_dir(dst.rpartition(os.sep)[0])  # (os.path.dirname costs 2 µs, ~3% of a 1 KB file's add)
        if self._no_reflink or "reflink" not in self.link_types:
            try:  # most are new: created unless present, with no ``stat`` first
                if self.new_files.create(dst, data, READONLY) or self._holds(dst, len(data)):
                    return
            except PermissionError:
                raise CacheError(f"cannot write to the cache at '{self.root}': permission denied")
        elif self._holds(dst, len(data)):
            return
        self._store_as(src, oid, dst, len(data), False, data, True)

    def put_many(self, items: list[tuple[str, str, int]], move: bool = False, jobs: int | None = None) -> int:
        """Store many files, ``(src, md5, size)`` each, whose hashes are known; return how many were new.

        Objects already present are found by listing (see ``missing``). The rest are written by
        ``jobs`` threads, each owning whole two-letter directories so that no two threads create
        entries in the same directory (default: one thread on a local disk, four on a network
        filesystem; see ``parallel_io``).
        """
        by_oid = {md5: (src, size) for src, md5, size in items}
        todo = self.missing(by_oid)
        if len(todo) < len(by_oid):  # present: intact by size (``_holds``)
            absent = set(todo)
            todo += [o for o, (_, size) in by_oid.items() if o not in absent and not self._holds(self.path(o), size)]
        if not todo:
            return 0
        groups: dict[str, list[str]] = {}
        for oid in todo:
            groups.setdefault(oid[:2], []).append(oid)
        for pre in groups:
            self._ensure_dir(os.path.join(self.root, "files", "md5", pre))

        def work(oids: list[str]) -> None:
            for oid in oids:
                src, size = by_oid[oid]
                self._store_as(src, oid, self.path(oid), size, move)

        if jobs is None:
            jobs = 4 if parallel_io(self.root) else 1
        if jobs <= 1 or len(todo) < 64:
            work(todo)
            return len(todo)
        shares: list[list[str]] = [[] for _ in range(jobs)]
        for i, pre in enumerate(sorted(groups)):
            shares[i % jobs].extend(groups[pre])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as pool:
            for f in [pool.submit(work, share) for share in shares if share]:
                f.result()
        return len(todo)

    def stage_copy(self, src: str) -> str:
        """Copy (or reflink) ``src`` to a temporary name in the cache before its hash is known, so the
        copy can run while the caller hashes; ``adopt`` then files it under its oid."""
        self._ensure_dir(self.root)
        tmp = tmp_name(os.path.join(self.root, "x"))
        try:
            if not self._copy_into(src, tmp, -1, False):
                os.chmod(tmp, READONLY)
        except BaseException:
            _unlink_quiet(tmp)
            raise
        return tmp

    def adopt(self, tmp: str, oid: str) -> None:
        """Rename a ``stage_copy`` into place as object ``oid`` (or drop it if the object exists)."""
        if os.path.exists(self.path(oid)):
            _unlink_quiet(tmp)
            return
        self.admit(tmp, oid, trusted=True)  # the source was hashed meanwhile (add: see ``admit``)

    def discard(self, tmp: str) -> None:
        _unlink_quiet(tmp)

    def _store_as(self, src: str, oid: str, dst: str, size: int, move: bool, data: bytes | None = None,
                  hashed: bool = False) -> None:
        if oid == EMPTY_MD5 or (move and os.path.islink(src)):
            # see EMPTY_TAIL; a symlink (a workspace file linked to another object, written through):
            # link() would store the link itself as the object, so its bytes are copied
            move = False
        if not move and 0 <= size <= SMALL_COPY and (self._no_reflink or "reflink" not in self.link_types):
            if data is None:
                data, hashed = _read_small(src), False
            if data is not None and len(data) == size:
                try:  # hashed in memory (here or by the caller): the bytes written are the bytes named
                    self.admit_bytes(data, oid, digest=oid if hashed else None)
                    return
                except PermissionError:
                    raise CacheError(f"cannot write to the cache at '{self.root}': permission denied")
        if move:
            try:
                self.admit_link(src, oid, dst)
                return
            except OSError:
                pass  # the name is taken, or no hard link here: the general way below
        tmp = tmp_name(dst)
        with self._writing(tmp):
            if not self._copy_into(src, tmp, size, move):
                os.chmod(tmp, READONLY)
            self.admit(tmp, oid, trusted=True)  # hashed by the caller from the source (see ``admit``)

    @contextmanager
    def _writing(self, tmp: str) -> Iterator[None]:
        """Around writing an object under ``tmp``: on failure the temporary file goes, and a refused
        write becomes one clear CacheError."""
        try:
            yield
        except PermissionError:
            _unlink_quiet(tmp)
            raise CacheError(f"cannot write to the cache at '{self.root}': permission denied")
        except BaseException:
            _unlink_quiet(tmp)
            raise

    def _copy_into(self, src: str, tmp: str, size: int, move: bool) -> bool:
        """Put a copy (or link) of ``src`` at ``tmp``; True when it was created read-only already."""
        if move:
            try:
                os.link(src, tmp)
                return False
            except OSError:
                pass
        if not self._no_reflink and "reflink" in self.link_types:
            try:
                _reflink(src, tmp)
                return False
            except OSError as exc:
                if exc.errno in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS):
                    self._no_reflink = True
                else:
                    raise
        if 0 <= size <= 65536:
            with open(src, "rb", buffering=0) as f:
                data = f.read()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READONLY)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            return True
        import shutil  # not at the top: start-up time of commands that never copy

        shutil.copyfile(src, tmp)
        return False

    # --- the one door: every object written into the cache gets its name here --------------------
    # (rule "one door into the cache", issue 17: nothing else renames or writes a file under its
    # object name; tests/reliability/test_issue17_data.py greps src/ for other writers)
    def admit_bytes(self, data: bytes, oid: str | None = None, legacy: bool = False,
                    digest: str | None = None) -> str:
        """Store ``data`` as object ``oid`` (default: its md5; an existing object is replaced),
        hashed here: bytes that do not hash to ``oid`` are refused (ObjectRefused) and nothing is
        written. A legacy (DVC 2.x) file object may hash with md5-dos2unix instead. ``digest``: the
        md5 the caller computed from these very bytes (immutable), as ``admit``'s. Returns the oid."""
        if digest is None:
            digest = md5_bytes(data)
        oid = oid or digest
        if digest != oid.removesuffix(".dir") and not (legacy and not oid.endswith(".dir")
                                                       and _dos2unix_md5(data) == oid):
            raise ObjectRefused(oid, digest)
        dst = self.path(oid, legacy)
        self._ensure_dir(os.path.dirname(dst))
        try:
            self.new_files.write(dst, data, READONLY)
        except PermissionError:
            raise CacheError(f"cannot write to the cache at '{self.root}': permission denied")
        return oid

    def admit_link(self, src: str, oid: str, dst: str) -> None:
        """Make the workspace file ``src`` object ``oid`` (at ``dst``, its path) by a hard link made
        straight at the object's name, then read-only (the cache takes the file's inode: hardlink
        and symlink cache types). ``src`` was hashed a moment before by ``tide add``/``commit``:
        trusted, as ``admit``'s. A link is whole when it appears: no temporary name, no rename (70,000
        small files: ~2 s less). OSError, with nothing left behind, where the name is taken or no
        link can be made: the caller then goes through a temporary name (which replaces)."""
        os.link(src, dst)
        try:
            os.chmod(dst, READONLY)
        except OSError:
            _unlink_quiet(dst)
            raise

    def admit(self, tmp: str, oid: str, legacy: bool = False, digest: str | None = None,
              trusted: bool = False) -> None:
        """Rename ``tmp`` (a new file under a temporary name in the cache, made read-only by its
        writer) into place as object ``oid``. ``digest``: the md5 of the bytes written to ``tmp``,
        computed from them as they were written; without it ``tmp`` is hashed here, unless
        ``trusted``: a remote set to ``verify = false`` (trusted by name, as dvc does), or a large
        workspace file ``tide add``/``commit`` hashed a moment before (its copy is not read again:
        that would double add's I/O; small files are hashed in memory by ``admit_bytes``). An
        object that does not hash to ``oid`` is refused: ``tmp`` is deleted, ObjectRefused."""
        want = oid.removesuffix(".dir")
        try:
            if digest is None and not trusted:
                digest = file_md5(tmp)
            if digest is not None and digest != want and not (
                    legacy and not oid.endswith(".dir") and file_md5_dos2unix(tmp) == want):
                raise ObjectRefused(oid, digest)
            dst = self.path(oid, legacy)
            self._ensure_dir(os.path.dirname(dst))
            os.replace(tmp, dst)
        except BaseException:
            _unlink_quiet(tmp)
            raise

    def new_tmp(self, oid: str, legacy: bool = False) -> str:
        """A temporary name beside object ``oid``'s final name (its directory made), for ``admit``."""
        dst = self.path(oid, legacy)
        self._ensure_dir(os.path.dirname(dst))
        return tmp_name(dst)

    # --- reading / materializing ---------------------------------------------------------------
    def read_bytes(self, oid: str, legacy: bool = False) -> bytes:
        with open(self.path(oid, legacy), "rb") as f:
            return f.read()

    def link(self, oid: str, dst: str, isexec: bool = False, legacy: bool = False) -> str:
        """Materialize object ``oid`` at ``dst`` atomically, trying the configured link types in order.

        Returns the link type used.
        """
        src = self.path(oid, legacy)
        if not os.path.exists(src):
            raise CacheError(f"object {oid} is missing from the cache")
        parent = os.path.dirname(dst)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return self._materialize(src, dst, isexec)

    def link_many(self, items: list[tuple[str, str]], legacy: bool = False, jobs: int | None = None,
                  stat: Callable[[int, os.stat_result], object] | None = None) -> list:
        """Materialize many objects, ``(oid, dst)`` each, like ``link`` (objects must be present).

        Parent directories are created once; ``jobs`` threads each own whole destination
        directories, and every thread works through its share in one task (default: ``_link_jobs``).
        ``stat(i, st)``, called in the linking thread with what ``os.stat(dst)`` gives for item ``i``,
        makes what is returned for it, in order (None where the stat fails; nothing without ``stat``).
        For a symbolic link the stat is the object's, which a stat through the link reaches by one more
        path walk. A checkout makes each file's state row there: the 70,000 stats (~0.4 s) run beside
        the links, and no ``stat_result`` (~0.5 KB each) is held.
        """
        groups: dict[str, list[int]] = {}
        for i, (_, dst) in enumerate(items):
            groups.setdefault(os.path.dirname(dst), []).append(i)
        for parent in groups:
            if parent:
                os.makedirs(parent, exist_ok=True)
        kept: list = [None] * len(items) if stat is not None else []
        path = self.path

        def work(share: Iterable[int]) -> None:
            for i in share:
                oid, dst = items[i]
                src = path(oid, legacy)
                kind = self._materialize(src, dst, False)
                if stat is not None:
                    try:
                        kept[i] = stat(i, os.stat(src if kind == "symlink" else dst))
                    except OSError:
                        pass

        if jobs is None:
            jobs = self._link_jobs(items)
        if jobs <= 1 or len(items) < 64:
            work(range(len(items)))
            return kept
        shares: list[list[int]] = [[] for _ in range(jobs)]
        for n, parent in enumerate(sorted(groups)):
            shares[n % jobs].extend(groups[parent])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as pool:
            for f in [pool.submit(work, share) for share in shares if share]:
                f.result()
        return kept

    def _link_jobs(self, items: list[tuple[str, str]]) -> int:
        """Threads for ``link_many``: four on a network filesystem; two on a local disk for many files
        (70,000 files of 150-400 bytes on ext4, 2 cores: copy 5.5 -> 4.4 s, hardlink 2.5 -> 2.0 s, symlink
        5.5 -> 4.1 s; the kernel's work per file, a new inode or link and a directory entry, runs on both
        cores, each thread in its own directories); one for fewer files, where no gain was measured."""
        if len(items) < 64:
            return 1
        if parallel_io(self.root) or parallel_io(items[0][1]):
            return 4
        return min(2, os.cpu_count() or 1) if len(items) >= LINK_THREADS_MIN else 1

    def _materialize(self, src: str, dst: str, isexec: bool) -> str:
        if not isexec and self._copies_first():
            spare = self.take_spare(src)
            if isinstance(spare, str):
                self.offer_spare(src, spare)  # a large spare file: the general way renames it
            else:
                try:
                    data = spare if spare is not None else _read_small(src)
                except OSError:
                    data = None  # the general way below reports it
                if data is not None:
                    try:  # the umask applies, as for any new file
                        self.new_files.write(dst, data, 0o666, self.temps.name if self.temps else tmp_name)
                        return "copy"
                    except OSError:
                        pass  # the general way below reports it
        first = self.link_types[0]
        if first == "symlink" or (first == "hardlink" and not src.endswith(EMPTY_TAIL)):
            # a link is made whole by one system call: where nothing is in the way (a checkout into an
            # emptied directory) it needs no temporary name and no rename (70,000 files: 5.9 -> ~2.5 s)
            try:
                (os.link if first == "hardlink" else os.symlink)(src, dst)
            except OSError:
                pass  # something is there (replaced below, through a temporary name) or this type fails
            else:
                if isexec:
                    set_exec_through_link(dst)
                return first
        tmp = self.temps.name(dst) if self.temps else tmp_name(dst)
        last: OSError | None = None
        for kind in self.link_types:
            try:
                if kind == "reflink":
                    if self._no_reflink:
                        continue
                    try:
                        _reflink(src, tmp)
                    except OSError as exc:
                        if exc.errno in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY):
                            self._no_reflink = True
                        raise
                    os.chmod(tmp, 0o644 | EXEC if isexec else 0o644)
                elif kind == "hardlink":
                    if src.endswith(EMPTY_TAIL):
                        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # see EMPTY_TAIL
                    else:
                        os.link(src, tmp)
                elif kind == "symlink":
                    os.symlink(src, tmp)
                else:
                    spare = self.take_spare(src)
                    if not isinstance(spare, str) or not _rename_quiet(spare, tmp):
                        _copy_file(src, tmp)
                    if isexec:
                        os.chmod(tmp, os.stat(tmp).st_mode | EXEC)
                os.replace(tmp, dst)
                if kind == "hardlink" and os.path.lexists(tmp):
                    # rename() between two links to one inode does nothing (POSIX): dst already was
                    # this object (a hardlinked workspace file), so drop the temporary link
                    _unlink_quiet(tmp)
                if isexec and kind in ("hardlink", "symlink"):
                    set_exec_through_link(dst)
                return kind
            except OSError as exc:
                _unlink_quiet(tmp)
                last = exc
                continue
        if self._no_reflink and all(k == "reflink" for k in self.link_types):
            raise CacheError(f"cannot link '{dst}' from the cache: {REFLINK_ONLY}")
        raise CacheError(f"cannot link '{dst}' from the cache: {last.strerror if last else 'no link type'}")

    def reflink_only_unsupported(self, where: str) -> bool:
        """Whether cache.type lists only ``reflink`` and the file system cannot reflink from the cache
        to ``where`` (a directory): no checkout can produce a file then (dvc: "No possible cache
        link types"). Probed once with a 1-byte file."""
        if not all(k == "reflink" for k in self.link_types):
            return False
        if self._no_reflink:
            return True
        src = dst = None
        try:
            os.makedirs(self.root, exist_ok=True)
            src, dst = tmp_name(os.path.join(self.root, "probe")), tmp_name(os.path.join(where, ".tide-probe"))
            with open(src, "wb") as f:
                f.write(b"x")
            _reflink(src, dst)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY):
                self._no_reflink = True
        finally:
            for p in (src, dst):
                if p:
                    _unlink_quiet(p)
        return self._no_reflink

    # --- verification / listing ---------------------------------------------------------------
    def verify(self, oid: str, legacy: bool = False) -> bool:
        p = self.path(oid, legacy)
        if legacy and not oid.endswith(".dir"):
            return file_md5_dos2unix(p) == oid or file_md5(p) == oid
        return file_md5(p) == oid.removesuffix(".dir")

    def iter_oids(self) -> Iterator[tuple[str, bool]]:
        """Every object id in the cache as ``(oid, legacy)``; temporary files are skipped."""
        for legacy, base in ((False, os.path.join(self.root, "files", "md5")), (True, self.root)):
            try:
                prefixes = os.listdir(base)
            except FileNotFoundError:
                continue
            for pre in prefixes:
                if len(pre) != 2 or not all(c in "0123456789abcdef" for c in pre):
                    continue
                try:
                    names = os.listdir(os.path.join(base, pre))
                except (NotADirectoryError, FileNotFoundError):
                    continue
                for name in names:
                    if name.endswith(".tmp") or name.startswith("."):
                        continue
                    yield pre + name, legacy

    def remove(self, oid: str, legacy: bool = False) -> None:
        _unlink_quiet(self.path(oid, legacy))

    def _copies_first(self) -> bool:
        """Whether materializing starts with a plain copy (no reflink possible, no links wanted)."""
        for kind in self.link_types:
            if kind == "reflink" and self._no_reflink:
                continue
            return kind == "copy"
        return False

    def offer_spare(self, path: str, spare: str | bytes) -> bool:
        """Keep ``spare`` for the checkout of the object at ``path``: the name of a writable copy
        (always kept), or the object's bytes (kept only up to SPARE_FILE bytes, and within
        ``spare_budget``, which they use up). Whether it was kept; a copy not kept stays the
        caller's. Safe from several threads."""
        if isinstance(spare, bytes) and len(spare) > SPARE_FILE:
            return False
        with self._spare_lock:
            if isinstance(spare, bytes):
                if len(spare) > self.spare_budget:
                    return False
                self.spare_budget -= len(spare)
            self.spares[path] = spare
            return True

    def take_spare(self, path: str) -> str | bytes | None:
        """The spare kept for the object at ``path`` (now the caller's), or None."""
        if not self.spares:  # the common case, without the lock: a checkout with no pull before it
            return None
        with self._spare_lock:
            return self.spares.pop(path, None)

    def drop_spares(self) -> None:
        """Delete the spare copies no checkout used."""
        with self._spare_lock:
            spares, self.spares = self.spares, {}
            self.spare_budget = SPARE_BYTES
        for spare in spares.values():
            if isinstance(spare, str):
                _unlink_quiet(spare)


def _dos2unix_md5(data: bytes) -> str:
    """``file_md5_dos2unix`` of bytes in memory (DVC 2.x: CRLF read as LF in text chunks)."""
    from tide.core.hashing import is_text_block

    h = hashlib.md5(usedforsecurity=False)
    for i in range(0, len(data), CHUNK):
        chunk = data[i:i + CHUNK]
        h.update(chunk.replace(b"\r\n", b"\n") if is_text_block(chunk[:512]) else chunk)
    return h.hexdigest()


def _read_small(src: str) -> bytes | None:
    """The content of ``src`` if it is at most ``SMALL_COPY`` bytes, else None (one open, one read)."""
    fd = os.open(src, os.O_RDONLY)
    try:
        data = os.read(fd, SMALL_COPY + 1)
    finally:
        os.close(fd)
    return data if len(data) <= SMALL_COPY else None


def set_exec_through_link(path: str) -> None:
    """dvc-data's ``_chmod_files``: an executable output linked to its object gets ``u+x`` on the object
    itself (mode 544: still read-only, content untouched); dvc's next ``status`` protects it back to 444.
    Not fatal when it fails (a shared or read-only cache), as in dvc."""
    try:
        os.chmod(path, os.stat(path).st_mode | EXEC)
    except OSError:
        pass


def _copy_file(src: str, dst: str) -> None:
    """``shutil.copyfile`` (a new file, mode 0o666 less the umask), with a two-syscall path for
    small files."""
    fd = os.open(src, os.O_RDONLY)
    try:
        data = os.read(fd, SMALL_COPY + 1)
    finally:
        os.close(fd)
    if len(data) > SMALL_COPY:
        import shutil

        shutil.copyfile(src, dst)
        return
    out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(out, view):]
    finally:
        os.close(out)


def _rename_quiet(src: str, dst: str) -> bool:
    """Rename ``src`` to ``dst``; on failure (another filesystem...) delete ``src`` and say False."""
    try:
        os.rename(src, dst)
        return True
    except OSError:
        _unlink_quiet(src)
        return False


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
