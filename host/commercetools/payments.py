"""The consolidating Payment update (CONTRACT.md §5.0): the host's one way to record transactions.

``build_actions`` is pure: given the Payment as read and what should be recorded, it returns the update
actions (none when everything is already there). ``apply_update`` posts them with the Payment's version
and, on a 409, re-reads and rebuilds; so a replayed webhook or request writes nothing, and concurrent
writers never lose a transaction. The version is the lock: nothing here is held in memory.

Matching a new transaction to a recorded one: same type and the same ``interactionId`` or the same
``interfaceId``; failing that, a single ``Initial`` transaction of the same amount that lacks either (the
pre-recorded kind the templates write, or the host's own reservation when the PSP's webhook overtakes the
write of the modification's outcome). Allowed state changes: Initial → Pending/Success/Failure,
Pending → Success/Failure, Failure → Success, Success → Failure.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from host.commercetools.client import CommercetoolsClient
from host.errors import ConcurrentModificationError
from host.models import Money, PaymentView, Transaction, TxState, TxType

logger = logging.getLogger(__name__)

ALLOWED: Mapping[TxState, frozenset[TxState]] = {
    TxState.INITIAL: frozenset({TxState.PENDING, TxState.SUCCESS, TxState.FAILURE}),
    TxState.PENDING: frozenset({TxState.SUCCESS, TxState.FAILURE}),
    TxState.FAILURE: frozenset({TxState.SUCCESS}),
    TxState.SUCCESS: frozenset({TxState.FAILURE}),
}
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class TxDraft:
    type: TxType
    state: TxState
    amount: Money
    interaction_id: str | None = None
    interface_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    transactions: Sequence[TxDraft] = ()
    psp_reference: str | None = None        # becomes interfaceId when the Payment has none
    method: str | None = None               # paymentMethodInfo.method when unset
    payment_interface: str | None = None    # paymentMethodInfo.paymentInterface when unset


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _matches(existing: Mapping[str, Any], tx: TxDraft) -> bool:
    if existing.get("type") != tx.type.value:
        return False
    return bool((tx.interaction_id and existing.get("interactionId") == tx.interaction_id)
                or (tx.interface_id and existing.get("interfaceId") == tx.interface_id))


def _loose_match(existing: Mapping[str, Any], tx: TxDraft) -> bool:
    amount = existing.get("amount") or {}
    return (existing.get("type") == tx.type.value and existing.get("state") == TxState.INITIAL.value
            and (not existing.get("interactionId") or not existing.get("interfaceId"))
            and amount.get("centAmount") == tx.amount.cent_amount
            and amount.get("currencyCode") == tx.amount.currency)


def build_actions(payment: Mapping[str, Any], update: PaymentUpdate, now: str | None = None) -> list[dict[str, Any]]:
    """The update actions that bring ``payment`` up to ``update``; ``[]`` when nothing changes."""
    actions: list[dict[str, Any]] = []
    if update.psp_reference and not payment.get("interfaceId"):
        actions.append({"action": "setInterfaceId", "interfaceId": update.psp_reference})
    info = payment.get("paymentMethodInfo") or {}
    if update.payment_interface and not info.get("paymentInterface"):
        actions.append({"action": "setMethodInfoInterface", "interface": update.payment_interface})
    if update.method and not info.get("method"):
        actions.append({"action": "setMethodInfoMethod", "method": update.method})
    recorded: list[Mapping[str, Any]] = list(payment.get("transactions") or [])
    for tx in update.transactions:
        if tx.state == TxState.INITIAL and not tx.interaction_id and not tx.interface_id:
            continue
        found = [t for t in recorded if _matches(t, tx)]
        if not found:
            loose = [t for t in recorded if _loose_match(t, tx)]
            found = loose if len(loose) == 1 else []
        if len(found) > 1:
            raise ConcurrentModificationError(
                f"{len(found)} {tx.type.value} transactions match {tx.interaction_id or tx.interface_id}")
        if not found:
            draft: dict[str, Any] = {"type": tx.type.value, "amount": tx.amount.to_ct(), "state": tx.state.value,
                                     "timestamp": now or now_iso()}
            if tx.interaction_id:
                draft["interactionId"] = tx.interaction_id
            if tx.interface_id:
                draft["interfaceId"] = tx.interface_id
            actions.append({"action": "addTransaction", "transaction": draft})
            # later drafts of this same update must see it (two events for one transaction in one batch)
            recorded.append({**draft, "id": None})
            continue
        match = found[0]
        current = TxState(match.get("state", "Initial"))
        if match.get("id") is None:  # added by this very update
            continue
        if tx.state != current and tx.state in ALLOWED[current]:
            actions.append({"action": "changeTransactionState", "transactionId": match["id"], "state": tx.state.value})
        if tx.interaction_id and not match.get("interactionId"):
            actions.append({"action": "changeTransactionInteractionId", "transactionId": match["id"],
                            "interactionId": tx.interaction_id})
        if tx.interface_id and not match.get("interfaceId"):
            actions.append({"action": "setTransactionInterfaceId", "transactionId": match["id"],
                            "interfaceId": tx.interface_id})
    return actions


async def apply_update(client: CommercetoolsClient, payment_id: str, update: PaymentUpdate,
                       payment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Record ``update`` on the Payment. ``payment`` is the Payment in hand (no re-read) if the caller has
    the current version; on a 409 it is re-read and the actions rebuilt, up to ``MAX_ATTEMPTS`` times."""
    for attempt in range(MAX_ATTEMPTS):
        current = dict(payment) if payment is not None else await client.get_payment(payment_id)
        actions = build_actions(current, update)
        if not actions:
            return current
        try:
            result: dict[str, Any] = await client.update_payment(payment_id, int(current["version"]), actions)
            return result
        except ConcurrentModificationError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            payment = None
            await asyncio.sleep(min(0.05 * 2 ** attempt + random.uniform(0, 0.05), 1.0))  # noqa: S311 - jitter
    raise AssertionError("unreachable")  # pragma: no cover


def view(payment: Mapping[str, Any]) -> PaymentView:
    """A ``PaymentView`` of a commercetools Payment JSON."""
    info = payment.get("paymentMethodInfo") or {}
    txs = tuple(
        Transaction(id=str(t.get("id")), type=TxType(t["type"]), state=TxState(t.get("state", "Initial")),
                    amount=Money.from_ct(t["amount"]), interaction_id=t.get("interactionId"),
                    interface_id=t.get("interfaceId"), timestamp=t.get("timestamp"))
        for t in payment.get("transactions") or [])
    return PaymentView(id=str(payment["id"]), version=int(payment["version"]),
                       amount_planned=Money.from_ct(payment["amountPlanned"]),
                       payment_interface=info.get("paymentInterface"), interface_id=payment.get("interfaceId"),
                       method=info.get("method"), transactions=txs, raw=payment)
