"""``tide gc``: delete cache objects that no kept revision needs."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from tide.core.errors import UsageError
from tide.ops.index import collect, outs_at_rev, used_oids
from tide.workspace.repo import Repo

STALE_TMP_SECONDS = 24 * 3600


@dataclass
class GcPlan:
    keep: set[tuple[str, bool]] = field(default_factory=set)
    remove: list[tuple[str, bool]] = field(default_factory=list)
    revs: int = 0


def plan(
    repo: Repo, workspace: bool, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False
) -> GcPlan:
    if not (workspace or all_branches or all_tags or all_commits):
        raise UsageError(
            "say what to keep: -w/--workspace, -a/--all-branches, -T/--all-tags or -A/--all-commits"
        )
    p = GcPlan()
    outs = [t.out for t in collect(repo)]
    p.keep |= used_oids(repo, outs)
    if repo.git is not None and (all_branches or all_tags or all_commits):
        revs = repo.git.revs(all_branches, all_tags, all_commits)
        p.revs = len(revs)
        for rev in sorted(revs):
            p.keep |= used_oids(repo, outs_at_rev(repo, rev))
    elif all_branches or all_tags or all_commits:
        raise UsageError("-a/-T/-A need git (the repository was initialised with --no-scm)")
    p.remove = sorted(o for o in repo.cache.iter_oids() if o not in p.keep)
    return p


def execute(repo: Repo, p: GcPlan) -> int:
    """Delete the planned objects (manifests first, so no directory is left half-present)."""
    order = sorted(p.remove, key=lambda o: not o[0].endswith(".dir"))
    for oid, legacy in order:
        repo.cache.remove(oid, legacy)
    _remove_stale_tmp(repo.cache.root)
    return len(order)


def _remove_stale_tmp(root: str) -> None:
    now = time.time()
    for d, _, files in os.walk(os.path.join(root, "files")):
        for f in files:
            if f.endswith(".tmp") and f.startswith("."):
                p = os.path.join(d, f)
                try:
                    if now - os.lstat(p).st_mtime > STALE_TMP_SECONDS:
                        os.unlink(p)
                except FileNotFoundError:
                    pass


def gc(repo: Repo, workspace: bool, all_branches=False, all_tags=False, all_commits=False, dry=False):  # noqa: ANN001
    with repo.lock():
        p = plan(repo, workspace, all_branches, all_tags, all_commits)
        if not dry:
            execute(repo, p)
    return p
