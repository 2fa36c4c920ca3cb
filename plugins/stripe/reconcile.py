"""``reconcile``: what Stripe did with an attempt whose outcome the host never recorded. Read-only.

The host reserves every money operation before calling Stripe (an ``Initial`` transaction whose
``interfaceId`` is the attempt key, sent as Stripe's ``Idempotency-Key``). When the host dies after the call
or the write of the outcome fails, the reservation stays ``Initial`` and the reconciler asks here. Each
attempt is found through what the plugin writes at Stripe, with GET requests only:

- **authorization** (``create``, ``transaction``): its PaymentIntent, by id or by ``metadata.ct_payment_id``
  (``lookup.py``);
- **capture**: the Payment's PaymentIntent, captured, for the reservation's amount;
- **refund**: the refund (``GET /v1/refunds?payment_intent=``) whose ``metadata.ct_attempt_key`` is the
  attempt key, or whose id is the transaction's ``interactionId``;
- **cancel**: the Payment's PaymentIntent, ``canceled``.

A PaymentIntent's status becomes transactions exactly as its webhook would record them (``events.py``),
under the same interaction ids, so a webhook arriving after the reconciler changes nothing:

=========================================  ============================================================
status                                     the Authorization (and beside it)
=========================================  ============================================================
requires_capture                           Success (as ``payment_intent.amount_capturable_updated``)
succeeded                                  Success + Charge Success (as ``payment_intent.succeeded``)
processing                                 Pending (as ``POST /confirmPayments``)
requires_payment_method after a decline    Failure (as ``payment_intent.payment_failed``)
canceled                                   Success if it had been authorized, else Failure;
                                           + CancelAuthorization Success (``payment_intent.canceled``)
not confirmed (requires_payment_method,    Initial when the host handed the PaymentIntent out (the
requires_confirmation, requires_action)    shopper may still confirm it); Failure when the host never
                                           recorded it: nobody holds its client secret, so it can never
                                           be confirmed
=========================================  ============================================================

An extra transaction already on the Payment (a webhook recorded it) is not reported again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import stripe

from host import (
    Money,
    NotSupportedError,
    ReconcileRequest,
    ReconcileResult,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.stripe.errors import fail
from plugins.stripe.events import (
    EVENT_OF_STATUS,
    REFUND_STATES,
    capture_reference,
    intent_event,
    map_event,
    ref,
    to_money,
)
from plugins.stripe.lookup import PAGE, find_intent, payment_intent

if TYPE_CHECKING:
    from stripe.params import RefundListParams

Obj = Mapping[str, Any]

#: Metadata key of the attempt key, on every PaymentIntent and Refund the plugin creates.
ATTEMPT_KEY = "ct_attempt_key"

async def reconcile(client: stripe.StripeClient, request: ReconcileRequest,
                    log: logging.Logger) -> ReconcileResult:
    """Stripe's answer for ``request`` (see the module docstring); ``ProviderError`` when it cannot be asked."""
    lookup = _LOOKUPS.get(request.transaction.type)
    if lookup is None:
        raise NotSupportedError(f"Stripe is not asked about {request.transaction.type.value} transactions: "
                                "only their webhooks record them.")
    try:
        result = await lookup(client, request)
    except stripe.StripeError as exc:
        fail(log, exc, "reconcile", request.payment.id)
    log.info("Stripe reconcile of payment %s, %s %s: %s", request.payment.id, request.transaction.type.value,
             request.operation, ", ".join(f"{t.type.value} {t.state.value} {t.interaction_id}"
                                          for t in result.transactions) if result.found else "no record")
    return result


# -- authorization ----------------------------------------------------------------------------------

async def _authorization(client: stripe.StripeClient, request: ReconcileRequest) -> ReconcileResult:
    pi = await find_intent(client, request)
    if pi is None:
        return ReconcileResult.not_found()
    return _found(request, _authorization_txs(pi, request), str(pi["id"]))


