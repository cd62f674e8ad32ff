"""Workspace status of tracked outputs: what changed since they were recorded."""

from __future__ import annotations

import os

from tide.core.errors import MissingError
from tide.objects.cache import ObjectCache
from tide.workspace.hashing import Hasher
from tide.workspace.pointers import Out


def out_status(out: Out, hasher: Hasher, cache: ObjectCache) -> str | None:
    """``None`` when up to date, else ``deleted`` / ``modified`` / ``not in cache``."""
    if not os.path.lexists(out.abspath):
        return "deleted"
    if out.md5 is None:
        return "modified"
    try:
        res = hasher.hash_path(out.abspath)
    except MissingError:
        return "deleted"
    if out.legacy:
        # legacy outputs were hashed with md5-dos2unix; equal plain md5 or a cache hit means unchanged
        if res.md5 != out.md5 and not _legacy_same(out, res, cache):
            return "modified"
    elif res.md5 != out.md5:
        return "modified"
    if out.use_cache and not cache_has(out, cache):
        return "not in cache"
    return None


def _legacy_same(out: Out, res, cache: ObjectCache) -> bool:  # noqa: ANN001
    from tide.core.hashing import file_md5_dos2unix

    if out.is_dir or res.is_dir:
        return False
    return file_md5_dos2unix(out.abspath) == out.md5


def cache_has(out: Out, cache: ObjectCache) -> bool:
    if out.md5 is None:
        return False
    if not cache.exists(out.md5, out.legacy):
        return False
    if out.is_dir:
        from tide.core import manifest
        from tide.core.errors import TideError

        try:
            entries = manifest.parse(cache.read_bytes(out.md5, out.legacy))
        except (TideError, OSError):
            return False
        return all(cache.exists(e.md5, out.legacy) for e in entries)
    return True
