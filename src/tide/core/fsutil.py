"""Small filesystem helpers: atomic writes, temp names, safe removal."""

from __future__ import annotations

import os
import stat


def tmp_name(path: str) -> str:
    """A temporary sibling of ``path`` in DVC's style: ``.<token>.tmp`` in the same directory."""
    d = os.path.dirname(path)
    import secrets  # here, not at the top: it costs start-up time to commands that never write

    return os.path.join(d, f".{secrets.token_urlsafe(16)}.tmp")


def is_tmp_name(name: str) -> bool:
    """Whether a file name is one ``tmp_name`` makes: a process killed mid-write may leave one in a
    tracked directory, and hashing must not take it for data (found by crash injection)."""
    return (len(name) == 27 and name[0] == "." and name.endswith(".tmp")
            and all(c.isalnum() or c in "-_" for c in name[1:23]))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the complete new one."""
    path = os.fspath(path)
    tmp = tmp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quiet(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove(path: str | os.PathLike[str]) -> None:
    """Remove a file, symlink or directory tree if it exists (read-only files included)."""
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):

        def onerror(func, p, exc):  # noqa: ANN001
            os.chmod(os.path.dirname(p), 0o755)
            func(p)

        # ``onexc`` exists from Python 3.12 only; ``onerror`` works on 3.11 too
        import shutil

        shutil.rmtree(path, onerror=onerror)
    else:
        os.unlink(path)


def is_exec(mode: int) -> bool:
    return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def relpath_posix(path: str | os.PathLike[str], start: str | os.PathLike[str]) -> str:
    from pathlib import Path

    return Path(os.path.relpath(path, start)).as_posix()
