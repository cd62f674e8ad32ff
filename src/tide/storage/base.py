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

import os
from collections.abc import Iterable, Iterator

from tide.core.errors import StorageError
from tide.core.retry import Transient
from tide.core.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import BinaryIO

CHUNK = 1 << 20  # bytes per read when copying a stream


class StorageNotFound(StorageError):
    """The key does not exist on the remote."""


class StorageTransient(StorageError, Transient):
    """A failure that may go away when the call is repeated (network, throttling, 5xx): the retry
    wrapper repeats these (``core.retry.RetryPolicy``)."""


class StoragePermanent(StorageError):
    """A failure that repeating will not fix (credentials, permissions, missing bucket)."""


class BackendMissing(StorageError):
    """The optional dependency for a URL scheme is not installed (the message says what to install)."""


class Capabilities(Value):  # immutable value; not a dataclass nor a NamedTuple: start-up time (core/values.py)
    """What a backend can do, as data (callers never test a backend's type, nor probe it for methods).

    ``atomic_put``: ``put`` makes a key visible only when complete by its nature (object stores:
    a PUT or a completed multipart upload); otherwise the backend writes a temporary key and
    renames it, which ``rename`` says it can do.
    ``writable``: False for read-only backends (``check_writable`` then raises).
    ``listable``: ``list`` works (plain HTTP cannot list).
    ``cheap_listing``: one list request returns many keys (object stores, SFTP per directory);
        the transfer engine prefers listing prefixes over per-key checks when it has many keys.
    ``flat_listing``: ``list`` pages through keys (1,000 per request) however deep they are (object
        stores); otherwise it walks one directory per request.
    ``cheap_open``: ``open`` costs no request before the data flows (local files); otherwise the
        transfer engine downloads with ``stream`` or ``get_file_resuming`` and hashes the result.
    ``listing_ages``: ``list_ages`` reads every key's age from the listing itself (S3's
        ListObjectsV2); otherwise it costs one ``modified`` request per key, and ``gc -c`` asks
        for the ages of the objects it would delete only, on its threads.
    ``batch_delete``: ``delete_many`` sends many keys per request (S3's DeleteObjects, 1,000);
        otherwise it is one ``delete`` per key, and ``gc -c`` runs them on its threads.
    ``default_jobs``: parallel requests when the user gives no ``-j`` / ``jobs``.
    ``assembles``: (a remote format's, never a backend's) objects are rebuilt from parts on the way
        down (the chunked format): downloads are hashed even where the remote says ``verify = false``.
    ``packs``: (a remote format's) ``put`` gathers objects into packs in memory that the store uploads
        on its own threads: the transfer engine puts from one thread (10,000 small files to S3 took
        1.6-2.0 s on 8 threads contending for the GIL and the store's lock, 0.8 s on one).
    """

    __slots__ = ("atomic_put", "rename", "writable", "listable", "cheap_listing", "flat_listing", "cheap_open",
                 "listing_ages", "batch_delete", "default_jobs", "assembles", "packs")
    _defaults = {"atomic_put": False, "rename": True, "writable": True, "listable": True, "cheap_listing": True,
                 "flat_listing": False, "cheap_open": False, "listing_ages": False, "batch_delete": False,
                 "default_jobs": 8, "assembles": False, "packs": False}
    atomic_put: bool
    rename: bool
    writable: bool
    listable: bool
    cheap_listing: bool
    flat_listing: bool
    cheap_open: bool
    listing_ages: bool
    batch_delete: bool
    default_jobs: int
    assembles: bool
    packs: bool


class RemoteSpec(Value):
    """A configured remote: its name (may be empty for ad-hoc URLs), URL and DVC options."""

    __slots__ = ("name", "url", "options")
    _defaults = {"options": ()}
    name: str
    url: str
    options: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return default

    @property
    def scheme(self) -> str:
        from tide.storage.registry import scheme_of

        return scheme_of(self.url)


