"""``tide data status --not-in-remote``: the tracked outputs (with ``--granular``, also the files of
tracked directories) whose objects the remote lacks, as dvc's ``data status --not-in-remote``.

As dvc: only outputs a push sends (cached, not ``push: false``); a directory counts by its manifest
(``dir/``) unless ``--granular`` also lists each file; entries come in dvc's index order (the .dvc and
dvc.lock files in dvc's walk order, with ``--granular`` each depth after the one above); a target inside a
directory names only its files, so it lists nothing without ``--granular``."""

from __future__ import annotations

import os

from tide.core import manifest
from tide.objects.ref import ObjRef
from tide.workspace.repo import Repo


def not_in_remote(repo: Repo, roots: list[str] | None, granular: bool, remote: str | None = None,
                  jobs: int | None = None, refresh: bool = True) -> list[str]:
    """``refresh=False`` (dvc's ``--no-remote-refresh``): the remote is not asked; what this clone knows
    to be there (its remote index: what it pushed, what earlier refreshing runs found) counts, the rest
    is listed. A refreshing run records the files it found there (never a ``.dir``: its presence does not
    prove its files') and drops the index when the remote lacks something it lists."""
    from tide.ops.data_scope import open_remote, remote_index
    from tide.ops.index import collect
    from tide.workspace.walkorder import walk_key

    key = walk_key(repo.root)
    tracked = sorted(collect(repo), key=lambda t: key(t.source))
    by_remote: dict[str | None, list[tuple[str, ObjRef]]] = {}
    for t in tracked:
        out = t.out
        if out.md5 is None or not out.use_cache or out.extra.get("push") is False:
            continue
        rel = repo.rel(out.abspath).replace(os.sep, "/")
        ref = ObjRef(out.md5, out.legacy)
        found = [(rel + "/" if out.is_dir else rel, ref)]
        if granular and out.is_dir:
            try:
                raw = repo.cache.read_bytes(out.md5, out.legacy)
            except FileNotFoundError:
                raw = None  # as dvc: without the manifest only the directory itself is checked
            if raw is not None:
                found += [(f"{rel}/{e.relpath}", ObjRef(e.md5, out.legacy))
                          for e in manifest.parse(raw, where=f"manifest {out.md5}")]
        if roots is not None:
            found = [(p, r) for p, r in found if any(p.rstrip("/") == k or p.startswith(k + "/") for k in roots)]
        by_remote.setdefault(remote or out.extra.get("remote") or None, []).extend(found)
    missing: set[str] = set()
    order: list[str] = []
    for name, entries in by_remote.items():
        refs = list({r for _, r in entries})
        if not refresh:
            from tide.ops.remote import resolve

            spec = resolve(repo.settings, name).spec
            known = remote_index(repo, spec.url, spec.get("endpointurl")).known()
            there = {r for r in refs if r in known}
        else:
            rem = open_remote(repo, name, jobs)
            try:
                there = rem.store.has_many(refs, rem.jobs)
            finally:
                rem.close()
            index = remote_index(repo, rem.spec.url, rem.spec.get("endpointurl"))
            if any(r in index.known() and r not in there for r in refs):
                index.clear()
            index.add(r for r in there if not r.oid.endswith(".dir"))
        missing |= {p for p, r in entries if r not in there}
        order += [p for p, _ in entries]
    shown = [p for p in dict.fromkeys(order) if p in missing]
    if granular:  # dvc walks its index breadth first
        shown.sort(key=lambda p: p.rstrip("/").count("/"))
    return shown
