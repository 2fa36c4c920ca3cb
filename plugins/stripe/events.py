"""Stripe webhook events → ``PaymentEvent``: pure mapping, no I/O.

The interaction ids are the same ones the synchronous results use (see ``provider.py``), so the host's
consolidating update merges a webhook with the transaction a modification already recorded instead of
adding a second one:

=============================================  ===============================  ================================
event                                          transaction(s)                   interactionId
=============================================  ===============================  ================================
charge.succeeded, not captured (manual)        Authorization Success            PaymentIntent id
charge.succeeded, captured (automatic)         Authorization Success            PaymentIntent id
                                               + Charge Success                 Charge id
payment_intent.amount_capturable_updated       Authorization Success            PaymentIntent id
payment_intent.processing                      Authorization Pending            PaymentIntent id
payment_intent.succeeded                       Authorization Success            PaymentIntent id
                                               + Charge Success                 Charge id
payment_intent.payment_failed                  Authorization Failure            PaymentIntent id
payment_intent.canceled                        CancelAuthorization Success      PaymentIntent id
charge.captured                                Charge Success                   Charge id
charge.updated (amount_captured grew)          Charge Success for the growth    ``capture_reference``
charge.refunded                                Charge Success (what Stripe      Charge id
                                               captured) + Refund per refund    Refund id
                                               (listed from Stripe under the
                                               clover API: ``webhooks.py``)
refund.created / .updated / .failed,           Refund, by status                Refund id
charge.refund.updated
charge.dispute.created                         Chargeback Success               Dispute id
charge.dispute.closed (won / warning_closed)   Chargeback Failure               Dispute id
=============================================  ===============================  ================================

Charge events also carry ``payment_method_details.type`` (``card``, ``klarna``...) as ``paid_with``: the
host replaces the Payment's method (the component it was created with) by it.
``payment_intent.requires_action`` records nothing (logged).

Anything else maps to no event: acknowledged, nothing recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from host import Money, PaymentEvent, TransactionResult, TxState, TxType

Obj = Mapping[str, Any]

REFUND_STATES: Mapping[str, TxState] = {
    "succeeded": TxState.SUCCESS,
    "pending": TxState.PENDING,
    "requires_action": TxState.PENDING,
    "failed": TxState.FAILURE,
    "canceled": TxState.FAILURE,
}

#: The event types to enable on a Stripe webhook endpoint (documented in docs/plugins/stripe.md).
HANDLED_EVENTS: tuple[str, ...] = (
    "charge.succeeded",
    "charge.updated",
    "payment_intent.processing",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.captured",
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
)


def ref(value: Any) -> str | None:
    """The id of an expandable field: a string id, or an expanded object's ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def to_money(amount: Any, obj: Obj) -> Money | None:
    """``amount`` (minor units) in ``obj``'s currency, upper-cased; None unless both are there."""
    currency = obj.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return Money(amount, currency.upper())


def capture_reference(charge_id: str, captured: int, amount: int) -> str:
    """The interactionId of a capture that brought the Charge's ``amount_captured`` to ``captured`` with
    ``amount``: the Charge id for the first (the only one without multicapture: the one ``charge.captured``
    and ``payment_intent.succeeded`` name), ``{charge}:{captured}`` for each later one (unique, and the
    same from the capture's answer and from its ``charge.updated``)."""
    return charge_id if captured <= amount else f"{charge_id}:{captured}"


def _ct_payment_id(obj: Obj) -> str | None:
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        value = metadata.get("ct_payment_id")
        if isinstance(value, str) and value:
            return value
    return None


def _method(charge: Any) -> str | None:
    if isinstance(charge, Mapping):
        details = charge.get("payment_method_details")
        if isinstance(details, Mapping) and isinstance(details.get("type"), str):
            return str(details["type"])
    return None


def _event(obj: Obj, psp_reference: str | None, *txs: TransactionResult,
           method: str | None = None) -> PaymentEvent | None:
    if not txs or any(tx.interaction_id is None for tx in txs) \
            or (psp_reference is None and _ct_payment_id(obj) is None):
        return None
    return PaymentEvent(transactions=tuple(txs), payment_id=_ct_payment_id(obj),
                        psp_reference=psp_reference, method=method, paid_with=method)


