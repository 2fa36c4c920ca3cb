"""The official Stripe enabler's routes through the host, on localstripe and the emulator (the money case also
on the judge): ``GET /payments``, ``/config-element/{anything}``, ``/applePayConfig``, payment-components."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from host import CreatePaymentRequest
from host.testing import HostClient
from plugins.stripe.routes import billing_details

SANDBOX = "card: {plugin: sandbox, paymentInterface: mock}\n"


def _stripe(build: Any, localstripe: str, **settings: str) -> str:
    return build.instance_yaml(localstripe, **settings)


async def _get_payments(host: Any, session: str) -> Any:
    return await host.request("GET", "/payments", headers={"X-Session-Id": session})


def _txs(payment: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"]) for t in payment["transactions"]]


async def test_get_payments_creates_the_payment_as_post_without_a_body(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host: HostClient = await connector_host(build.instance_yaml(localstripe))
    cart = host.cart(2500, tax_rate=0.19)
    session = host.session("stripe-eu", cart=cart, merchantReturnUrl="https://shop.example/done")
    resp = await _get_payments(host, session)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert set(answer) == {"cartId", "clientSecret", "sClientSecret", "paymentReference", "merchantReturnUrl"}
    assert answer["cartId"] == cart["id"] and answer["merchantReturnUrl"] == "https://shop.example/done"
    assert answer["clientSecret"].startswith("pi_") and answer["sClientSecret"] == answer["clientSecret"]
    payment = host.payment(answer["paymentReference"])
    # the amount is the cart's gross total, as the official connector computes it; nothing came from the client
    assert _txs(payment) == [("Authorization", "Initial", 2975)]
    assert payment["interfaceId"] == answer["clientSecret"].split("_secret_")[0]
    assert payment["paymentMethodInfo"]["paymentInterface"] == "stripe-eu"
    assert host.ct.get_cart(cart["id"])["paymentInfo"]["payments"] == [{"typeId": "payment", "id": payment["id"]}]


async def test_get_payments_of_an_instance_without_it_is_a_405_that_writes_nothing(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host: HostClient = await connector_host(SANDBOX + build.instance_yaml(localstripe))
    cart = host.cart()
    resp = await _get_payments(host, host.session("mock", cart=cart))
    assert resp.status == 405
    body = await resp.json()
    assert body["errors"][0]["code"] == "MethodNotAllowed"
    assert body["message"] == "The payment integration 'mock' creates payments with POST /payments only."
    assert "paymentInfo" not in host.ct.get_cart(cart["id"]) and host.ct.payments() == []
    assert (await _get_payments(host, "no-such-session")).status == 401
    assert (await host.request("HEAD", "/payments", headers={"X-Session-Id": host.session("stripe-eu")})).status \
        == 405 and host.ct.payments() == []      # a HEAD never creates a payment


async def test_billing_address_is_answered_when_stripe_does_not_collect_it(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host: HostClient = await connector_host(_stripe(build, localstripe, collectBillingAddress="never"))
    answer = await (await _get_payments(host, host.session("stripe-eu"))).json()
    # a cart without addresses: the keys are there, empty (the enabler passes them to Stripe.js as they are)
    assert json.loads(answer["billingAddress"])["address"]["country"] == ""


def test_billing_address_comes_from_the_billing_address_else_the_shipping_one(build: Any) -> None:
    shipping = {"firstName": "Ada", "lastName": "Lovelace", "streetName": "Main St", "streetNumber": "7",
                "postalCode": "10115", "city": "Berlin", "country": "DE", "email": "ada@example.com"}
    request = build.create()
    only_shipping = CreatePaymentRequest(**{**_fields(request), "shipping_address": shipping})
    assert json.loads(billing_details(only_shipping)) == {
        "name": "Ada Lovelace", "phone": "", "email": "ada@example.com",
        "address": {"line1": "7 Main St", "line2": "", "city": "Berlin", "postal_code": "10115", "state": "",
                    "country": "DE"}}
    both = CreatePaymentRequest(**{**_fields(only_shipping), "billing_address": {"country": "FR", "city": "Paris"}})
    assert json.loads(billing_details(both))["address"]["country"] == "FR"


def _fields(request: CreatePaymentRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in CreatePaymentRequest.__dataclass_fields__}


@pytest.mark.parametrize("segment", ["undefined", "paymentElement", "expressCheckout"])
async def test_config_element_answers_any_segment(connector_host: Any, localstripe: str, build: Any,
                                                  segment: str) -> None:
    host: HostClient = await connector_host(_stripe(build, localstripe, appearanceExpressCheckout='{"theme":"flat"}'))
    for prefix in ("/config-element/", "/get-config-element/"):
        resp = await host.request("GET", prefix + segment, headers={"X-Session-Id": host.session("stripe-eu")})
        assert resp.status == 200, await resp.text()
        answer = await resp.json()
        assert answer["cartInfo"] == {"amount": 5950, "currency": "EUR"} and answer["webElements"] == segment
        assert ("appearance" in answer) == (segment != "paymentElement")


async def test_apple_pay_config_is_the_setting_as_plain_text_without_a_session(
        connector_host: Any, localstripe: str, build: Any) -> None:
    association = "7B227073704964223A2236...domain association file"
    host: HostClient = await connector_host(_stripe(build, localstripe, applePayWellKnown=association))
    resp = await host.request("GET", "/applePayConfig")
    assert resp.status == 200 and resp.content_type == "text/plain" and await resp.text() == association


async def test_apple_pay_config_unset_is_a_404_that_says_what_to_set(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host: HostClient = await connector_host(build.instance_yaml(localstripe))
    resp = await host.request("GET", "/applePayConfig")
    assert resp.status == 404
    assert (await resp.json())["message"] == ("Apple Pay is not configured for 'stripe-eu': set applePayWellKnown "
                                              "in its connector.yaml settings.")


async def test_payment_components_are_the_official_shape_beside_other_plugins(
        connector_host: Any, localstripe: str, build: Any) -> None:
    both = build.instance_yaml(localstripe).replace("  settings:", "  methods: [payment, expressCheckout]\n  settings:")
    host: HostClient = await connector_host(SANDBOX + both)
    jwt = {"Authorization": f"Bearer {host.mc_jwt()}"}
    stripe_only = await (await host.request("GET", "/operations/payment-components?paymentInterface=stripe-eu",
                                            headers=jwt)).json()
    assert {k: stripe_only[k] for k in ("dropins", "components", "express")} == {
        "dropins": [{"type": "embedded"}], "components": [], "express": [{"type": "dropin"}]}
    merged = await (await host.request("GET", "/operations/payment-components", headers=jwt)).json()
    assert merged["dropins"] == [{"type": "embedded"}] and merged["express"] == [{"type": "dropin"}]
    assert {"type": "card"} in merged["components"]       # the sandbox's answer is unchanged


async def test_get_payments_twice_25_ms_apart_authorizes_once(money_host: Any, localstripe: str, build: Any) -> None:
    host = await money_host(build.instance_yaml(localstripe))
    cart = host.cart()
    session = host.session("stripe-eu", cart=cart)
    first = asyncio.create_task(_get_payments(host, session))
    await asyncio.sleep(0.025)
    second = await _get_payments(host, session)
    answers = [await first, second]
    assert sorted(r.status for r in answers) == [200, 409]     # the second waits for the first's outcome
    references = {(await r.json())["paymentReference"] for r in answers if r.status == 200}
    attached = host.ct.get_cart(cart["id"])["paymentInfo"]["payments"]
    live = [p for p in (host.payment(ref["id"]) for ref in attached)
            if any(t["type"] == "Authorization" and t["state"] != "Failure" for t in p["transactions"])]
    assert [p["id"] for p in live] == list(references)
