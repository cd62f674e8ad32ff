"""Moving the run cache (``<cache>/runs/**`` <-> ``<remote>/runs/**``) file by file.

The pipeline owns the run-cache format; this module only copies its files, atomically, and
never replaces an entry that already exists on the other side (entries are content-named).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from tide.core.fsutil import tmp_name
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


def fetch_runs(cache_root: str, store: DvcLayoutStore, jobs: int) -> int:
    have = set(local_run_keys(cache_root))
    todo = [k for k in store.list_extra(PREFIX + "/") if k.startswith(PREFIX + "/") and k not in have]
    for k in todo:
        parts = k.split("/")
        if any(p in ("", ".", "..") for p in parts):
            from tide.core.errors import StorageError

            raise StorageError(f"remote run cache holds an unsafe name {k!r}")

    def one(key: str) -> None:
        dst = os.path.join(cache_root, *key.split("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = tmp_name(dst)
        try:
            with store.open_extra(key) as src, open(tmp, "xb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    with ThreadPoolExecutor(max(1, min(jobs, len(todo) or 1))) as pool:
        list(pool.map(one, todo))
    return len(todo)
