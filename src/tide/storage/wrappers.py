"""Cross-cutting behaviour as wrappers that are ``Backend``s themselves.

``BackendWrapper`` forwards every operation of the ``Backend`` contract to ``inner`` through one
hook, ``_call``; ``RetryingBackend`` is the one place transient failures are retried (the retry
policy and its budget: ``RetryPolicy`` and docs/storage.md, "Retries"). ``open_retrying`` opens a
remote's backend under the same policy (an SSH handshake is a request too) and wraps it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from tide.core.retry import RetryPolicy
from tide.storage.base import Backend

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import BinaryIO, TypeVar

    from tide.core.config import Env
    from tide.storage.base import RemoteSpec

    T = TypeVar("T")


class BackendWrapper(Backend):
    """A ``Backend`` that forwards every operation to ``inner`` through ``_call`` (identity here).

    ``list`` is read whole inside the call (a listing that fails half way is asked again whole);
    ``stream`` and ``open`` give the inner reader: its reads are not repeated (the transfer engine
    resumes a download that breaks, through ``get_file_resuming``)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.url = inner.url
        self.capabilities = inner.capabilities

    def _call(self, fn: Callable[[], T]) -> T:
        return fn()

    def exists(self, key: str) -> bool:
        return self._call(lambda: self.inner.exists(key))

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        return self._call(lambda: self.inner.exists_many(keys))

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(self._call(lambda: list(self.inner.list(prefix))))

    def list_ages(self, prefix: str = "") -> list[tuple[str, float | None]]:
        return self._call(lambda: list(self.inner.list_ages(prefix)))

    def size(self, key: str) -> int:
        return self._call(lambda: self.inner.size(key))

    def modified(self, key: str) -> float | None:
        return self._call(lambda: self.inner.modified(key))

    def etag(self, key: str) -> str | None:
        return self._call(lambda: self.inner.etag(key))

    def checksum(self, key: str) -> str | None:
        return self._call(lambda: self.inner.checksum(key))

    def version_id(self, key: str) -> str | None:
        return self._call(lambda: self.inner.version_id(key))

    def open_version(self, key: str, version_id: str) -> BinaryIO:
        return self._call(lambda: self.inner.open_version(key, version_id))

    def open(self, key: str) -> BinaryIO:
        return self._call(lambda: self.inner.open(key))

    def stream(self, key: str) -> BinaryIO | None:
        return self._call(lambda: self.inner.stream(key))

    def get_file(self, key: str, path: str) -> None:
        self._call(lambda: self.inner.get_file(key, path))

    def get_file_resuming(self, key: str, path: str) -> bool:
        # each attempt keeps what the one before received
        return self._call(lambda: self.inner.get_file_resuming(key, path))

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self._call(lambda: self.inner.read_range(key, offset, length))

    def put_file(self, path: str, key: str) -> None:
        self._call(lambda: self.inner.put_file(path, key))

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        start = stream.tell() if stream.seekable() else None
        if start is None:  # a stream read once cannot be sent again
            self.inner.put_stream(stream, key, size, sha256)
            return

        def once() -> None:
            stream.seek(start)
            self.inner.put_stream(stream, key, size, sha256)

        self._call(once)

    def delete(self, key: str) -> None:
        self._call(lambda: self.inner.delete(key))

    def delete_many(self, keys: list[str]) -> None:
        self._call(lambda: self.inner.delete_many(keys))

    def check_writable(self) -> None:
        self.inner.check_writable()

    def close(self) -> None:
        self.inner.close()


class RetryingBackend(BackendWrapper):
    """Retries ``StorageTransient`` failures of every operation by ``policy``; nothing below it
    retries (see docs/storage.md, "Retries", for the loops that remain and why they are not retries)."""

    def __init__(self, inner: Backend, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(inner)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.retries = 0  # how many calls were repeated, from every thread (changed under ``_lock``)
        import _thread

        self._lock = _thread.allocate_lock()

    def _call(self, fn: Callable[[], T]) -> T:
        return self.policy.run(fn, self._sleep, self._count)

    def _count(self) -> None:
        with self._lock:
            self.retries += 1


def open_retrying(spec: RemoteSpec, env: Env, policy: RetryPolicy | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> RetryingBackend:
    """Open the backend serving ``spec`` (connecting is retried by ``policy`` too) behind the retry wrapper."""
    from tide.storage.registry import open_backend

    policy = policy or RetryPolicy()
    backend = policy.run(lambda: open_backend(spec, env), sleep)
    return RetryingBackend(backend, policy, sleep)
