"""Stored payment methods at Stripe: the Stripe Customer of a commercetools customer, and what to store.

**The Customer.** A stored PaymentMethod (``pm_...``, the token commercetools keeps) is attached to a Stripe
Customer, one per commercetools customer and instance, found or created when the shopper first asks to store
a method (STRIPE.md §1.4): the id is kept in the instance's store (``context.store``, commercetools Custom
Objects, shared by every replica) under ``customer:<ct customer id>``, and checked with Stripe before use
(not deleted, ``metadata.ct_customer_id`` is this customer). Otherwise a new Customer is created with
``metadata.ct_customer_id``, under an idempotency key derived from the instance, the customer and the
store's version, so two replicas creating at once get the same Customer. Unlike the official connector it
writes no custom field on the commercetools customer (no Type to create) and does not search Stripe.

**Paying with a stored method** (``pay_stored``): the PaymentIntent is created with the method's Customer
(read from the PaymentMethod itself) and confirmed at once, off-session for a recurring charge.

**What to store.** A PaymentIntent made with ``customer`` and ``setup_future_usage`` (the shopper asked)
that succeeded has its PaymentMethod attached to the Customer by Stripe: ``saved_method`` turns it into a
``SavedMethod`` (token ``pm_...``; brand, last 4 digits and expiry from ``payment_method.card``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import stripe

from host import (
    ConcurrentModificationError,
    CreatePaymentRequest,
    DisplayOptions,
    PaymentResult,
    ProviderContext,
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

#: PaymentIntent statuses in which its PaymentMethod is attached and can be stored.
_AUTHORIZED = frozenset({"succeeded", "requires_capture"})


class Customers:
    """Find or create the Stripe Customer of a commercetools customer (see the module docstring)."""

    def __init__(self, client: stripe.StripeClient, context: ProviderContext, log: logging.Logger) -> None:
        self.client, self.context, self.log = client, context, log

    async def of(self, ct_customer_id: str) -> str:
        key = f"customer:{ct_customer_id}"
        known = await self.context.store.get(key)
        if known is not None and await self._valid(str(known.value.get("id")), ct_customer_id):
            return str(known.value["id"])
        generation = known.version if known is not None else 0
        idempotency_key = f"{self.context.instance_id}:customer:{ct_customer_id}:{generation}"
        try:
            created = await self.client.v1.customers.create_async(
                {"metadata": {"ct_customer_id": ct_customer_id}}, {"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            fail(self.log, exc, "customer creation", "a commercetools customer")
        try:
            await self.context.store.put(key, {"id": created.id}, generation)
        except ConcurrentModificationError:          # another replica stored one meanwhile: take that one
            again = await self.context.store.get(key)
            if again is not None:
                return str(again.value["id"])
        self.log.info("Stripe customer %s created for a commercetools customer", created.id)
        return str(created.id)

    async def _valid(self, customer_id: str, ct_customer_id: str) -> bool:
        try:
            customer = (await self.client.v1.customers.retrieve_async(customer_id)).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return False
            fail(self.log, exc, "customer lookup", customer_id)
        except stripe.StripeError as exc:
            fail(self.log, exc, "customer lookup", customer_id)
        metadata = customer.get("metadata") or {}
        return not customer.get("deleted") and metadata.get("ct_customer_id") == ct_customer_id


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
    try:
        pm = (await client.v1.payment_methods.retrieve_async(token)).to_dict()
    except stripe.StripeError as exc:
        fail(log, exc, "stored method lookup", request.payment.id)
    customer = ref(pm.get("customer"))
    if customer is None:
        raise ProviderError("The stored payment method is no longer attached to a Stripe customer.",
                            code="payment_method_detached", status=400)
    params = {**params, "customer": customer, "payment_method": token, "confirm": True}
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
    state = TxState.PENDING if status == "processing" else TxState.INITIAL
    response = {"clientSecret": pi.client_secret, "nextAction": status} if status == "requires_action" else {}
    return PaymentResult(psp_reference=pi.id, response=response, transactions=(
        TransactionResult(TxType.AUTHORIZATION, state, request.amount, pi.id),))
