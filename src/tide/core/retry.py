"""The one retry loop: ``RetryPolicy.run`` repeats a call that failed with a ``Transient`` error.

Storage (``storage.wrappers.RetryingBackend``) and the cloud REST client of the runners
(``runners.rest``) both retry through it, so a dead service is asked a stated number of times
(docs/storage.md, "Retries"), never a product of nested loops.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tide.core.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

__all__ = ["DEFAULT_ATTEMPTS", "RetryPolicy", "Transient"]

DEFAULT_ATTEMPTS = 5


class Transient(Exception):
    """Mixed into an error class whose failures may go away when the call is repeated (network,
    throttling, 5xx): ``RetryPolicy.run`` repeats those and nothing else. ``retry_after``, when
    set on an instance, is the wait the service asked for (HTTP ``Retry-After``), used instead of
    the policy's backoff."""

    retry_after: float | None = None


class RetryPolicy(Value):
    """How often a call that failed with a ``Transient`` error is made again: ``attempts`` calls in
    all (1: never again), ``base_delay * 2**n`` seconds apart (at most ``max_delay``), jittered to
    50-100 % of that. With the defaults a dead remote costs 5 attempts and ~1.5 s of waiting per
    operation."""

    __slots__ = ("attempts", "base_delay", "max_delay")
    _defaults = {"attempts": DEFAULT_ATTEMPTS, "base_delay": 0.1, "max_delay": 5.0}
    attempts: int
    base_delay: float
    max_delay: float

    def delay(self, attempt: int) -> float:
        d = min(self.max_delay, self.base_delay * (2 ** attempt))
        import random

        return d * (0.5 + random.random() / 2)

    def run(self, fn: Callable[[], T], sleep: Callable[[float], None] = time.sleep,
            on_retry: Callable[[], None] | None = None) -> T:
        """``fn()``, made again after each ``Transient`` failure until ``attempts`` calls have failed;
        the last failure is raised again, its message saying how many attempts were made."""
        attempt = 0
        while True:
            try:
                return fn()
            except Transient as exc:
                attempt += 1
                if attempt >= self.attempts:
                    raise type(exc)(f"{exc} (gave up after {attempt} attempts)") from exc
                if on_retry is not None:
                    on_retry()
                sleep(exc.retry_after if exc.retry_after is not None else self.delay(attempt))
