"""Hashing workspace paths with the state database: files, and directories as DVC trees."""

from __future__ import annotations

import os
import stat as st_mod
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tide.core import manifest
from tide.core.errors import MissingError
from tide.core.fsutil import fast_relpath, parallel_io
from tide.core.hashing import file_md5, md5_bytes
from tide.workspace import snapshot
from tide.workspace.ignore import Ignore, check_utf8
from tide.workspace.state import State

PARALLEL_MIN_FILES = 64
PARALLEL_MIN_BYTES = 8 << 20
KEEP_FILE = 1 << 16  # files up to this size are read whole by ``hash_storing`` (see Hasher.sink)
PARALLEL_MIN_AVG = 256 << 10  # on a local disk, only files this large on average are hashed on threads


# named tuples, not dataclasses: importing `dataclasses` would cost every command start-up time
# (tests/foundation/test_fast_start.py keeps it off the fast path; `python -X importtime` measures it)
# relpath: inside the hashed directory ("" for a single file)
FileInfo = namedtuple("FileInfo", "relpath abspath md5 size isexec")


class HashResult(namedtuple("HashResult", "md5 size nfiles isexec files manifest", defaults=(None,))):
    """md5: the oid (ends with .dir for directories); nfiles: None for files; files: FileInfo
    tuples; manifest: the .dir bytes of a directory just hashed."""

    __slots__ = ()

    @property
    def is_dir(self) -> bool:
        return self.nfiles is not None


HASH_BATCH = 8192  # files hashed (and their state rows written) at a time by hash_dir
_St = namedtuple("_St", "st_ino st_mtime_ns st_size")  # what _hash_many reads of a stat


class FileTable:
    """A directory's files (``FileInfo`` each, made when asked for) kept compactly: per directory
    its prefix, file names, sizes and exec bits, and every md5 as 16 raw bytes; about 100 bytes per
    file instead of ~350 for the tuples and strings (issue 26). A read-only sequence in the order
    the files were hashed."""

    __slots__ = ("base", "_groups", "_starts", "total")

    def __init__(self, base: str) -> None:
        self.base = os.path.join(base, "")  # with a trailing separator, as os.path.join(base, rel) gives
        self._groups: list = []  # (prefix, names, sizes, execs, md5 digests bytearray)
        self._starts: list[int] = []
        self.total = 0

    def add(self, prefix: str, names: list[str], sizes, execs: bytes) -> tuple[bytearray, int]:
        """Add a directory's files; returns the bytearray their digests are to be appended to."""
        digests = bytearray()
        self._starts.append(len(self))
        self._groups.append((prefix, names, sizes, execs, digests))
        self.total += sum(sizes)
        return digests, len(names)

    def __len__(self) -> int:
        return self._starts[-1] + len(self._groups[-1][1]) if self._groups else 0

    def _info(self, g: tuple, i: int) -> FileInfo:
        prefix, names, sizes, execs, digests = g
        rel = prefix + names[i]
        return FileInfo(rel, self.base + rel, digests[16 * i:16 * i + 16].hex(), sizes[i], bool(execs[i]))

    def __iter__(self):
        for g in self._groups:
            for i in range(len(g[1])):
                yield self._info(g, i)

    def __getitem__(self, k: int) -> FileInfo:
        from bisect import bisect_right

        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(k)
        j = bisect_right(self._starts, k) - 1
        return self._info(self._groups[j], k - self._starts[j])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (FileTable, tuple, list)) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def groups(self) -> list:
        """``(prefix, names, md5_of)`` per directory, for ``manifest.serialize_groups``."""
        return [(p, names, _hex_of(dg)) for p, names, _, _, dg in self._groups]


def _hex_of(digests: bytearray):
    return lambda i: digests[16 * i:16 * i + 16].hex()