def _authorization_txs(pi: Obj, request: ReconcileRequest) -> tuple[TransactionResult, ...]:
    pi_id, status, amount = str(pi["id"]), str(pi.get("status")), to_money(pi.get("amount"), pi)
    if status in EVENT_OF_STATUS:
        event = intent_event(pi)
        if event is not None:
            return event.transactions
    if status == "processing":
        return (TransactionResult(TxType.AUTHORIZATION, TxState.PENDING, amount, pi_id),)
    if status == "canceled":
        authorized = _charge(pi).get("status") == "succeeded"
        return (TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS if authorized else TxState.FAILURE,
                                  amount, pi_id),
                TransactionResult(TxType.CANCEL_AUTHORIZATION, TxState.SUCCESS, amount, pi_id))
    if status == "requires_payment_method" and pi.get("last_payment_error"):
        event = map_event({"type": "payment_intent.payment_failed", "data": {"object": pi}})
        if event is not None:
            return event.transactions
    handed_out = pi_id in (request.transaction.interaction_id, request.payment.interface_id)
    return (TransactionResult(TxType.AUTHORIZATION, TxState.INITIAL if handed_out else TxState.FAILURE,
                              amount, pi_id),)


# -- capture, refund, cancel ------------------------------------------------------------------------

async def _capture(client: stripe.StripeClient, request: ReconcileRequest) -> ReconcileResult:
    pi = await payment_intent(client, request)
    status = pi.get("status") if pi is not None else None
    if pi is not None and _in_parts(request, pi):
        return _part_of_multicapture(request, pi)
    if pi is None or status not in ("succeeded", "processing"):
        return ReconcileResult.not_found()      # never captured: this attempt did not reach Stripe, or was refused
    tx, pi_id = request.transaction, str(pi["id"])
    charge_id = ref(pi.get("latest_charge")) or pi_id
    if any(t.id != tx.id and t.type == TxType.CHARGE and t.interaction_id == charge_id
           for t in request.payment.transactions):
        return ReconcileResult.not_found()      # that capture is recorded already: it is another's
    if status == "processing":
        return _found(request, (TransactionResult(TxType.CHARGE, TxState.PENDING, tx.amount, charge_id),), pi_id)
    captured = _captured(pi)
    if captured is None or captured.cent_amount == tx.amount.cent_amount:
        return _found(request, (TransactionResult(TxType.CHARGE, TxState.SUCCESS, tx.amount, charge_id),), pi_id)
    # Stripe captures exactly the amount asked, once: a capture of another amount is not this attempt's,
    # which Stripe refused (or never saw). Its interaction id is the one a refused capture gets.
    refused = f"{pi_id}:capture:failed:{request.idempotency_key or tx.id}"
    return _found(request, (TransactionResult(TxType.CHARGE, TxState.FAILURE, tx.amount, refused),
                            TransactionResult(TxType.CHARGE, TxState.SUCCESS, captured, charge_id)), pi_id)


def _in_parts(request: ReconcileRequest, pi: Obj) -> bool:
    """A PaymentIntent captured in several parts (multicapture), or a second capture reservation on one: it is
    capturable again after a capture, or the Payment records another part of its Charge."""
    charge_id = ref(pi.get("latest_charge"))
    if pi.get("status") == "requires_capture" and int(pi.get("amount_received") or 0) > 0:
        return True
    return charge_id is not None and any(
        t.id != request.transaction.id and t.type == TxType.CHARGE
        and t.state in (TxState.SUCCESS, TxState.PENDING)
        and ((t.interaction_id or "") == charge_id or (t.interaction_id or "").startswith(f"{charge_id}:"))
        for t in request.payment.transactions)


