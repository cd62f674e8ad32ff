"""Moving the run cache (``<cache>/runs/**`` <-> ``<remote>/runs/**``) file by file.

The pipeline owns the run-cache format; this module only copies its files, atomically, and
never replaces an entry that already exists on the other side (entries are content-named).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tide.objects.remote import DvcLayoutStore

PREFIX = "runs"


def local_run_keys(cache_root: str) -> list[str]:
    base = os.path.join(cache_root, PREFIX)
    keys = []
    for d, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.startswith(".") and f.endswith(".tmp"):
                continue
            rel = os.path.relpath(os.path.join(d, f), cache_root).replace(os.sep, "/")
            keys.append(rel)
    return keys


def push_runs(cache_root: str, store: DvcLayoutStore, jobs: int) -> int:
    keys = local_run_keys(cache_root)
    if not keys:
        return 0
    remote = set(store.list_extra(PREFIX + "/"))
    todo = [k for k in keys if k not in remote]

    def one(key: str) -> None:
        store.put_extra(os.path.join(cache_root, *key.split("/")), key)

    with ThreadPoolExecutor(max(1, min(jobs, len(todo) or 1))) as pool:
        list(pool.map(one, todo))
    return len(todo)


def fetch_runs(cache_root: str, store: DvcLayoutStore, jobs: int, admit: Callable[[str, bytes], bool]) -> int:
    """Copy the remote's run-cache entries this cache lacks. Each goes through ``admit`` (the
    pipeline's door, ``RunCache.admit``: it writes an entry only if it hashes to its name); an entry
    refused is reported after the others are in (CacheError)."""
    have = set(local_run_keys(cache_root))
    todo = [k for k in store.list_extra(PREFIX + "/") if k.startswith(PREFIX + "/") and k not in have]
    for k in todo:
        parts = k.split("/")
        if any(p in ("", ".", "..") for p in parts):
            from tide.core.errors import StorageError

            raise StorageError(f"remote run cache holds an unsafe name {k!r}")

    def one(key: str) -> bool:
        with store.open_extra(key) as src:
            return admit(key, src.read())

    with ThreadPoolExecutor(max(1, min(jobs, len(todo) or 1))) as pool:
        refused = [k for k, ok in zip(todo, pool.map(one, todo), strict=True) if not ok]
    if refused:
        from tide.core.errors import CacheError

        more = f" and {len(refused) - 1} more" if len(refused) > 1 else ""
        raise CacheError(f"run-cache entry '{refused[0]}'{more} on the remote does not hash to its name: refused")
    return len(todo)