class Hasher:
    def __init__(self, root: str, state: State, ignore: Ignore, jobs: int | None = None) -> None:
        self.root = root
        self.state = state
        self.ignore = ignore
        self.jobs = jobs or max(1, min(8, (os.cpu_count() or 1) * 2))
        # set only during ``hash_storing``: each small file hashed on one thread is handed to it with
        # its bytes (path, md5, bytes), so that storing it needs no second read nor second hash
        self.sink: Callable[[str, str, bytes], None] | None = None
        # directory -> (digest of every file's stat, its HashResult, snapshot recorded): the last hash of each
        # directory in this process, returned again while no file's (name, inode, mtime, size)
        # changed (``repro`` hashes a stage's output, then the next stage's dependency, several
        # times). The same trust as the state's per-file rows, which are kept however recent.
        self._seen: dict[str, tuple[str, HashResult, bool]] = {}
        self._still: dict[str, HashResult] | None = None  # see ``still``

    @contextmanager
    def still(self) -> Iterator[None]:
        """While held, this process writes nothing in the workspace (``status``; ``repro`` until a stage
        acts): a directory looked at once (``hash_path(want_files=False)``) is not listed and stat-ed
        again in this process, its first answer stands (a pipeline's ``dvc.yaml`` names a directory as
        one stage's output and the next one's dependency: each was snapshotted twice, ~7 ms apiece for
        2,226 files). ``stir`` ends it early; leaving the block always does."""
        self._still = {}
        try:
            yield
        finally:
            self._still = None

    def stir(self) -> None:
        """The caller is about to write in the workspace: forget what ``still`` held (no-op outside it)."""
        self._still = None

    def hash_storing(self, abspath: str, sink: Callable[[str, str, bytes], None]) -> HashResult:
        """``hash_path``, handing each small file (up to KEEP_FILE) it reads whole to ``sink`` as
        ``(path, md5, bytes)`` the moment it is hashed (``tide add`` stores it there and then: no
        second read, no second hash, and no file's bytes held past its own hashing). Files hashed on
        threads (large ones, a network filesystem) and files the state already knows are not handed
        over: the caller stores those the usual way. Not to be called from two threads at once."""
        if self.sink is not None:
            raise RuntimeError("Hasher.hash_storing is already running")
        self.sink = sink
        try:
            return self.hash_path(abspath)
        finally:
            self.sink = None

    def _rel(self, abspath: str) -> str:
        return fast_relpath(self.root, abspath).replace(os.sep, "/")

    def hash_path(self, abspath: str, want_files: bool = True) -> HashResult:
        """Hash a file or directory. Without ``want_files`` a directory may come back with an empty
        ``files`` tuple: when no file changed since the last hash, its tree oid is taken from the state."""
        try:
            st = os.stat(abspath)
        except FileNotFoundError:
            raise MissingError(f"'{self._rel(abspath)}' does not exist")
        if st_mod.S_ISDIR(st.st_mode):
            return self.hash_dir(abspath, want_files)
        rel = self._rel(abspath)
        check_utf8("", [rel], "")
        known = self.state.lookup_prefix(rel).get(rel)
        md5 = self._hash_many([(rel, abspath, st)], {rel: known} if known else {})[rel]
        isexec = bool(st.st_mode & 0o111)
        return HashResult(md5, st.st_size, None, isexec, (FileInfo("", abspath, md5, st.st_size, isexec),))

    def hash_dir(self, abspath: str, want_files: bool = True, empty: list[str] | None = None) -> HashResult:
        """``empty``: receives the subdirectories with no file below them (``Ignore.listing``)."""
        reldir = self._rel(abspath)
        check_utf8("", [reldir], "")
        still = self._still if not want_files and empty is None else None
        if still is not None and reldir in still:
            return still[reldir]
        listing = self.ignore.listing(abspath, reldir if reldir != "." else "", empty)
        groups = None
        if not want_files:  # unchanged since the last hash? (tide status): compare snapshots
            known, groups, _ = self._snapshot_hit(reldir, listing)
            if known is not None:
                if still is not None:
                    still[reldir] = known
                return known
        # compact stats (arrays, not an os.stat_result per file) and files kept as a FileTable:
        # a million files in a few hundred MB (issue 26)
        cgroups = snapshot.compact_groups(listing) if groups is None else [snapshot.compact(*g) for g in groups]
        del groups
        exact, snap = snapshot.exact_of_compact(cgroups)
        seen = self._seen.get(reldir)
        if seen is not None and seen[0] == exact:  # hashed earlier in this process, no stat changed since
            res = seen[1]
            if snap is not None and not seen[2]:  # too recent to record then, old enough now
                self.state.save_dir(reldir, snap, res.md5, res.size, res.nfiles)
                self._seen[reldir] = (exact, res, True)
            if still is not None:
                still[reldir] = res
            return res
        known = self.state.lookup_prefix(reldir)
        table = FileTable(abspath)
        batch: list = []  # hashed (and their state rows written) a few thousand files at a time
        pending: list = []
        for prefix, names, mtimes, inos, sizes, execs in cgroups:
            base = table.base + prefix
            batch.extend((f"{reldir}/{prefix}{n}", base + n, _St(i, m, z))
                         for n, m, i, z in zip(names, mtimes, inos, sizes, strict=True))
            pending.append(table.add(prefix, names, sizes, execs))
            if len(batch) >= HASH_BATCH:
                self._hash_into(batch, known, pending)
                batch, pending = [], []
        if batch or pending:
            self._hash_into(batch, known, pending)
        del batch, pending, known
        raw = manifest.serialize_groups(table.groups())
        oid = manifest.tree_oid(raw)
        total, nfiles = table.total, len(table)
        if snap is not None:
            self.state.save_dir(reldir, snap, oid, total, nfiles)
        else:
            self.state.forget_dir(reldir)  # an older snapshot must not outlive a newer hash
        res = HashResult(oid, total, nfiles, False, table, raw)
        self._seen[reldir] = (exact, res, snap is not None)
        if still is not None:
            still[reldir] = res
        return res

    def _hash_into(self, batch: list, known, pending: list) -> None:
        md5s = self._hash_many(batch, known)
        it = iter(batch)
        for digests, n in pending:
            for _ in range(n):
                digests.extend(bytes.fromhex(md5s[next(it)[0]]))

    def known_dir(self, abspath: str) -> tuple[HashResult, str] | None:
        """The directory's oid, size and file count from the state when no file changed since it
        was last hashed, with that snapshot (the digest of its files' names, inodes, mtimes and sizes);
        else None. Nothing is hashed either way."""
        reldir = self._rel(abspath)
        check_utf8("", [reldir], "")
        known, _, snap = self._snapshot_hit(reldir, self.ignore.listing(abspath, reldir if reldir != "." else ""))
        return None if known is None or snap is None else (known, snap)

    def _snapshot_hit(self, reldir: str, listing) -> tuple[HashResult | None, snapshot.Groups | None, str | None]:
        """``(result from the state or None, the stats taken, the snapshot)``; the stats are None when the
        snapshot was taken on two processes (see snapshot.parallel)."""
        groups = None
        done, snap = snapshot.parallel(listing)
        if not done:
            groups = snapshot.stat_groups(listing)
            snap = snapshot.of_groups(groups)
        row = self.state.lookup_dir(reldir) if snap is not None else None
        if row is not None and row[0] == snap:
            return HashResult(row[1], row[2], row[3], False, ()), groups, snap
        return None, groups, snap

    def legacy_dir_oid(self, abspath: str) -> str:
        """The tree oid DVC 2.x records for a directory (files hashed with md5-dos2unix), remembered
        with the directory's snapshot so an unchanged directory is not re-read."""
        from tide.core.hashing import file_md5_dos2unix

        reldir = self._rel(abspath)
        groups = snapshot.stat_groups(self.ignore.listing(abspath, reldir if reldir != "." else ""))
        snap = snapshot.of_groups(groups)
        items = [(prefix + n, st) for prefix, names, stats in groups for n, st in zip(names, stats, strict=True)]
        key = f"/legacy-tree/{reldir}"  # relpaths never start with /
        if snap is not None:
            row = self.state.lookup_dir(key)
            if row is not None and row[0] == snap:
                return row[1]
        raw = manifest.serialize(manifest.Entry(rel, file_md5_dos2unix(os.path.join(abspath, rel))) for rel, _ in items)
        oid = manifest.tree_oid(raw)
        if snap is not None:
            self.state.save_dir(key, snap, oid, sum(s.st_size for _, s in items), len(items))
        return oid

    def unchanged_since(self, abspath: str, md5: str) -> bool:
        """Whether ``abspath`` is still exactly what was last hashed or written as ``md5``: every file
        has the (inode, mtime, size) the state database holds for it with that content. Nothing is
        hashed: a file touched since (even with the same content) makes the answer False."""
        rel = self._rel(abspath)
        try:
            st = os.lstat(abspath)
        except OSError:
            return False
        known = self.state.lookup_prefix(rel)
        if st_mod.S_ISREG(st.st_mode):
            return known.get(rel) == (st.st_ino, st.st_mtime_ns, st.st_size, md5)
        if not st_mod.S_ISDIR(st.st_mode) or not md5.endswith(".dir"):
            return False
        entries = []
        for prefix, names, stats in snapshot.stat_groups(self.ignore.listing(abspath, rel)):
            for n, s in zip(names, stats, strict=True):
                row = known.get(f"{rel}/{prefix}{n}")
                if row is None or row[:3] != (s.st_ino, s.st_mtime_ns, s.st_size):
                    return False
                entries.append(manifest.Entry(prefix + n, row[3]))
        return manifest.tree_oid(manifest.serialize(entries)) == md5

    def record(self, base: str, done: list[tuple[str, str]], rows: list | None = None) -> None:
        """Remember the hashes of files just written from the cache: ``(relpath, md5)`` pairs, relpath
        in posix form under the directory ``base``, or "" for ``base`` itself. ``rows``: their state
        rows as ``row_maker`` made them from the stats ``link_many`` took (None where a stat failed);
        without them each file is stat-ed here."""
        if rows is None:
            prefix = base if base.endswith(os.sep) else base + os.sep
            native = os.sep != "/"
            make = self.row_maker(base, done)
            stat = os.stat
            rows = []
            for i, (p, _) in enumerate(done):
                try:
                    rows.append(make(i, stat(prefix + (p.replace("/", os.sep) if native else p) if p else base)))
                except OSError:
                    pass
        self.state.save_many(r for r in rows if r is not None)

    def row_maker(self, base: str, done: list[tuple[str, str]]):
        """``(i, stat) -> state row`` of ``done[i]`` (``record``'s pairs), for ``link_many``'s ``stat``.
        The state's key of each is made from ``base``'s once (a relpath of each of 70,000 paths was a
        fifth of a link-cache checkout's Python time)."""
        rel = self._rel(base)
        key = "" if rel == "." else rel + "/"

        def row(i: int, s: os.stat_result) -> tuple[str, int, int, int, str]:
            p, md5 = done[i]
            return (key + p if p else rel, s.st_ino, s.st_mtime_ns, s.st_size, md5)

        return row

    def _md5_storing(self, path: str, size: int) -> str:
        """The md5 of a file; a small one is read whole and handed to ``self.sink`` with its bytes."""
        if size > KEEP_FILE:
            return file_md5(path, size)
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, KEEP_FILE + 1)
        finally:
            os.close(fd)
        if len(data) > KEEP_FILE:  # it grew since it was listed
            return file_md5(path)
        md5 = md5_bytes(data)
        self.sink(path, md5, data)
        return md5

    def _hash_many(self, items, known) -> dict[str, str]:
        out: dict[str, str] = {}
        todo = []
        for key, path, s in items:
            row = known.get(key)
            if row is not None and row[0] == s.st_ino and row[1] == s.st_mtime_ns and row[2] == s.st_size:
                out[key] = row[3]
            else:
                todo.append((key, path, s))
        if not todo:
            return out
        total = sum(s.st_size for _, _, s in todo)
        # large files: md5 runs on several cores at once (hashlib releases the GIL). Many small
        # files: one thread is faster on a local disk (threads only contend for kernel locks),
        # several on a network filesystem, where each open waits on a round trip.
        big = len(todo) > 1 and total >= PARALLEL_MIN_BYTES and total >= PARALLEL_MIN_AVG * len(todo)
        if big or (len(todo) >= PARALLEL_MIN_FILES and parallel_io(self.root)):
            from concurrent.futures import ThreadPoolExecutor

            # one task per worker (a slice of the files), not one per file: less locking per file
            n = min(self.jobs, len(todo))
            with ThreadPoolExecutor(n) as pool:
                parts = list(pool.map(lambda part: [file_md5(p, s.st_size) for _, p, s in part],
                                      [todo[i::n] for i in range(n)]))
            results = [""] * len(todo)
            for i, part in enumerate(parts):
                results[i::n] = part
        elif self.sink is not None:
            results = [self._md5_storing(p, s.st_size) for _, p, s in todo]
        else:
            results = [file_md5(p, s.st_size) for _, p, s in todo]
        rows = []
        for (key, _, s), md5 in zip(todo, results, strict=True):
            out[key] = md5
            rows.append((key, s.st_ino, s.st_mtime_ns, s.st_size, md5))
        self.state.save_many(rows)
        return out
