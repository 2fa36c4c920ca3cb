"""The /_emulator hooks: fault injection, call stats, reset, and setting a demo up over HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]
DRAFT = {"amountPlanned": {"currencyCode": "EUR", "centAmount": 1000}}


async def test_injected_fault_answers_503_then_recovers(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    resp = await client.post(
        "/_emulator/faults", json={"path": "/payments$", "method": "POST", "status": 503, "times": 2}
    )
    assert resp.status == 201
    # A GET on the same path is not affected.
    assert (await client.get("/demo/payments", headers=auth)).status == 200
    for _ in range(2):
        failed = await client.post("/demo/payments", json=DRAFT, headers=auth)
        assert failed.status == 503
        body = await failed.json()
        assert body["statusCode"] == 503
        assert body["errors"][0]["code"] == "ServiceUnavailable"
    assert emulator.payments() == []  # nothing was applied
    recovered = await client.post("/demo/payments", json=DRAFT, headers=auth)
    assert recovered.status == 201
    assert len(emulator.payments()) == 1


async def test_fault_from_python_applies_before_auth(client: Client, emulator: Emulator) -> None:
    emulator.inject_fault(r"/oauth/token", 500)
    assert (await client.post("/oauth/token", data={"grant_type": "client_credentials"})).status == 500
    assert (await client.post("/oauth/token", data={"grant_type": "client_credentials"})).status == 401


async def test_bad_fault_definitions_are_400(client: Client) -> None:
    for body in (
        {"path": "(", "status": 503},
        {"path": "x"},
        {"path": "x", "status": 42},
        {"path": "x", "status": 503, "times": 0},
    ):
        assert (await client.post("/_emulator/faults", json=body)).status == 400, body


async def test_stats_count_calls_per_route_template(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    created = await (await client.post("/demo/payments", json=DRAFT, headers=auth)).json()
    for _ in range(2):
        await client.get(f"/demo/payments/{created['id']}", headers=auth)
    await client.post(f"/demo/payments/{created['id']}", json={"version": 1, "actions": []}, headers=auth)
    await client.get("/demo/payments/nope", headers={})  # counted even though refused
    stats = await (await client.get("/_emulator/stats")).json()
    assert stats == {
        "POST /{projectKey}/payments": 1,
        "GET /{projectKey}/payments/{id}": 3,
        "POST /{projectKey}/payments/{id}": 1,
    }
    assert emulator.stats["GET /{projectKey}/payments/{id}"] == 3
    await client.post("/_emulator/reset-stats")
    assert await (await client.get("/_emulator/stats")).json() == {}
    emulator.issue_token("connector")  # Python helpers are not HTTP calls
    assert emulator.stats == {}


async def test_reset_drops_data_but_keeps_clients_and_tokens(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart()
    await client.post("/demo/payments", json=DRAFT, headers=auth)
    assert (await client.post("/_emulator/reset")).status == 200
    assert emulator.payments() == []
    assert (await client.get(f"/demo/carts/{cart['id']}", headers=auth)).status == 404
    assert emulator.stats["GET /{projectKey}/carts/{id}"] == 1
    token = await client.post("/_emulator/tokens", json={"client_id": "connector"})
    assert (await token.json())["token_type"] == "Bearer"


async def test_demo_can_be_set_up_over_http(client: Client, auth: dict[str, str]) -> None:
    cart_resp = await client.post(
        "/_emulator/carts",
        json={
            "currency": "EUR",
            "lineItems": [{"name": "Mug", "price": {"centAmount": 1000}, "quantity": 2}],
        },
    )
    assert cart_resp.status == 201
    cart = await cart_resp.json()
    session_resp = await client.post(
        "/_emulator/sessions", json={"cartId": cart["id"], "metadata": {"paymentInterface": "sandbox"}}
    )
    assert session_resp.status == 201
    session = await session_resp.json()
    token_resp = await client.post(
        "/_emulator/tokens",
        json={"client_id": "checkout", "scopes": ["manage_checkout_payment_intents:demo"]},
    )
    token = await token_resp.json()
    assert token["scope"] == "manage_checkout_payment_intents:demo"
    read = await client.get(f"/demo/sessions/{session['id']}", headers=auth)
    assert (await read.json())["metadata"] == {"paymentInterface": "sandbox"}
    unknown = await client.post("/_emulator/tokens", json={"client_id": "nobody"})
    assert unknown.status == 400


async def test_a_session_can_be_expired_over_http(client: Client, emulator: Emulator, auth: dict[str, str]) -> None:
    session = emulator.create_session(emulator.create_cart()["id"])
    expired = await client.post(f"/_emulator/sessions/{session['id']}/expire")
    assert expired.status == 200 and (await expired.json())["state"] == "EXPIRED"
    read = await client.get(f"/demo/sessions/{session['id']}", headers=auth)
    assert (await read.json())["state"] == "EXPIRED"
    assert (await client.post("/_emulator/sessions/nope/expire")).status == 404
