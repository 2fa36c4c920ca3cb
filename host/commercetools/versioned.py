"""The one retry-on-conflict helper behind every versioned write.

commercetools' resource versions are the only lock the host has (replicas share nothing else). A write
carries the version it read; a 409 means somebody else wrote first. ``retry_on_conflict`` runs an
attempt, and on ``ConcurrentModificationError`` waits a jittered, growing pause and runs it again. The
attempt re-reads what it needs (it is told its number) and re-checks its rules before writing: a rule
decided on a stale read is never written.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from host.errors import ConcurrentModificationError

T = TypeVar("T")
MAX_ATTEMPTS = 5


def backoff(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th conflict: 50 ms doubling, capped at 1 s, with jitter."""
    pause: float = min(0.05 * 2 ** attempt + random.uniform(0, 0.05), 1.0)  # noqa: S311 - jitter, not crypto
    return pause


async def retry_on_conflict(attempt: Callable[[int], Awaitable[T]], *, attempts: int = MAX_ATTEMPTS,
                            what: str = "write") -> T:
    """Run ``attempt(n)`` for n = 0, 1, ... until it returns or raises something else than a 409. ``what``
    names the write in the ``conflict_retries`` metric (payment, reservation, cart, store)."""
    for n in range(attempts):
        try:
            return await attempt(n)
        except ConcurrentModificationError:
            if n == attempts - 1:
                raise
            from host import metrics  # not at import: prometheus_client must load after the worker set-up

            metrics.conflict_retry(what)
            await asyncio.sleep(backoff(n))
    raise AssertionError("unreachable")  # pragma: no cover
