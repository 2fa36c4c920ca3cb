"""Injected faults: a bad day at commercetools, on demand and reproducible.

A :class:`Rule` matches requests by path (``re.search``) and method, and strikes a matching request with
its own seeded odds:

- ``rate``: the request is answered with an error status, one of ``statuses`` (drawn in turn);
- ``timeout_rate``: the answer is held ``delay`` seconds (set it past the client's timeout: a slow answer
  the client gives up on).

When it strikes depends on ``after``:

- ``after=False`` (the default): before the request is handled. An error changes nothing; a held request
  is handled only once its delay is over (the write lands late, after the client has given up, perhaps
  after its retry).
- ``after=True``: after the request was handled. The write has landed, and its answer is lost: replaced by
  the error, or held past the client's timeout. The nastiest case a client meets.

A rule strikes ``times`` times and is then forgotten (``None``: for ever). Each matching rule draws once
per request, in the order the rules were added; the first that strikes decides. The draws come from a
``random.Random(seed)`` per rule, so a fixed seed replays the same faults for the same sequence of requests.

Every strike is written to :attr:`Faults.injected` with the request's method, path and
``X-Correlation-ID``, so a test can tell which client request met which fault.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["error", "timeout"]


@dataclass(frozen=True, slots=True)
class Strike:
    """What a rule does to one request: an error ``status``, or a ``delay`` (a timeout)."""

    kind: Kind
    after: bool
    status: int | None = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Injected:
    """One strike, as logged."""

    method: str
    path: str
    correlation_id: str | None
    strike: Strike

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "correlationId": self.correlation_id,
                "kind": self.strike.kind, "after": self.strike.after, "status": self.strike.status,
                "delay": self.strike.delay}


@dataclass(eq=False)
class Rule:
    """See the module docstring. ``check()`` refuses odds, statuses or delays that make no sense."""

    path: str
    method: str | None = None
    statuses: Sequence[int] = (500,)
    rate: float = 1.0
    timeout_rate: float = 0.0
    delay: float = 0.0
    after: bool = False
    times: int | None = None
    seed: int | None = None
    pattern: re.Pattern[str] = field(init=False)
    _rng: random.Random = field(init=False, repr=False)
    _turn: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)
        self.method = self.method.upper() if self.method else None
        self.statuses = tuple(self.statuses)
        self._rng = random.Random(self.seed)  # noqa: S311 - fault injection, not cryptography
        self.check()

    def check(self) -> None:
        """Raise ``ValueError`` naming the field that is wrong."""
        if not 0 <= self.rate <= 1:
            raise ValueError("rate: must be between 0 and 1")
        if not 0 <= self.timeout_rate <= 1 or self.rate + self.timeout_rate > 1:
            raise ValueError("timeoutRate: must be between 0 and 1, and rate + timeoutRate at most 1")
        if self.rate > 0 and (not self.statuses or not all(100 <= s <= 599 for s in self.statuses)):
            raise ValueError("statuses: one or more HTTP statuses (100 to 599) are needed")
        if self.delay < 0 or (self.timeout_rate > 0 and self.delay == 0):
            raise ValueError("delay: seconds, more than 0 when timeoutRate is set")
        if self.times is not None and self.times < 1:
            raise ValueError("times: must be at least 1")

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and self.pattern.search(path) is not None

    def draw(self) -> Strike | None:
        """One draw: a strike, or None. Counts the strike against ``times``."""
        x = self._rng.random()
        if x < self.rate:
            status = self.statuses[self._turn % len(self.statuses)]
            self._turn += 1
            strike = Strike("error", self.after, status=status)
        elif x < self.rate + self.timeout_rate:
            strike = Strike("timeout", self.after, delay=self.delay)
        else:
            return None
        if self.times is not None:
            self.times -= 1
        return strike

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "method": self.method, "statuses": list(self.statuses), "rate": self.rate,
                "timeoutRate": self.timeout_rate, "delay": self.delay, "after": self.after, "times": self.times,
                "seed": self.seed}


class Faults:
    """The rules in force and the log of what they did."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.injected: list[Injected] = []

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget the rules (the log stays: it is what happened)."""
        self.rules.clear()

    def reset(self) -> None:
        self.rules.clear()
        self.injected.clear()

    def strike(self, method: str, path: str, correlation_id: str | None = None) -> Strike | None:
        """Draw for one request; the strike (logged) or None."""
        for rule in list(self.rules):
            if not rule.matches(method, path):
                continue
            strike = rule.draw()
            if rule.times is not None and rule.times <= 0:
                self.rules.remove(rule)
            if strike is not None:
                self.injected.append(Injected(method, path, correlation_id, strike))
                return strike
        return None

    def counts(self) -> Counter[str]:
        """Strikes by kind: ``500`` (before), ``after 502`` (the answer lost), ``timeout``, ``after timeout`` ..."""
        out: Counter[str] = Counter()
        for entry in self.injected:
            s = entry.strike
            name = "timeout" if s.kind == "timeout" else str(s.status)
            out[f"{'after ' if s.after else ''}{name}"] += 1
        return out
