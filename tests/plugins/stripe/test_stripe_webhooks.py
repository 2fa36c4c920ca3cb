"""Stripe webhooks: verification of the signature over the raw bytes, and the mapping of events to
transactions whose interaction ids match the synchronous results.

The first tests take real deliveries from localstripe (it signs and posts ``payment_intent.succeeded`` and
``payment_intent.payment_failed`` about 1 s after the fact). localstripe emits no other event type, so the
rest sign Stripe-shaped events here, with the same HMAC scheme Stripe uses: parsing needs no network.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from host import (
    CaptureMethod,
    Money,
    Operation,
    PaymentEvent,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
    WebhookSignatureError,
)
from plugins.stripe.events import capture_reference

PAYMENT_ID = "0f9e8d7c-6b5a-4321-9876-543210fedcba"


def intent(**fields: Any) -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "amount": 1000, "amount_capturable": 0,
            "amount_received": 0, "currency": "eur", "latest_charge": "ch_1", "status": "requires_capture",
            "metadata": {"ct_payment_id": PAYMENT_ID, "cart_id": "cart-1"}, **fields}


@pytest.fixture
async def parser(make_provider):
    """A provider that only parses (no Stripe calls happen for these event types)."""
    return await make_provider()


# -- real deliveries (localstripe) ------------------------------------------------------------------

@pytest.mark.localstripe
async def test_a_delivered_succeeded_event_records_authorization_and_charge(
        make_provider, localstripe, browser, webhook_sink, build):
    provider = await make_provider(apiBase=localstripe, capture=CaptureMethod.AUTOMATIC)
    request = build.create(1000, capture=CaptureMethod.AUTOMATIC)
    pi_id = (await provider.create_payment(request)).psp_reference
    confirmed = await browser.v1.payment_intents.confirm_async(pi_id)

    body, headers = await webhook_sink.wait_for("payment_intent.succeeded", pi_id)
    result = await provider.parse_webhook(WebhookRequest(body=body, headers=headers))

    assert result.status == 200 and result.body is None           # Stripe gets an empty 200
    assert result.events == (PaymentEvent(
        payment_id=request.payment.id, psp_reference=pi_id,
        transactions=(TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"), pi_id),
                      TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"),
                                        confirmed.latest_charge.id))),)


@pytest.mark.localstripe
async def test_the_webhook_of_a_capture_carries_the_capture_results_interaction_id(
        provider, browser, webhook_sink, build):
    """The host consolidates on type + interactionId: equal ids mean the capture is counted once."""
    request = build.create(1000)
    pi_id = (await provider.create_payment(request)).psp_reference
    await browser.v1.payment_intents.confirm_async(pi_id)
    payment = build.payment(1000, interface_id=pi_id, payment_id=request.payment.id)
    captured = await provider.capture(build.modify(Operation.CAPTURE, pi_id, 600, payment=payment))

    body, headers = await webhook_sink.wait_for("payment_intent.succeeded", pi_id)
    (event,) = (await provider.parse_webhook(WebhookRequest(body=body, headers=headers))).events
    charges = [tx for tx in event.transactions if tx.type == TxType.CHARGE]
    assert [tx.interaction_id for tx in charges] == [captured.psp_reference]


@pytest.mark.localstripe
async def test_a_delivered_payment_failed_event_records_a_failed_authorization(
        provider, browser, webhook_sink, build):
    request = build.create(1000, pm="pm_card_chargeCustomerFail")
    pi_id = (await provider.create_payment(request)).psp_reference
    with pytest.raises(stripe.CardError):
        await browser.v1.payment_intents.confirm_async(pi_id)

    body, headers = await webhook_sink.wait_for("payment_intent.payment_failed", pi_id)
    result = await provider.parse_webhook(WebhookRequest(body=body, headers=headers))
    assert result.events == (PaymentEvent(
        payment_id=request.payment.id, psp_reference=pi_id,
        transactions=(TransactionResult(TxType.AUTHORIZATION, TxState.FAILURE, Money(1000, "EUR"), pi_id),)),)


@pytest.mark.localstripe
async def test_a_tampered_delivery_or_another_secret_is_refused(
        make_provider, localstripe, browser, webhook_sink, build):
    provider = await make_provider(apiBase=localstripe, capture=CaptureMethod.AUTOMATIC)
    pi_id = (await provider.create_payment(build.create(1000, capture=CaptureMethod.AUTOMATIC))).psp_reference
    await browser.v1.payment_intents.confirm_async(pi_id)
    body, headers = await webhook_sink.wait_for("payment_intent.succeeded", pi_id)
    assert (await provider.parse_webhook(WebhookRequest(body=body, headers=headers))).events

    tampered = body.replace(b'"amount": 1000', b'"amount": 1')
    assert tampered != body
    with pytest.raises(WebhookSignatureError, match="signature is not valid"):
        await provider.parse_webhook(WebhookRequest(body=tampered, headers=headers))

    other = await make_provider(apiBase=localstripe, instance="stripe-us",
                                webhookSecret="whsec_another_instance")
    with pytest.raises(WebhookSignatureError):
        await other.parse_webhook(WebhookRequest(body=body, headers=headers))


# -- verification -----------------------------------------------------------------------------------

async def test_a_stale_timestamp_is_refused(parser, build):
    stale = build.event("payment_intent.succeeded", intent(), timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        await parser.parse_webhook(stale)


async def test_a_signature_inside_the_tolerance_is_accepted(parser, build):
    recent = build.event("payment_intent.succeeded", intent(), timestamp=int(time.time()) - 200)
    assert (await parser.parse_webhook(recent)).events


@pytest.mark.parametrize("headers", [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"},
                                     {"Stripe-Signature": "t=1,v0=abc"}])
async def test_a_missing_or_malformed_header_is_refused(parser, build, headers):
    good = build.event("payment_intent.succeeded", intent())
    with pytest.raises(WebhookSignatureError):
        await parser.parse_webhook(WebhookRequest(body=good.body, headers=headers))


async def test_the_header_name_is_case_insensitive(parser, build):
    good = build.event("payment_intent.succeeded", intent())
    lower = WebhookRequest(body=good.body, headers={"stripe-signature": good.headers["Stripe-Signature"]})
    assert (await parser.parse_webhook(lower)).events


# -- mapping ----------------------------------------------------------------------------------------

async def test_amount_capturable_updated_records_the_authorization(parser, build):
    request = build.event("payment_intent.amount_capturable_updated", intent(amount_capturable=1000))
    (event,) = (await parser.parse_webhook(request)).events
    assert (event.payment_id, event.psp_reference) == (PAYMENT_ID, "pi_1")
    assert event.transactions == (TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"),
                                                    "pi_1"),)


async def test_succeeded_records_the_received_amount_under_the_charge_id(parser, build):
    request = build.event("payment_intent.succeeded", intent(amount_received=600, status="succeeded"))
    (event,) = (await parser.parse_webhook(request)).events
    charge = TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(600, "EUR"), "ch_1")
    assert event.transactions[1] == charge


async def test_an_endpoint_on_an_old_api_version_still_gives_the_charge_id(parser, build):
    """Payloads follow the endpoint's API version: before 2022-11-15 a PaymentIntent has ``charges.data``."""
    old = intent(amount_received=1000, status="succeeded", latest_charge=None)
    old["charges"] = {"object": "list", "data": [{"id": "ch_old", "object": "charge"}]}
    (event,) = (await parser.parse_webhook(build.event("payment_intent.succeeded", old))).events
    assert event.transactions[1].interaction_id == "ch_old"


