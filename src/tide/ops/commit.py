"""``tide commit``: record the current state of tracked outputs and store it in the cache."""

from __future__ import annotations

import os
from collections.abc import Callable

from tide.core.errors import TideError
from tide.ops.add import store
from tide.ops.index import collect
from tide.ops.status import select
from tide.workspace import pointers
from tide.workspace.repo import Repo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def commit(repo: Repo, targets: list[str] | None = None, cwd: str | None = None, force: bool = False,
           confirm: Callable[[str], bool] | None = None, recursive: bool = False,
           with_deps: bool = False, relink: bool = True, to_3x: bool = False) -> list[str]:
    """Commit outputs of ``.dvc`` files and of pipeline stages; returns the files that changed.

    As dvc: a ``.dvc`` file or stage whose workspace differs from its record (an output modified, deleted
    or new, a dependency or parameter changed, the command changed) is recorded only with ``force`` or
    when ``confirm(question)`` says yes; otherwise nothing is written and the commit fails. An unchanged
    one only gets its cached outputs stored (``not in cache`` is no change). ``force`` records every
    selected stage, and saves its run in the run cache (N18). ``recursive``/``with_deps`` (``-R``/``-d``)
    widen the targets as ``status`` does (tide.ops.status.scope, the one selector). An unchanged DVC 2.x
    entry of a ``.dvc`` file stays as it is (as dvc) unless ``to_3x`` (``cache migrate --dvc-files``)."""
    cwd = cwd or os.getcwd()
    # dvc's commit is not under scm_context: a failed commit keeps the .gitignore entries it wrote; its
    # commit_2_to_3 (cache migrate --dvc-files, ``to_3x``) is, and takes them back (N55)
    with repo.lock(), repo.ignore_journal.command(take_back=to_3x):
        sources: list[str] = []
        if targets and (recursive or with_deps):
            from tide.ops.status import scope

            tracked, sel = scope(repo, targets, cwd, recursive, with_deps)
            stages = _stage_plan(repo, *sel) if sel is not None and sel[1] else []
            sources = list(dict.fromkeys(t.source for t in tracked))
            ptr_targets = None
        else:
            stage_targets, ptr_targets = _split(repo, targets, cwd)
            stages = _stage_plan(repo, *stage_targets) if stage_targets else []
        if ptr_targets is not None and not (targets and not ptr_targets):
            pointer_tracked = [t for t in collect(repo) if t.stage is None]
            for t in select(repo, pointer_tracked, ptr_targets or None, cwd):
                if t.stage is None and t.source not in sources:
                    sources.append(t.source)
        ptrs = [(pointers.load(src, repo.root), None) for src in sources]
        ptrs = [(pf, _pointer_changes(repo, pf)) for pf, _ in ptrs]
        if not force:
            asks = [(st.addressing, ch) for st, _, ch in stages] + [(repo.rel(pf.path), ch) for pf, ch in ptrs]
            for name, changes in asks:
                if changes and not (confirm is not None and confirm(f"{changes} of '{name}' changed. Are you "
                                                                    f"sure you want to commit it?")):
                    raise TideError(f"unable to commit changed stage: '{name}'. Use `-f|--force` to force.")
        _check_present(repo, stages, ptrs, force)
        changed = _commit_stages(repo, stages, force, relink)
        for pf, changes in ptrs:
            if commit_pointer(repo, pf, relink, to_3x, record=force or bool(changes)):
                changed.append(repo.rel(pf.path))
    return changed


