"""``tide status -c``: compare the cache with a remote (dvc's ``status --cloud``).

Each object the workspace uses is ``new`` (cached, not on the remote), ``deleted`` (on the
remote, not cached) or ``missing`` (neither); objects on both sides are not listed. A directory
manifest present on the remote stands for all of its files (pushes upload it last). A manifest the
remote has and the cache lacks is downloaded into the cache (verified) to list the directory's
files, as dvc does; a directory whose manifest is nowhere is listed as itself (``missing``).
"""

from __future__ import annotations

from tide.objects.remote import ObjRef
from tide.ops.data_scope import Group, Scope, cache_remote_manifests, gather, named_objects, open_remote
from tide.workspace.repo import Repo


def cloud_status(repo: Repo, scope: Scope, remote: str | None = None, jobs: int | None = None,
                 cwd: str | None = None) -> tuple[list[str], dict[str, str]]:
    """(names of the remotes compared, {path: state}) for objects not in sync; paths relative to
    ``cwd`` when it is inside the repository (dvc's names), else to the repository's root."""
    from tide.core import manifest
    from tide.workspace.status import known_complete, record_complete

    groups = gather(repo, scope, remote, for_push=True, cwd=cwd)
    if not groups:
        groups = {remote: None}
    names: list[str] = []
    result: dict[str, str] = {}
    for name, group in groups.items():
        rem = open_remote(repo, name, jobs)
        names.append(rem.name)
        if group is None:
            rem.close()
            continue
        try:
            dir_refs = list(group.dirs)
            remote_dirs = rem.store.has_many(dir_refs, rem.jobs) if dir_refs else set()
            # a manifest only the remote has is cached (verified), as dvc does, to name the files
            cache_remote_manifests(repo, rem, {r: group.dirs[r] for r in dir_refs if r in remote_dirs})
            # the cache's fingerprints, taken before it is looked at (known_complete, record_complete)
            fps = {legacy: repo.cache.fingerprint(legacy) for legacy in {r.legacy for r in dir_refs}}
            # in sync, not expanded: a directory the remote has (its manifest stands for its files) whose
            # files the cache was found to hold, nothing added to or removed from the cache since
            # (status, checkout, fetch and this command record it): none of its files can be listed
            synced = {d for d in remote_dirs if d not in group.parts
                      and known_complete(d.oid, d.legacy, repo.cache, repo.state, fps)}
            objs = named_objects(repo, _without(group, synced) if synced else group, cwd)
            covered: set[ObjRef] = set()
            for d in remote_dirs - synced:
                try:
                    raw = repo.cache.read_bytes(d.oid, d.legacy)
                except FileNotFoundError:
                    continue
                covered |= {ObjRef(e.md5, d.legacy) for e in manifest.parse(raw, where=f"manifest {d.oid}")}
            query = [r for r in objs if r not in covered and r not in remote_dirs]
            on_remote = rem.store.has_many(query, rem.jobs) | covered | remote_dirs
            if any(r not in on_remote for r in objs):
                from tide.ops.data_scope import remote_index

                # the remote lacks something: stop trusting the index
                remote_index(repo, rem.spec.url, rem.spec.get("endpointurl")).clear()
            absent = set()  # not in the cache (many ids: one listdir per two-letter directory, not a stat each)
            for legacy in {r.legacy for r in objs}:
                absent |= {ObjRef(o, legacy) for o in repo.cache.missing([r.oid for r in objs if r.legacy == legacy],
                                                                          legacy)}
            if not absent:  # every directory's manifest and files are cached: remembered (fingerprints as before)
                record_complete([d for d in group.whole_dirs() if d not in synced], repo.state, fps)
            for ref, path in objs.items():
                local = ref not in absent
                there = ref in on_remote
                if local and not there:
                    result[path] = "new"
                elif there and not local:
                    result[path] = "deleted"
                elif not there and not local:
                    result[path] = "missing"
        finally:
            rem.close()
    return names, result


def _without(group: Group, dirs: set[ObjRef]) -> Group:
    """``group`` less the directories ``dirs`` (whole ones)."""
    out = Group()
    out.files = group.files
    out.dirs = {r: p for r, p in group.dirs.items() if r not in dirs}
    out.parts = group.parts
    return out