async def test_canceled_records_a_cancel_authorization_of_the_authorized_amount(parser, build):
    request = build.event("payment_intent.canceled", intent(status="canceled"))
    (event,) = (await parser.parse_webhook(request)).events
    assert event.transactions == (TransactionResult(TxType.CANCEL_AUTHORIZATION, TxState.SUCCESS,
                                                    Money(1000, "EUR"), "pi_1"),)


def charge(**fields: Any) -> dict[str, Any]:
    return {"id": "ch_1", "object": "charge", "amount": 1000, "amount_captured": 1000, "amount_refunded": 0,
            "currency": "eur", "captured": True, "payment_intent": "pi_1",
            "payment_method_details": {"type": "card"},
            "metadata": {"ct_payment_id": PAYMENT_ID, "cart_id": "cart-1"}, **fields}


def refund(refund_id: str, amount: int, status: str, **fields: Any) -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "amount": amount, "currency": "eur", "charge": "ch_1",
            "payment_intent": "pi_1", "status": status, "metadata": {"ct_payment_id": PAYMENT_ID}, **fields}


async def test_charge_captured_records_the_charge_with_the_payment_intent_as_reference(parser, build):
    request = build.event("charge.captured", charge(amount_captured=700))
    (event,) = (await parser.parse_webhook(request)).events
    assert (event.psp_reference, event.method) == ("pi_1", "card")
    assert event.transactions == (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(700, "EUR"),
                                                    "ch_1"),)