def _check_present(repo: Repo, stages: list, ptrs: list, force: bool) -> None:
    """All or nothing (N62): every dependency, parameters file and output about to be recorded exists, or
    the commit fails before anything is written. dvc commits file by file (a dvc.yaml's stages together)
    in directory-listing order, so what it wrote before the failing file depends on the file system; tide
    writes nothing (docs/versioning.md, deliberate differences)."""
    from tide.core.errors import MissingError
    from tide.pipeline.stagestate import read_params
    from tide.workspace import gitignore

    cached: list[str] = []  # the cached outputs about to be recorded: none may be tracked by git (as dvc's)
    for st, lock, changes in stages:
        if not (force or changes or not lock):
            continue
        for d in st.deps:
            if not os.path.lexists(d.abspath):
                raise MissingError(f"stage '{st.addressing}': dependency '{repo.rel(d.abspath)}' does not exist")
        for p in st.params:
            read_params(p, repo.root)
        for o in st.outs:
            if not os.path.lexists(o.abspath):
                raise MissingError(f"output '{repo.rel(o.abspath)}' does not exist")
        cached += [o.abspath for o in st.outs if o.cache]
    for pf, changes in ptrs:
        for o in pf.outs:
            if not os.path.lexists(o.abspath):
                raise MissingError(f"'{repo.rel(o.abspath)}' does not exist")
        if force or changes:
            cached += [o.abspath for o in pf.outs if o.use_cache]
    gitignore.refuse_tracked(repo.root, cached, repo.git)


def _pointer_changes(repo: Repo, pf: pointers.PointerFile) -> str | None:
    """dvc's ``changed_entries`` of a ``.dvc`` file: its outputs whose workspace status is not clean."""
    names = [repo.rel(o.abspath) for o in pf.outs if _ws_state(repo, o.abspath, o.md5, o.legacy)]
    return f"outputs {names}" if names else None


def _ws_state(repo: Repo, path: str, md5: str | None, legacy: bool = False) -> str | None:
    from tide.core.errors import MissingError

    if not os.path.lexists(path):
        return "deleted"
    try:
        res = repo.hasher.hash_path(path)
    except MissingError:
        return "deleted"
    if not md5:
        return "new"
    return "modified" if res.md5 != md5 and not (legacy and _legacy_same(repo, path, md5, res)) else None


def _legacy_same(repo: Repo, path: str, md5: str, res) -> bool:
    from tide.pipeline.stagestate import legacy_same

    return legacy_same(path, md5, res, repo.hasher)


def commit_pointer(repo: Repo, pf: pointers.PointerFile, relink: bool = True, to_3x: bool = False,
                   record: bool = True) -> bool:
    """``relink=False`` (dvc's ``--no-relink``): objects stored by copy, the workspace left as it is.
    ``record``: the file is recorded (forced or changed), so as dvc its cached outputs get their
    ``.gitignore`` entries (one the user deleted comes back) and one git tracks is refused. Otherwise (an
    unchanged file, not forced) its entries stay as recorded, an executable bit included: as dvc's relink,
    the workspace file gets the recorded one back (seed 67001 sequence 814: ``chmod +x`` then ``commit``)."""
    if record:
        from tide.workspace import gitignore

        gitignore.add(repo.ignore_journal, [o.abspath for o in pf.outs if o.use_cache], repo.git)
    new_outs = []
    for out in pf.outs:
        res = repo.hasher.hash_path(out.abspath)
        if (not to_3x and out.legacy and out.md5 and res.md5 != out.md5
                and _legacy_same(repo, out.abspath, out.md5, res)):
            new_outs.append(out)  # as dvc: an unchanged 2.x entry stays as it is (cache migrate --dvc-files
            continue  # or a change records it with 3.x hashes)
        new_out = out.with_hash(res.md5, res.size, res.nfiles, res.isexec)
        if not record and res.md5 == out.md5:
            new_out = out
        if out.use_cache:
            store(repo, res, link=relink)
            if relink and not res.is_dir and repo.cache.reflink_only_unsupported(repo.root):
                # as dvc (N41): the object is stored, then relinking the file fails ("Some targets could not
                # be linked"): exit 1, this .dvc file not rewritten, the workspace file kept
                from tide.core.errors import CacheError
                from tide.objects.cache import REFLINK_ONLY

                raise CacheError(f"'{repo.rel(out.abspath)}' could not be linked from the cache: {REFLINK_ONLY}")
            if not relink:
                new_outs.append(new_out)
                continue
            if repo.cache.link_types[0] in ("hardlink", "symlink"):
                # as add and dvc: the workspace file becomes a read-only link to its object
                from tide.workspace.checkout import checkout_out

                checkout_out(new_out, repo.rel(out.abspath), repo.hasher, repo.cache, force=True, relink=True)
            elif new_out.isexec != res.isexec and not res.is_dir:
                _set_exec(out.abspath, new_out.isexec)
            repo.state.save_links([(repo.rel(out.abspath), res.md5)])
        new_outs.append(new_out)
    new = pointers.PointerFile(pf.path, tuple(new_outs), pf.top)
    if new.dump() != pf.dump():
        new.write()
        return True
    return False


