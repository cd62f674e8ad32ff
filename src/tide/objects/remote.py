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

from tide.objects.ref import ObjRef
from tide.storage.base import Backend, Capabilities, StorageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import BinaryIO

PAGE = 1000  # keys per list request on object stores
_HEX = frozenset("0123456789abcdef")


class ObjectStore:
    """The contract of a remote *format*: how objects are laid out over a ``Backend``.

    The transfer engine, ``status -c`` and ``gc -c`` speak only this interface, in object ids,
    local files and byte streams, never in keys or paths on the remote, so a second format (DVC's
    layout here; content-defined chunks in pack files later) sits behind it over any backend.
    Every operation is declared here; the required ones raise ``NotImplementedError``, the others
    have correct defaults. Errors are the backend's (``tide.storage.base``); retries happen in the
    backend's wrapper, below the format, never here.

    - ``has_many(refs, jobs)``: the subset of ``refs`` present and complete on the remote, in as few
      requests as the format can.
    - ``put(ref, path)``: upload the local file ``path`` (whose bytes hash to ``ref.oid``); the object
      is visible only once complete.
    - ``open(ref)``: a stream of the object's bytes (``StorageNotFound`` if absent). When
      ``capabilities.cheap_open`` is False, ``stream(ref)`` (one request, or None) and then
      ``get_file_resuming(ref, path)`` are the better ways to download.
    - ``size(ref)``, ``modified(ref)`` (None: unknown), ``iter_refs()`` (every object, for gc),
      ``ages()`` (every object with its age, from one listing where ``capabilities.listing_ages``).
    - ``delete(ref)`` (missing is no error), ``delete_many(refs)`` (in as few requests as the
      backend can: ``capabilities.batch_delete``; manifests before files is the caller's order).
    - ``list_extra(prefix)`` / ``put_extra`` / ``open_extra``: non-object files such as the run cache
      (``runs/...``) and gc's epoch token, by key.
    - ``flush()``: make what ``put`` accepted durable (a format that batches objects, such as the
      chunked one, writes its pack and index here); returns the objects that could not be made so,
      with why. The transfer engine calls it once at the end of a push; default: nothing to do.
    - ``gc(remove, jobs)``: ``gc -c``'s deletion: remove these objects (manifests first) and reclaim
      whatever else the format holds for them; returns how many were removed.
    - ``verify(sample, jobs)``: ``fsck -c``: check the remote's objects (``sample`` of them, None: all)
      and the format's own structures; returns one line per problem.
    """

    backend: Backend  # what the format lays its files over (set by each format's constructor)

    url: str = ""
    capabilities: Capabilities = Capabilities()

    # --- required ----------------------------------------------------------------------------------
    def has_many(self, refs: Collection[ObjRef], jobs: int) -> set[ObjRef]:
        raise NotImplementedError

    def put(self, ref: ObjRef, path: str) -> None:
        raise NotImplementedError

    def open(self, ref: ObjRef) -> BinaryIO:
        raise NotImplementedError

    def get_file(self, ref: ObjRef, path: str) -> None:
        raise NotImplementedError

    def size(self, ref: ObjRef) -> int:
        raise NotImplementedError

    def iter_refs(self) -> Iterator[ObjRef]:
        raise NotImplementedError

    def delete(self, ref: ObjRef) -> None:
        raise NotImplementedError

    # other files (run cache, gc epoch) in DVC's places on the store's ``backend``, in every format
    def list_extra(self, prefix: str) -> list[str]:
        self._listable()
        return list(self.backend.list(prefix))

    def put_extra(self, path: str, key: str) -> None:
        self.check_writable()
        self.backend.put_file(path, key)

    def open_extra(self, key: str) -> BinaryIO:
        return self.backend.open(key)

    def _listable(self) -> None:
        if not self.backend.capabilities.listable:
            raise StorageError(f"remote '{self.url}' cannot be listed (this kind of remote has no listing)")

    # --- optional, with correct defaults -----------------------------------------------------------
    @property
    def cheap_open(self) -> bool:
        return self.capabilities.cheap_open

    def stream(self, ref: ObjRef) -> BinaryIO | None:
        """A reader streaming the whole object in one request; None where ``get_file_resuming`` is better."""
        return None

    def get_file_resuming(self, ref: ObjRef, path: str) -> bool:
        """``get_file`` that keeps the bytes already in ``path`` and asks for the rest; whether it resumed."""
        self.get_file(ref, path)
        return False

    def modified(self, ref: ObjRef) -> float | None:
        return None

    def ages(self) -> dict[ObjRef, float | None]:
        return {ref: self.modified(ref) for ref in self.iter_refs()}

    def delete_many(self, refs: list[ObjRef]) -> None:
        for ref in refs:
            self.delete(ref)

    def flush(self) -> dict[ObjRef, str]:
        return {}

    def gc(self, remove: list[ObjRef], jobs: int) -> int:
        dirs = [r for r in remove if r.is_dir]
        files = [r for r in remove if not r.is_dir]
        for batch in (dirs, files):  # manifests first: a remote never keeps one whose files are gone
            if batch and self.capabilities.batch_delete:
                self.delete_many(batch)  # S3: 1,000 keys a request
            elif batch:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max(1, min(jobs, len(batch)))) as pool:
                    list(pool.map(self.delete, batch))
        return len(remove)

    def verify(self, sample: int | None, jobs: int) -> list[str]:
        """Default: download the objects (a random ``sample`` of them) and check each one's md5."""
        import random

        refs = sorted(self.iter_refs())
        if sample is not None and len(refs) > sample:
            refs = sorted(random.sample(refs, sample))

        def one(ref: ObjRef) -> str | None:
            from tide.core.hashing import md5_stream_matches

            try:
                with self.open(ref) as src:
                    ok = md5_stream_matches(src, ref.oid.removesuffix(".dir"), ref.legacy and not ref.is_dir)
            except StorageError as exc:
                return f"{ref.oid}: cannot be read ({exc})"
            return None if ok else f"{ref.oid}: corrupt (its content does not hash to its id)"

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(jobs, len(refs) or 1))) as pool:
            return [p for p in pool.map(one, refs) if p]

    def check_writable(self) -> None:
        if not self.capabilities.writable:
            from tide.storage.base import StoragePermanent

            raise StoragePermanent(f"remote '{self.url}' is read-only (this kind of remote cannot be written); "
                                   "push to another remote")

    def close(self) -> None:
        pass


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


