"""A small versioned key-value store for a provider's own state, kept where every replica sees it.

The host gives each provider instance one (``context.store``). On a running host it is commercetools
Custom Objects in the container ``connector-host.<instance>``, so replicas and restarts share it (the
sandboxes keep their simulated PSP's books there); in a provider's unit tests it is a ``MemoryStore``.
Versions are the lock, as everywhere in the host: ``put(key, value, version)`` writes only while the
stored version is still ``version`` (0: only while the key is absent) and raises
``ConcurrentModificationError`` otherwise; ``update(key, change)`` is the read-change-write loop over it.
Values are JSON. Keys are any strings (the store hashes them into commercetools' key alphabet).
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from host.commercetools.versioned import retry_on_conflict
from host.errors import ConcurrentModificationError


@dataclass(frozen=True, slots=True)
class Stored:
    """A value and the version it was read at."""

    value: Any
    version: int


class Store(abc.ABC):
    @abc.abstractmethod
    async def get(self, key: str) -> Stored | None:
        """The value under ``key``, or None."""

    @abc.abstractmethod
    async def put(self, key: str, value: Any, version: int) -> Stored:
        """Write ``value`` if the stored version is ``version`` (0: if absent); else ``ConcurrentModificationError``."""

    async def update(self, key: str, change: Callable[[Any], Any], *, attempts: int = 10) -> Stored:
        """Read, ``change(value or None)``, write with the version read; again on a conflict. ``change`` may
        raise to give up (nothing is written)."""

        async def attempt(n: int) -> Stored:
            current = await self.get(key)
            value = change(None if current is None else copy.deepcopy(current.value))
            return await self.put(key, value, current.version if current is not None else 0)

        return await retry_on_conflict(attempt, attempts=attempts, what="store")


class MemoryStore(Store):
    """One process's store: for a provider's unit tests (the running host gives a shared one)."""

    def __init__(self) -> None:
        self._data: dict[str, Stored] = {}

    async def get(self, key: str) -> Stored | None:
        return self._data.get(key)

    async def put(self, key: str, value: Any, version: int) -> Stored:
        current = self._data.get(key)
        if (current.version if current is not None else 0) != version:
            raise ConcurrentModificationError(f"{key} changed meanwhile; read it again.")
        stored = Stored(copy.deepcopy(value), version + 1)
        self._data[key] = stored
        return stored
