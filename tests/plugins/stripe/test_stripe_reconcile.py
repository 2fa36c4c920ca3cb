"""Reconciliation through the host against localstripe: an outcome is lost, a reconcile pass asks Stripe.

Each test loses an outcome the way an operator would see it happen: commercetools answers 500 to the write
that records it (the emulator's fault hooks, as in issue 12), or Stripe cannot be reached while the host
calls it. Then ``reconcile_once`` runs as "two minutes later" and the Payment must carry what Stripe did.
A second host on the same commercetools, whose Stripe is unreachable, plays "Stripe down" (and "the call
never reached Stripe"). No webhook arrives before the pass, so reconciliation alone settles; Stripe's
webhook delivered after it must change nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from host.flows.reconcile import Settled, reconcile_once
from host.keys import CT, ROUTER
from host.testing import HostClient

CT_WRITE = r"/payments/[^/]+$"      # POST /{projectKey}/payments/{id}: a reservation or an outcome
NO_RECONCILER = "reconciler: {interval: 0}\n"


def _yaml(build: Any, api_base: str, capture: str = "manual", retries: int = 2) -> str:
    return (f"stripe-eu:\n  plugin: stripe\n  paymentInterface: stripe-eu\n  captureMethod: {capture}\n"
            f"  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},\n"
            f"             webhookSecret: {build.WEBHOOK_SECRET}, apiBase: \"{api_base}\",\n"
            f"             maxNetworkRetries: {retries}, requestTimeout: 5, paymentMethodTypes: [card]}}\n")


@pytest.fixture
async def host(connector_host: Any, localstripe: str, build: Any) -> HostClient:
    """A host whose Stripe is localstripe (manual capture)."""
    made: HostClient = await connector_host(_yaml(build, localstripe), extra=NO_RECONCILER)
    return made


@pytest.fixture
async def stripe_down(connector_host: Any, host: HostClient, build: Any) -> HostClient:
    """A second host on the same commercetools, the same instance, whose Stripe cannot be reached."""
    made: HostClient = await connector_host(_yaml(build, "http://127.0.0.1:9", retries=0), extra=NO_RECONCILER)
    return made


async def _pass(host: HostClient) -> list[Settled]:
    """One reconcile pass as it would run two minutes from now, with a one-minute horizon."""
    later = datetime.now(UTC) + timedelta(minutes=2)
    return await reconcile_once(host.app[CT], host.app[ROUTER], horizon=60, now=later)


def _txs(host: HostClient, payment_id: str) -> list[tuple[str, str, int, str | None]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"], t.get("interactionId"))
            for t in host.payment(payment_id)["transactions"]]


async def _pay(host: HostClient, amount: int) -> tuple[str, str, str]:
    """``POST /payments`` as the enabler does; the session, the Payment id and its PaymentIntent."""
    session = host.session("stripe-eu", amount=amount)
    resp = await host.pay(session, {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    assert resp.status == 200, await resp.text()
    payment_id = (await resp.json())["paymentReference"]
    return session, payment_id, host.payment(payment_id)["interfaceId"]


async def _authorized(host: HostClient, browser: stripe.StripeClient, amount: int) -> tuple[str, str]:
    """A Payment whose Authorization the host recorded (confirmed in the browser, then confirmPayments)."""
    session, payment_id, pi = await _pay(host, amount)
    await browser.v1.payment_intents.confirm_async(pi)
    resp = await host.client.post(f"/confirmPayments/{payment_id}", json={"paymentIntent": pi},
                                  headers={"X-Session-Id": session})
    assert resp.status == 200, await resp.text()
    return payment_id, pi


def _lose_outcomes(host: HostClient, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """From the moment Stripe has answered ``method``, commercetools refuses every Payment write."""
    provider = host.provider("stripe-eu")
    call: Callable[[Any], Awaitable[Any]] = getattr(provider, method)

    async def then_fail(request: Any) -> Any:
        result = await call(request)
        host.emulator.emulator.inject_fault(CT_WRITE, 500, times=1000, method="POST")
        return result

    monkeypatch.setattr(provider, method, then_fail)


async def _intent(host: HostClient, payment_id: str, action: dict[str, Any]) -> str:
    """The outcome Checkout is told (or the status, when it is not a 200)."""
    resp = await host.intent(payment_id, action)
    host.emulator.emulator.clear_faults()
    return str((await resp.json())["outcome"]) if resp.status == 200 else str(resp.status)


async def _webhook_changes_nothing(host: HostClient, build: Any, browser: stripe.StripeClient, event_type: str,
                                   payment_id: str, pi: str) -> None:
    """Stripe's webhook about the PaymentIntent as it is now, delivered after the reconciler settled it."""
    version = host.payment(payment_id)["version"]
    obj = (await browser.v1.payment_intents.retrieve_async(pi)).to_dict()
    body = json.dumps({"id": "evt_late", "object": "event", "api_version": "2025-12-15.clover", "livemode": False,
                       "created": int(time.time()), "type": event_type, "data": {"object": obj}}).encode()
    resp = await host.post_webhook("stripe-eu", body, {"Stripe-Signature": build.sign(body)})
    assert resp.status == 200 and host.payment(payment_id)["version"] == version


