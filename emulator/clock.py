"""Timestamps and ids in the commercetools formats (ISO-8601 UTC with milliseconds, UUID4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def iso(epoch: float) -> str:
    """``2026-01-02T03:04:05.678Z`` for a POSIX time."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """The POSIX time of an ISO-8601 timestamp (naive ones are UTC); ValueError if malformed."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def new_id() -> str:
    """A fresh resource id."""
    return str(uuid.uuid4())