class Backend:
    """The contract of every storage backend, and of every wrapper around one (``wrappers.py``).

    Every operation is declared here; a backend implements the eight marked *required* and may
    override the others, whose defaults are correct (if slower). Callers use only these methods and
    ``capabilities``; they never test a backend's type or probe it for a method. docs/storage.md
    ("The backend contract") states the guarantees and errors of each operation.

    Errors: ``StorageNotFound`` (the key does not exist), ``StorageTransient`` (worth repeating:
    the retry wrapper does, and nothing else), ``StoragePermanent`` (everything else); an
    ``OSError`` about a *local* path the caller gave (a source file that vanished) passes through.
    Every method may be called from several threads at once.
    """

    url: str = ""
    capabilities: Capabilities = Capabilities()

    # --- required --------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        """True only for a complete object, never for a partial upload or a temporary name."""
        raise NotImplementedError

    def list(self, prefix: str = "") -> Iterator[str]:
        """Every complete key under ``prefix`` (``files/md5/ab/`` or ``""`` for all), each once, never
        a temporary name; a prefix that does not exist yields nothing."""
        raise NotImplementedError

    def size(self, key: str) -> int:
        """The size in bytes; ``StorageNotFound`` if absent."""
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the whole object (the caller closes it); ``StorageNotFound``
        if absent. It may be lazy: the first ``read`` may be what fails."""
        raise NotImplementedError

    def get_file(self, key: str, path: str) -> None:
        """Write the object's bytes to the local ``path`` (the caller owns it and renames it);
        ``StorageNotFound`` if absent. A failure may leave part of the bytes in ``path``."""
        raise NotImplementedError

    def put_file(self, path: str, key: str) -> None:
        """Upload a local file. When it returns, ``key`` holds exactly the file's bytes; while it
        runs or after it fails, ``key`` is absent or its old complete content, never partial.
        Parent "directories" are created as needed; putting an existing key replaces it."""
        raise NotImplementedError

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        """``put_file`` for a byte stream of ``size`` bytes. ``sha256``: the stream's SHA-256 (hex) when
        the caller has it already (a chunked pack's name); a backend whose requests carry it (S3's
        signed payload hash) sends it instead of hashing the bytes again, the others ignore it."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove a key; a missing key is not an error."""
        raise NotImplementedError

    # --- optional, with correct defaults ---------------------------------------------------------
    def exists_many(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` that exist (default: one ``exists`` each)."""
        return {k for k in keys if self.exists(k)}

    def modified(self, key: str) -> float | None:
        """When ``key`` was last written (seconds since the epoch); None if it is absent or the
        backend cannot tell (default)."""
        return None

    def etag(self, key: str) -> str | None:
        """The server's entity tag of ``key`` without its quotes (what dvc records for an import-url
        of an object store or a web server); None if it is absent or the backend has none (default)."""
        return None

    def checksum(self, key: str) -> str | None:
        """What dvc records as ``checksum`` for an http(s) import-url: the ``ETag`` header as the server
        sent it (quotes kept), else ``Content-MD5``; None if absent or the backend has none (default)."""
        return None

    def version_id(self, key: str) -> str | None:
        """The version id of ``key``'s current object in a versioned bucket (what dvc records for
        ``import-url --version-aware``); None if it is absent, unversioned or the backend cannot tell
        (default)."""
        return None

    def open_version(self, key: str, version_id: str) -> BinaryIO:
        """A stream of the version ``version_id`` of ``key`` (``version_id`` tells it). Default:
        ``StoragePermanent``, the backend cannot read versions."""
        raise StoragePermanent(f"{key}: this remote cannot read an object's version ({self.url})")

    def list_ages(self, prefix: str = "") -> list[tuple[str, float | None]]:
        """``(key, modified)`` for every key ``list(prefix)`` yields. Default: one ``modified`` per key;
        ``capabilities.listing_ages`` says when the listing itself carries the ages."""
        return [(k, self.modified(k)) for k in self.list(prefix)]

    def delete_many(self, keys: list[str]) -> None:
        """Delete every key in ``keys`` (missing ones are no error). Default: one ``delete`` each;
        ``capabilities.batch_delete`` says when many go in one request. A failure may leave some
        keys deleted and others not."""
        for k in keys:
            self.delete(k)

    def stream(self, key: str) -> BinaryIO | None:
        """A reader of the whole object that costs one request (no request before the first read),
        or None (default) where ``get_file_resuming`` is the better way to download."""
        return None

    def get_file_resuming(self, key: str, path: str) -> bool:
        """``get_file``, except that bytes already in ``path`` (what an earlier attempt received)
        are kept and only the rest is asked for. Returns whether it resumed; the caller checks the
        whole file's hash. Default: ``open`` and ``seek`` past what ``path`` holds."""
        try:
            have = os.path.getsize(path)
        except FileNotFoundError:
            have = 0
        if not have:
            self.get_file(key, path)
            return False
        with self.open(key) as src, open(path, "ab") as out:
            src.seek(have)
            while chunk := src.read(CHUNK):
                out.write(chunk)
        return True

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of the object from ``offset`` (fewer only at its end); ``StorageNotFound``
        if absent. Default: ``open``, ``seek``, ``read`` (one ranged request on object stores)."""
        with self.open(key) as src:
            src.seek(offset)
            parts, want = [], length
            while want > 0 and (part := src.read(want)):
                parts.append(part)
                want -= len(part)
        return b"".join(parts)

    def check_writable(self) -> None:
        """Raise ``StoragePermanent`` when this remote cannot be written (``capabilities.writable``):
        one clear error before a push, instead of one failure per object."""
        if not self.capabilities.writable:
            raise StoragePermanent(f"remote '{self.url}' is read-only (this kind of remote cannot be written); "
                                   "push to another remote")

    def close(self) -> None:
        """Release connections; the backend is unusable afterwards."""


def join_key(root: str, key: str) -> str:
    """``root`` + ``/`` + ``key`` without doubled slashes (``root`` may be empty)."""
    root = root.rstrip("/")
    key = key.lstrip("/")
    if not root:
        return key
    return f"{root}/{key}" if key else root
