"""``/operations/config``, ``/status``, ``/payment-components``, ``/transactions``, and the JSON access log."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.stored import sandbox_card

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """\
fast: {plugin: sandbox, paymentInterface: mock, methods: [card, invoice], storedPaymentMethods: true}
slow: {plugin: sandbox, paymentInterface: mock-slow, methods: [card], settings: {latency: 3}}
off: {plugin: sandbox, paymentInterface: mock-off, methods: [purchaseorder], enabled: false}
giftcards: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
stripe-eu:
  plugin: stripe
  paymentInterface: stripe-eu
  settings: {secretKey: sk_test_eu, publishableKey: pk_test_eu, webhookSecret: whsec_eu, apiBase: "http://127.0.0.1:9"}
"""


@pytest.fixture
async def host(connector_host: MakeHost) -> HostClient:
    return await connector_host(INSTANCES, extra="  statusTimeout: 0.3\n")


def _jwt(host: HostClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {host.mc_jwt()}"}


async def test_status_is_partially_available_when_one_psp_is_slow_never_a_hang(host: HostClient) -> None:
    resp = await host.client.get("/operations/status", headers=_jwt(host))
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "Partially Available"
    checks = {c["details"].get("instance", c["name"]): c for c in body["checks"]}
    assert checks["commercetools permissions"]["status"] == "UP"
    assert checks["fast"]["status"] == "UP" and checks["fast"]["details"]["version"]
    assert checks["slow"]["status"] == "DOWN" and "0.3" in checks["slow"]["message"]
    assert checks["stripe-eu"]["status"] == "DOWN"          # nothing listens on port 9
    assert "off" not in checks                              # disabled instances are not checked
    assert "sk_test_eu" not in json.dumps(body)


async def test_payment_components_union_and_filter(host: HostClient) -> None:
    body = await (await host.client.get("/operations/payment-components", headers=_jwt(host))).json()
    types = {c["type"] for c in body["components"]}
    assert {"card", "invoice", "giftcard"} <= types and "purchaseorder" not in types
    # Stripe answers the official shape: the Payment Element is the embedded drop-in, Express CK's "dropin"
    assert body["dropins"] == [{"type": "embedded"}] and body["express"] == [{"type": "dropin"}]
    assert [c["type"] for c in body["components"]].count("card") == 1
    filtered = await (await host.client.get("/operations/payment-components?paymentInterface=mock",
                                            headers=_jwt(host))).json()
    base = f"{host.url}/enablers/fast"
    enabler = {"instance": "fast", "paymentInterface": "mock", "url": f"{base}/connector-enabler.es.js",
               "umdUrl": f"{base}/connector-enabler.umd.js"}
    versioned = filtered.pop("enablers")
    assert [{k: v for k, v in e.items() if not k.startswith("versioned")} for e in versioned] == [enabler]
    assert filtered == {"dropins": [], "components": [{"type": "card"}, {"type": "invoice"}], "express": []}
    assert {e["instance"] for e in body["enablers"]} == {"fast", "slow", "giftcards", "stripe-eu"}


async def test_config_is_the_selected_instances_public_config(host: HostClient) -> None:
    sandbox = await (await host.client.get("/operations/config",
                                           headers={"X-Session-Id": host.session("mock")})).json()
    stripe = await (await host.client.get("/operations/config",
                                          headers={"X-Session-Id": host.session("stripe-eu")})).json()
    assert sandbox["storedPaymentMethodsConfig"] == {"isEnabled": False}
    assert stripe["clientKey"] == "pk_test_eu" and "sk_test" not in json.dumps(stripe)


async def test_disabled_instance_is_a_clear_400(host: HostClient) -> None:
    resp = await host.pay(host.session("mock-off"), {"paymentMethod": {"type": "purchaseorder", "poNumber": "1"},
                                                     "paymentOutcome": "Authorized"})
    assert resp.status == 400 and "disabled" in (await resp.json())["message"]


async def test_a_session_of_one_instance_cannot_use_another_instances_route(host: HostClient) -> None:
    resp = await host.client.get("/plugins/stripe-eu/get-config-element/payment",
                                 headers={"X-Session-Id": host.session("mock")})
    assert resp.status == 404
    ok = await host.client.get("/get-config-element/payment", headers={"X-Session-Id": host.session("stripe-eu",
                                                                                                   amount=1234)})
    assert (await ok.json())["cartInfo"] == {"amount": 1234, "currency": "EUR"}


async def test_transactions_charges_a_stored_payment_method_with_201(host: HostClient) -> None:
    cart = host.cart(2500, customer_id="cust-1")
    method_id = await sandbox_card(host, "cust-1")
    token = host.oauth_token(["manage_checkout_transactions:test-project"])
    resp = await host.client.post("/operations/transactions", headers={"Authorization": f"Bearer {token}"}, json={
        "cartId": cart["id"], "checkoutTransactionItemId": "cti-1", "paymentMethodId": method_id,
        "type": "Recurring", "amount": {"centAmount": 2500, "currencyCode": "EUR"}})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["transactionStatus"] == {"state": "Completed", "errors": []}
    payment = host.payment(body["paymentId"])
    assert payment["checkoutTransactionItemId"] == "cti-1"
    assert payment["paymentMethodInfo"]["paymentInterface"] == "mock"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"amount": {"centAmount": 999999, "currencyCode": "EUR"}}, 400, "InvalidField"),
    ({"amount": {"centAmount": 100, "currencyCode": "USD"}}, 400, "InvalidField"),
    ({"paymentMethodId": "missing"}, 404, "ResourceNotFound"),
    ({"type": "OneOff"}, 400, "InvalidField"),
])
async def test_transactions_refuses_bad_requests(host: HostClient, body: dict[str, Any], status: int,
                                                 code: str) -> None:
    cart = host.cart(2500, customer_id="cust-2")
    method_id = await sandbox_card(host, "cust-2")
    token = host.oauth_token(["manage_checkout_transactions:test-project"])
    resp = await host.client.post("/operations/transactions", headers={"Authorization": f"Bearer {token}"},
                                  json={"cartId": cart["id"], "paymentMethodId": method_id, **body})
    assert (resp.status, (await resp.json())["errors"][0]["code"]) == (status, code)


async def test_access_log_is_json_with_status_duration_and_correlation_id(
        host: HostClient, capsys: pytest.CaptureFixture[str]) -> None:
    from host.logs import setup_logging
    setup_logging("json", "INFO")
    try:
        await host.client.get("/health", headers={"X-Correlation-ID": "corr-42"})
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = next(line for line in lines if line.get("path") == "/health")
    assert access["status"] == 200 and access["correlationId"] == "corr-42" and access["durationMs"] >= 0
