"""``tide cache migrate``: copy DVC 2.x objects (``<cache>/ab/cdef``, md5-dos2unix) into the 3.x layout
(``<cache>/files/md5/``), each re-hashed with md5 of its bytes, as dvc's ``cache migrate``: a manifest keeps
its bytes (and the entries' 2.x hashes) and is named by their md5 plus ``.dir``; the 2.x objects stay.
dvc hard-links the new objects; tide writes them through the cache's one door (which hashes what it
writes), so a migrated object takes its space twice until ``gc`` removes the 2.x copy."""

from __future__ import annotations

import hashlib

from tide.workspace.repo import Repo


def legacy_objects(repo: Repo) -> list[str]:
    return sorted(oid for oid, legacy in repo.cache.iter_oids() if legacy)


def migrate(repo: Repo) -> int:
    """Objects added to the 3.x cache (those already there are not counted, as in dvc)."""
    cache = repo.cache
    added = 0
    with repo.lock():
        for oid in legacy_objects(repo):
            src = cache.path(oid, True)
            if oid.endswith(".dir"):
                raw = cache.read_bytes(oid, True)
                new = hashlib.md5(raw).hexdigest() + ".dir"
                if not cache.exists(new):
                    cache.put_bytes(raw, new)
                    added += 1
                continue
            with open(src, "rb") as f:
                digest = hashlib.md5()
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            new = digest.hexdigest()
            if not cache.exists(new):
                cache.put_file(src, new)
                added += 1
    return added
