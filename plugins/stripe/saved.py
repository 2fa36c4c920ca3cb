"""Stored payment methods at Stripe: paying with one, and what to store.

**The Customer.** A stored PaymentMethod (``pm_...``, the token commercetools keeps) is attached to a Stripe
Customer, one per commercetools customer, found or created when the shopper first asks to store a method
(``customers.py``).

**Paying with a stored method** (``pay_stored``): the PaymentIntent is created with the method's Customer
(read from the PaymentMethod itself) and confirmed at once, off-session for a recurring charge.

**What to store.** A PaymentIntent made with ``customer`` and ``setup_future_usage`` (the shopper asked)
that succeeded has its PaymentMethod attached to the Customer by Stripe: ``saved_method`` turns it into a
``SavedMethod`` (token ``pm_...``; brand, last 4 digits and expiry from ``payment_method.card``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import stripe

from host import (
    CreatePaymentRequest,
    DisplayOptions,
    PaymentResult,
    ProviderError,
    SavedMethod,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.stripe.errors import fail, stripe_code
from plugins.stripe.events import intent_event, ref

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams

_PM_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,200}\Z")
#: PaymentIntent statuses in which its PaymentMethod is attached and can be stored.
_AUTHORIZED = frozenset({"succeeded", "requires_capture"})


def display_of(payment_method: Mapping[str, Any]) -> DisplayOptions:
    card = payment_method.get("card")
    if not isinstance(card, Mapping):
        return DisplayOptions()
    return DisplayOptions(end_digits=card.get("last4"), brand=card.get("brand"),
                          expiry_month=card.get("exp_month"), expiry_year=card.get("exp_year"))


async def saved_method(client: stripe.StripeClient, pi: Mapping[str, Any],
                       log: logging.Logger) -> SavedMethod | None:
    """The method to store after ``pi``, when the shopper asked (``setup_future_usage`` with a Customer) and it
    is authorized; its display data from the PaymentMethod (expanded, else retrieved: when that fails the
    method is stored all the same, shown without brand and digits)."""
    pm = pi.get("payment_method")
    token = ref(pm)
    if not pi.get("setup_future_usage") or not ref(pi.get("customer")) or pi.get("status") not in _AUTHORIZED \
            or token is None:
        return None
    if not isinstance(pm, Mapping):
        try:
            pm = (await client.v1.payment_methods.retrieve_async(token)).to_dict()
        except stripe.StripeError as exc:
            log.warning("Stripe PaymentMethod %s not read for its display data: %s", token, exc.http_status)
            return SavedMethod(token=token, method="card")
    return SavedMethod(token=token, display=display_of(pm), method=str(pm.get("type") or "card"))


async def pay_stored(client: stripe.StripeClient, request: CreatePaymentRequest, params: dict[str, Any],
                     log: logging.Logger) -> PaymentResult:
    """Pay with ``request.stored_method``, confirmed at once: off-session for a recurring charge (Stripe answers
    ``authentication_required`` rather than ask an absent shopper), else on-session (3-D Secure comes back as
    ``requires_action`` with the client secret, for Stripe.js to finish). A decline is an Authorization
    Failure, as any refused payment."""
    assert request.stored_method is not None
    token = request.stored_method.token
    if not _PM_ID.match(token):
        raise ProviderError("The stored payment method is not a Stripe PaymentMethod (pm_...).",
                            code="payment_method_invalid", status=400)
    try:
        pm = (await client.v1.payment_methods.retrieve_async(token)).to_dict()
    except stripe.StripeError as exc:
        fail(log, exc, "stored method lookup", request.payment.id)
    customer = ref(pm.get("customer"))
    if customer is None:
        raise ProviderError("The stored payment method is no longer attached to a Stripe customer.",
                            code="payment_method_detached", status=400)
    params = {**params, "customer": customer, "payment_method": token, "confirm": True}
    if "automatic_payment_methods" in params:   # confirmed here, where no redirect can be followed
        params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
    if request.recurring:
        params["off_session"] = True
    try:
        pi = await client.v1.payment_intents.create_async(cast("PaymentIntentCreateParams", params),
                                                          {"idempotency_key": request.idempotency_key})
    except stripe.CardError as exc:        # declined, or authentication required off-session
        declined = ref(getattr(exc.error, "payment_intent", None))
        log.info("Stripe declined the stored method payment %s: %s", request.payment.id, stripe_code(exc))
        return PaymentResult(psp_reference=declined, transactions=(
            TransactionResult(TxType.AUTHORIZATION, TxState.FAILURE, request.amount, declined),))
    except stripe.StripeError as exc:
        fail(log, exc, "create", request.payment.id)
    data: dict[str, Any] = pi.to_dict()
    status = str(data.get("status"))
    event = intent_event(data)
    if event is not None:
        return PaymentResult(psp_reference=pi.id, transactions=event.transactions, method=event.method)
    if request.recurring and status != "processing":
        return await _unfinished(client, request, pi.id, status, log)
    state = TxState.PENDING if status == "processing" else TxState.INITIAL
    response = {"clientSecret": pi.client_secret, "nextAction": status} if status == "requires_action" else {}
    return PaymentResult(psp_reference=pi.id, response=response, transactions=(
        TransactionResult(TxType.AUTHORIZATION, state, request.amount, pi.id),))


async def _unfinished(client: stripe.StripeClient, request: CreatePaymentRequest, pi_id: str, status: str,
                      log: logging.Logger) -> PaymentResult:
    """A recurring charge Stripe did not finish (``requires_action``: the absent shopper would have to
    authenticate): cancelled at Stripe, so it can never complete later, and recorded as an Authorization Failure
    (the contract's ``Failed``). When the cancel fails the Failure stands: the reconciler and the webhooks see
    the PaymentIntent by its id."""
    log.info("Stripe left the recurring charge %s in %s; cancelling it", request.payment.id, status)
    try:
        await client.v1.payment_intents.cancel_async(pi_id, None,
                                                     {"idempotency_key": f"{request.idempotency_key}:cancel"})
    except stripe.StripeError as exc:
        log.warning("Stripe cancel of the unfinished recurring charge %s failed: %s %s", pi_id, exc.http_status,
                    stripe_code(exc))
    return PaymentResult(psp_reference=pi_id, transactions=(
        TransactionResult(TxType.AUTHORIZATION, TxState.FAILURE, request.amount, pi_id),))
