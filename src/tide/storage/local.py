"""A directory on a local or mounted filesystem as a remote (plain paths and ``file://`` URLs).

An object appears under its name only when complete: a small one (up to 64 KiB) is written to an
unnamed file that is then linked into place (``core.fsutil.NewFiles``; where the filesystem cannot,
a temporary name), a larger one is copied to ``.<token>.tmp`` in the destination directory and
renamed, as DVC does. Objects are made read-only (0444) as DVC does on local remotes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from tide.core.config import Env
from tide.core.fsutil import NewFiles, tmp_name
from tide.storage.base import Backend, Capabilities, RemoteSpec, StorageNotFound, StoragePermanent
from tide.storage.errors import translate

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import BinaryIO

READONLY = 0o444
SMALL = 1 << 16


class LocalBackend(Backend):
    # the class's default; each instance sets its own ``default_jobs`` from its filesystem
    capabilities = Capabilities(atomic_put=False, rename=True, cheap_listing=True, cheap_open=True, default_jobs=8)

    def __init__(self, root: str, url: str | None = None) -> None:
        from tide.core.fsutil import parallel_io

        self.root = os.path.abspath(root)
        self.url = url or root
        self._dirs: set[str] = set()
        self._new = NewFiles()
        # a directory on a network filesystem gains from many copies in flight; on a local disk
        # one thread is fastest (threads contend for kernel locks: see core/fsutil.NETWORK_FS)
        if not parallel_io(self.root):
            self.capabilities = LocalBackend.capabilities.replace(default_jobs=1)

    def _path(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StoragePermanent(f"invalid key {key!r}")
        return os.path.join(self.root, *key.split("/"))

    def exists(self, key: str) -> bool:
        return os.path.exists(self._path(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        base = os.path.join(self.root, *[p for p in prefix.split("/") if p])
        if not os.path.isdir(base):
            return
        root_len = len(self.root) + 1
        for d, dirs, files in os.walk(base):
            dirs.sort()
            rel = d[root_len:].replace(os.sep, "/")
            for f in sorted(files):
                if f.startswith(".") and f.endswith(".tmp"):
                    continue
                yield f"{rel}/{f}" if rel else f

    def modified(self, key: str) -> float | None:
        """When ``key`` was last written (seconds since the epoch); None if it is absent."""
        try:
            return os.stat(self._path(key)).st_mtime
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise translate(exc, f"stat {key}")

    def size(self, key: str) -> int:
        try:
            return os.stat(self._path(key)).st_size
        except FileNotFoundError:
            raise StorageNotFound(f"{key}: not found")
        except OSError as exc:
            raise translate(exc, f"stat {key}")

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb", buffering=0)  # unbuffered: no isatty, no seek
        except FileNotFoundError:
            raise StorageNotFound(f"{key}: not found")
        except OSError as exc:
            raise translate(exc, f"read {key}")

    def get_file(self, key: str, path: str) -> None:
        import shutil  # (here and below, not at the top: start-up time of a command that copies nothing)

        src = self._path(key)
        try:
            shutil.copyfile(src, path)
        except FileNotFoundError:
            if not os.path.exists(src):
                raise StorageNotFound(f"{key}: not found")
            raise
        except OSError as exc:
            raise translate(exc, f"download {key}")

    def _ensure_dir(self, d: str) -> None:
        if d not in self._dirs:
            try:
                os.makedirs(d, exist_ok=True)
            except OSError as exc:
                raise translate(exc, f"create directory {d}")
            self._dirs.add(d)

    def put_file(self, path: str, key: str) -> None:
        dst = self._path(key)
        self._ensure_dir(os.path.dirname(dst))
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = os.read(fd, SMALL + 1) if os.fstat(fd).st_size <= SMALL else None
            finally:
                os.close(fd)
            if data is not None and len(data) <= SMALL:
                self._new.write(dst, data, READONLY)  # appears under its name only when complete
                return
            tmp = tmp_name(dst)
            try:
                _kernel_copy(path, tmp)
                os.replace(tmp, dst)
            except BaseException:
                _unlink_quiet(tmp)
                raise
        except OSError as exc:
            raise translate(exc, f"upload {key}")

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        dst = self._path(key)
        self._ensure_dir(os.path.dirname(dst))
        tmp = tmp_name(dst)
        try:
            with open(tmp, "xb") as f:
                import shutil

                shutil.copyfileobj(stream, f, 1 << 20)
            os.chmod(tmp, READONLY)
            os.replace(tmp, dst)
        except BaseException as exc:
            _unlink_quiet(tmp)
            if isinstance(exc, OSError):
                raise translate(exc, f"upload {key}")
            raise

    def delete(self, key: str) -> None:
        _unlink_quiet(self._path(key))

    def close(self) -> None:
        pass


def _kernel_copy(src: str, tmp: str) -> None:
    """Copy ``src`` to the new read-only file ``tmp``: a reflink where the filesystem can, else a copy
    inside the kernel."""
    from tide.storage.localcopy import copy_fd

    sfd = os.open(src, os.O_RDONLY)
    try:
        dfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READONLY)
        try:
            copy_fd(sfd, dfd)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def open_backend(spec: RemoteSpec, env: Env) -> LocalBackend:
    url = spec.url
    path = url[len("file://"):] if url.startswith("file://") else url
    path = os.path.expanduser(path)
    return LocalBackend(path, url)
