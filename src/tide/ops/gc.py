"""``tide gc``: delete cache objects that no kept revision needs."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from tide.core.errors import TideError, UsageError
from tide.ops.index import collect, outs_at_rev, used_oids
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo

STALE_TMP_SECONDS = 24 * 3600


@dataclass
class GcPlan:
    keep: set[tuple[str, bool]] = field(default_factory=set)
    remove: list[tuple[str, bool]] = field(default_factory=list)
    revs: int = 0
    unreadable: list[str] = field(default_factory=list)  # roots whose keep set could not be read


class IncompleteKeepSet(TideError):
    """gc could not read every root it keeps (a manifest, a revision): it deletes nothing.
    ``unreadable``: every root that could not be read (a dry run lists them)."""

    def __init__(self, message: str, unreadable: list[str]) -> None:
        super().__init__(message)
        self.unreadable = list(unreadable)


def require_complete(unreadable: list[str], dry: bool = False, what: str = "the cache") -> None:
    """The rule "nothing is deleted unless its keep set is complete" (as restic's prune): when any
    kept manifest or revision could not be read, gc stops before deleting anything, in one line. A
    dry run lists what could not be read (the caller shows ``IncompleteKeepSet.unreadable``)."""
    if not unreadable:
        return
    more = f" (and {len(unreadable) - 1} more{'' if dry else '; --dry lists them'})" if len(unreadable) > 1 else ""
    raise IncompleteKeepSet(
        f"gc aborted, nothing removed from {what}: could not read {unreadable[0]}{more}; what it names "
        "cannot be told from garbage. Fetch or restore it (or narrow the scope), then run gc again",
        unreadable,
    )


def plan(
    repo: Repo, workspace: bool, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False
) -> GcPlan:
    if not (workspace or all_branches or all_tags or all_commits):
        raise UsageError(
            "say what to keep: -w/--workspace, -a/--all-branches, -T/--all-tags or -A/--all-commits"
        )
    p = GcPlan()
    outs = [t.out for t in collect(repo, find_dvc_files(repo.root, repo.ignore, p.unreadable))]
    p.keep |= used_oids(repo, outs, unreadable=p.unreadable, where=" in the workspace")
    if repo.git is not None and (all_branches or all_tags or all_commits):
        revs = repo.git.revs(all_branches, all_tags, all_commits)
        p.revs = len(revs)
        for rev in sorted(revs):
            p.keep |= used_oids(repo, outs_at_rev(repo, rev), unreadable=p.unreadable, where=f" at {rev[:8]}")
    elif all_branches or all_tags or all_commits:
        raise UsageError("-a/-T/-A need git (the repository was initialised with --no-scm)")
    p.remove = sorted(o for o in repo.cache.iter_oids() if o not in p.keep)
    return p


def execute(repo: Repo, p: GcPlan) -> int:
    """Delete the planned objects (manifests first, so no directory is left half-present); nothing
    when the keep set is incomplete (``require_complete``)."""
    require_complete(p.unreadable)
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


def gc(repo: Repo, workspace: bool, all_branches=False, all_tags=False, all_commits=False, dry=False):
    with repo.lock():
        p = plan(repo, workspace, all_branches, all_tags, all_commits)
        require_complete(p.unreadable, dry)
        if not dry:
            execute(repo, p)
    return p
