"""Reproducing one stage: decide, restore from the run cache or run, commit outputs, write dvc.lock."""

from __future__ import annotations

import os
from collections.abc import Callable

from tide.core.errors import MissingError, PipelineError
from tide.core.fsutil import remove, tmp_name
from tide.core.values import Value
from tide.objects.cache import ObjectCache
from tide.pipeline import lockfile
from tide.pipeline.definition import Stage
from tide.pipeline.execute import run_commands
from tide.pipeline.runcache import RunCache, can_cache, saves_run
from tide.pipeline.stagestate import current_entry, hash_entry, out_cached, read_params, stage_status
from tide.workspace.checkout import checkout_out
from tide.workspace.hashing import Hasher, HashResult
from tide.workspace.pointers import Out
from tide.workspace.unprotect import unprotect_tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


class Workspace:
    """What the engine needs from a repository; ``store(result, link)`` puts hashed files into
    the cache (``link``: the outputs are then linked to their objects, so the cache may take their
    inodes; False copies them) and ``ignore`` adds
    outputs to .gitignore (both supplied by the ops layer). ``fetch``: downloads objects from the remote
    (repro --pull); ``confirm``: repro -i, asked before each stage that would run. ``changed_files``:
    what the run wrote that git should track."""

    def __init__(self, root: str, hasher: Hasher, cache: ObjectCache, store: Callable[[HashResult, bool], None],
                 ignore: Callable[[list[str]], list[str]], env: dict[str, str], say: Callable[[str], None] = print,
                 fetch: Callable[[list[str]], None] | None = None,
                 confirm: Callable[[str], bool] | None = None) -> None:
        self.root = root
        self.hasher = hasher
        self.cache = cache
        self.store = store
        self.ignore = ignore
        self.env = env
        self.say = say
        self.fetch = fetch
        self.confirm = confirm
        self.changed_files: list[str] = []


class Options(Value):
    """``relink``: False for commit --no-relink (outputs stored by copy, left as they are).
    ``unlinkable_fails``: commit (not repro, deliberate N6): a file output no link type can produce fails the
    commit after its objects and run are saved, before dvc.lock is written, as dvc's relink does (N41)."""

    __slots__ = ("force", "dry", "allow_missing", "run_cache", "no_commit", "relink", "unlinkable_fails")
    _defaults = {"force": False, "dry": False, "allow_missing": False, "run_cache": True, "no_commit": False,
                 "relink": True, "unlinkable_fails": False}
    force: bool
    dry: bool
    allow_missing: bool
    run_cache: bool
    no_commit: bool
    relink: bool
    unlinkable_fails: bool


def _rel(root: str, p: str) -> str:
    return os.path.relpath(p, root).replace(os.sep, "/")


def reproduce(stage: Stage, ws: Workspace, opts: Options) -> str | None:
    """Returns ``"ran"``, ``"restored"``, ``"verified"`` (a frozen stage, its command not run),
    ``"dry"`` or ``None`` when the stage was up to date.

    As dvc's ``Stage.reproduce``: ``--force`` looks at no status; the stage's inputs (dependencies,
    parameters) are then checked only when the run is saved, after the command ran (N56: a missing
    dependency fails the stage, with no dvc.lock entry, leaving what the command wrote). Unforced, a
    missing input fails the stage before the command, after its outputs were removed (N65: dvc's
    ``Stage.run`` removes them first, ``_clear_outputs``). ``--dry`` removes nothing and fails on a
    missing input only when dvc's run-cache lookup (which ``--dry`` makes too) hashes the inputs: a
    stage with a command, inputs and outputs, not ``always_changed`` (dvc's ``_can_hash`` hashes the
    dependencies before it looks at persist)."""
    addr = stage.addressing
    lock = None
    st = None
    if not opts.force:
        lock = lockfile.read_entries(stage.lockfile, ws.root).get(stage.name)
        st = stage_status(stage, lock, ws.root, ws.hasher, ws.cache, opts.allow_missing)
        # a frozen stage's dependencies (and always_changed) never count, as dvc's ``changed_deps``
        changed = bool(st.outs or st.cmd_changed) if stage.frozen else st.changed
        if not changed:
            ws.say(f"Stage '{addr}' didn't change, skipping")
            return None
    ws.hasher.stir()  # this stage acts: what it writes must be seen (Hasher.still)
    if ws.confirm is not None and not ws.confirm(f"Going to reproduce stage: '{addr}'. "
                                                 "Are you sure you want to continue?"):
        raise PipelineError("reproduction aborted by the user")  # dvc's words; -k goes on with the others
    if stage.frozen:
        return _verify_frozen(stage, ws, opts)
    if opts.dry:
        hashes_inputs = bool(stage.cmd and (stage.deps or stage.params) and stage.outs) and not stage.always_changed
        if not opts.force and hashes_inputs:
            _check_inputs(stage, ws)
        ws.say(f"Running stage '{addr}':")
        for c in stage.cmds:
            ws.say(f"> {c}")
        return "dry"
    _clear_outputs(stage, ws)
    if not opts.force:
        _check_inputs(stage, ws)  # after the outputs went, as dvc's run-cache lookup / save_deps (N65)
    restored = False
    if st is not None and opts.run_cache and can_cache(stage):
        restored = _try_restore(stage, ws, lock, st.cmd_changed or bool(st.deps))
    if not restored:
        ws.say(f"Running stage '{addr}':")
        run_commands(stage, ws.env, ws.say)
    if opts.force:
        _check_inputs(stage, ws)  # as dvc's save after a forced run: the command may have made them
    commit_stage(stage, ws, opts)
    return "restored" if restored else "ran"


