"""``tide pull``: fetch, then check out what was fetched (tide.ops.checkout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import MissingError, StorageError
from tide.objects.transfer import Progress
from tide.ops.checkout import checkout, missing_error
from tide.ops.data_scope import Scope
from tide.ops.fetch import FetchSummary, run_fetch
from tide.workspace.checkout import CheckoutResult
from tide.workspace.repo import Repo


@dataclass
class PullSummary:
    fetched: FetchSummary
    checkout: CheckoutResult


def run_pull(repo: Repo, scope: Scope, remote: str | None = None, jobs: int | None = None,
             run_cache: bool = False, force: bool = False, progress: Progress | None = None,
             warn: Callable[[str], None] | None = None, allow_missing: bool = False) -> PullSummary:
    """``allow_missing`` (``--allow-missing``): outputs whose data is neither in the cache nor on the
    remote are left out of the checkout without failing the pull, as dvc's."""
    try:
        try:
            fetched = run_fetch(repo, scope, remote, jobs, run_cache, progress, verb="pull", spares=True,
                                warn=warn)
        except StorageError:
            # check out what did arrive, then report the transfer failure
            checkout(repo, list(scope.targets) or None, force=force)
            raise
        from tide.ops.registry_fetch import materialize_unlocked, unlocked_imports

        unlocked = unlocked_imports(repo, list(scope.targets) or None)  # --no-download imports
        co = checkout(repo, list(scope.targets) or None, force=force, skip=frozenset(unlocked))
        if unlocked:  # got from their source, as dvc pulls them
            co.added.extend(materialize_unlocked(repo, unlocked, jobs))
    finally:
        repo.cache.drop_spares()
    if co.failed and not allow_missing:  # dvc's pull fails only here: its checkout could not produce a file
        err = missing_error(co)
        if any(r.missing_remote for r in fetched.results.values()) and not co.unhashed:
            err = MissingError(str(err).split(": data is missing")[0]
                               + ": its data is neither in the cache nor on the remote (was it pushed?)")
        raise err
    return PullSummary(fetched, co)
