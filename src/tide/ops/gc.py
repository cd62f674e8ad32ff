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


def kept_revs(repo: Repo, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
              rev: str | None = None, num: int | None = None, all_experiments: bool = False,
              date: str | None = None) -> list[str]:
    """The commits whose data gc keeps besides the workspace, as dvc's ``iter_revs``: ``rev`` and its
    ``num - 1`` first-parent ancestors (``rev~1``, ``rev~2``... while they exist), the same ``num``
    commits of every branch with ``all_branches``, every tag, or every commit."""
    if not (all_branches or all_tags or all_commits or rev or all_experiments or date):
        return []
    git = repo.git
    if git is None:
        raise UsageError("-a/-T/-A/--rev/--date/--all-experiments need git (the repository was initialised with "
                         "--no-scm)")
    since = _midnight(date) if date else None
    if num is not None and num < 1:
        raise UsageError("-n/--num must be at least 1")
    n = num or 1
    found: set[str] = set()

    def last_n(start: str) -> None:
        found.add(git.resolve(start))
        for k in range(1, n):
            try:
                found.add(git.resolve(f"{start}~{k}"))
            except TideError:
                break

    if rev:
        last_n(rev)
    if all_commits:
        found |= git.revs(all_commits=True)
    else:
        if all_branches:
            for head in sorted(git.revs(all_branches=True)):
                last_n(head)
        if all_tags:
            found |= git.revs(all_tags=True)
        if since is not None:  # as dvc: every commit made on or after that local date (committer time),
            # experiments' commits (refs/exps) left out as dvc's list_all_commits leaves them
            tips = sorted({sha for ref, sha in git.refs("refs/").items() if not ref.startswith("refs/exps/")})
            for line in (git.out("log", "--format=%H %ct", *tips).splitlines() if tips else []):
                sha, _, ct = line.partition(" ")
                if ct and int(ct) >= since:
                    found.add(sha)
    if all_experiments:  # dvc's exp_commits: each experiment's commits down to (not including) its baseline
        from tide.ops.exp_refs import all_refs

        for info, sha in all_refs(git).items():
            found.update(git.out("rev-list", "--first-parent", sha, f"^{info.baseline}").split() or [sha])
    return sorted(found)


def _midnight(date: str) -> float:
    """``--date YYYY-MM-DD``: the start of that day in local time, as dvc's ``strptime(...).timestamp()``."""
    from datetime import datetime

    try:
        return datetime.strptime(date, "%Y-%m-%d").timestamp()  # local time, as dvc
    except ValueError:
        raise UsageError(f"--date '{date}': expected YYYY-MM-DD") from None


def check_scope(workspace: bool, all_branches: bool, all_tags: bool, all_commits: bool, rev: str | None,
                num: int | None, all_experiments: bool = False, date: str | None = None) -> None:
    """dvc's rules for what gc keeps (``dvc/repo/gc.py``: ``_validate_args``)."""
    if not (workspace or all_branches or all_tags or all_commits or rev or all_experiments or date):
        raise UsageError(
            "say what to keep: -w/--workspace, -a/--all-branches, -T/--all-tags, --all-experiments, "
            "-A/--all-commits, --date or --rev"
        )
    if num and not (rev or all_branches):
        raise UsageError("`--num` can only be used alongside `--rev` or `--all-branches`")


def plan(
    repo: Repo, workspace: bool, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
    rev: str | None = None, num: int | None = None, not_in_remote: bool = False, remote: str | None = None,
    jobs: int | None = None, all_experiments: bool = False, date: str | None = None, skip_failed: bool = False,
    warn=None,
) -> GcPlan:
    """``not_in_remote``: objects already on the remote (``remote`` or the default) are not kept, as
    dvc's ``gc --not-in-remote`` (the remote is only read)."""
    check_scope(workspace, all_branches, all_tags, all_commits, rev, num, all_experiments, date)
    p = GcPlan()
    outs = [t.out for t in collect(repo, find_dvc_files(repo.root, repo.ignore, p.unreadable))]
    p.keep |= used_oids(repo, outs, unreadable=p.unreadable, where=" in the workspace")
    revs = kept_revs(repo, all_branches, all_tags, all_commits, rev, num, all_experiments, date)
    p.revs = len(revs)
    for r in revs:
        try:
            outs_r = outs_at_rev(repo, r)
        except TideError:
            if not skip_failed:
                raise
            if warn is not None:  # dvc's --skip-failed: that revision keeps nothing
                warn(f"WARNING: Failed to collect '{r}', skipping")
            continue
        p.keep |= used_oids(repo, outs_r, unreadable=p.unreadable, where=f" at {r[:8]}")
    if not_in_remote and p.keep and not p.unreadable:
        p.keep -= _on_remote(repo, p.keep, remote, jobs)
    p.remove = sorted(o for o in repo.cache.iter_oids() if o not in p.keep)
    return p


def _on_remote(repo: Repo, oids: set[tuple[str, bool]], remote: str | None, jobs: int | None):
    from tide.objects.ref import ObjRef
    from tide.ops.data_scope import open_remote

    rem = open_remote(repo, remote, jobs)
    try:
        refs = [ObjRef(oid, legacy) for oid, legacy in sorted(oids)]
        there = rem.store.has_many(refs, rem.jobs)
    finally:
        rem.close()
    return {(r.oid, r.legacy) for r in there}


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


def gc(repo: Repo, workspace: bool, all_branches=False, all_tags=False, all_commits=False, dry=False,
       rev: str | None = None, num: int | None = None):
    with repo.lock():
        p = plan(repo, workspace, all_branches, all_tags, all_commits, rev, num)
        require_complete(p.unreadable, dry)
        if not dry:
            execute(repo, p)
    return p