def _clear_outputs(stage: Stage, ws: Workspace) -> None:
    """dvc's ``Stage.run`` before anything else (``remove_outs``): every output is deleted, cached or not
    (a ``persist`` one is unprotected instead: the command writes into an independent copy, never through
    a link into its cache object); .gitignore is left as it is. Then a missing input fails the stage, which
    so keeps no stale outputs (N65)."""
    for o in stage.outs:
        if not o.persist:
            remove(o.abspath)
        elif o.cache:
            unprotect_tree(o.abspath, ws.cache.temps.name if ws.cache.temps else tmp_name)


def _verify_frozen(stage: Stage, ws: Workspace, opts: Options) -> str:
    """dvc's ``Stage.run`` of a frozen stage (forced, or its outputs or command changed, or no lock
    entry): its command never runs and its outputs are never removed; they must all exist ("missing
    data 'source'" otherwise, before anything is written), then the stage is saved as after a run
    (dependencies checked and hashed, outputs cached and linked, run cache, dvc.lock entry).
    ``--dry`` does nothing at all."""
    if opts.dry:
        return "dry"
    ws.say(f"Verifying outputs in frozen stage: '{stage.addressing}'")
    missing = [_shown(ws.root, o.abspath) for o in stage.outs if not os.path.exists(o.abspath)]
    if missing:
        raise MissingError(f"missing data 'source{'s' if len(missing) > 1 else ''}': {', '.join(missing)}")
    _check_inputs(stage, ws)
    commit_stage(stage, ws, opts)
    return "verified"


def _shown(root: str, p: str) -> str:
    """A path as dvc's ``str(Output)`` shows it: relative to the current directory when that is inside
    the repository, else to the repository's root."""
    cwd = os.getcwd()
    inside = os.path.commonpath([os.path.abspath(root), cwd]) == os.path.abspath(root)
    return os.path.relpath(p, cwd if inside else root)


def _check_inputs(stage: Stage, ws: Workspace) -> None:
    """A missing dependency, parameters file or parameter fails the stage (one clear line)."""
    for d in stage.deps:
        if not os.path.lexists(d.abspath):
            raise MissingError(f"dependency '{_rel(ws.root, d.abspath)}' does not exist")
    for p in stage.params:  # as dvc: a missing parameters file or key fails before the command runs
        read_params(p, ws.root)


def _try_restore(stage: Stage, ws: Workspace, lock: dict[str, Any] | None, inputs_changed: bool) -> bool:
    paths = sorted(o.path for o in stage.outs)
    candidate = None
    if lock and not inputs_changed and _entry_outs_ok(lock, paths):
        candidate = lock
    if candidate is not None and ws.fetch is not None:
        _fetch_missing(ws, candidate)
    if candidate is None or not all(out_cached(str(o["md5"]), ws.cache) for o in candidate["outs"]):
        try:
            probe = current_entry(stage, ws.root, ws.hasher, with_outs=False)
        except MissingError:
            return False
        candidate = RunCache(ws.cache.root).lookup(probe, paths)
    if candidate is None or not _entry_outs_ok(candidate, paths):
        return False
    if ws.fetch is not None:
        _fetch_missing(ws, candidate)
    if not all(out_cached(str(o["md5"]), ws.cache) for o in candidate["outs"]):
        return False
    ws.say(f"Stage '{stage.addressing}' is cached - skipping run, checking out outputs")
    by_path = {o.path: o for o in stage.outs}
    copy_cache = ObjectCache(ws.cache.root, ("copy",), temps=ws.cache.temps)
    for rec in candidate["outs"]:
        od = by_path[rec["path"]]
        out = Out(od.path, od.abspath, rec["md5"], rec.get("size"), rec.get("nfiles"), bool(rec.get("isexec")))
        cache = ws.cache if od.cache else copy_cache
        res = checkout_out(out, _rel(ws.root, od.abspath), ws.hasher, cache, force=True)
        if res.failed:
            return False
        # every output, uncached ones too: dvc checks them all out of the run cache, recording each link
        ws.hasher.state.save_links([(_rel(ws.root, od.abspath), str(rec["md5"]))])
    return True


