"""Storing a Stripe payment method, with ``aioresponses`` answering for Stripe: localstripe refuses
``setup_future_usage`` (400 ``Unexpected setup_future_usage``), so a PaymentIntent the shopper asked to store
cannot be made there. The host runs on the emulator; the JSON follows Stripe's API reference (2025-12-15.clover).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
from aioresponses import aioresponses
from yarl import URL

from host.commercetools.wallet import DISPLAY_CONTAINER
from host.testing import HostClient

API = "https://api.stripe.com"
PI = "pi_3QstoreDEFghiJKL"
PM = "pm_1QstoredCARDvisa"
CUSTOMER = "cus_QstoredCUST"
CARD = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "country": "US"}


@pytest.fixture
def stripe_api() -> Any:
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def _yaml(build: Any) -> str:
    return ("stripe-eu:\n  plugin: stripe\n  paymentInterface: stripe-eu\n  storedPaymentMethods: true\n"
            f"  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},\n"
            f"             webhookSecret: {build.WEBHOOK_SECRET}}}\n")


def _intent(payment_id: str, cart_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": PI, "object": "payment_intent", "amount": 1500, "amount_capturable": 1500, "amount_received": 0,
            "capture_method": "manual", "client_secret": f"{PI}_secret_abc", "currency": "eur", "customer": CUSTOMER,
            "latest_charge": None, "livemode": False, "setup_future_usage": "off_session",
            "metadata": {"ct_payment_id": payment_id, "cart_id": cart_id, "ct_customer_id": "cust-a"},
            "payment_method_types": ["card"], "status": "requires_capture", **fields}


def _sent(mocked: aioresponses, method: str, url: str) -> list[dict[str, list[str]]]:
    return [parse_qs(call.kwargs["data"]) for (verb, target), recorded in mocked.requests.items()
            if verb.upper() == method and target == URL(url) for call in recorded]


async def test_storing_makes_the_intent_for_the_customer_and_keeps_the_method_once_authorized(
        connector_host: Any, build: Any, stripe_api: aioresponses) -> None:
    host: HostClient = await connector_host(_yaml(build))
    cart = host.cart(1500, customer_id="cust-a")
    session = host.session("stripe-eu", cart=cart)
    stripe_api.post(f"{API}/v1/customers", payload={"id": CUSTOMER, "object": "customer",
                                                     "metadata": {"ct_customer_id": "cust-a"}})
    stripe_api.post(f"{API}/v1/payment_intents", payload=_intent("p", cart["id"], status="requires_payment_method",
                                                                  customer=CUSTOMER, payment_method=None))
    paid = await host.pay(session, {"paymentMethod": {"type": "payment", "storePaymentMethod": True}})
    assert paid.status == 200, await paid.text()
    payment_id = (await paid.json())["paymentReference"]
    [created] = _sent(stripe_api, "POST", f"{API}/v1/payment_intents")
    assert created["customer"] == [CUSTOMER] and created["setup_future_usage"] == ["off_session"]
    assert created["metadata[ct_customer_id]"] == ["cust-a"]
    assert _sent(stripe_api, "POST", f"{API}/v1/customers")[0]["metadata[ct_customer_id]"] == ["cust-a"]
    assert host.ct.emulator.payment_methods() == []          # not before Stripe authorized it

    # Stripe.js confirmed; the enabler reports it, and the PaymentMethod (expanded) is stored
    confirmed = _intent(payment_id, cart["id"], payment_method={"id": PM, "object": "payment_method",
                                                                "type": "card", "card": CARD, "customer": CUSTOMER})
    stripe_api.get(re.compile(rf"^{API}/v1/payment_intents/{PI}\?.*$"), payload=confirmed)
    resp = await host.client.post(f"/confirmPayments/{payment_id}", json={"paymentIntent": PI},
                                  headers={"X-Session-Id": session})
    assert resp.status == 200, await resp.text()
    [method] = host.ct.emulator.payment_methods()
    assert (method["token"], method["customer"]["id"], method["method"]) == ({"value": PM}, "cust-a", "card")
    listed = await (await host.client.get("/stored-payment-methods", headers={"X-Session-Id": session})).text()
    assert PM not in listed
    assert json.loads(listed)["storedPaymentMethods"][0]["displayOptions"] == {
        "endDigits": "4242", "brand": {"key": "visa"}, "expiryMonth": 12, "expiryYear": 2030}
    assert host.ct.emulator.custom_object(DISPLAY_CONTAINER, method["id"]) is not None

    # the webhook for the same authorization (the PaymentMethod as an id) stores nothing more
    stripe_api.get(f"{API}/v1/payment_methods/{PM}", payload={"id": PM, "object": "payment_method", "type": "card",
                                                              "card": CARD, "customer": CUSTOMER})
    event = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.amount_capturable_updated",
                        "api_version": "2025-12-15.clover", "created": int(time.time()), "livemode": False,
                        "data": {"object": _intent(payment_id, cart["id"], payment_method=PM)}}).encode()
    assert (await host.post_webhook("stripe-eu", event, {"Stripe-Signature": build.sign(event)})).status == 200
    assert ("get", URL(f"{API}/v1/payment_methods/{PM}")) in stripe_api.requests   # it was offered again
    assert len(host.ct.emulator.payment_methods()) == 1


async def test_a_guest_or_an_intent_without_setup_future_usage_stores_nothing(
        connector_host: Any, build: Any, stripe_api: aioresponses) -> None:
    host: HostClient = await connector_host(_yaml(build))
    cart = host.cart(1500)                                     # a guest cart
    session = host.session("stripe-eu", cart=cart)
    stripe_api.post(f"{API}/v1/payment_intents", payload=_intent("p", cart["id"], status="requires_payment_method",
                                                                  customer=None, setup_future_usage=None))
    paid = await host.pay(session, {"paymentMethod": {"type": "payment", "storePaymentMethod": True}})
    payment_id = (await paid.json())["paymentReference"]
    [created] = _sent(stripe_api, "POST", f"{API}/v1/payment_intents")
    assert "customer" not in created and "setup_future_usage" not in created
    confirmed = _intent(payment_id, cart["id"], customer=None, setup_future_usage=None,
                        payment_method={"id": PM, "object": "payment_method", "type": "card", "card": CARD})
    stripe_api.get(re.compile(rf"^{API}/v1/payment_intents/{PI}\?.*$"), payload=confirmed)
    resp = await host.client.post(f"/confirmPayments/{payment_id}", json={"paymentIntent": PI},
                                  headers={"X-Session-Id": session})
    assert resp.status == 200
    assert host.ct.emulator.payment_methods() == []