class DvcLayoutStore(ObjectStore):
    """DVC 3's layout (module docstring) over any ``Backend``: one key per object."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.url = backend.url
        self.capabilities = backend.capabilities
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
        self.backend.check_writable()

    def open(self, ref: ObjRef) -> BinaryIO:
        return self.backend.open(object_key(ref))

    def get_file(self, ref: ObjRef, path: str) -> None:
        self.backend.get_file(object_key(ref), path)

    def get_file_resuming(self, ref: ObjRef, path: str) -> bool:
        return self.backend.get_file_resuming(object_key(ref), path)

    def stream(self, ref: ObjRef) -> BinaryIO | None:
        return self.backend.stream(object_key(ref))

    def size(self, ref: ObjRef) -> int:
        return self.backend.size(object_key(ref))

    def delete(self, ref: ObjRef) -> None:
        self.backend.delete(object_key(ref))

    def delete_many(self, refs: list[ObjRef]) -> None:
        self.backend.delete_many([object_key(r) for r in refs])

    def modified(self, ref: ObjRef) -> float | None:
        return self.backend.modified(object_key(ref))

    def iter_refs(self) -> Iterator[ObjRef]:
        self._listable()
        for key in self.backend.list(""):
            ref = _ref_of(key)
            if ref is not None:
                yield ref

    def ages(self) -> dict[ObjRef, float | None]:
        """Every object with when it was written (one listing where ``capabilities.listing_ages``,
        else one ``modified`` per key)."""
        self._listable()
        return {ref: when for key, when in self.backend.list_ages("") if (ref := _ref_of(key)) is not None}

    def close(self) -> None:
        self.backend.close()


def open_store(backend: Backend) -> DvcLayoutStore:
    return DvcLayoutStore(backend)


ProgressFn = Callable[[int, int], None]