def _eur(cents: int) -> dict[str, Any]:
    return {"centAmount": cents, "currencyCode": "EUR"}


# -- authorization ----------------------------------------------------------------------------------

async def test_an_authorization_whose_confirmation_was_lost_is_settled_from_stripe(
        host: HostClient, build: Any, browser: stripe.StripeClient) -> None:
    session, payment_id, pi = await _pay(host, 2100)
    await browser.v1.payment_intents.confirm_async(pi)            # the shopper confirmed with Stripe.js...
    host.emulator.emulator.inject_fault(CT_WRITE, 500, times=1000, method="POST")
    resp = await host.client.post(f"/confirmPayments/{payment_id}", json={"paymentIntent": pi},
                                  headers={"X-Session-Id": session})
    host.emulator.emulator.clear_faults()                          # ...and its record was lost
    assert resp.status >= 500
    assert _txs(host, payment_id) == [("Authorization", "Initial", 2100, pi)]

    (settled,) = await _pass(host)

    assert (settled.payment_id, settled.after) == (payment_id, "Success")
    assert _txs(host, payment_id) == [("Authorization", "Success", 2100, pi)]
    assert await _pass(host) == []                                 # nothing left, nothing written twice
    await _webhook_changes_nothing(host, build, browser, "payment_intent.amount_capturable_updated", payment_id, pi)


