"""tide's temporary files in the workspace are tide's alone.

A temporary file that tide makes in a user's directory (a file being checked out, before its
rename) gets a name of a form no user data has by accident, ``.tide-<marker>-<n>.tmp``, where the
marker is random per process, and the process notes in a journal, before its first temporary in a
directory, which directories those are: ``<journal dir>/<marker>`` holds the process id and the
directories (relative to the repository), NUL-separated, one write per directory, not per file.

Only names of a journaled marker in a journaled directory are ever left out of hashing
(``skipped``) or deleted (``recover``): a user's file that merely looks like a temporary name is
data, hashed and kept as dvc does. A process that ends normally has renamed or removed each of its
temporaries and deletes its journal (``close``); one that was killed leaves it, and the next process
to take the repository lock deletes what it names (``recover``), then the journal.
"""

from __future__ import annotations

import _thread  # not `threading`: its import costs every command start-up time
import os

PREFIX = ".tide-"
SUFFIX = ".tmp"


class TempJournal:
    __slots__ = ("dir", "root", "_pid", "_marker", "_dirs", "_fd", "_count", "_lock", "_atexit")

    def __init__(self, journal_dir: str, root: str) -> None:
        self.dir = journal_dir
        self.root = root
        self._pid = 0
        self._marker = ""
        self._dirs: set[str] = set()
        self._fd: int | None = None
        self._count = 0
        self._lock = _thread.allocate_lock()
        self._atexit = False

    # --- this process's temporaries ----------------------------------------------------------
    def name(self, dst: str) -> str:
        """A temporary sibling of ``dst``, its directory journaled first."""
        d = os.path.dirname(dst)
        if d not in self._dirs:  # a set lookup per file; the journal is written once per directory
            self._note(d)
        with self._lock:
            self._count += 1
            n = self._count
        return os.path.join(d, f"{PREFIX}{self._marker}-{n}{SUFFIX}")

    def _note(self, d: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: a marker of its own
                self._pid, self._marker, self._dirs, self._fd = os.getpid(), os.urandom(8).hex(), set(), None
            if d in self._dirs:
                return
            if self._fd is None:
                os.makedirs(self.dir, exist_ok=True)
                self._fd = os.open(os.path.join(self.dir, self._marker),
                                   os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
                os.write(self._fd, f"{self._pid}\0".encode())
                if not self._atexit:
                    import atexit

                    atexit.register(self.close)
                    os.register_at_fork(after_in_child=self._forked)
                    self._atexit = True
            os.write(self._fd, os.fsencode(os.path.relpath(d, self.root)) + b"\0")
            self._dirs.add(d)

    def _forked(self) -> None:
        """In a forked child: the parent's journal is not this process's (a new marker on first use)."""
        self._pid, self._dirs, self._fd = 0, set(), None

    def close(self) -> None:
        """This process has no temporary left (each was renamed into place or removed): its journal goes."""
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                return
            os.close(self._fd)
            self._fd = None
            self._dirs = set()
            try:
                os.unlink(os.path.join(self.dir, self._marker))
            except FileNotFoundError:
                pass

    # --- every process's journals --------------------------------------------------------------
    def _journals(self) -> list[tuple[str, int, list[str]]]:
        """``(marker, pid, absolute directories)`` of every journal but this process's own."""
        try:
            names = os.listdir(self.dir)
        except OSError:  # none yet (the usual case), or unreadable: nothing known to be tide's
            return []
        out = []
        for marker in names:
            if (marker == self._marker and self._pid == os.getpid()) or not _is_marker(marker):
                continue
            try:
                with open(os.path.join(self.dir, marker), "rb") as f:
                    fields = f.read().split(b"\0")
            except OSError:
                continue
            try:
                pid = int(fields[0])
            except ValueError:
                pid = 0
            dirs = [os.path.normpath(os.path.join(self.root, os.fsdecode(r))) for r in fields[1:] if r]
            out.append((marker, pid, dirs))
        return out

    def skipped(self) -> dict[str, tuple[str, ...]]:
        """Directory (absolute, normalised) -> name prefixes of the temporaries other tide processes
        (running, or killed before they could clean up) may have there. Usually empty."""
        out: dict[str, tuple[str, ...]] = {}
        for marker, _, dirs in self._journals():
            for d in dirs:
                out[d] = (*out.get(d, ()), f"{PREFIX}{marker}-")
        return out

    def recover(self) -> int:
        """Delete the temporaries of processes that ended without cleaning up (killed), then their
        journals; return how many files went. Called with the repository lock held."""
        gone = 0
        for marker, pid, dirs in self._journals():
            if _alive(pid):
                continue
            prefix = f"{PREFIX}{marker}-"
            left = False
            for d in dirs:
                try:
                    with os.scandir(d) as it:
                        names = [e.name for e in it if e.name.startswith(prefix) and e.name.endswith(SUFFIX)]
                except (FileNotFoundError, NotADirectoryError):
                    continue
                except OSError:
                    left = True
                    continue
                for n in names:
                    try:
                        os.unlink(os.path.join(d, n))
                        gone += 1
                    except FileNotFoundError:
                        pass
                    except OSError:  # not ours to force (a read-only directory...): try again next time
                        left = True
            if not left:
                try:
                    os.unlink(os.path.join(self.dir, marker))
                except OSError:
                    pass
        return gone


def _is_marker(name: str) -> bool:
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