def _fetch_missing(ws: Workspace, entry: dict[str, Any]) -> None:
    missing = [str(o["md5"]) for o in entry.get("outs", []) if o.get("md5") and not out_cached(str(o["md5"]), ws.cache)]
    if missing and ws.fetch is not None:
        ws.fetch(missing)


def _entry_outs_ok(entry: dict[str, Any], paths: list[str]) -> bool:
    outs = entry.get("outs")
    if not isinstance(outs, list):
        return False
    return sorted(str(o.get("path")) for o in outs if isinstance(o, dict)) == paths and all(
        isinstance(o, dict) and o.get("md5") for o in outs
    )


def commit_stage(stage: Stage, ws: Workspace, opts: Options, saves: Callable[[Stage], bool] = saves_run) -> None:
    """Hash the stage's deps, params and outs now, store the outs and record them in dvc.lock.
    ``saves(stage)``: whether the run goes into the run cache (with its uncached outputs stored as plain
    copies): ``saves_run`` after a run (dvc's ``repro``), ``can_cache`` for ``commit -f`` (dvc's
    ``stage.save`` records every run it can hash, N18)."""
    entry = current_entry(stage, ws.root, ws.hasher, with_outs=False)
    results: dict[str, HashResult] = {}
    # a copy cache stores the small files of cached outputs as they are hashed (no second read or hash)
    storing = not opts.no_commit and ws.cache.link_types[0] not in ("hardlink", "symlink")
    for o in sorted(stage.outs, key=lambda o: o.path):
        try:
            if storing and o.cache:
                res = ws.hasher.hash_storing(o.abspath, ws.cache.store_hashed)
            else:
                res = ws.hasher.hash_path(o.abspath)
        except MissingError:
            raise MissingError(f"output '{_rel(ws.root, o.abspath)}' does not exist")
        results[o.path] = res
    outs = [hash_entry(o.path, results[o.path]) for o in sorted(stage.outs, key=lambda o: o.path)]
    if outs:
        entry["outs"] = outs
    cacheable = saves(stage)  # as dvc: --no-run-cache skips restoring from the run cache, not saving to it
    cached = [o for o in stage.outs if o.cache]
    for f in ws.ignore([o.abspath for o in cached]):  # also with --no-commit, as dvc
        if f not in ws.changed_files:
            ws.changed_files.append(f)
    if not opts.no_commit:
        for o in cached:
            ws.store(results[o.path], opts.relink)
        if cacheable:
            for o in stage.outs:
                if not o.cache:  # kept for the run cache; the workspace file stays a plain writable copy
                    ws.store(results[o.path], False)
        unlinkable = [o for o in cached if opts.relink and opts.unlinkable_fails and not results[o.path].is_dir]
        if unlinkable and ws.cache.reflink_only_unsupported(ws.root):
            from tide.core.errors import CacheError
            from tide.objects.cache import REFLINK_ONLY

            if cacheable:
                RunCache(ws.cache.root).save(entry)
            raise CacheError(f"'{_rel(ws.root, unlinkable[0].abspath)}' could not be linked from the cache: "
                             f"{REFLINK_ONLY}")
        if opts.relink and ws.cache.link_types[0] in ("hardlink", "symlink"):
            for o in cached:
                r = results[o.path]
                out = Out(o.path, o.abspath, r.md5, r.size, r.nfiles, r.isexec)
                checkout_out(out, _rel(ws.root, o.abspath), ws.hasher, ws.cache, force=True, relink=True)
        if opts.relink:  # dvc's --no-relink records no link either
            ws.hasher.state.save_links([(_rel(ws.root, o.abspath), results[o.path].md5) for o in cached])
        if cacheable:  # dvc's run-cache save commits the uncached outputs (a copy), recording their links:
            # once no stage declares one, checkout removes it if unchanged, its content being in the cache (N44)
            ws.hasher.state.save_links([(_rel(ws.root, o.abspath), results[o.path].md5)
                                        for o in stage.outs if not o.cache])
            RunCache(ws.cache.root).save(entry)
    generated, modified = lockfile.write_entry(stage.lockfile, ws.root, stage.name, entry)
    rel_lock = _rel(ws.root, stage.lockfile)
    if generated:
        ws.say(f"Generating lock file '{rel_lock}'")
    if modified:  # as dvc: an entry written again unchanged (repro -f, commit -f) is neither said nor staged
        if rel_lock not in ws.changed_files:
            ws.changed_files.append(rel_lock)
        ws.say(f"Updating lock file '{rel_lock}'")
