"""Stripe webhooks: ``Stripe-Signature`` verified over the raw bytes, the event mapped (``events.py``).

Reads of Stripe that may follow a verified event: a ``payment_intent.payment_failed`` is checked against the
PaymentIntent's current status (Stripe does not order deliveries: a failed attempt delivered after a later
one succeeded must not turn the Authorization from Success into Failure); a ``charge.refunded`` without its
``refunds`` list (every API version since 2022-11-15, so the pinned clover one) has the Charge's refunds
listed from Stripe, one Refund transaction each; and an authorization the shopper asked to store carries
its PaymentMethod to the host (``saved.py``). ``payment_intent.requires_action`` records nothing.

With ``multicapture``, a PaymentIntent captured in parts has one Charge transaction per capture (``ch_…``,
``ch_…:{amount}``); the Charge that ``payment_intent.succeeded`` and ``charge.refunded`` name for the whole
charge (``ch_…``, everything captured) would then count the later captures twice, so it is left out of those
two events for such PaymentIntents: each capture is recorded by its own answer or ``charge.updated``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import stripe

from host import TxType, WebhookRequest, WebhookResult, WebhookSignatureError
from plugins.stripe.errors import fail
from plugins.stripe.events import EVENT_OF_STATUS, map_event
from plugins.stripe.saved import saved_method
from plugins.stripe.settings import StripeSettings

#: PaymentIntent statuses after which an older ``payment_failed`` must not flip the Authorization.
_PAST_FAILURE = frozenset({"succeeded", "requires_capture", "processing"})


async def parse_webhook(client: stripe.StripeClient, config: StripeSettings, request: WebhookRequest,
                        log: logging.Logger) -> WebhookResult:
    """The events to record of one verified delivery (none for an event that records nothing)."""
    header = next((v for k, v in request.headers.items() if k.lower() == "stripe-signature"), None)
    if not header:
        raise WebhookSignatureError("Stripe-Signature header is missing")
    try:
        secret = config.webhook_secret.get_secret_value()
        event = stripe.Webhook.construct_event(request.body, header, secret, tolerance=config.webhook_tolerance)
        data: dict[str, Any] = event.to_dict()
    except stripe.SignatureVerificationError as exc:
        log.warning("Stripe webhook rejected: %s", exc.user_message)
        raise WebhookSignatureError(f"Stripe webhook signature is not valid: {exc.user_message}") from None
    except (ValueError, TypeError, AttributeError):
        raise WebhookSignatureError("Stripe webhook body is not a Stripe event") from None
    if data.get("type") == "charge.refunded":
        data = await _with_refunds(client, data, log)
    payment_event = map_event(data)
    log.info("Stripe webhook %s %s: %s", data.get("type"), data.get("id"),
             "recorded" if payment_event else "nothing to record")
    if payment_event is None:
        return WebhookResult()
    if config.multicapture and _captured_in_parts(data):
        payment_event = dataclasses.replace(payment_event, transactions=tuple(
            t for t in payment_event.transactions if t.type != TxType.CHARGE))
    if data.get("type") in EVENT_OF_STATUS.values():   # authorized: a method the shopper asked to store?
        saved = await saved_method(client, data["data"]["object"], log)
        if saved is not None:
            payment_event = dataclasses.replace(payment_event, saved=saved)
    if data.get("type") == "payment_intent.payment_failed" and payment_event.psp_reference:
        try:
            current = await client.v1.payment_intents.retrieve_async(payment_event.psp_reference)
        except stripe.StripeError as exc:
            fail(log, exc, "retrieve", payment_event.psp_reference)
        if current.status in _PAST_FAILURE:
            log.info("Stripe webhook %s ignored: %s is now %s", data.get("id"), current.id, current.status)
            return WebhookResult()
    return WebhookResult(events=(payment_event,))


async def _with_refunds(client: stripe.StripeClient, event: dict[str, Any], log: logging.Logger) -> dict[str, Any]:
    """The event with ``data.object.refunds.data`` listed from Stripe when the payload has none."""
    charge = event["data"]["object"]
    refunds = charge.get("refunds")
    if isinstance(refunds, dict) and isinstance(refunds.get("data"), list):
        return event
    charge_id = charge.get("id")
    if not isinstance(charge_id, str) or not charge_id.startswith("ch_"):
        return event
    try:
        listed = await client.v1.refunds.list_async({"charge": charge_id, "limit": 100})
    except stripe.StripeError as exc:
        fail(log, exc, "list refunds of", charge_id)
    data = [r.to_dict() for r in listed.data]
    return {**event, "data": {**event["data"], "object": {**charge, "refunds": {"object": "list", "data": data}}}}


def _captured_in_parts(event: dict[str, Any]) -> bool:
    """A manual-capture PaymentIntent's ``payment_intent.succeeded``, or ``charge.refunded`` of a Charge that
    Stripe made multicapture available for: its captures may be several."""
    obj = event["data"]["object"]
    if event.get("type") == "payment_intent.succeeded":
        return bool(obj.get("capture_method") == "manual")
    if event.get("type") == "charge.refunded":
        card = (obj.get("payment_method_details") or {}).get("card") or {}
        return isinstance(card, dict) and bool((card.get("multicapture") or {}).get("status") == "available")
    return False