async def test_a_lost_automatic_payment_is_recorded_with_its_charge(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(_yaml(build, localstripe, capture="automatic"), extra=NO_RECONCILER)
    _, payment_id, pi = await _pay(host, 1800)
    charge = (await browser.v1.payment_intents.confirm_async(pi)).to_dict()["latest_charge"]["id"]

    await _pass(host)                                              # no webhook, no confirmPayments came

    assert _txs(host, payment_id) == [("Authorization", "Success", 1800, pi), ("Charge", "Success", 1800, charge)]
    await _webhook_changes_nothing(host, build, browser, "payment_intent.succeeded", payment_id, pi)


async def test_a_payment_intent_whose_creation_was_never_recorded_is_found_by_its_metadata(
        host: HostClient) -> None:
    """The write after ``POST /payments`` failed: the Payment knows no PaymentIntent, and the shopper got
    no client secret. The reconciler finds the PaymentIntent by ``metadata.ct_payment_id``; nobody can
    ever confirm it, so the attempt fails and the cart can be paid again."""
    cart = host.cart(2500)
    session = host.session("stripe-eu", cart=cart)
    host.emulator.emulator.inject_fault(CT_WRITE, 500, times=1000, method="POST")
    resp = await host.pay(session, {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    host.emulator.emulator.clear_faults()
    assert resp.status == 202 and (await resp.json())["outcome"] == "pending"   # Stripe answered, not recorded
    (payment,) = host.ct.payments()
    assert "interfaceId" not in payment
    assert _txs(host, payment["id"]) == [("Authorization", "Initial", 2500, None)]
    assert (await host.pay(host.session("stripe-eu", cart=cart))).status == 409      # in flight

    (settled,) = await _pass(host)

    recorded = host.payment(payment["id"])
    assert recorded["interfaceId"].startswith("pi_") and settled.after == "Failure"
    assert _txs(host, payment["id"]) == [("Authorization", "Failure", 2500, recorded["interfaceId"])]
    again = await host.pay(host.session("stripe-eu", cart=cart),
                           {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    assert again.status == 200, await again.text()


async def test_an_authorization_that_never_reached_stripe_fails(host: HostClient, stripe_down: HostClient) -> None:
    resp = await stripe_down.pay(stripe_down.session("stripe-eu", amount=1200),
                                 {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    assert resp.status == 502
    (payment,) = host.ct.payments()
    assert _txs(host, payment["id"]) == [("Authorization", "Initial", 1200, None)]

    left = await _pass(stripe_down)                                # Stripe still down: reported, left
    assert [(s.payment_id, s.after) for s in left] == [(payment["id"], None)]
    assert "cannot be asked now" in left[0].reason
    assert _txs(host, payment["id"]) == [("Authorization", "Initial", 1200, None)]

    (settled,) = await _pass(host)                                 # Stripe back: it has no such PaymentIntent
    assert settled.after == "Failure"
    assert _txs(host, payment["id"]) == [("Authorization", "Failure", 1200, None)]


# -- capture, refund, cancel ------------------------------------------------------------------------

async def test_a_capture_whose_outcome_write_failed_is_settled_from_stripe(
        host: HostClient, build: Any, browser: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    payment_id, pi = await _authorized(host, browser, 3000)
    _lose_outcomes(host, monkeypatch, "capture")
    assert await _intent(host, payment_id, {"action": "capturePayment", "amount": _eur(3000)}) == "received"
    assert _txs(host, payment_id)[1] == ("Charge", "Initial", 3000, None)

    (settled,) = await _pass(host)

    charge = (await browser.v1.payment_intents.retrieve_async(pi)).to_dict()["latest_charge"]["id"]
    assert settled.after == "Success"
    assert _txs(host, payment_id) == [("Authorization", "Success", 3000, pi), ("Charge", "Success", 3000, charge)]
    await _webhook_changes_nothing(host, build, browser, "payment_intent.succeeded", payment_id, pi)


async def test_refunds_whose_outcome_writes_failed_are_each_found_by_their_attempt_key(
        host: HostClient, browser: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    payment_id, _ = await _authorized(host, browser, 4000)
    assert (await host.intent(payment_id, {"action": "capturePayment", "amount": _eur(4000)})).status == 200
    assert (await host.intent(payment_id, {"action": "refundPayment", "amount": _eur(1000)})).status == 200
    _lose_outcomes(host, monkeypatch, "refund")
    for cents in (1000, 500):                                      # the same amount as the recorded one, and another
        assert await _intent(host, payment_id, {"action": "refundPayment", "amount": _eur(cents)}) == "received"
    refunds = [t for t in _txs(host, payment_id) if t[0] == "Refund"]
    assert [t[1:3] for t in refunds] == [("Success", 1000), ("Initial", 1000), ("Initial", 500)]

    settled = await _pass(host)

    assert [s.after for s in settled] == ["Success", "Success"]
    refunds = [t for t in _txs(host, payment_id) if t[0] == "Refund"]
    assert [t[1:3] for t in refunds] == [("Success", 1000), ("Success", 1000), ("Success", 500)]
    assert len({t[3] for t in refunds}) == 3 and all(str(t[3]).startswith("re_") for t in refunds)


async def test_a_cancel_whose_outcome_write_failed_is_settled_from_stripe(
        host: HostClient, build: Any, browser: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    payment_id, pi = await _authorized(host, browser, 2000)
    _lose_outcomes(host, monkeypatch, "cancel")
    assert await _intent(host, payment_id, {"action": "cancelPayment"}) == "received"

    (settled,) = await _pass(host)

    assert settled.after == "Success"
    assert _txs(host, payment_id) == [("Authorization", "Success", 2000, pi),
                                      ("CancelAuthorization", "Success", 2000, pi)]
    await _webhook_changes_nothing(host, build, browser, "payment_intent.canceled", payment_id, pi)


async def test_a_capture_that_never_reached_stripe_fails_and_frees_the_amount(
        host: HostClient, stripe_down: HostClient, browser: stripe.StripeClient) -> None:
    payment_id, _ = await _authorized(host, browser, 2600)
    capture = {"action": "capturePayment", "amount": _eur(2600)}
    assert (await stripe_down.intent(payment_id, capture)).status == 502
    assert _txs(host, payment_id)[1][:3] == ("Charge", "Initial", 2600)
    assert (await host.intent(payment_id, capture)).status == 400   # blocked while the outcome is unknown

    left = await _pass(stripe_down)
    assert [s.after for s in left] == [None] and _txs(host, payment_id)[1][:3] == ("Charge", "Initial", 2600)

    (settled,) = await _pass(host)
    assert settled.after == "Failure"
    assert _txs(host, payment_id)[1][:3] == ("Charge", "Failure", 2600)
    resp = await host.intent(payment_id, capture)                   # the amount is capturable again
    assert resp.status == 200 and await resp.json() == {"outcome": "approved"}