def _latest_charge(pi: Obj) -> Any:
    """``latest_charge``; endpoints on API versions before 2022-11-15 send ``charges.data`` instead."""
    if pi.get("latest_charge") is not None:
        return pi["latest_charge"]
    charges = pi.get("charges")
    data = charges.get("data") if isinstance(charges, Mapping) else None
    return data[0] if isinstance(data, list) and data else None


def _received(pi: Obj) -> Money | None:
    """``amount_received``; else the expanded charge's ``amount_captured``; else ``amount``."""
    charge = _latest_charge(pi)
    captured = charge.get("amount_captured") if isinstance(charge, Mapping) else None
    for amount in (pi.get("amount_received"), captured, pi.get("amount")):
        money = to_money(amount, pi)
        if money is not None:
            return money
    return None


def _capturable(pi: Obj) -> PaymentEvent | None:
    if pi.get("amount_capturable") == 0:
        return None                  # nothing (left) to capture: not an authorization
    amount = to_money(pi.get("amount_capturable"), pi) or to_money(pi.get("amount"), pi)
    return _event(pi, ref(pi), TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, amount, ref(pi)),
                  method=_method(_latest_charge(pi)))


def _succeeded(pi: Obj) -> PaymentEvent | None:
    charge = _latest_charge(pi)
    authorized = to_money(pi.get("amount"), pi)
    return _event(pi, ref(pi),
                  TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, authorized, ref(pi)),
                  TransactionResult(TxType.CHARGE, TxState.SUCCESS, _received(pi), ref(charge) or ref(pi)),
                  method=_method(charge))


def _processing(pi: Obj) -> PaymentEvent | None:
    return _event(pi, ref(pi), TransactionResult(TxType.AUTHORIZATION, TxState.PENDING,
                                                 to_money(pi.get("amount"), pi), ref(pi)))


def _charge_succeeded(charge: Obj) -> PaymentEvent | None:
    pi_id = ref(charge.get("payment_intent"))
    authorized = TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, to_money(charge.get("amount"), charge),
                                   pi_id)
    if not charge.get("captured"):
        return _event(charge, pi_id, authorized, method=_method(charge))
    captured = to_money(charge.get("amount_captured"), charge) or to_money(charge.get("amount"), charge)
    return _event(charge, pi_id, authorized, TransactionResult(TxType.CHARGE, TxState.SUCCESS, captured, ref(charge)),
                  method=_method(charge))


def _charge_updated(charge: Obj) -> PaymentEvent | None:
    """A capture (of several, with multicapture) shows as ``amount_captured`` growing."""
    previous = charge.get("previous_attributes")
    before = previous.get("amount_captured") if isinstance(previous, Mapping) else None
    after, charge_id = charge.get("amount_captured"), ref(charge)
    if not isinstance(before, int) or not isinstance(after, int) or after <= before or charge_id is None:
        return None
    delta = to_money(after - before, charge)
    return _event(charge, ref(charge.get("payment_intent")),
                  TransactionResult(TxType.CHARGE, TxState.SUCCESS, delta,
                                    capture_reference(charge_id, after, after - before)),
                  method=_method(charge))


def _failed(pi: Obj) -> PaymentEvent | None:
    amount = to_money(pi.get("amount"), pi)
    return _event(pi, ref(pi), TransactionResult(TxType.AUTHORIZATION, TxState.FAILURE, amount, ref(pi)))


def _canceled(pi: Obj) -> PaymentEvent | None:
    return _event(pi, ref(pi), TransactionResult(TxType.CANCEL_AUTHORIZATION, TxState.SUCCESS,
                                                 to_money(pi.get("amount"), pi), ref(pi)))


def _captured(charge: Obj) -> PaymentEvent | None:
    amount = to_money(charge.get("amount_captured"), charge) or to_money(charge.get("amount"), charge)
    return _event(charge, ref(charge.get("payment_intent")),
                  TransactionResult(TxType.CHARGE, TxState.SUCCESS, amount, ref(charge)),
                  method=_method(charge))


