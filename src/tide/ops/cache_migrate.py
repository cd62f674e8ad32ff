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


def legacy_dvc_files(repo: Repo) -> list[tuple[str, str]]:
    """The files whose entries still carry 2.x hashes (dvc's ``_migrateable_dvcfiles``), as ``(shown,
    commit target)``: a ``.dvc`` file with a 2.x output; a stage of ``dvc.lock`` with a 2.x output or
    in-repository dependency (shown ``dvc.yaml (dvc.lock)``). ``.dvc`` files in dvc's walk order, then stages."""
    import os

    from tide.ops.index import collect
    from tide.pipeline.lockfile import LOCK_NAME, read_entries
    from tide.workspace.index import find_dvc_files
    from tide.workspace.walkorder import walk_key

    ptrs = {t.source for t in collect(repo) if t.stage is None and t.out.legacy and t.out.md5}
    out = [(repo.rel(p), repo.rel(p)) for p in sorted(ptrs, key=walk_key(repo.root))]
    for yml in sorted(find_dvc_files(repo.root, repo.ignore)[1], key=walk_key(repo.root)):
        lock = os.path.join(os.path.dirname(yml), LOCK_NAME)
        for name, entry in read_entries(lock, repo.root).items():
            if not isinstance(entry, dict):
                continue
            items = list(entry.get("outs") or []) + [d for d in entry.get("deps") or [] if _in_repo(repo, lock, d)]
            if any(isinstance(d, dict) and d.get("md5") and "hash" not in d for d in items):
                out.append((f"{repo.rel(yml)} ({repo.rel(lock)})", f"{repo.rel(yml)}:{name}"))
    return out


def _in_repo(repo: Repo, lock: str, dep) -> bool:
    import os

    if not isinstance(dep, dict) or "://" in str(dep.get("path", "")):
        return False
    p = os.path.normpath(os.path.join(os.path.dirname(lock), str(dep.get("path", ""))))
    return p == repo.root or p.startswith(repo.root + os.sep)


def migrate_dvc_files(repo: Repo, entries: list[tuple[str, str]]) -> list[str]:
    """dvc's ``commit_2_to_3``: the outputs (and in-repository dependencies) of ``entries`` recorded
    again with 3.x md5 hashes of the workspace data (a forced commit); returns the files written."""

    from tide.ops.commit import commit

    # the .dvc files keep their keys' order, new ones (``hash``) last: PointerFile.write, as dvc's apply_diff
    changed = commit(repo, [target for _, target in entries], cwd=repo.root, force=True, to_3x=True)
    order = {target.split(":")[0]: i for i, (_, target) in enumerate(entries)}  # as dvc: in the entries' order
    return sorted(changed, key=lambda f: (not f.endswith(".dvc"), order.get(f, len(order))))
