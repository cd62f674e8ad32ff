"""The repository lock: the same fcntl ``flock`` on ``.dvc/tmp/lock`` that dvc takes (zc.lockfile),
so tide and dvc never write one repository at the same time."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from types import TracebackType

from tide.core.errors import LockError


class RepoLock:
    """``on_acquire``/``on_release``: called with the lock held, just after taking it and just
    before letting it go."""

    def __init__(self, path: str, timeout: float = 3.0, on_acquire: Callable[[], object] | None = None,
                 on_release: Callable[[], object] | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.on_acquire = on_acquire
        self.on_release = on_release
        self._fd: int | None = None

    def __enter__(self) -> RepoLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    holder = ""
                    try:
                        with open(self.path) as f:
                            pid = f.read().strip()
                        holder = f" (held by process {pid})" if pid else ""
                    except OSError:
                        pass
                    raise LockError(
                        f"the repository is locked by another tide or dvc process{holder}; "
                        "wait for it to finish and try again"
                    )
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f" {os.getpid()}\n".encode())
        self._fd = fd
        if self.on_acquire is not None:
            try:
                self.on_acquire()
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, et: type | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            try:
                if self.on_release is not None:
                    self.on_release()
            finally:
                self._release()

    def _release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)  # closing releases the flock
            self._fd = None
