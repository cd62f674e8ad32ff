"""``tide commit``: record the current state of tracked outputs and store it in the cache."""

from __future__ import annotations

import os

from tide.ops.add import store
from tide.ops.index import collect
from tide.ops.status import select
from tide.workspace import pointers
from tide.workspace.repo import Repo


def commit(repo: Repo, targets: list[str] | None = None, cwd: str | None = None) -> list[str]:
    """Commit outputs of ``.dvc`` files; returns the pointer files that changed."""
    cwd = cwd or os.getcwd()
    changed: list[str] = []
    with repo.lock():
        sources = []
        for t in select(repo, collect(repo), targets, cwd):
            if t.stage is None and t.source not in sources:
                sources.append(t.source)
        for src in sources:
            pf = pointers.load(src, repo.root)
            new_outs = []
            for out in pf.outs:
                res = repo.hasher.hash_path(out.abspath)
                if out.use_cache:
                    store(repo, res)
                new_outs.append(out.with_hash(res.md5, res.size, res.nfiles, res.isexec))
            new = pointers.PointerFile(pf.path, tuple(new_outs), pf.top)
            if new.dump() != pf.dump():
                new.write()
                changed.append(repo.rel(pf.path))
    return changed