def _refund_tx(refund: Obj) -> TransactionResult | None:
    state = REFUND_STATES.get(str(refund.get("status")))
    if state is None or ref(refund) is None:
        return None
    return TransactionResult(TxType.REFUND, state, to_money(refund.get("amount"), refund), ref(refund))


def _charge_refunded(charge: Obj) -> PaymentEvent | None:
    """What Stripe captured (a Charge commercetools lacks is added before the refunds are weighed; with
    several captures only the first is named so, and a missing later one waits for its ``charge.updated``)
    and one Refund per refund. Since API version 2022-11-15 ``refunds`` is not part of the charge in
    events: ``webhooks.py`` lists them from Stripe and puts them in ``refunds.data`` first."""
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, Mapping) else None
    txs = [tx for tx in (_refund_tx(r) for r in data or () if isinstance(r, Mapping)) if tx is not None]
    if not txs:
        return None
    captured = to_money(charge.get("amount_captured"), charge)
    first = [TransactionResult(TxType.CHARGE, TxState.SUCCESS, captured, ref(charge))] \
        if captured is not None and captured.cent_amount > 0 and charge.get("captured") else []
    return _event(charge, ref(charge.get("payment_intent")), *first, *txs, method=_method(charge))


def _refund(refund: Obj) -> PaymentEvent | None:
    tx = _refund_tx(refund)
    if tx is None:
        return None
    return _event(refund, ref(refund.get("payment_intent")), tx)


def _dispute_closed(dispute: Obj) -> PaymentEvent | None:
    # won: the funds came back, so the chargeback did not happen; warning_closed: it was only an
    # inquiry. lost: the chargeback stands (the Success written at creation stays).
    state = {"won": TxState.FAILURE, "warning_closed": TxState.FAILURE,
             "lost": TxState.SUCCESS}.get(str(dispute.get("status")))
    if state is None:
        return None
    amount = to_money(dispute.get("amount"), dispute)
    return _event(dispute, ref(dispute.get("payment_intent")),
                  TransactionResult(TxType.CHARGEBACK, state, amount, ref(dispute)))


def _dispute_created(dispute: Obj) -> PaymentEvent | None:
    amount = to_money(dispute.get("amount"), dispute)
    return _event(dispute, ref(dispute.get("payment_intent")),
                  TransactionResult(TxType.CHARGEBACK, TxState.SUCCESS, amount, ref(dispute)))


MAPPERS: Mapping[str, Callable[[Obj], PaymentEvent | None]] = {
    "charge.succeeded": _charge_succeeded,
    "charge.updated": _charge_updated,
    "payment_intent.processing": _processing,
    "payment_intent.amount_capturable_updated": _capturable,
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.canceled": _canceled,
    "charge.captured": _captured,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}


#: The event whose transactions a PaymentIntent in this status stands for (a confirmation read, a
#: reconciliation, a payment confirmed at creation record what the webhook would).
EVENT_OF_STATUS: Mapping[str, str] = {"requires_capture": "payment_intent.amount_capturable_updated",
                                      "succeeded": "payment_intent.succeeded"}


def intent_event(pi: Obj) -> PaymentEvent | None:
    """The ``PaymentEvent`` a PaymentIntent's status stands for (``EVENT_OF_STATUS``), or None."""
    kind = EVENT_OF_STATUS.get(str(pi.get("status")))
    return None if kind is None else map_event({"type": kind, "data": {"object": pi}})


def map_event(event: Obj) -> PaymentEvent | None:
    """The ``PaymentEvent`` of a verified Stripe event, or None when it records nothing."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    mapper = MAPPERS.get(str(event.get("type")))
    if mapper is None or not isinstance(obj, Mapping):
        return None
    if event.get("type") == "charge.updated" and isinstance(data, Mapping):
        obj = {**obj, "previous_attributes": data.get("previous_attributes")}
    return mapper(obj)
