"""The storage plugin family: one ``Backend`` per URL scheme, addressed by posix keys.

A backend is a flat key -> bytes store rooted at a remote URL (``s3://bucket/path``,
``/mnt/remote``, ``ssh://host/dir``...). Keys are posix paths relative to that root, such as
``files/md5/ab/cdef...`` or ``runs/ab/<sha>/<sha>``. Backends know nothing of object ids,
caches or repositories: the objects layer maps ids to keys (see ``tide.objects.remote``).

Errors are translated at the boundary into ``tide.core.errors`` types defined here:
``StorageNotFound`` (the key does not exist), ``StorageTransient`` (worth retrying: a reset
connection, a timeout, a 5xx, throttling) and ``StoragePermanent`` (everything else: bad
credentials, permission denied, bucket missing). The retry wrapper (``wrappers.py``) retries
only ``StorageTransient``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple, Protocol, runtime_checkable

from tide.core.errors import StorageError


class StorageNotFound(StorageError):
    """The key does not exist on the remote."""


class StorageTransient(StorageError):
    """A failure that may go away when the call is repeated (network, throttling, 5xx)."""


class StoragePermanent(StorageError):
    """A failure that repeating will not fix (credentials, permissions, missing bucket)."""


class BackendMissing(StorageError):
    """The optional dependency for a URL scheme is not installed (the message says what to install)."""


class Capabilities(NamedTuple):  # immutable value; not a dataclass: `dataclasses` costs ~9 ms to import
    """What a backend can do, as data (callers never test a backend's type).

    ``atomic_put``: ``put`` makes a key visible only when complete by its nature (object stores:
    a PUT or a completed multipart upload); otherwise the backend writes a temporary key and
    renames it, which ``rename`` says it can do.
    ``writable``: False for read-only backends (plain HTTP).
    ``listable``: ``list`` works (plain HTTP cannot list).
    ``cheap_listing``: one list request returns many keys (object stores, SFTP per directory);
        the transfer engine prefers listing prefixes over per-key checks when it has many keys.
    ``flat_listing``: ``list`` pages through keys (1,000 per request) however deep they are (object
        stores); otherwise it walks one directory per request.
    ``cheap_open``: ``open`` costs no request before the data flows (local files); otherwise the
        transfer engine downloads with ``get_file`` (one request) and hashes the result.
    ``default_jobs``: parallel requests when the user gives no ``-j`` / ``jobs``.
    """

    atomic_put: bool = False
    rename: bool = True
    writable: bool = True
    listable: bool = True
    cheap_listing: bool = True
    flat_listing: bool = False
    cheap_open: bool = False
    default_jobs: int = 8


class RemoteSpec(NamedTuple):
    """A configured remote: its name (may be empty for ad-hoc URLs), URL and DVC options."""

    name: str
    url: str
    options: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return default

    @property
    def scheme(self) -> str:
        from tide.storage.registry import scheme_of

        return scheme_of(self.url)


@runtime_checkable
class Backend(Protocol):
    """Contract of every storage backend.

    - ``exists(key)`` MUST return True only for a complete object, never for a partial upload.
    - ``exists_many(keys)`` returns the subset of ``keys`` that exist; it MAY batch requests.
    - ``list(prefix)`` yields every complete key under ``prefix`` (a directory-like prefix such
      as ``files/md5/ab/``, or ``""`` for all), each exactly once, never temporary names.
      A prefix that does not exist yields nothing (no error).
    - ``size(key)`` returns the size in bytes or raises ``StorageNotFound``.
    - ``open(key)`` returns a readable binary stream of the whole object or raises
      ``StorageNotFound``; the caller closes it.
    - ``get_file(key, path)`` writes the object's bytes to the local ``path`` (which the caller
      owns and will rename); raises ``StorageNotFound``.
    - ``put_file(path, key)`` uploads a local file. When it returns, ``key`` holds exactly the
      file's bytes; while it runs or after it fails, ``key`` is either absent or its old
      complete content, never partial. Parent "directories" are created as needed. Putting an
      existing key replaces it.
    - ``put_stream(stream, key, size)`` is ``put_file`` for a byte stream of known size.
    - ``delete(key)`` removes a key; deleting a missing key is not an error.
    - ``close()`` releases connections; the backend is unusable afterwards.
    - Every method may be called from several threads at once.
    """

    url: str
    capabilities: Capabilities

    def exists(self, key: str) -> bool: ...
    def exists_many(self, keys: Iterable[str]) -> set[str]: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def size(self, key: str) -> int: ...
    def open(self, key: str) -> BinaryIO: ...
    def get_file(self, key: str, path: str) -> None: ...
    def put_file(self, path: str, key: str) -> None: ...
    def put_stream(self, stream: BinaryIO, key: str, size: int) -> None: ...
    def delete(self, key: str) -> None: ...
    def close(self) -> None: ...


def join_key(root: str, key: str) -> str:
    """``root`` + ``/`` + ``key`` without doubled slashes (``root`` may be empty)."""
    root = root.rstrip("/")
    key = key.lstrip("/")
    if not root:
        return key
    return f"{root}/{key}" if key else root