def _part_of_multicapture(request: ReconcileRequest, pi: Obj) -> ReconcileResult:
    """Which part of a multicapture this reservation is, from what Stripe captured in all and the parts the
    Payment records (each part's interaction id says how much was captured once it was made). Exactly one
    unrecorded part of this reservation's amount: found, under the interaction id its ``charge.updated``
    names. Nothing unrecorded: not found. Anything else (several parts undecided, amounts that do not add
    up) cannot be told apart: left to the webhooks, the reservation keeps its amount blocked."""
    tx, pi_id = request.transaction, str(pi["id"])
    charge_id = ref(pi.get("latest_charge")) or pi_id
    total = int(pi.get("amount_received") or 0)
    parts: list[tuple[int, int]] = []         # (captured once the part was made, the part's amount)
    for t in request.payment.transactions:
        if (t.id == tx.id or t.type != TxType.CHARGE or t.amount is None
                or t.state not in (TxState.SUCCESS, TxState.PENDING)):
            continue
        iid = t.interaction_id or ""
        if iid == charge_id:
            parts.append((t.amount.cent_amount, t.amount.cent_amount))
        elif iid.startswith(f"{charge_id}:") and iid[len(charge_id) + 1:].isdigit():
            parts.append((int(iid[len(charge_id) + 1:]), t.amount.cent_amount))
    gaps: list[tuple[int, int]] = []          # (captured once the missing part was made, its amount)
    before = 0
    for captured, amount in sorted(parts):
        if captured - amount > before:
            gaps.append((captured - amount, captured - amount - before))
        before = captured
    if total > before:
        gaps.append((total, total - before))
    if not gaps:
        return ReconcileResult.not_found()    # Stripe captured nothing the Payment does not record
    if len(gaps) == 1 and gaps[0][1] == tx.amount.cent_amount:
        captured, amount = gaps[0]
        return _found(request, (TransactionResult(TxType.CHARGE, TxState.SUCCESS, tx.amount,
                                                  capture_reference(charge_id, captured, amount)),), pi_id)
    raise NotSupportedError(f"PaymentIntent {pi_id} was captured in parts that the Payment's undecided "
                            "captures cannot be matched to; its charge.updated events will record them.")


async def _refund(client: stripe.StripeClient, request: ReconcileRequest) -> ReconcileResult:
    pi = await payment_intent(client, request)
    if pi is None or pi.get("latest_charge") is None:
        return ReconcileResult.not_found()      # nothing was charged, so nothing was refunded
    pi_id, tx = str(pi["id"]), request.transaction
    refund = None
    params: RefundListParams = {"payment_intent": pi_id, "limit": PAGE}
    while refund is None:
        page = await client.v1.refunds.list_async(params)
        refund = next((r for r in (item.to_dict() for item in page.data) if _made_for(r, request)), None)
        if not page.has_more or not page.data:
            break
        params["starting_after"] = page.data[-1].id
    if refund is None:
        return ReconcileResult.not_found()
    state = REFUND_STATES.get(str(refund.get("status")), TxState.PENDING)
    amount = to_money(refund.get("amount"), refund) or tx.amount
    return _found(request, (TransactionResult(TxType.REFUND, state, amount, str(refund["id"])),), pi_id)


def _made_for(refund: Obj, request: ReconcileRequest) -> bool:
    metadata = refund.get("metadata") or {}
    return (refund.get("id") == request.transaction.interaction_id
            or (request.idempotency_key is not None and metadata.get(ATTEMPT_KEY) == request.idempotency_key))


async def _cancel(client: stripe.StripeClient, request: ReconcileRequest) -> ReconcileResult:
    pi = await payment_intent(client, request)
    if pi is None or pi.get("status") != "canceled":
        return ReconcileResult.not_found()
    pi_id = str(pi["id"])
    amount = to_money(pi.get("amount"), pi)
    return _found(request, (TransactionResult(TxType.CANCEL_AUTHORIZATION, TxState.SUCCESS, amount, pi_id),), pi_id)


_LOOKUPS: Mapping[TxType, Callable[[stripe.StripeClient, ReconcileRequest], Awaitable[ReconcileResult]]] = {
    TxType.AUTHORIZATION: _authorization,
    TxType.CHARGE: _capture,
    TxType.REFUND: _refund,
    TxType.CANCEL_AUTHORIZATION: _cancel,
}


# -- helpers ----------------------------------------------------------------------------------------

def _found(request: ReconcileRequest, txs: tuple[TransactionResult, ...], psp_reference: str) -> ReconcileResult:
    """The attempt's transaction first, then those extras the Payment does not hold yet."""
    main, *extras = txs
    recorded = {(t.type, t.interaction_id) for t in request.payment.transactions
                if t.id != request.transaction.id}
    return ReconcileResult(True, (main, *(t for t in extras if (t.type, t.interaction_id) not in recorded)),
                           psp_reference)


def _charge(pi: Obj) -> Obj:
    charge = pi.get("latest_charge")
    return charge if isinstance(charge, Mapping) else {}


def _captured(pi: Obj) -> Money | None:
    """What Stripe captured: ``amount_received``, else the charge's ``amount_captured``; None if neither is
    given (localstripe sends neither)."""
    for amount in (pi.get("amount_received"), _charge(pi).get("amount_captured")):
        money = to_money(amount, pi)
        if money is not None:
            return money
    return None
