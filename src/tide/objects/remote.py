"""Objects on a remote in DVC 3's layout, addressed by object id.

    <url>/files/md5/ab/cdef...      file objects and ``.dir`` manifests (``hash: md5`` outputs)
    <url>/ab/cdef...                legacy objects (DVC 2.x outputs without ``hash:``)
    <url>/runs/...                  run cache

``ObjectStore`` is the interface the transfer engine talks to: object ids in, byte streams and
local files out. ``DvcLayoutStore`` is its implementation for DVC's layout on any ``Backend``; a
chunked pack-file store can implement the same protocol later.
"""

from __future__ import annotations

import math
from collections import defaultdict, namedtuple
from collections.abc import Callable, Collection, Iterator
from typing import BinaryIO, Protocol

from tide.objects.ref import ObjRef
from tide.storage.base import Backend, StorageError

PAGE = 1000  # keys per list request on object stores
_HEX = frozenset("0123456789abcdef")


class ObjectStore(Protocol):
    """Contract of a remote object store.

    - ``has_many(refs, jobs)`` returns the subset of ``refs`` present and complete on the remote,
      choosing between per-object checks and prefix listings to use as few requests as possible.
    - ``put(ref, path)`` uploads the local file ``path`` (whose bytes hash to ``ref.oid``); the
      object is visible only once complete.
    - ``open(ref)`` returns a stream of the object's bytes (``StorageNotFound`` if absent); when
      ``cheap_open`` is False, ``get_file(ref, path)`` (one request) is the better way to download,
      unless ``stream(ref)`` gives a reader that streams the whole object in one request (S3).
    - ``size(ref)`` returns its size in bytes.
    - ``iter_refs()`` yields every object on the remote (for garbage collection).
    - ``delete(ref)`` removes an object (missing is not an error).
    - ``list_extra(prefix)`` / ``put_extra`` / ``get_extra`` move non-object files such as the run
      cache (``runs/...``) by key.
    """

    url: str
    cheap_open: bool

    def has_many(self, refs: Collection[ObjRef], jobs: int) -> set[ObjRef]: ...
    def put(self, ref: ObjRef, path: str) -> None: ...
    def open(self, ref: ObjRef) -> BinaryIO: ...
    def get_file(self, ref: ObjRef, path: str) -> None: ...
    def size(self, ref: ObjRef) -> int: ...
    def iter_refs(self) -> Iterator[ObjRef]: ...
    def delete(self, ref: ObjRef) -> None: ...


def object_key(ref: ObjRef) -> str:
    o = ref.oid
    return f"{o[:2]}/{o[2:]}" if ref.legacy else f"files/md5/{o[:2]}/{o[2:]}"


def _ref_of(key: str) -> ObjRef | None:
    """The object a key of the DVC layout stands for (``files/md5/ab/cdef…`` or 2.x ``ab/cdef…``)."""
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "files" and parts[1] == "md5" and len(parts[2]) == 2:
        name = parts[2] + parts[3]
        return ObjRef(name, False) if _is_oid(name) else None
    if len(parts) == 2 and len(parts[0]) == 2 and _is_oid(parts[0] + parts[1]):
        return ObjRef(parts[0] + parts[1], True)
    return None


def _is_oid(name: str) -> bool:
    base = name[:-4] if name.endswith(".dir") else name
    return len(base) == 32 and all(c in _HEX for c in base)


# how the last ``has_many`` found its answer (reported with -v and used in tests): method, requests
QueryStats = namedtuple("QueryStats", "method requests", defaults=("none", 0))


