"""Directory snapshots: a digest of every file's (name, inode, mtime, size) under a tracked directory.

An unchanged digest means no file changed, so ``tide status`` answers without looking up or
hashing any file. Computing it costs one ``stat`` per file, the bulk of a no-change status on a large
directory; a Python process cannot run two ``stat`` calls at once (the interpreter lock), so for
many files a forked child stats every other directory while this process stats the rest (two
cores, ~40% less time on 10,000 files). Both ways give the same digest.

The digest is ``None`` while any file is younger than a second: a later write within the
timestamp's granularity could go unnoticed (git's "racy clean" rule), so such a snapshot is never
recorded.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

from tide.workspace.ignore import stat_names

RACY_NS = 1_000_000_000
PARALLEL_MIN_FILES = 3000  # below this a fork costs more than it saves

Listing = list[tuple[str, str, list[str], bool]]  # Ignore.listing(): (prefix, dir path, names, links)


def dir_digest(prefix: str, names: list[str], stats: list[os.stat_result]) -> tuple[str, int]:
    """The digest of one directory's files and the newest mtime among them."""
    from array import array

    return _digest(prefix, names, array("q", [s.st_mtime_ns for s in stats]), array("Q", [s.st_ino for s in stats]),
                   array("Q", [s.st_size for s in stats]))


def _digest(prefix: str, names: list[str], mtimes, inos, sizes) -> tuple[str, int]:
    h = hashlib.md5((prefix + "\0" + "\0".join(names)).encode("utf-8", "surrogateescape"), usedforsecurity=False)
    h.update(mtimes.tobytes())
    h.update(inos.tobytes())
    h.update(sizes.tobytes())
    return h.hexdigest(), max(mtimes, default=0)


# one directory's files in a few compact arrays instead of an os.stat_result each (~600 bytes per
# file, 1.7 KB per file with the rest at a million files: issue 26): names, and per file its mtime,
# inode and size (arrays "q", "Q", "Q") and whether it is executable (bytes of 0/1)
Compact = tuple  # (prefix, names, mtimes, inodes, sizes, execs)


def compact(prefix: str, names: list[str], stats: list[os.stat_result]) -> Compact:
    from array import array

    return (prefix, names, array("q", [s.st_mtime_ns for s in stats]), array("Q", [s.st_ino for s in stats]),
            array("Q", [s.st_size for s in stats]), bytes([1 if s.st_mode & 0o111 else 0 for s in stats]))


def compact_groups(listing: Listing) -> list[Compact]:
    """``stat_groups`` as compact arrays, each directory's stats dropped as soon as it is stat'ed."""
    return [compact(prefix, *stat_names(d, names, links)) for prefix, d, names, links in listing]


def exact_of_compact(groups: list[Compact]) -> tuple[str, str | None]:
    """``exact_of_groups`` of the same files, from their compact form (the same digests)."""
    parts = [_digest(prefix, names, mt, ino, sz) for prefix, names, mt, ino, sz, _ in groups]
    exact = hashlib.md5("\n".join(dg for dg, _ in parts).encode("ascii"), usedforsecurity=False).hexdigest()
    newest = max((t for _, t in parts), default=0)
    return exact, (None if newest >= time.time_ns() - RACY_NS else exact)


def combine(digests: list[str], newest: int) -> str | None:
    if newest >= time.time_ns() - RACY_NS:
        return None
    return hashlib.md5("\n".join(digests).encode("ascii"), usedforsecurity=False).hexdigest()


Groups = list[tuple[str, list[str], list[os.stat_result]]]  # (prefix, file names, their stats)


def stat_groups(listing: Listing) -> Groups:
    """The stats of every file in ``listing``, directory by directory, in this process."""
    return [(prefix, *stat_names(d, names, links)) for prefix, d, names, links in listing]


def of_groups(groups: Groups) -> str | None:
    return exact_of_groups(groups)[1]


def exact_of_groups(groups: Groups) -> tuple[str, str | None]:
    """``(digest, snapshot)``: the digest of every file's (name, inode, mtime, size) however recent,
    and the snapshot ``of_groups`` gives (None while a file is too recent to record)."""
    parts = [dir_digest(prefix, names, stats) for prefix, names, stats in groups]
    exact = hashlib.md5("\n".join(dg for dg, _ in parts).encode("ascii"), usedforsecurity=False).hexdigest()
    newest = max((t for _, t in parts), default=0)
    return exact, (None if newest >= time.time_ns() - RACY_NS else exact)


def parallel(listing: Listing) -> tuple[bool, str | None]:
    """``(True, snapshot)`` computed on two processes for a large listing, else ``(False, None)``:
    the caller then uses ``stat_groups`` and ``of_groups`` (and keeps the stats)."""
    n = sum(len(names) for _, _, names, _ in listing)
    if n < PARALLEL_MIN_FILES or len(listing) < 2 or not _can_fork():
        return False, None
    parts = _forked(listing)
    if parts is None:
        return False, None
    return True, combine([dg for dg, _ in parts], max((t for _, t in parts), default=0))


def _can_fork() -> bool:
    threading = sys.modules.get("threading")
    # forking a process that runs other threads can copy a lock held by one of them
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and (threading is None or threading.active_count() == 1)


def _forked(listing: Listing) -> list[tuple[str, int]] | None:
    """Digests of every directory, the even ones computed by a forked child; None if that failed."""
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: never returns, never runs cleanup meant for the parent
        code = 1
        try:
            os.close(r)
            lines = [f"{dg} {t}" for dg, t in
                     (dir_digest(prefix, *stat_names(d, names, links)) for prefix, d, names, links in listing[0::2])]
            data = ("\n".join(lines) + "\n").encode("ascii")
            while data:
                data = data[os.write(w, data):]
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    try:
        odd = [dir_digest(prefix, *stat_names(d, names, links)) for prefix, d, names, links in listing[1::2]]
        chunks = []
        while chunk := os.read(r, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    even = [(dg, int(t)) for dg, t in (line.split(" ") for line in b"".join(chunks).decode("ascii").splitlines())]
    if status != 0 or len(even) != len(listing[0::2]):
        return None
    out: list[tuple[str, int]] = [("", 0)] * len(listing)
    out[0::2] = even
    out[1::2] = odd
    return out
