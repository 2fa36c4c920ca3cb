"""Fault injection for the sandbox PSPs: added latency, random errors and random timeouts.

Each PSP call draws one number from a private ``random.Random(seed)``, so a fixed ``seed`` replays the
same sequence of faults for the same sequence of calls. The draw ``x`` in ``[0, 1)`` decides:
``x < errorRate`` → error; ``x < errorRate + timeoutRate`` → timeout; ``x < errorRate + timeoutRate +
lostRate`` → the PSP does what it is asked and its answer is lost (a timeout after the fact: the outcome the
host must find by reconciliation); else the call succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import NoReturn

from host import ProviderError

logger = logging.getLogger(__name__)


class FaultInjector:
    """Call ``await faults.call("capture")`` at the start of every simulated PSP call."""

    def __init__(self, *, name: str, latency: float = 0.0, error_rate: float = 0.0,
                 timeout_rate: float = 0.0, lost_rate: float = 0.0, timeout: float = 0.0,
                 seed: int | None = None) -> None:
        self.name = name
        self.latency = latency
        self.error_rate = error_rate
        self.timeout_rate = timeout_rate
        self.lost_rate = lost_rate
        self.timeout = timeout
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not cryptography

    async def call(self, operation: str) -> bool:
        """Wait ``latency``, then maybe raise ``ProviderError`` (502 SandboxError or 504 SandboxTimeout).

        True: this call's answer is to be lost; the caller does what it was asked, then calls ``lose``."""
        draw = self._rng.random()  # drawn first, so concurrent calls keep the seeded order
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if draw < self.error_rate:
            logger.info("%s: injected error on %s", self.name, operation)
            raise ProviderError(f"{self.name} error", code="SandboxError", status=502)
        if draw < self.error_rate + self.timeout_rate:
            logger.info("%s: injected timeout on %s", self.name, operation)
            await asyncio.sleep(self.timeout)
            raise ProviderError(f"{self.name} timeout", code="SandboxTimeout", status=504)
        return draw < self.error_rate + self.timeout_rate + self.lost_rate

    async def lose(self, operation: str) -> NoReturn:
        """The answer of a call that was done is lost: wait ``timeout``, then 504 SandboxTimeout."""
        logger.info("%s: injected lost answer on %s", self.name, operation)
        await asyncio.sleep(self.timeout)
        raise ProviderError(f"{self.name} timeout", code="SandboxTimeout", status=504)
