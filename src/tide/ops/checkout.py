"""``tide checkout``: restore tracked outputs from the cache."""

from __future__ import annotations

import os

from tide.core.errors import MissingError
from tide.ops.index import collect
from tide.ops.status import select
from tide.workspace.checkout import CheckoutResult, checkout_out, load_manifest
from tide.workspace.repo import Repo


def checkout(
    repo: Repo, targets: list[str] | None = None, force: bool = False, relink: bool = False, cwd: str | None = None
) -> CheckoutResult:
    cwd = cwd or os.getcwd()
    total = CheckoutResult()
    with repo.lock():
        selected = select(repo, collect(repo), targets, cwd)
        for t in selected:  # an unsafe or corrupt manifest is refused before anything is written
            out = t.out
            if out.md5 and out.is_dir and out.use_cache and repo.cache.exists(out.md5, out.legacy):
                load_manifest(repo.cache, out)
        for t in selected:
            r = checkout_out(t.out, repo.rel(t.out.abspath), repo.hasher, repo.cache, force, relink)
            total.added += r.added
            total.modified += r.modified
            total.failed += r.failed
            total.unchanged += r.unchanged
    return total


def missing_error(result: CheckoutResult) -> MissingError:
    names = ", ".join(f"'{p}'" for p in result.failed[:5])
    more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
    return MissingError(f"checkout failed for {names}{more}: data is missing from the cache (try 'tide pull')")
