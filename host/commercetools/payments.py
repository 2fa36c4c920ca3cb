"""The consolidating Payment update (CONTRACT.md §5.0): the host's one way to record transactions.

``build_actions`` is pure: given the Payment as read and what should be recorded, it returns the update
actions (none when everything is already there). ``apply_update`` posts them with the Payment's version
and, on a 409, re-reads and rebuilds (``retry_on_conflict``); so a replayed webhook or request writes
nothing, and concurrent writers never lose a transaction. The version is the lock.

Which recorded transaction a draft is about, by the kind of draft:

- **The host's own** (a draft with an ``interfaceId``, the attempt key): the transaction with that
  ``interfaceId``, and no other. A reservation (``Initial``) is added when it is missing. An outcome
  (``settles``) must find its reservation: if it is missing, ``ReservationMissingError`` — an outcome is
  never recorded without the reservation that limited it. A transaction that carries its own
  ``interfaceId`` is therefore never matched by another attempt's draft.
- **A PSP's event** (only an ``interactionId``): the transaction of the same type with that
  ``interactionId``; failing that, for a Success or Pending, the one undecided reservation of the same
  type and amount that has no ``interactionId`` yet (a webhook that overtakes the write of the outcome).
  If several could be it, or a Failure could be one of them, ``AmbiguousEventError`` (a 409: the PSP
  delivers again later, when the host's outcome writes have named them). If none, the event is added:
  the PSP did something the host did not ask for (a dashboard refund, a chargeback).
- ``Initial`` without any id is dropped, as the templates do.

Allowed state changes: Initial → Pending/Success/Failure, Pending → Success/Failure, Failure → Success,
Success → Failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from host.commercetools.client import CommercetoolsClient
from host.commercetools.versioned import retry_on_conflict
from host.errors import AmbiguousEventError, ReservationMissingError
from host.models import Money, PaymentView, TxState, TxType

logger = logging.getLogger(__name__)

ALLOWED: Mapping[TxState, frozenset[TxState]] = {
    TxState.INITIAL: frozenset({TxState.PENDING, TxState.SUCCESS, TxState.FAILURE}),
    TxState.PENDING: frozenset({TxState.SUCCESS, TxState.FAILURE}),
    TxState.FAILURE: frozenset({TxState.SUCCESS}),
    TxState.SUCCESS: frozenset({TxState.FAILURE}),
}


@dataclass(frozen=True, slots=True)
class TxDraft:
    type: TxType
    state: TxState
    amount: Money
    interaction_id: str | None = None
    interface_id: str | None = None
    settles: bool = False       # the outcome of the attempt ``interface_id``: its reservation must exist


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    transactions: Sequence[TxDraft] = ()
    psp_reference: str | None = None        # becomes interfaceId when the Payment has none
    method: str | None = None               # paymentMethodInfo.method when unset
    paid_with: str | None = None            # paymentMethodInfo.method, replacing what is there
    payment_interface: str | None = None    # paymentMethodInfo.paymentInterface when unset


@dataclass(slots=True)
class _Recorded:
    id: str | None              # None: added by the update being built
    type: TxType
    state: TxState
    amount: Money
    interaction_id: str | None
    interface_id: str | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _same_amount(a: Money, b: Money) -> bool:
    return a.cent_amount == b.cent_amount and a.currency == b.currency


def _find(recorded: list[_Recorded], tx: TxDraft) -> tuple[_Recorded | None, bool]:
    """The recorded transaction ``tx`` is about (or None), and whether a new one may carry its interfaceId."""
    if tx.interface_id:
        own = next((r for r in recorded if r.interface_id == tx.interface_id), None)
        if own is not None and (not own.interaction_id or not tx.interaction_id
                                or own.interaction_id == tx.interaction_id):
            return own, False
        if own is None and tx.settles:
            raise ReservationMissingError(f"The reservation {tx.interface_id} of this {tx.type.value} is not on "
                                          "the payment; the outcome is left to reconciliation.")
        if own is None:
            # an extra of the attempt (the Charge of an automatic capture) that the PSP's webhook already
            # recorded is that transaction, found by its reference; else it is new and keeps its key
            same = next((r for r in recorded if r.type == tx.type and tx.interaction_id
                         and r.interaction_id == tx.interaction_id), None)
            return (same, False) if same is not None else (None, True)
        # the reservation was settled by a PSP event of another reference: this outcome is a movement of its
        # own (found again by its interactionId when the write is repeated)
        logger.warning("reservation %s was settled by %s; recording %s apart", tx.interface_id,
                       own.interaction_id, tx.interaction_id)
        return next((r for r in recorded if r.type == tx.type and r.interaction_id == tx.interaction_id),
                    None), False
    if not tx.interaction_id:
        return None, False
    exact = [r for r in recorded if r.type == tx.type and r.interaction_id == tx.interaction_id]
    if len(exact) == 1:
        return exact[0], False
    loose = exact or [r for r in recorded if r.type == tx.type and r.state == TxState.INITIAL
                      and not r.interaction_id and _same_amount(r.amount, tx.amount)]
    # A failure is never matched by guesswork: it may be the event of an attempt the PSP refused outright
    # (its reservation already Failure, without a reference), and settling another attempt's reservation
    # with it would free an amount whose PSP call may still succeed. It waits until no undecided
    # reservation could be it.
    if len(loose) > 1 or (loose and not exact and tx.state == TxState.FAILURE):
        raise AmbiguousEventError(f"{len(loose)} undecided {tx.type.value} transaction(s) of {tx.amount} could "
                                  f"be what {tx.interaction_id} settles; deliver it again later.")
    return (loose[0] if loose else None), False


def build_actions(payment: PaymentView, update: PaymentUpdate, now: str | None = None) -> list[dict[str, Any]]:
    """The update actions that bring ``payment`` up to ``update``; ``[]`` when nothing changes."""
    actions: list[dict[str, Any]] = []
    if update.psp_reference and not payment.interface_id:
        actions.append({"action": "setInterfaceId", "interfaceId": update.psp_reference})
    if update.payment_interface and not payment.payment_interface:
        actions.append({"action": "setMethodInfoInterface", "interface": update.payment_interface})
    method = update.paid_with or (update.method if not payment.method else None)
    if method and method != payment.method:
        actions.append({"action": "setMethodInfoMethod", "method": method})
    recorded = [_Recorded(t.id, t.type, t.state, t.amount, t.interaction_id, t.interface_id)
                for t in payment.transactions]
    for tx in update.transactions:
        match, keeps_key = _find(recorded, tx)
        if match is None:
            if tx.state == TxState.INITIAL and not tx.interface_id:
                continue
            interface_id = tx.interface_id if keeps_key else None
            draft: dict[str, Any] = {"type": tx.type.value, "amount": tx.amount.to_ct(), "state": tx.state.value,
                                     "timestamp": now or now_iso()}
            if tx.interaction_id:
                draft["interactionId"] = tx.interaction_id
            if interface_id:
                draft["interfaceId"] = interface_id
            actions.append({"action": "addTransaction", "transaction": draft})
            # later drafts of this same update must see it (two events for one transaction in one batch)
            recorded.append(_Recorded(None, tx.type, tx.state, tx.amount, tx.interaction_id, interface_id))
            continue
        if match.id is None:  # added by this very update
            continue
        if tx.state != match.state and tx.state in ALLOWED[match.state]:
            actions.append({"action": "changeTransactionState", "transactionId": match.id, "state": tx.state.value})
            match.state = tx.state
        if tx.interaction_id and not match.interaction_id:
            actions.append({"action": "changeTransactionInteractionId", "transactionId": match.id,
                            "interactionId": tx.interaction_id})
            match.interaction_id = tx.interaction_id
        if tx.interface_id and not match.interface_id and not any(r.interface_id == tx.interface_id
                                                                   for r in recorded):
            actions.append({"action": "setTransactionInterfaceId", "transactionId": match.id,
                            "interfaceId": tx.interface_id})
            match.interface_id = tx.interface_id
    return actions


async def apply_update(client: CommercetoolsClient, payment_id: str, update: PaymentUpdate,
                       payment: PaymentView | None = None) -> PaymentView:
    """Record ``update`` on the Payment. ``payment`` is the Payment in hand (no re-read) if the caller has
    the current version; on a 409 it is re-read and the actions rebuilt."""

    async def attempt(n: int) -> PaymentView:
        current = payment if payment is not None and n == 0 else await client.get_payment(payment_id)
        actions = build_actions(current, update)
        if not actions:
            return current
        return await client.update_payment(payment_id, current.version, actions)

    return await retry_on_conflict(attempt, what="payment")