def _set_exec(path: str, on: bool) -> None:
    """The recorded executable bit on a copied file: u+x added (dvc-data's ``set_exec``), or every x taken."""
    mode = os.stat(path).st_mode
    os.chmod(path, mode | 0o100 if on else mode & ~0o111)


def _split(repo: Repo, targets: list[str] | None, cwd: str):
    from tide.ops.status import split_targets
    from tide.workspace.index import find_dvc_files

    sel, rest = split_targets(repo, targets, cwd, bool(find_dvc_files(repo.root, repo.ignore)[1]))
    return sel, rest


def _stage_plan(repo: Repo, project, idx: list[int]) -> list[tuple[Any, dict | None, str | None]]:
    """``(stage, its dvc.lock entry, what changed in the workspace or None)`` (dvc's ``changed_entries``:
    dependencies and parameters, outputs as in the workspace, the command; ``not in cache`` is no change)."""
    from tide.pipeline import lockfile
    from tide.pipeline.stagestate import dep_state, stage_status

    plan = []
    locks: dict[str, dict] = {}
    for i in idx:
        st = project.stages[i]
        if st.lockfile not in locks:
            locks[st.lockfile] = lockfile.read_entries(st.lockfile, repo.root)
        lock = locks[st.lockfile].get(st.name)
        status = stage_status(st, lock, repo.root, repo.hasher, repo.cache)
        recs = {str(o.get("path")): o for o in (lock or {}).get("outs") or [] if isinstance(o, dict)}
        outs = [repo.rel(o.abspath) for o in st.outs if dep_state(o.abspath, recs.get(o.path), repo.hasher)]
        parts = ([f"dependencies {sorted(status.deps)}"] if status.deps else []) + (
            [f"outputs {outs}"] if outs else []) + (["the command"] if status.cmd_changed else [])
        plan.append((st, lock, " and ".join(parts) or None))
    return plan


def _commit_stages(repo: Repo, plan: list, force: bool, relink: bool = True) -> list[str]:
    """Record the current deps, params and outs of the stages in dvc.lock (dvc commit): every stage with
    ``force``, else the changed ones (confirmed), each run saved in the run cache when it can be hashed,
    uncached outputs too (dvc's ``stage.save``, N18); an unchanged stage's cached outputs missing from
    the cache are stored."""
    from tide.pipeline import engine
    from tide.pipeline.runcache import can_cache
    from tide.pipeline.stagestate import legacy_record, out_cached
    from tide.workspace import gitignore

    ws = engine.Workspace(
        root=repo.root, hasher=repo.hasher, cache=repo.cache,
        store=lambda res, link: store(repo, res, link=link),
        ignore=lambda paths: gitignore.add(repo.ignore_journal, paths, repo.git), env=dict(repo.env.values),
        say=lambda _line: None,
    )
    for st, lock, changes in plan:
        if force or changes or not lock:
            engine.commit_stage(st, ws, engine.Options(relink=relink, unlinkable_fails=True),
                                saves=can_cache)  # dvc's stage.save
            continue
        recs = {str(o.get("path")): o for o in lock.get("outs") or [] if isinstance(o, dict)}
        missing = [o for o in st.outs if o.cache and recs.get(o.path, {}).get("md5")
                   and not out_cached(str(recs[o.path]["md5"]), repo.cache, legacy=legacy_record(recs[o.path]))]
        if missing:  # the workspace is as recorded: its content goes into the cache
            engine.commit_stage(st, ws, engine.Options(relink=relink, unlinkable_fails=True), saves=lambda _s: False)
    return [f for f in ws.changed_files if f.endswith("dvc.lock")]
