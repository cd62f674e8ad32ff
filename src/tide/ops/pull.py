"""``tide pull``: fetch, then check out what was fetched (tide.ops.checkout)."""

from __future__ import annotations

from collections.abc import Callable

from tide.core.errors import MissingError, StorageError
from tide.ops.checkout import checkout, missing_error
from tide.ops.data_scope import Scope
from tide.ops.fetch import FetchSummary, run_fetch
from tide.workspace.checkout import CheckoutResult
from tide.workspace.repo import Repo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.objects.transfer import Progress


class PullSummary:  # (not a dataclass: importing dataclasses costs ~8 ms of a no-op pull)
    __slots__ = ("fetched", "checkout")

    def __init__(self, fetched: FetchSummary, checkout: CheckoutResult) -> None:
        self.fetched = fetched
        self.checkout = checkout


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
        # --no-download imports are got from their source by the checkout, as dvc pulls them
        co = checkout(repo, list(scope.targets) or None, force=force, jobs=jobs)
    finally:
        repo.cache.drop_spares()
    if co.failed and not allow_missing:  # dvc's pull fails only here: its checkout could not produce a file
        err = missing_error(co)
        if any(r.missing_remote for r in fetched.results.values()) and not co.unhashed:
            err = MissingError(str(err).split(": data is missing")[0]
                               + ": its data is neither in the cache nor on the remote (was it pushed?)")
        raise err
    return PullSummary(fetched, co)
