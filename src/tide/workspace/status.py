"""Workspace status of tracked outputs: what changed since they were recorded."""

from __future__ import annotations

import os

from tide.core.errors import MissingError
from tide.objects.cache import ObjectCache
from tide.workspace.hashing import Hasher
from tide.workspace.pointers import Out
from tide.workspace.state import State


def out_status(out: Out, hasher: Hasher, cache: ObjectCache) -> str | None:
    """``None`` when up to date, else ``deleted`` / ``modified`` / ``not in cache``.

    As dvc (``Output.status``): a cached output whose recorded object (or, for a directory, any file
    object) is missing from the cache is ``not in cache`` whatever the workspace holds, so a fresh
    clone says ``not in cache`` rather than ``deleted``."""
    if out.md5 is not None and out.use_cache and not cache_has(out, cache, hasher.state):
        return "not in cache"
    if not os.path.lexists(out.abspath):
        return "deleted"
    if out.md5 is None:
        return "modified"
    try:
        res = hasher.hash_path(out.abspath, want_files=False)
    except MissingError:
        return "deleted"
    if out.legacy:
        # legacy outputs were hashed with md5-dos2unix; equal plain md5 or a cache hit means unchanged
        if res.md5 != out.md5 and not _legacy_same(out, res, hasher):
            return "modified"
    elif res.md5 != out.md5:
        return "modified"
    return None


def _legacy_same(out: Out, res, hasher: Hasher) -> bool:
    """Whether a legacy (DVC 2.x) output is unchanged: its files hashed with md5-dos2unix, as DVC 2.x
    did, give the recorded hash (text files with CRLF hash differently than with plain md5)."""
    if out.is_dir != res.is_dir:
        return False
    if out.is_dir:
        return hasher.legacy_dir_oid(out.abspath) == out.md5
    from tide.core.hashing import file_md5_dos2unix

    return file_md5_dos2unix(out.abspath) == out.md5


def cache_has(out: Out, cache: ObjectCache, state: State | None = None) -> bool:
    """Whether the cache holds the output's object and, for a directory, every file object.

    With a ``state``, a directory found complete is remembered with the cache's fingerprint, so the
    next check costs one ``stat`` per cache directory while no object was added or removed.
    """
    if out.md5 is None:
        return False
    if not cache.exists_protected(out.md5, out.legacy):
        return False
    if out.is_dir:
        from tide.core import manifest
        from tide.core.errors import TideError

        key = _complete_key(out.md5, out.legacy)
        fp = cache.fingerprint(out.legacy) if state is not None else None
        if fp is not None:
            row = state.lookup_dir(key)
            if row is not None and row[0] == fp:
                return True
        try:
            entries = manifest.parse(cache.read_bytes(out.md5, out.legacy))
        except (TideError, OSError):
            return False
        if cache.missing((e.md5 for e in entries), out.legacy):
            return False
        if fp is not None:
            state.save_dir(key, fp, out.md5, 0, len(entries))
    return True


def _complete_key(md5: str, legacy: bool) -> str:
    return f"/complete/{'legacy/' if legacy else ''}{md5}"  # relpaths never start with /


def known_complete(md5: str, legacy: bool, cache: ObjectCache, state: State, fingerprints: dict) -> bool:
    """Whether directory ``md5`` was found complete in the cache (``cache_has``) and no object was
    added to or removed from the cache since (its fingerprint); nothing else is checked.
    ``fingerprints``: legacy flag -> fingerprint, filled on first use (one per call site)."""
    if legacy not in fingerprints:
        fingerprints[legacy] = cache.fingerprint(legacy)
    fp = fingerprints[legacy]
    if fp is None:
        return False
    row = state.lookup_dir(_complete_key(md5, legacy))
    return row is not None and row[0] == fp


def record_complete(refs, state: State, fingerprints: dict) -> None:
    """Remember directories (``ObjRef``s) found complete in the cache, as ``cache_has`` does, with
    the fingerprints ``known_complete`` took BEFORE the check (a removal after it then shows)."""
    for ref in refs:
        fp = fingerprints.get(ref.legacy)
        if fp is not None:
            state.save_dir(_complete_key(ref.oid, ref.legacy), fp, ref.oid, 0, 0)
