"""``tide commit``: record the current state of tracked outputs and store it in the cache."""

from __future__ import annotations

import os

from tide.ops.add import store
from tide.ops.index import collect
from tide.ops.status import select
from tide.workspace import pointers
from tide.workspace.repo import Repo


def commit(repo: Repo, targets: list[str] | None = None, cwd: str | None = None) -> list[str]:
    """Commit outputs of ``.dvc`` files and of pipeline stages; returns the files that changed."""
    cwd = cwd or os.getcwd()
    changed: list[str] = []
    with repo.lock():
        stage_targets, ptr_targets = _split(repo, targets, cwd)
        if stage_targets:
            changed.extend(_commit_stages(repo, *stage_targets))
        if targets and not ptr_targets:
            return changed
        sources = []
        pointer_tracked = [t for t in collect(repo) if t.stage is None]
        for t in select(repo, pointer_tracked, ptr_targets or None, cwd):
            if t.stage is None and t.source not in sources:
                sources.append(t.source)
        for src in sources:
            pf = pointers.load(src, repo.root)
            new_outs = []
            for out in pf.outs:
                res = repo.hasher.hash_path(out.abspath)
                new_out = out.with_hash(res.md5, res.size, res.nfiles, res.isexec)
                if out.use_cache:
                    store(repo, res, link=True)
                    if repo.cache.link_types[0] in ("hardlink", "symlink"):
                        # as add and dvc: the workspace file becomes a read-only link to its object
                        from tide.workspace.checkout import checkout_out

                        checkout_out(new_out, repo.rel(out.abspath), repo.hasher, repo.cache, force=True, relink=True)
                    repo.state.save_links([(repo.rel(out.abspath), res.md5)])
                new_outs.append(new_out)
            new = pointers.PointerFile(pf.path, tuple(new_outs), pf.top)
            if new.dump() != pf.dump():
                new.write()
                changed.append(repo.rel(pf.path))
    return changed


def _split(repo: Repo, targets: list[str] | None, cwd: str):
    from tide.ops.status import _split_targets
    from tide.workspace.index import find_dvc_files

    sel, rest = _split_targets(repo, targets, cwd, bool(find_dvc_files(repo.root, repo.ignore)[1]))
    return sel, rest


def _commit_stages(repo: Repo, project, idx: list[int]) -> list[str]:
    """Record the current deps, params and outs of changed stages in dvc.lock (dvc commit)."""
    from tide.pipeline import engine, lockfile
    from tide.pipeline.stagestate import stage_status
    from tide.workspace import gitignore

    ws = engine.Workspace(
        root=repo.root, hasher=repo.hasher, cache=repo.cache, store=lambda res, link: store(repo, res, link=link),
        ignore=lambda paths: gitignore.add(repo.root, paths, repo.git), env=dict(repo.env.values),
        say=lambda _line: None,
    )
    for i in idx:
        st = project.stages[i]
        lock = lockfile.read_entries(st.lockfile, repo.root).get(st.name)
        if lock and not stage_status(st, lock, repo.root, repo.hasher, repo.cache).changed:
            continue
        engine.commit_stage(st, ws, engine.Options())
    return [f for f in ws.changed_files if f.endswith("dvc.lock")]
