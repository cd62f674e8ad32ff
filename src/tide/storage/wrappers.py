"""Cross-cutting behaviour as wrappers that implement the same ``Backend`` protocol.

``RetryingBackend`` retries ``StorageTransient`` failures with exponential backoff and jitter.
Every wrapper exposes the wrapped backend as ``inner``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, NamedTuple, TypeVar

from tide.storage.base import Backend, StorageTransient

T = TypeVar("T")


class RetryPolicy(NamedTuple):
    attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        d = min(self.max_delay, self.base_delay * (2 ** attempt))
        import random

        return d * (0.5 + random.random() / 2)


class RetryingBackend:
    def __init__(self, inner: Backend, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner = inner
        self.url = inner.url
        self.capabilities = inner.capabilities
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.retries = 0  # how many calls were repeated (for the summary; approximate under threads)

    def _call(self, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except StorageTransient as exc:
                attempt += 1
                if attempt >= self.policy.attempts:
                    raise StorageTransient(f"{exc} (gave up after {attempt} attempts)")
                self.retries += 1
                self._sleep(self.policy.delay(attempt))

    def exists(self, key: str) -> bool:
        return self._call(lambda: self.inner.exists(key))

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        return self._call(lambda: self.inner.exists_many(keys))

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(self._call(lambda: list(self.inner.list(prefix))))

    def size(self, key: str) -> int:
        return self._call(lambda: self.inner.size(key))

    def open(self, key: str) -> BinaryIO:
        return self._call(lambda: self.inner.open(key))

    def get_file(self, key: str, path: str) -> None:
        self._call(lambda: self.inner.get_file(key, path))

    def stream(self, key: str) -> BinaryIO | None:
        fn = getattr(self.inner, "stream", None)
        return self._call(lambda: fn(key)) if fn else None

    def put_file(self, path: str, key: str) -> None:
        self._call(lambda: self.inner.put_file(path, key))

    def put_stream(self, stream: BinaryIO, key: str, size: int) -> None:
        start = stream.tell() if stream.seekable() else None

        def once() -> None:
            if start is not None:
                stream.seek(start)
            self.inner.put_stream(stream, key, size)

        if start is None:
            self.inner.put_stream(stream, key, size)
        else:
            self._call(once)

    def delete(self, key: str) -> None:
        self._call(lambda: self.inner.delete(key))

    def list_ages(self, prefix: str = "") -> list[tuple[str, float | None]] | None:
        """Keys with their ages from one listing, where the backend's listing carries them; else None."""
        fn = getattr(self.inner, "list_ages", None)
        return self._call(lambda: fn(prefix)) if fn else None

    def delete_many(self, keys: list[str]) -> bool:
        """Delete ``keys`` in as few requests as the backend can; False (nothing done) if it has no
        batch delete."""
        fn = getattr(self.inner, "delete_many", None)
        return bool(fn) and self._call(lambda: fn(keys))

    def modified(self, key: str) -> float | None:
        fn = getattr(self.inner, "modified", None)
        return self._call(lambda: fn(key)) if fn else None

    def close(self) -> None:
        self.inner.close()
