"""Run the tide CLI under an audit hook that SIGKILLs the process at its N-th filesystem mutation.

    python crashrun.py ARGS...       (environment below; ARGS are tide's)

    TIDE_CRASH_ROOTS   os.pathsep-separated directories whose mutations are counted (others are not)
    TIDE_CRASH_AT      kill the process (SIGKILL, no cleanup) just before the N-th counted mutation
    TIDE_CRASH_COUNT   write the number of counted mutations to this file when tide exits normally
    TIDE_TEST_PLANT_CORRUPTION=1  flip one byte of a cache object first (a deliberate corruption: the
                       gate test tests/reliability/test_torture_gates.py shows the crash part catches it)

Counted mutations are the audit events below (``open`` only when it writes). The kill happens before
the operation, so killing at N = 1..count visits every point between two mutations.
"""

from __future__ import annotations

import os
import signal
import sys

EVENTS = {
    "os.rename", "os.remove", "os.link", "os.symlink", "os.mkdir", "os.rmdir", "os.chmod", "os.truncate",
    "os.utime", "shutil.copyfile", "shutil.rmtree", "shutil.move", "fcntl.ioctl",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _path_of(args: tuple) -> str | None:
    if not args:
        return None
    p = args[0]
    if isinstance(p, bytes):
        p = p.decode("utf-8", "surrogateescape")
    if not isinstance(p, str):
        return None
    return os.path.abspath(p)


def _writes(args: tuple) -> bool:
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return bool(isinstance(flags, int) and flags & WRITE_FLAGS)


def install(roots: list[str], kill_at: int) -> list[int]:
    counter = [0]
    roots = [os.path.realpath(r) + os.sep for r in roots]

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            if not _writes(args):
                return
        elif event not in EVENTS:
            return
        if event == "fcntl.ioctl":  # FICLONE into a file we opened: counted as a write
            counter[0] += 1
        else:
            path = _path_of(args)
            if path is None or not any((os.path.realpath(os.path.dirname(path)) + os.sep).startswith(r)
                                       or (path + os.sep).startswith(r) for r in roots):
                return
            counter[0] += 1
        if kill_at and counter[0] >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    return counter


def plant_corruption(repo: str) -> None:
    """Flip the first byte of the first object in the repository's cache (sorted by path)."""
    base = os.path.join(repo, ".dvc", "cache", "files", "md5")
    for d in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        for name in sorted(os.listdir(os.path.join(base, d))):
            p = os.path.join(base, d, name)
            if name.startswith(".") or not os.path.isfile(p) or os.path.getsize(p) == 0:
                continue
            os.chmod(p, 0o644)
            with open(p, "r+b") as f:
                first = f.read(1)
                f.seek(0)
                f.write(bytes([first[0] ^ 0xFF]))
            return


def main() -> int:
    roots = [r for r in os.environ.get("TIDE_CRASH_ROOTS", "").split(os.pathsep) if r]
    if os.environ.get("TIDE_TEST_PLANT_CORRUPTION") == "1" and roots:
        plant_corruption(roots[0])
    kill_at = int(os.environ.get("TIDE_CRASH_AT") or 0)
    count_file = os.environ.get("TIDE_CRASH_COUNT")
    counter = install(roots, kill_at)
    from tide.cli.main import main as tide_main

    try:
        rc = tide_main(sys.argv[1:])
    finally:
        if count_file:
            with open(count_file, "w") as f:
                f.write(str(counter[0]))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