class DvcLayoutStore:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.url = backend.url
        self.last_query = QueryStats()

    # --- existence -----------------------------------------------------------------------------
    def has_many(self, refs: Collection[ObjRef], jobs: int) -> set[ObjRef]:
        refs = list(dict.fromkeys(refs))
        if not refs:
            self.last_query = QueryStats("none", 0)
            return set()
        by_prefix: dict[str, list[ObjRef]] = defaultdict(list)
        for r in refs:
            key = object_key(r)
            by_prefix[key.rsplit("/", 1)[0]].append(r)
        caps = self.backend.capabilities
        jobs = max(1, jobs)
        if not (caps.listable and caps.cheap_listing) or len(refs) <= jobs:
            return self._by_exists(refs, jobs)
        # probe one prefix: its size estimates the remote's (ids are uniform over 256 prefixes)
        first = next(iter(by_prefix))
        first_keys = set(self.backend.list(first + "/"))
        pages = max(1, math.ceil(len(first_keys) / PAGE))
        # costs in request round trips, parallel strategies spread over ``jobs`` workers
        cost = {"exists": math.ceil(len(refs) / jobs),
                "list": math.ceil((len(by_prefix) - 1) * pages / jobs)}
        if caps.flat_listing:
            cost["traverse"] = math.ceil(len(first_keys) * 256 / PAGE) + 1
        best = min(cost, key=lambda k: (cost[k], k != "traverse"))
        if best == "traverse":
            return self._by_traverse(refs, by_prefix)
        if best == "list":
            return self._by_listing(by_prefix, first, first_keys, pages, jobs)
        known = {r for r in by_prefix[first] if object_key(r) in first_keys}
        rest = [r for r in refs if object_key(r).rsplit("/", 1)[0] != first]
        found = self._by_exists(rest, jobs) | known
        self.last_query = QueryStats("exists", len(rest) + 1)
        return found

    def _by_traverse(self, refs: list[ObjRef], by_prefix: dict[str, list[ObjRef]]) -> set[ObjRef]:
        """List every key under the layouts involved (flat listings: 1,000 keys per request)."""
        keys: set[str] = set()
        roots = {"files/md5/" if not r.legacy else "" for r in refs}
        for root in sorted(roots):
            keys.update(self.backend.list(root))
        self.last_query = QueryStats("traverse", max(1, math.ceil(len(keys) / PAGE)))
        return {r for r in refs if object_key(r) in keys}

    def _by_listing(self, by_prefix: dict[str, list[ObjRef]], first: str, first_keys: set[str],
                    pages: int, jobs: int) -> set[ObjRef]:
        found: set[ObjRef] = set()

        def one(prefix: str) -> set[ObjRef]:
            keys = first_keys if prefix == first else set(self.backend.list(prefix + "/"))
            return {r for r in by_prefix[prefix] if object_key(r) in keys}

        from concurrent.futures import ThreadPoolExecutor  # here: start-up time of a push

        with ThreadPoolExecutor(max(1, min(jobs, len(by_prefix)))) as pool:
            for part in pool.map(one, list(by_prefix)):
                found |= part
        self.last_query = QueryStats("list", len(by_prefix) * pages)
        return found

    def _by_exists(self, refs: list[ObjRef], jobs: int) -> set[ObjRef]:
        def one(r: ObjRef) -> ObjRef | None:
            return r if self.backend.exists(object_key(r)) else None

        if not refs:
            return set()
        if len(refs) == 1:
            hits = [one(refs[0])]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max(1, min(jobs, len(refs)))) as pool:
                hits = list(pool.map(one, refs))
        self.last_query = QueryStats("exists", len(refs))
        return {r for r in hits if r is not None}

    # --- objects -------------------------------------------------------------------------------
    def put(self, ref: ObjRef, path: str) -> None:
        self.check_writable()
        self.backend.put_file(path, object_key(ref))

    def check_writable(self) -> None:
        if not self.backend.capabilities.writable:
            from tide.storage.base import StoragePermanent

            raise StoragePermanent(f"remote '{self.url}' is read-only (this kind of remote cannot be written); "
                                   "push to another remote")

    def open(self, ref: ObjRef) -> BinaryIO:
        return self.backend.open(object_key(ref))

    @property
    def cheap_open(self) -> bool:
        return self.backend.capabilities.cheap_open

    def get_file(self, ref: ObjRef, path: str) -> None:
        self.backend.get_file(object_key(ref), path)

    def stream(self, ref: ObjRef) -> BinaryIO | None:
        """A reader streaming the whole object in one request; None where ``get_file`` is better."""
        fn = getattr(self.backend, "stream", None)
        return fn(object_key(ref)) if fn else None

    def size(self, ref: ObjRef) -> int:
        return self.backend.size(object_key(ref))

    def delete(self, ref: ObjRef) -> None:
        self.backend.delete(object_key(ref))

    def delete_many(self, refs: list[ObjRef]) -> bool:
        """Delete ``refs`` in as few requests as the backend can (S3: 1,000 a request); False, with
        nothing deleted, where it deletes one object per request (the caller then runs ``delete``
        on its threads)."""
        fn = getattr(self.backend, "delete_many", None)
        return bool(fn) and bool(fn([object_key(r) for r in refs]))

    def modified(self, ref: ObjRef) -> float | None:
        """When the object was written to the remote (seconds since the epoch), None if unknown."""
        fn = getattr(self.backend, "modified", None)
        return fn(object_key(ref)) if fn else None

    def iter_refs(self) -> Iterator[ObjRef]:
        if not self.backend.capabilities.listable:
            raise StorageError(f"remote '{self.url}' cannot be listed (this kind of remote has no listing)")
        for key in self.backend.list(""):
            ref = _ref_of(key)
            if ref is not None:
                yield ref

    def ages(self) -> dict[ObjRef, float | None] | None:
        """Every object with when it was written, from one listing, where the backend's listing
        says (S3); None where it does not (``iter_refs`` and ``modified`` then)."""
        fn = getattr(self.backend, "list_ages", None)
        listed = fn("") if fn and self.backend.capabilities.listable else None
        if listed is None:
            return None
        return {ref: when for key, when in listed if (ref := _ref_of(key)) is not None}

    # --- other files (run cache) ---------------------------------------------------------------
    def list_extra(self, prefix: str) -> list[str]:
        if not self.backend.capabilities.listable:
            raise StorageError(f"remote '{self.url}' cannot be listed (this kind of remote has no listing)")
        return list(self.backend.list(prefix))

    def put_extra(self, path: str, key: str) -> None:
        self.check_writable()
        self.backend.put_file(path, key)

    def open_extra(self, key: str) -> BinaryIO:
        return self.backend.open(key)

    def close(self) -> None:
        self.backend.close()


def open_store(backend: Backend) -> DvcLayoutStore:
    return DvcLayoutStore(backend)


ProgressFn = Callable[[int, int], None]
