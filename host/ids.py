"""Ids the host makes per request (correlation ids, attempt ids, Payment keys): unique without a system call.

Each process draws 64 random bits once and counts: ``<16 hex of the process><12 hex of the count>``. Two
processes (replicas, workers, restarts) share a prefix with odds of about 2**-64 per pair. These ids name
things; they are not secrets (``uuid.uuid4()`` would cost a ``getrandom`` call each, on every request).
"""

from __future__ import annotations

import itertools
import os

_PREFIX = os.urandom(8).hex()
_COUNT = itertools.count()


def new_id() -> str:
    """28 lower-case hex characters, unique across processes."""
    return f"{_PREFIX}{next(_COUNT):012x}"


def uuid_shaped() -> str:
    """A unique id in the 8-4-4-4-12 shape of a UUID (the templates' correlation ids are UUIDs)."""
    count = f"{next(_COUNT):016x}"
    return f"{_PREFIX[:8]}-{_PREFIX[8:12]}-{_PREFIX[12:]}-{count[:4]}-{count[4:]}"


def reset_after_fork() -> None:
    """A forked child must not repeat its parent's ids (the host spawns, so this is for embedders)."""
    global _PREFIX, _COUNT
    _PREFIX, _COUNT = os.urandom(8).hex(), itertools.count()


os.register_at_fork(after_in_child=reset_after_fork)
