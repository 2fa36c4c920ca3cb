"""Writing a known PSP outcome so that it is not lost to a commercetools hiccup.

Once the PSP has answered, its outcome must reach commercetools. The write is versioned and consolidating,
so repeating it is always safe (a repeat that finds it already there writes nothing). ``record`` repeats
it on what a retry can cure — commercetools 5xx, timeouts, connection errors, a Payment that kept
changing (409 after every re-read) — with a growing pause, within ``budget`` seconds. If it never lands,
the answer is ``None``: the reservation stays undecided, the request answers that the outcome is pending,
and the reconciler (``host.flows.reconcile``) records it from the PSP's books.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from host.commercetools.versioned import backoff
from host.errors import ApiError, ConcurrentModificationError, ReservationMissingError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _curable(exc: ApiError) -> bool:
    return not isinstance(exc, ReservationMissingError) and (
        exc.status >= 500 or isinstance(exc, ConcurrentModificationError))


async def record(write: Callable[[], Awaitable[T]], *, budget: float, what: str) -> T | None:
    """``await write()`` until it lands or ``budget`` seconds are spent; None when it never landed."""
    deadline = time.monotonic() + budget
    attempt = 0
    while True:
        try:
            return await write()
        except ApiError as exc:
            if not _curable(exc):
                raise
            pause = backoff(attempt)
            if time.monotonic() + pause > deadline:
                logger.warning("%s not recorded (%s %s); left to reconciliation", what, exc.status, exc.code)
                return None
            attempt += 1
            await asyncio.sleep(pause)
