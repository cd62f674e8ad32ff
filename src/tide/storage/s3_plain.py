"""``S3PlainBackend``: an S3 remote served entirely by tide's own signed HTTP requests (``s3_http.py``).

Chosen by ``s3.open_backend`` when the requests it sends are exactly what s3fs would send (no
``sse*``, ``acl`` or ``grant_*`` options), no proxy is named for the endpoint and tide found
credentials itself. Every operation is one or a few plain requests: HEAD for existence, size and
age; ListObjectsV2 (1,000 keys with their ages per request) for listings; one streamed GET per
download (a Range request to resume); PutObject below 100 MiB and a resumable multipart upload
(``s3_calls.py``) above; DeleteObject, and DeleteObjects for 1,000 keys at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from tide.storage import s3_http
from tide.storage.base import StorageNotFound, StoragePermanent, join_key
from tide.storage.s3 import CAPS, MultipartCalls, S3Puts
from tide.storage.s3_http import S3Http

PLAIN_CAPS = CAPS.replace(listing_ages=True, batch_delete=True)


class S3PlainBackend(S3Puts):
    capabilities = PLAIN_CAPS

    def __init__(self, http: S3Http, root: str, url: str) -> None:
        self.http = http
        self.root = root.rstrip("/")
        self.url = url

    def _p(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StoragePermanent(f"invalid key {key!r}")
        return join_key(self.root, key)

    def _obj(self, key: str) -> str:
        """``key`` relative to the bucket (the client serves one bucket)."""
        return self._p(key).partition("/")[2]

    # --- reading -----------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.http.head(self._obj(key))

    def _stat(self, key: str) -> tuple[int | None, float | None] | None:
        return self.http.stat(self._obj(key))

    def size(self, key: str) -> int:
        found = self._stat(key)
        if found is None:
            raise StorageNotFound(f"{key}: not found")
        if found[0] is None:
            raise StoragePermanent(f"stat {key}: the remote reports no size")
        return found[0]

    def modified(self, key: str) -> float | None:
        found = self._stat(key)
        return found[1] if found else None

    def etag(self, key: str) -> str | None:
        return self.http.etag(self._obj(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        for key, _ in self.list_ages(prefix):
            yield key

    def list_ages(self, prefix: str = "") -> list[tuple[str, float | None]]:
        """The keys under ``prefix`` with when each was last written, from the listing itself."""
        bucket, _, base = (join_key(self.root, prefix.rstrip("/")) if prefix else self.root).partition("/")
        inside = self.root.partition("/")[2]
        cut = len(inside) + 1 if inside else 0
        out = []
        for k, when in sorted(self.http.list_ages(base + "/" if base else ""), key=lambda kw: kw[0]):
            name = k.rsplit("/", 1)[-1]
            if not (name.startswith(".") and name.endswith(".tmp")):
                out.append((k[cut:], when))
        return out

    def open(self, key: str) -> BinaryIO:
        """A lazy reader: one GET on the first read, from where a ``seek`` before it points (Range)."""
        return self.http.open(self._obj(key))

    def version_id(self, key: str) -> str | None:
        return self.http.version_id(self._obj(key))

    def open_version(self, key: str, version_id: str) -> BinaryIO:
        return self.http.open(self._obj(key), version_id)

    def stream(self, key: str) -> BinaryIO:
        return self.http.open(self._obj(key))

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self.http.get_range(self._obj(key), offset, length)

    def get_file(self, key: str, path: str) -> None:
        self.http.get_to(self._obj(key), path)

    # --- writing -----------------------------------------------------------------------------------
    def _put_small(self, bucket: str, obj: str, data: bytes, sha256: str | None = None) -> None:
        self.http.put(obj, data, sha256)

    def _multipart_calls(self) -> MultipartCalls:
        from tide.storage.s3_calls import PlainCalls

        return MultipartCalls(PlainCalls(self.http), True)

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        if size < 2 * self.part_size:
            data = stream.read()
            bucket, _, obj = self._p(key).partition("/")
            self._put_small(bucket, obj, data, sha256)
            return
        import shutil
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix="tide-s3-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            self.put_file(tmp, key)
        finally:
            os.unlink(tmp)

    def delete(self, key: str) -> None:
        self.http.delete(self._obj(key))

    def delete_many(self, keys: list[str]) -> None:
        """1,000 keys to a DeleteObjects request; a key S3 could not delete raises, naming it."""
        batch = s3_http.DELETE_BATCH
        for i in range(0, len(keys), batch):
            self.http.delete_many([self._obj(k) for k in keys[i:i + batch]])
