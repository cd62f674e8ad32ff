"""``tide gc -c``: delete objects on a remote that no kept revision uses.

Kept: every object of the workspace's outputs (and, with -a/-T/-A, of those revisions), with
directory manifests expanded; a kept manifest missing from the cache is read from the remote
(verified) so that its files are kept too. Manifests are deleted before files, so the remote
never holds a manifest whose files are gone.

Grace period (the rule that makes gc -c safe next to pushes from other clones): an unused object
written to the remote less than ``TIDE_GC_GRACE`` seconds ago (default 24 hours) is kept, and so
are the files named by a recent manifest. A push in flight, or a pushed commit whose branch this
clone has not fetched yet, is therefore never robbed of its objects within that window. An object
whose age the remote cannot tell is kept too (set ``TIDE_GC_GRACE=0`` to delete it anyway).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tide.core import manifest
from tide.core.errors import UsageError
from tide.objects.remote import ObjRef
from tide.ops.gc import GcPlan
from tide.ops.index import collect, outs_at_rev
from tide.workspace.repo import Repo


@dataclass
class CloudGcPlan:
    remote: str
    keep: set[ObjRef] = field(default_factory=set)
    remove: list[ObjRef] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # kept manifests that could not be read: gc aborts
    recent: list[ObjRef] = field(default_factory=list)  # unused but younger than the grace period
    grace: float = 0.0


DEFAULT_GRACE = 24 * 3600


def grace_seconds(repo: Repo) -> float:
    raw = repo.env.get("TIDE_GC_GRACE")
    if raw in (None, ""):
        return float(DEFAULT_GRACE)
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"TIDE_GC_GRACE must be a number of seconds, got '{raw}'")
    if value < 0:
        raise UsageError(f"TIDE_GC_GRACE must not be negative, got '{raw}'")
    return value


def _kept_roots(repo: Repo, workspace: bool, all_branches: bool, all_tags: bool, all_commits: bool,
                unreadable: list[str], rev: str | None = None, num: int | None = None,
                projects: list[str] | None = None, all_experiments: bool = False, date: str | None = None,
                skip_failed: bool = False, warn=None) -> set[ObjRef]:
    """What the workspace and the kept revisions use, here and in each of ``projects`` (gc -p: their
    data is kept on the remote too, as dvc's gc -c -p keeps it). ``all_experiments``, ``date`` and
    ``skip_failed`` as the local gc's (``ops.gc.kept_revs``): the same revisions are kept on the remote."""
    from tide.core.errors import TideError
    from tide.ops.gc import check_scope, kept_revs, project_repos
    from tide.workspace.index import find_dvc_files

    check_scope(workspace, all_branches, all_tags, all_commits, rev, num, all_experiments, date)
    outs = []
    for one in [repo, *project_repos(repo, projects or [])]:
        outs += [t.out for t in collect(one, find_dvc_files(one.root, one.ignore, unreadable))]
        for r in kept_revs(one, all_branches, all_tags, all_commits, rev, num, all_experiments, date):
            try:
                outs.extend(outs_at_rev(one, r))
            except TideError:
                if not skip_failed:
                    raise
                if warn is not None:  # dvc's --skip-failed: that revision keeps nothing
                    warn(f"WARNING: Failed to collect '{r}', skipping")
    return {ObjRef(o.md5, o.legacy) for o in outs if o.md5 and o.use_cache}


def plan(repo: Repo, rem, workspace: bool = True, all_branches: bool = False, all_tags: bool = False,
         all_commits: bool = False, rev: str | None = None, num: int | None = None,
         projects: list[str] | None = None, all_experiments: bool = False, date: str | None = None,
         skip_failed: bool = False, warn=None) -> CloudGcPlan:
    from tide.objects.transfer import download

    p = CloudGcPlan(rem.name)
    roots = _kept_roots(repo, workspace, all_branches, all_tags, all_commits, p.unreadable, rev, num, projects,
                        all_experiments, date, skip_failed, warn)
    p.keep |= roots
    for ref in sorted(r for r in roots if r.is_dir):
        # every kept manifest must be read, or what it names cannot be told from garbage: a
        # failure (absent everywhere, corrupt, a network error) is recorded and gc aborts
        if not repo.cache.exists(ref.oid, ref.legacy):
            try:
                download(repo.cache, rem.store, ref)
            except Exception as exc:  # whatever it was, gc must not go on
                p.unreadable.append(f"manifest {ref.oid} (not in the cache; from remote '{rem.name}': {exc})")
                continue
        try:
            raw = repo.cache.read_bytes(ref.oid, ref.legacy)
        except OSError as exc:
            p.unreadable.append(f"manifest {ref.oid} (in the cache: {exc.strerror})")
            continue
        p.keep |= {ObjRef(e.md5, ref.legacy) for e in manifest.parse(raw, where=f"manifest {ref.oid}")}
    if p.unreadable:
        return p  # nothing to plan: the keep set is incomplete
    # S3: the listing tells every object's age; elsewhere only the unused objects' ages are asked for
    ages = rem.store.ages() if rem.store.capabilities.listing_ages else None
    on_remote = list(ages) if ages is not None else list(rem.store.iter_refs())
    p.remove = sorted((r for r in on_remote if r not in p.keep), key=lambda r: (not r.is_dir, r))
    p.grace = grace_seconds(repo)
    if p.grace > 0 and p.remove:
        _spare_recent(rem, p, ages)
    return p


def _spare_recent(rem, p: CloudGcPlan, ages: dict | None) -> None:
    """Move objects younger than the grace period (or of unknown age), and the files their
    manifests name, from ``p.remove`` to ``p.recent``. ``ages``: what the listing said, else each
    object's age is asked for."""
    from concurrent.futures import ThreadPoolExecutor

    cutoff = time.time() - p.grace

    def young(ref: ObjRef) -> bool:
        m = ages.get(ref) if ages is not None else rem.store.modified(ref)
        return m is None or m > cutoff

    if ages is not None:
        flags = [young(r) for r in p.remove]
    else:
        with ThreadPoolExecutor(max(1, min(rem.jobs, len(p.remove)))) as pool:
            flags = list(pool.map(young, p.remove))
    spared = {r for r, y in zip(p.remove, flags, strict=True) if y}
    for ref in [r for r in spared if r.is_dir]:
        try:
            with rem.store.open(ref) as f:
                entries = manifest.parse(f.read(), where=f"manifest {ref.oid}")
        except Exception as exc:  # its files cannot be told apart: gc aborts
            p.unreadable.append(f"recent manifest {ref.oid} on remote '{rem.name}' ({exc})")
            continue
        spared |= {ObjRef(e.md5, ref.legacy) for e in entries}
    p.recent = [r for r in p.remove if r in spared]
    p.remove = [r for r in p.remove if r not in spared]


def execute(rem, p: CloudGcPlan) -> int:
    from tide.ops.gc import require_complete

    require_complete(p.unreadable, what=f"remote '{rem.name}'")
    return rem.store.gc(p.remove, rem.jobs)  # manifests before files; a chunked remote also repacks


@dataclass
class CloudGcOutcome:
    plan: CloudGcPlan  # the remote's
    local: GcPlan  # the cache's
    removed: int = 0  # objects deleted from the remote
    local_removed: int = 0  # objects deleted from the cache


def cloud_gc(repo: Repo, scope: dict, remote: str | None = None, jobs: int | None = None, *, dry: bool = False,
             proceed: Callable[[CloudGcPlan], bool] | None = None) -> CloudGcOutcome:
    """Collect garbage on ``remote`` and in the cache, keeping what ``scope`` (``plan``'s keyword
    arguments) uses. Nothing is deleted unless both keep sets are complete (IncompleteKeepSet).
    ``proceed`` is asked, once both plans are complete and before anything is deleted, whether to go
    on; False aborts with a UsageError (None: go on). ``dry``: plan only, delete nothing; the cache's
    keep set is then left for the caller to check (``outcome.local.unreadable``), so that it can show
    the remote's plan first."""
    from tide.ops import gc as local_gc
    from tide.ops.data_scope import open_remote

    with repo.lock():
        rem = open_remote(repo, remote, jobs)
        try:
            p = plan(repo, rem, **scope)
            local_gc.require_complete(p.unreadable, dry, f"remote '{rem.name}' or the cache")
            local = local_gc.plan(repo, **scope)  # complete too, before anything goes on the remote
            if dry:
                return CloudGcOutcome(p, local)
            local_gc.require_complete(local.unreadable)
            if proceed is not None and not proceed(p):
                raise UsageError("gc aborted: nothing removed (use -f to skip the confirmation)")
            n = execute(rem, p)
            if n:
                from tide.ops.data_scope import remote_index

                # the index must not vouch for deleted objects, here or in any other clone
                remote_index(repo, rem.spec.url, rem.spec.get("endpointurl")).clear()
                _new_epoch(rem.store, repo.tmp_dir)
        finally:
            rem.close()
        local_n = local_gc.execute(repo, local)
    return CloudGcOutcome(p, local, n, local_n)


def _new_epoch(store, tmp_dir: str) -> None:
    """Tell every clone's remote index that objects were deleted (see objects/remote_index.py)."""
    import secrets

    from tide.objects.remote_index import EPOCH_KEY

    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.join(tmp_dir, f"{EPOCH_KEY}.{secrets.token_hex(4)}")
    with open(path, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(16))
    try:
        store.put_extra(path, EPOCH_KEY)
    finally:
        os.unlink(path)

