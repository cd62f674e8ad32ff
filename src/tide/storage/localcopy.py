"""Copying one local file into another inside the kernel, optionally hashing what was written.

``copy_fd`` tries, in order: a reflink (``FICLONE``: the copy shares the source's blocks until one
side is written, on btrfs, XFS and other copy-on-write filesystems), ``copy_file_range``,
``sendfile`` and finally ``pread``/``write``; each step falls back to the next when the kernel or
the filesystem refuses it. No byte crosses into Python unless the last fallback is needed.

With ``hashing=True`` the md5 is computed on a second thread from the *destination*, range by
range as the copy lands (the pages are still in the page cache, and ``hashlib`` releases the GIL),
so the digest covers exactly the bytes that were written, and the copy and the hash overlap:
the whole takes about as long as hashing alone.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

STEP = 8 << 20  # bytes per copy call; the hashing thread trails the copy by at most a few steps
BIG_STEP = 256 << 20  # per copy call with no hashing: fewer calls, still ~0.1 s between signal checks
_FICLONE = 0x40049409
# errors meaning "this kernel or filesystem cannot do that kind of copy": fall back to the next way
_UNSUPPORTED = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTTY,
                          errno.EBADF, errno.EPERM, errno.ETXTBSY})


def reflink_fd(src_fd: int, dst_fd: int) -> bool:
    """Make the empty file ``dst_fd`` share ``src_fd``'s blocks; False if the filesystem cannot."""
    try:
        import fcntl

        fcntl.ioctl(dst_fd, _FICLONE, src_fd)
        return True
    except (OSError, ImportError):
        return False


class _Copier:
    """Copies ranges of one file descriptor into another, remembering which way works."""

    def __init__(self, src: int, dst: int) -> None:
        self.src, self.dst = src, dst
        self.way = "copy_file_range" if hasattr(os, "copy_file_range") else "sendfile"

    def copy(self, offset: int, count: int) -> int:
        """Copy up to ``count`` bytes at ``offset`` (same offset in both); 0 at the source's end."""
        while True:
            try:
                if self.way == "copy_file_range":
                    return os.copy_file_range(self.src, self.dst, count, offset, offset)
                if self.way == "sendfile":
                    os.lseek(self.dst, offset, os.SEEK_SET)
                    return os.sendfile(self.dst, self.src, offset, count)
                data = os.pread(self.src, min(count, 1 << 20), offset)
                view = memoryview(data)
                pos = offset
                while view:
                    n = os.pwrite(self.dst, view, pos)
                    view, pos = view[n:], pos + n
                return len(data)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or self.way == "readwrite":
                    raise
                self.way = "sendfile" if self.way == "copy_file_range" else "readwrite"


def copy_fd(src_fd: int, dst_fd: int, hashing: bool = False, reflink: bool = True,
            meanwhile: Callable[[], None] | None = None) -> tuple[int, str | None]:
    """Copy the whole of ``src_fd`` into the empty file ``dst_fd`` (opened read-write when
    ``hashing``). Returns the number of bytes copied and, with ``hashing``, the md5 of the bytes
    now in ``dst_fd``. ``meanwhile``: work for this thread once the copy is done while the hash
    is still being computed (not called when the copy was a reflink or there is no hashing)."""
    if reflink and reflink_fd(src_fd, dst_fd):
        size = os.fstat(dst_fd).st_size
        return size, (_md5_fd(dst_fd, 0, size) if hashing else None)
    copier = _Copier(src_fd, dst_fd)
    if not hashing:
        n = 0
        while step := copier.copy(n, BIG_STEP):
            n += step
        return n, None
    import hashlib
    import queue
    import threading

    h = hashlib.md5(usedforsecurity=False)
    ranges: queue.Queue[tuple[int, int] | None] = queue.Queue()
    failure: list[BaseException] = []

    def hash_ranges() -> None:
        buf = bytearray(STEP)
        try:
            while (item := ranges.get()) is not None:
                _md5_range(h, dst_fd, item[0], item[1], buf)
        except BaseException as exc:  # re-raised by the copying thread
            failure.append(exc)
            while ranges.get() is not None:
                pass

    worker = threading.Thread(target=hash_ranges, name="tide-md5", daemon=True)
    worker.start()
    n = 0
    try:
        while step := copier.copy(n, STEP):
            ranges.put((n, step))
            n += step
        if meanwhile is not None:
            meanwhile()
    finally:
        ranges.put(None)
        worker.join()
    if failure:
        raise failure[0]
    return n, h.hexdigest()


def _md5_range(h, fd: int, offset: int, count: int, buf: bytearray) -> None:
    view = memoryview(buf)
    end = offset + count
    while offset < end:
        got = os.preadv(fd, [view[:min(len(buf), end - offset)]], offset)
        if not got:
            raise OSError(errno.EIO, "file shrank while it was being hashed")
        h.update(view[:got])
        offset += got


def _md5_fd(fd: int, offset: int, count: int) -> str:
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    _md5_range(h, fd, offset, count, bytearray(min(STEP, max(count, 1))))
    return h.hexdigest()
