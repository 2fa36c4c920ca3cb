"""Every endpoint answers malformed JSON, wrong types, missing fields, unknown actions, oversized bodies and
wrong content types with a 4xx in the contract's envelope, never a 500."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from host.testing import HostClient

INSTANCES = """\
sandbox: {plugin: sandbox, paymentInterface: mock}
giftcards:
  plugin: sandbox_giftcard
  paymentInterface: mock-giftcard-provider
  settings: {cards: {GC: {balance: 1000, currency: EUR}}}
"""
BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("malformed", b'{"actions": [', "application/json"),
    ("not-an-object", b"[1, 2]", "application/json"),
    ("wrong-types", json.dumps({"actions": "capture", "paymentMethod": 7, "code": 5, "redeemAmount": "x",
                                "cartId": 3, "paymentOutcome": 1}).encode(), "application/json"),
    ("missing-fields", b"{}", "application/json"),
    ("unknown-action", json.dumps({"actions": [{"action": "explodePayment"}], "paymentMethod": {"type": "card",
                                   "action": "x"}}).encode(), "application/json"),
    ("wrong-content-type", b"code=abc", "application/x-www-form-urlencoded"),
    ("oversized", b'{"x": "' + b"a" * (300 * 1024) + b'"}', "application/json"),
    ("binary", bytes(range(256)), "application/json"),
    ("deeply-nested", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("deep-object", b'{"a":' * 30_000 + b"1" + b"}" * 30_000, "application/json"),
]


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES)


def _headers(host: HostClient, endpoint: str, sessions: dict[str, str]) -> dict[str, str]:
    if endpoint.startswith("/operations/payment-intents"):
        return {"Authorization": f"Bearer {host.oauth_token()}"}
    if endpoint == "/operations/transactions":
        return {"Authorization": f"Bearer {host.oauth_token(['manage_checkout_transactions:test-project'])}"}
    if endpoint.startswith("/webhooks"):
        return {}
    return {"X-Session-Id": sessions["giftcard" if endpoint in ("/balance", "/redeem") else "card"]}


async def test_every_post_endpoint_refuses_bad_input_with_a_4xx_envelope(host: HostClient) -> None:
    sessions = {"card": host.session("mock"), "giftcard": host.session("mock-giftcard-provider")}
    paid = await host.pay(sessions["card"])
    payment_id = (await paid.json())["paymentReference"]
    sessions["card"] = host.session("mock")
    endpoints = ["/payments", "/balance", "/redeem", f"/operations/payment-intents/{payment_id}",
                 "/operations/transactions", "/webhooks/sandbox"]
    seen: dict[tuple[str, str], int] = {}
    for endpoint in endpoints:
        for name, body, ctype in BAD_BODIES:
            resp = await host.client.post(endpoint, data=body, headers={
                "Content-Type": ctype, **_headers(host, endpoint, sessions)})
            seen[(endpoint, name)] = resp.status
            assert 400 <= resp.status < 500, (endpoint, name, resp.status, await resp.text())
            data: Any = await resp.json()
            if endpoint in ("/balance",):
                assert data["status"]["state"] and data["status"]["errors"][0]["code"], data
            else:
                assert data["statusCode"] == resp.status and data["errors"][0]["code"], (endpoint, name, data)
    # nothing was authorized by any of that: the one payment made above is still the only one
    assert len(host.ct.emulator.payments()) == 1
    assert seen[("/payments", "oversized")] == 413
    assert seen[("/payments", "malformed")] == 400


async def test_unknown_route_and_method_are_enveloped(host: HostClient) -> None:
    resp = await host.client.get("/nope")
    assert resp.status == 404
    assert (await resp.json())["errors"][0]["code"] == "ResourceNotFound"
    resp = await host.client.delete("/payments")
    assert resp.status == 405
    assert (await resp.json())["statusCode"] == 405


async def test_cors_preflight_and_header(host: HostClient) -> None:
    resp = await host.client.options("/payments", headers={"Origin": "https://shop.example",
                                                            "Access-Control-Request-Method": "POST"})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Session-ID" in resp.headers["Access-Control-Allow-Headers"]
    assert (await host.client.get("/health")).headers["Access-Control-Allow-Origin"] == "*"


async def test_correlation_id_is_echoed_or_generated(host: HostClient) -> None:
    assert (await host.client.get("/health", headers={"X-Correlation-ID": "abc-1"})).headers["X-Correlation-ID"] \
        == "abc-1"
    assert len((await host.client.get("/health")).headers["X-Correlation-ID"]) == 36


async def test_payment_intent_schema_errors_use_contract_codes(host: HostClient) -> None:
    token = {"Authorization": f"Bearer {host.oauth_token()}"}
    resp = await host.client.post("/operations/payment-intents/x", json={"actions": [{"action": "capturePayment"}]},
                                  headers=token)
    body = await resp.json()
    assert resp.status == 400
    assert body["errors"][0] == {"code": "RequiredField", "message": "A value is required for field actions.0.amount.",
                                 "field": "actions.0.amount"}
    resp = await host.client.post("/operations/payment-intents/x", headers=token, json={
        "actions": [{"action": "cancelPayment"}, {"action": "cancelPayment"}]})
    assert (await resp.json())["errors"][0]["code"] == "InvalidJsonInput"
    resp = await host.client.post("/operations/payment-intents/x", headers=token,
                                  json={"actions": [{"action": "explodePayment"}]})
    error = (await resp.json())["errors"][0]
    assert error["code"] == "InvalidField" and error["invalidValue"] == "explodePayment"


async def test_deeply_nested_json_is_400_invalid_json_input_everywhere(host: HostClient) -> None:
    """200 KB of brackets, under the body limit: the JSON reader must not recurse into a RecursionError."""
    sessions = {"card": host.session("mock"), "giftcard": host.session("mock-giftcard-provider")}
    deep = b"[" * 100_000 + b"]" * 100_000
    for endpoint in ["/payments", "/balance", "/redeem", "/operations/payment-intents/p-1",
                     "/operations/transactions", "/webhooks/sandbox"]:
        resp = await host.client.post(endpoint, data=deep, headers={
            "Content-Type": "application/json", **_headers(host, endpoint, sessions)})
        data = await resp.json()
        assert resp.status == 400, (endpoint, data)
        code = data["status"]["errors"][0]["code"] if endpoint == "/balance" else data["errors"][0]["code"]
        assert code == ("GenericError" if endpoint == "/balance" else "InvalidJsonInput"), (endpoint, data)
