"""The sandbox PSP's books: what it did, one entry per PSP reference, kept in a ``host.Store``.

A real PSP keeps its own records; the sandbox keeps them in the instance's ``context.store`` (commercetools
Custom Objects on a running host), so every replica and every restart sees the same PSP: a call repeated
with the same idempotency key on another replica answers the first result, and ``reconcile`` can say what
became of an attempt whose answer the host never recorded. ``books: memory`` keeps them in this process
instead, as a constant-time PSP for benchmarks.

References are derived from the idempotency key (``sandbox-<uuid5>``, ``sandbox-capture-<uuid5>``...), so
an entry is found by the key the host called with as well as by the reference it recorded, with one read.
An entry is written once (read, then create), and only a hosted-page decision, or detaching a stored card's
token (``vault.py``), changes it afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from host import ConcurrentModificationError, Money, Store, TransactionResult, TxState, TxType

#: Entries ``books: memory`` keeps per instance (oldest forgotten first).
LOCAL_ENTRIES = 10_000
_NAMESPACE = uuid.UUID("5a2d22be-7c1e-4c55-9a52-73616e64626f")


def reference(kind: str, idempotency_key: str) -> str:
    """The PSP reference of the ``kind`` operation (authorization, capture, cancel, refund) the host asked for
    with ``idempotency_key``."""
    prefix = "sandbox" if kind == "authorization" else f"sandbox-{kind}"
    return f"{prefix}-{uuid.uuid5(_NAMESPACE, idempotency_key)}"


def money_json(amount: Money) -> dict[str, Any]:
    return {"centAmount": amount.cent_amount, "currencyCode": amount.currency,
            "fractionDigits": amount.fraction_digits}


def money_of(data: Any) -> Money:
    return Money(int(data["centAmount"]), str(data["currencyCode"]), int(data["fractionDigits"]))


def tx_json(tx: TransactionResult) -> dict[str, Any]:
    return {"type": tx.type.value, "state": tx.state.value, "interactionId": tx.interaction_id,
            "amount": money_json(tx.amount) if tx.amount is not None else None}


def tx_of(data: Any) -> TransactionResult:
    amount = data.get("amount")
    return TransactionResult(TxType(data["type"]), TxState(data["state"]),
                             money_of(amount) if amount is not None else None, data.get("interactionId"))


class Books:
    """Entries by reference: in ``store()`` (called each time: the host gives the store at start-up), or with
    ``store=None`` in this process (``books: memory``, the last ``LOCAL_ENTRIES``)."""

    def __init__(self, store: Callable[[], Store] | None) -> None:
        self._store = store
        self._local: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def find(self, ref: str) -> dict[str, Any] | None:
        if self._store is None:
            return self._local.get(ref)
        found = await self._store().get(ref)
        return None if found is None else dict(found.value)

    async def enter(self, ref: str, entry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Write ``entry`` under ``ref`` unless there is one: the entry kept, and whether it is ``entry``.

        Read first, so that a repeated call finds the first entry on every commercetools (ct-mock does not
        refuse a create over an existing object); a create that loses a race reads the winner's."""
        if self._store is None:
            kept = self._local.setdefault(ref, entry)
            while len(self._local) > LOCAL_ENTRIES:
                self._local.popitem(last=False)
            return kept, kept is entry
        store = self._store()
        found = await store.get(ref)
        if found is not None:
            return dict(found.value), False
        try:
            await store.put(ref, entry, 0)
        except ConcurrentModificationError:
            again = await store.get(ref)
            if again is None:
                raise
            return dict(again.value), False
        return entry, True

    async def decide(self, ref: str, authorized: bool) -> bool | None:
        """Record a hosted-page decision once; the decision kept (the first), or None without an entry."""
        if self._store is None:
            entry = self._local.get(ref)
            if entry is None:
                return None
            entry.setdefault("decision", authorized)
            return bool(entry["decision"])
        decided: list[bool | None] = []

        def change(entry: Any) -> Any:
            if entry is None or entry.get("decision") is not None:
                decided.append(None if entry is None else bool(entry["decision"]))
                raise _Unchanged
            decided.append(authorized)
            return {**entry, "decision": authorized}

        with contextlib.suppress(_Unchanged):
            await self._store().update(ref, change)
        return decided[-1]


    async def mark(self, ref: str, **fields: Any) -> None:
        """Set ``fields`` on the entry ``ref`` (a versioned update); nothing without an entry."""
        if self._store is None:
            if ref in self._local:
                self._local[ref] = {**self._local[ref], **fields}
            return

        def change(entry: Any) -> Any:
            if entry is None:
                raise _Unchanged
            return {**entry, **fields}

        with contextlib.suppress(_Unchanged):
            await self._store().update(ref, change)


class _Unchanged(Exception):
    """Raised by an ``update`` change that has nothing to write."""
