"""PSP events (webhooks, hosted-page returns) recorded on their Payment.

The Payment is found by the commercetools id the PSP echoed back, else by ``interfaceId``; a Payment of
another instance is never touched. Each event goes through the consolidating update, so a redelivery
writes nothing, and an event that overtakes the host's own outcome write settles the reservation
instead of adding a second transaction. A payment method the event says the PSP stored for the shopper
is kept once the Payment is authorized (``host.flows.stored``).

**Refunds above the charges.** The PSP is the authority on what it did, but a Refund that would take the
Payment's refunds (Success, Pending or reserved) above its Success charges is not recorded blindly: most
often the event overtook the one of the charge it refunds (a ``charge.refunded`` before the capture is
recorded), sometimes the PSP and commercetools disagree. The rest of the event is recorded (a plugin
puts the PSP's own record of the charge in the same event, so a charge commercetools lacks is added
first and the refund then fits); a refund that still does not fit is flagged — ERROR in the log (ids and
amounts only), ``connector_host_events_flagged_total{reason="refund_above_charge"}``, and the Payment's
``paymentStatus.interfaceText`` names it — and the PSP is answered 409 (``RefundAboveChargeError``) so
that it delivers the event again: once the charge is recorded the refund is too. A Payment charged above
its authorization by a PSP event is recorded and logged at ERROR (the PSP did capture it).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from host import metrics
from host.commercetools.client import CommercetoolsClient, predicate
from host.commercetools.payments import PaymentUpdate, TxDraft, build_actions
from host.commercetools.versioned import retry_on_conflict
from host.errors import RefundAboveChargeError, ResourceNotFoundError
from host.flows import stored
from host.flows.rules import IN_FLIGHT, overdrawn
from host.models import PaymentEvent, PaymentView, TxState, TxType
from host.providers import Provider
from host.routing import Bound

logger = logging.getLogger(__name__)


async def find_payment(ct: CommercetoolsClient, bound: Bound[Provider], event: PaymentEvent) -> PaymentView | None:
    payment: PaymentView | None = None
    if event.payment_id:
        try:
            payment = await ct.get_payment(event.payment_id)
        except ResourceNotFoundError:
            payment = None
    if payment is None and event.psp_reference:
        matches = await ct.query_payments(predicate("interfaceId={ref}", ref=event.psp_reference), limit=5)
        payment = next((p for p in matches if p.payment_interface == bound.payment_interface), None)
    if payment is not None and payment.payment_interface != bound.payment_interface:
        logger.warning("event for payment %s of another integration ignored by %s", payment.id, bound.id)
        return None
    return payment


def _exposure(payment: PaymentView, actions: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """(Success charges, refunds in Success/Pending/Initial) once ``actions`` are applied to ``payment``."""
    txs = {t.id: (t.type, t.state, t.amount.cent_amount) for t in payment.transactions}
    for n, action in enumerate(actions):
        if action["action"] == "addTransaction":
            tx = action["transaction"]
            txs[f"new-{n}"] = (TxType(tx["type"]), TxState(tx["state"]), int(tx["amount"]["centAmount"]))
        elif action["action"] == "changeTransactionState" and action["transactionId"] in txs:
            kind, _, cents = txs[action["transactionId"]]
            txs[action["transactionId"]] = (kind, TxState(action["state"]), cents)
    charged = sum(c for k, s, c in txs.values() if k == TxType.CHARGE and s == TxState.SUCCESS)
    refunded = sum(c for k, s, c in txs.values() if k == TxType.REFUND and s in IN_FLIGHT)
    return charged, refunded


def _fitting(payment: PaymentView, update: PaymentUpdate) -> tuple[PaymentUpdate, list[TxDraft]]:
    """``update`` without the Refunds that would take the refunds above the Success charges (in order: each
    refund is weighed after the drafts before it), and those refunds."""
    kept: list[TxDraft] = []
    above: list[TxDraft] = []
    _, refunded_before = _exposure(payment, [])
    for draft in update.transactions:
        if draft.type == TxType.REFUND and draft.state != TxState.FAILURE:
            charged, refunded = _exposure(payment, build_actions(payment, PaymentUpdate([*kept, draft])))
            if refunded > charged and refunded > refunded_before:
                above.append(draft)
                continue
        kept.append(draft)
    return dataclasses.replace(update, transactions=kept), above


async def _flag(ct: CommercetoolsClient, bound: Bound[Provider], payment_id: str, above: list[TxDraft]) -> None:
    """Mark the Payment (``paymentStatus.interfaceText``; written once) and count it."""
    first = above[0]
    text = (f"PSP refund {first.interaction_id} of {first.amount} not recorded: above the captured amount; "
            "see connector_host_events_flagged_total")

    async def mark(n: int) -> PaymentView:
        current = await ct.get_payment(payment_id)
        if (current.raw.get("paymentStatus") or {}).get("interfaceText") == text:
            return current
        return await ct.update_payment(payment_id, current.version,
                                       [{"action": "setStatusInterfaceText", "interfaceText": text}])

    await retry_on_conflict(mark, what="payment")
    for draft in above:
        metrics.event_flagged(bound.id, "refund_above_charge")
        logger.error("payment %s: %s reports refund %s of %s above the captured amount; not recorded, the "
                     "PSP is answered 409 and delivers it again", payment_id, bound.id, draft.interaction_id,
                     draft.amount)


async def record_event(ct: CommercetoolsClient, bound: Bound[Provider], event: PaymentEvent) -> PaymentView | None:
    """Record ``event`` on its Payment; None when there is no such Payment of this instance. Raises
    ``RefundAboveChargeError`` (after recording the rest) for a refund above the charges (module docstring)."""
    payment = await find_payment(ct, bound, event)
    if payment is None:
        logger.info("no payment for event of %s (payment %s, reference %s); acknowledged", bound.id,
                    event.payment_id, event.psp_reference)
        return None
    planned = payment.amount_planned
    drafts = [TxDraft(t.type, t.state, t.amount or planned, t.interaction_id or event.psp_reference)
              for t in event.transactions]
    update = PaymentUpdate(drafts, psp_reference=event.psp_reference, method=event.method,
                           paid_with=event.paid_with)

    async def attempt(n: int) -> tuple[PaymentView, list[TxDraft]]:
        # the Payment was just read: its version is in hand
        current = payment if n == 0 else await ct.get_payment(payment.id)
        fitting, above = _fitting(current, update)
        actions = build_actions(current, fitting)
        if not actions:
            return current, above
        return await ct.update_payment(payment.id, current.version, actions), above

    recorded, above = await retry_on_conflict(attempt, what="payment")
    problem = overdrawn(recorded)
    if problem and not overdrawn(payment):
        logger.error("payment %s: an event of %s (reference %s) leaves it %s; check the PSP's records",
                     payment.id, bound.id, event.psp_reference, problem)
    if event.saved is not None:
        await stored.keep_from_event(ct, bound.wallet, recorded, event.saved)
    if above:
        await _flag(ct, bound, payment.id, above)
        raise RefundAboveChargeError(
            f"Refund {above[0].interaction_id} of {above[0].amount} is above what payment {payment.id} has "
            "captured; it is not recorded. Deliver it again once the capture is recorded.")
    return recorded