async def test_charge_refunded_with_expanded_refunds_records_one_refund_each(parser, build):
    refunds = {"object": "list", "data": [refund("re_1", 300, "succeeded"), refund("re_2", 200, "pending")]}
    request = build.event("charge.refunded", charge(amount_refunded=500, refunds=refunds))
    (event,) = (await parser.parse_webhook(request)).events
    assert event.transactions == (
        TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"), "ch_1"),  # what Stripe captured
        TransactionResult(TxType.REFUND, TxState.SUCCESS, Money(300, "EUR"), "re_1"),
        TransactionResult(TxType.REFUND, TxState.PENDING, Money(200, "EUR"), "re_2"))
    assert all(tx.type != TxType.CHARGEBACK for tx in event.transactions)   # unlike the official connector


@pytest.mark.localstripe
async def test_charge_refunded_under_clover_lists_the_refunds_from_stripe(provider, browser, build):
    """The pinned clover API sends the charge without ``refunds``: each refund is listed from Stripe."""
    created = build.create(1000)
    pi_id = (await provider.create_payment(created)).psp_reference
    confirmed = await browser.v1.payment_intents.confirm_async(pi_id)
    await browser.v1.payment_intents.capture_async(pi_id)
    first = await browser.v1.refunds.create_async({"payment_intent": pi_id, "amount": 300})
    second = await browser.v1.refunds.create_async({"payment_intent": pi_id, "amount": 200})
    ch = (await browser.v1.charges.retrieve_async(confirmed.latest_charge.id)).to_dict()
    ch.pop("refunds", None)
    ch["metadata"] = {"ct_payment_id": created.payment.id}
    (event,) = (await provider.parse_webhook(build.event("charge.refunded", ch))).events
    refunds = {tx.interaction_id: tx.amount for tx in event.transactions if tx.type == TxType.REFUND}
    assert refunds == {first.id: Money(300, "EUR"), second.id: Money(200, "EUR")}


async def test_charge_succeeded_manual_records_the_authorization_and_the_method(parser, build):
    request = build.event("charge.succeeded", charge(captured=False, amount_captured=0,
                                                     payment_method_details={"type": "klarna"}))
    (event,) = (await parser.parse_webhook(request)).events
    assert (event.payment_id, event.psp_reference, event.paid_with) == (PAYMENT_ID, "pi_1", "klarna")
    assert event.transactions == (TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"),
                                                    "pi_1"),)


async def test_charge_succeeded_captured_records_authorization_and_charge(parser, build):
    (event,) = (await parser.parse_webhook(build.event("charge.succeeded", charge()))).events
    assert event.transactions == (
        TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"), "pi_1"),
        TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"), "ch_1"))


def _updated(build: Any, before: int, after: int) -> WebhookRequest:
    body = json.dumps({"id": "evt_u", "object": "event", "type": "charge.updated", "created": int(time.time()),
                       "data": {"object": charge(amount_captured=after),
                                "previous_attributes": {"amount_captured": before}}}).encode()
    return WebhookRequest(body=body, headers={"Stripe-Signature": build.sign(body)})


async def test_charge_updated_records_the_captured_growth_under_the_capture_reference(parser, build):
    (first,) = (await parser.parse_webhook(_updated(build, 0, 400))).events
    (second,) = (await parser.parse_webhook(_updated(build, 400, 700))).events
    assert first.transactions == (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(400, "EUR"), "ch_1"),)
    assert second.transactions == (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(300, "EUR"),
                                                     "ch_1:700"),)
    assert capture_reference("ch_1", 700, 300) == "ch_1:700"      # what the capture's own answer names it
    assert await parser.parse_webhook(_updated(build, 700, 700)) == WebhookResult()   # another field changed


