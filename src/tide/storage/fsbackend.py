"""A ``Backend`` over any fsspec filesystem (s3fs, gcsfs, adlfs, sshfs, webdav4, fsspec http).

Scheme modules build the filesystem from DVC options and wrap it here with their capabilities.
Backends without atomic puts upload to a temporary sibling key and rename it into place; since
keys are content-addressed, a rename onto a key that already exists keeps the existing object.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

from tide.storage.base import Backend, Capabilities, StorageNotFound, StoragePermanent, join_key
from tide.storage.errors import translate

CHUNK = 1 << 20


_MTIME_FIELDS = ("mtime", "LastModified", "last_modified", "modified", "updated", "time", "created")


def mtime_of(info: dict) -> float | None:
    """The modification time in an fsspec ``info()`` dict, whatever the filesystem calls it."""
    from datetime import UTC, datetime

    for name in _MTIME_FIELDS:
        v = info.get(name)
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(v, datetime):
            return (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def _tmp_key(key: str) -> str:
    head, _, name = key.rpartition("/")
    tmp = f".{secrets.token_urlsafe(16)}.tmp"
    return f"{head}/{tmp}" if head else tmp


class FsspecBackend(Backend):
    def __init__(self, fs: Any, root: str, url: str, capabilities: Capabilities, makedirs: bool = False) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.capabilities = capabilities
        self._makedirs = makedirs
        self._dirs: set[str] = set()
        self._lock = threading.Lock()

    def _p(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StoragePermanent(f"invalid key {key!r}")
        return join_key(self.root, key)

    def _rel(self, path: str) -> str:
        path = path.lstrip("/") if not self.root.startswith("/") else path
        root = self.root.lstrip("/") if not self.root.startswith("/") else self.root
        if root and path.startswith(root + "/"):
            return path[len(root) + 1:]
        return path

    def exists(self, key: str) -> bool:
        # not fs.exists(): fsspec's default swallows every error, so an unreachable remote looked
        # empty (status -c listed everything as new; found by the secrets tests)
        try:
            self.fs.info(self._p(key))
            return True
        except FileNotFoundError:
            return False
        except Exception as exc:  # SDK errors are translated at the boundary
            raise translate(exc, f"check {key}")

    def list(self, prefix: str = "") -> Iterator[str]:
        base = join_key(self.root, prefix.rstrip("/")) if prefix else self.root
        try:
            found = self.fs.find(base, withdirs=False)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise translate(exc, f"list {prefix or '/'}")
        for p in sorted(found):
            name = p.rsplit("/", 1)[-1]
            if name.startswith(".") and name.endswith(".tmp"):
                continue
            rel = self._rel(p)
            if prefix.endswith("/") and not rel.startswith(prefix):  # find() of a file finds the file itself
                continue
            yield rel

    def modified(self, key: str) -> float | None:
        """When ``key`` was last written (seconds since the epoch); None if absent or not reported."""
        try:
            info = self.fs.info(self._p(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise translate(exc, f"stat {key}")
        return mtime_of(info)

    def etag(self, key: str) -> str | None:
        """The ETag fsspec's info reports (s3fs, gcsfs, http ...) without quotes; None without one."""
        try:
            info = self.fs.info(self._p(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise translate(exc, f"stat {key}")
        tag = info.get("ETag") or info.get("etag")
        return str(tag).strip('"') if tag else None

    def size(self, key: str) -> int:
        try:
            info = self.fs.info(self._p(key))
        except Exception as exc:
            raise translate(exc, f"stat {key}")
        size = info.get("size")
        if size is None:
            raise StoragePermanent(f"stat {key}: the remote reports no size")
        return int(size)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.fs.open(self._p(key), "rb")
        except Exception as exc:
            raise translate(exc, f"read {key}")

    def get_file(self, key: str, path: str) -> None:
        try:
            self.fs.get_file(self._p(key), path)
        except Exception as exc:
            raise translate(exc, f"download {key}")

    def _ensure_parent(self, key: str) -> None:
        if not self._makedirs or "/" not in key:
            return
        parent = self._p(key.rsplit("/", 1)[0])
        with self._lock:
            if parent in self._dirs:
                return
        try:
            self.fs.makedirs(parent, exist_ok=True)
        except FileExistsError:
            pass
        except Exception as exc:
            # another thread or client created it between the check and the MKCOL (WebDAV answers 405)
            if not self._isdir_quiet(parent):
                raise translate(exc, f"create directory {parent}")
        with self._lock:
            self._dirs.add(parent)

    def _isdir_quiet(self, path: str) -> bool:
        try:
            return bool(self.fs.isdir(path))
        except Exception:  # the original error is the one to report
            return False

    def _commit(self, tmp: str, key: str) -> None:
        try:
            self.fs.mv(self._p(tmp), self._p(key))
        except Exception as exc:
            # content-addressed keys: if the target appeared meanwhile it holds the same bytes
            with contextlib.suppress(Exception):
                if self.fs.exists(self._p(key)):
                    self._delete_quiet(tmp)
                    return
            self._delete_quiet(tmp)
            raise translate(exc, f"rename into {key}")

    def _delete_quiet(self, key: str) -> None:
        with contextlib.suppress(Exception):
            self.fs.rm_file(self._p(key))

    def put_file(self, path: str, key: str) -> None:
        self._ensure_parent(key)
        if self.capabilities.atomic_put:
            try:
                self.fs.put_file(path, self._p(key))
            except Exception as exc:
                raise translate(exc, f"upload {key}")
            return
        tmp = _tmp_key(key)
        try:
            self.fs.put_file(path, self._p(tmp))
        except BaseException as exc:
            self._delete_quiet(tmp)
            if isinstance(exc, Exception):
                raise translate(exc, f"upload {key}")
            raise
        self._commit(tmp, key)

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        self._ensure_parent(key)
        target = key if self.capabilities.atomic_put else _tmp_key(key)
        try:
            with self.fs.open(self._p(target), "wb") as f:
                while chunk := stream.read(CHUNK):
                    f.write(chunk)
        except BaseException as exc:
            if target != key:
                self._delete_quiet(target)
            if isinstance(exc, Exception):
                raise translate(exc, f"upload {key}")
            raise
        if target != key:
            self._commit(target, key)

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._p(key))
        except FileNotFoundError:
            pass
        except Exception as exc:
            err = translate(exc, f"delete {key}")
            if not isinstance(err, StorageNotFound):
                raise err

    def close(self) -> None:
        pass
