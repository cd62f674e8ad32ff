"""``tide checkout``: restore tracked outputs from the cache."""

from __future__ import annotations

import os

from tide.core.errors import MissingError
from tide.core.fsutil import remove
from tide.ops.index import Tracked, collect, declared_outs
from tide.ops.status import select
from tide.workspace.checkout import CheckoutResult, NeedsForce, checkout_out, load_manifest
from tide.workspace.index import find_dvc_files
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo


def checkout(
    repo: Repo, targets: list[str] | None = None, force: bool = False, relink: bool = False, cwd: str | None = None
) -> CheckoutResult:
    cwd = cwd or os.getcwd()
    total = CheckoutResult()
    with repo.lock():
        found = find_dvc_files(repo.root, repo.ignore)
        tracked = collect(repo, found)
        selected = select(repo, tracked + _unrecorded(repo, tracked, found[1]), targets, cwd)
        for t in selected:  # an unsafe or corrupt manifest is refused before anything is written
            out = t.out
            if out.md5 and out.is_dir and out.use_cache and repo.cache.exists(out.md5, out.legacy):
                load_manifest(repo.cache, out)
            if out.md5 is None and not force and os.path.lexists(out.abspath):
                raise NeedsForce(
                    f"'{repo.rel(out.abspath)}' has no recorded hash (its stage never ran) and is not in the "
                    "cache; checkout would remove it: use --force to do so"
                )
        for t in selected:
            if t.out.md5 is None:
                _no_hash(repo, t.out, total)
                continue
            r = checkout_out(t.out, repo.rel(t.out.abspath), repo.hasher, repo.cache, force, relink)
            total.added += r.added
            total.modified += r.modified
            total.failed += r.failed
            total.unchanged += r.unchanged
    return total


def _unrecorded(repo: Repo, tracked: list[Tracked], pipes: list[str]) -> list[Tracked]:
    """Cached outputs declared in dvc.yaml with no hash in dvc.lock (the stage never ran or
    changed its outputs since): dvc cannot check them out, and says so."""
    have = {t.out.abspath for t in tracked}
    return [t for t in declared_outs(repo, pipes) if t.out.use_cache and t.out.abspath not in have]


def _no_hash(repo: Repo, out: Out, total: CheckoutResult) -> None:
    """As dvc: an output without a recorded hash fails the checkout; a file in its place (not in
    the cache) is deleted, which ``checkout`` allows only with ``force``."""
    rel = repo.rel(out.abspath)
    if os.path.lexists(out.abspath):
        remove(out.abspath)
    total.failed.append(rel)
    total.unhashed.append(rel)


def missing_error(result: CheckoutResult) -> MissingError:
    names = ", ".join(f"'{p}'" for p in result.failed[:5])
    more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
    if result.unhashed and len(result.unhashed) == len(result.failed):
        return MissingError(f"checkout failed for {names}{more}: no hash recorded in dvc.lock (run 'tide repro')")
    return MissingError(f"checkout failed for {names}{more}: data is missing from the cache (try 'tide pull')")
