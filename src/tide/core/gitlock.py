"""Git's lock files left by a killed git (``refs/tags/v1.lock``, ``index.lock``, ``HEAD.lock``...).

git takes a lock by creating ``NAME.lock`` and renames it over ``NAME`` when done; a git killed in between
(``tide retrain`` SIGKILLed with its process group, a CI job cancelled) leaves the lock, and every later
git command that needs it fails with "Unable to create '….lock': File exists … remove the file manually to
continue". Unattended, nobody is there to remove it: the next day's run fails the same way (``make
torture``'s retrain part, seed 67001 trial 54: a kill while ``model register`` ran ``git tag``).

``Git.run`` calls ``clear_stale`` when a command fails that way. The lock is removed, and the command run
once more, only when it is stale: inside the repository's git directory (or inside a repository on this
disk that is one of its remotes: a push killed halfway leaves ``refs/heads/BRANCH.lock`` in the bare
repository of ``tide demo``'s local forge), older than ``STALE_AFTER`` seconds (git holds its locks for
milliseconds; a younger one is waited for, as git waits 100 ms for a ref lock itself), and no git process is
running in the repository or in that remote (``/proc``: where it cannot be read, as on macOS, nothing is
removed and the error names the lock). A git process of another user whose working directory cannot be
read is not seen.
"""

from __future__ import annotations

import os
import re
import sys
import time

STALE_AFTER = 2.0  # seconds
_LOCK_EXISTS = re.compile(rb"Unable to create '([^'\n]+\.lock)': File exists")


def locked_path(stderr: bytes) -> str | None:
    """The lock file a failed git command's error names, or None."""
    m = _LOCK_EXISTS.search(stderr)
    return os.fsdecode(m.group(1)) if m else None


def error_line(stderr: bytes, fallback: object = "failed") -> str:
    """The line of git's error output that says what failed: the lock's own line where a lock was in the
    way (its last line, "remove the file manually to continue", names nothing), else the last line."""
    lock = locked_path(stderr)
    if lock is not None:
        return (f"'{lock}' exists: another git process is running in this repository, or one was killed "
                "(if none is running, remove that file)")
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else str(fallback)


def clear_stale(stderr: bytes, root: str, wait: float = STALE_AFTER) -> bool:
    """Whether the lock named in ``stderr`` is gone now (released while waiting, or stale and removed): the
    command may be run again. Says so on stderr, one line, when it removed one."""
    lock = locked_path(stderr)
    home = None if lock is None else _lock_home(lock, root)
    if home is None:
        return False
    deadline = time.monotonic() + wait
    while True:
        try:
            age = time.time() - os.lstat(lock).st_mtime
        except FileNotFoundError:
            return True  # its owner finished
        if age >= wait or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if age < wait or _git_running_in(root) or _git_running_in(home):
        return False
    try:
        os.unlink(lock)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    print(f"WARNING: removed the stale git lock '{lock}' ({age:.0f} s old; no git process is running in "
          "this repository: a killed git left it)", file=sys.stderr)
    return True


def _lock_home(lock: str, root: str) -> str | None:
    """The git directory ``lock`` is in, if tide may remove it there: the repository's own, or that of a
    repository on this disk that is one of its remotes; else None (the lock is never removed)."""
    from tide.core.git import Git

    g = Git(root)
    proc = g.run("rev-parse", "--absolute-git-dir", "--git-common-dir", check=False)
    homes = [os.path.join(root, d) for d in os.fsdecode(proc.stdout).splitlines() if d and not proc.returncode]
    urls = g.run("config", "--get-regexp", r"^remote\..*\.url$", check=False)
    for line in os.fsdecode(urls.stdout).splitlines():
        url = line.partition(" ")[2].removeprefix("file://")
        if not url or ":" in url.split("/")[0]:  # host:path, scheme://...: not on this disk
            continue
        path = os.path.join(root, url)
        if os.path.isdir(os.path.join(path, ".git")):
            homes.append(os.path.join(path, ".git"))
        elif os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects")):
            homes.append(path)  # a bare repository
    where = os.path.realpath(os.path.dirname(os.path.abspath(lock)))
    for home in map(os.path.realpath, homes):
        if where == home or where.startswith(home + os.sep):
            return home
    return None


def _git_running_in(root: str) -> bool:
    """Whether a git process works in ``root`` (its working directory there or below). True where it cannot
    be told (no ``/proc``)."""
    if not os.path.isdir("/proc/self/fd"):
        return True
    top = os.path.realpath(root)
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open(f"/proc/{pid}/comm", "rb") as f:
                if not f.read().startswith(b"git"):
                    continue
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:  # gone, or another user's
            continue
        if cwd == top or cwd.startswith(top + os.sep):
            return True
    return False