async def test_processing_records_a_pending_authorization(parser, build):
    (event,) = (await parser.parse_webhook(build.event("payment_intent.processing", intent(status="processing"))
                )).events
    assert event.transactions == (TransactionResult(TxType.AUTHORIZATION, TxState.PENDING, Money(1000, "EUR"),
                                                    "pi_1"),)


@pytest.mark.parametrize(("status", "state"), [("succeeded", TxState.SUCCESS), ("pending", TxState.PENDING),
                                               ("failed", TxState.FAILURE), ("canceled", TxState.FAILURE)])
async def test_refund_updated_records_the_refund_state(parser, build, status, state):
    request = build.event("refund.updated", refund("re_9", 250, status))
    (event,) = (await parser.parse_webhook(request)).events
    assert (event.payment_id, event.psp_reference) == (PAYMENT_ID, "pi_1")
    assert event.transactions == (TransactionResult(TxType.REFUND, state, Money(250, "EUR"), "re_9"),)


def dispute(status: str) -> dict[str, Any]:
    return {"id": "du_1", "object": "dispute", "amount": 1000, "currency": "eur", "charge": "ch_1",
            "payment_intent": "pi_1", "status": status, "reason": "fraudulent", "metadata": {}}


async def test_a_dispute_records_a_chargeback_found_by_payment_intent(parser, build):
    request = build.event("charge.dispute.created", dispute("needs_response"))
    (event,) = (await parser.parse_webhook(request)).events
    assert (event.payment_id, event.psp_reference) == (None, "pi_1")
    assert event.transactions == (TransactionResult(TxType.CHARGEBACK, TxState.SUCCESS, Money(1000, "EUR"),
                                                    "du_1"),)


async def test_a_won_dispute_turns_the_chargeback_into_a_failure(parser, build):
    request = build.event("charge.dispute.closed", dispute("won"))
    (event,) = (await parser.parse_webhook(request)).events
    assert event.transactions[0].state == TxState.FAILURE and event.transactions[0].interaction_id == "du_1"


@pytest.mark.parametrize("event_type", ["customer.created", "payment_intent.created",
                                        "payment_intent.requires_action"])
async def test_other_events_are_acknowledged_without_recording(parser, build, event_type):
    request = build.event(event_type, intent())
    assert await parser.parse_webhook(request) == WebhookResult()


async def test_an_object_without_an_id_records_nothing(parser, build):
    """Without Stripe's id there is no interactionId to consolidate on, even when the Payment is known."""
    request = build.event("payment_intent.succeeded", {**intent(), "id": None, "latest_charge": None})
    assert await parser.parse_webhook(request) == WebhookResult()


async def test_nothing_left_to_capture_is_not_an_authorization(parser, build):
    request = build.event("payment_intent.amount_capturable_updated", intent(amount_capturable=0))
    assert await parser.parse_webhook(request) == WebhookResult()


async def test_with_multicapture_whole_charge_events_leave_each_capture_to_its_own_record(make_provider, build):
    """Captured in parts, the Charge ``ch_1`` (everything captured) would count the later captures
    (``ch_1:{amount}``) twice: payment_intent.succeeded and charge.refunded leave it out."""
    parser = await make_provider(multicapture=True)
    pi = intent(amount_received=700, status="succeeded", capture_method="manual")
    (succeeded,) = (await parser.parse_webhook(build.event("payment_intent.succeeded", pi))).events
    assert [tx.type for tx in succeeded.transactions] == [TxType.AUTHORIZATION]
    multicaptured = charge(amount_captured=700, refunds={"object": "list", "data": [refund("re_1", 300, "succeeded")]},
                           payment_method_details={"type": "card", "card": {"multicapture": {"status": "available"}}})
    (refunded,) = (await parser.parse_webhook(build.event("charge.refunded", multicaptured))).events
    assert refunded.transactions == (TransactionResult(TxType.REFUND, TxState.SUCCESS, Money(300, "EUR"), "re_1"),)
