"""Auth service: token issue/refusal, introspection, and the API's 401/403 scope enforcement."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]
Bearer = Callable[..., dict[str, str]]
Advance = Callable[[float], None]


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


CONNECTOR = basic("connector", "connector-secret")
CHECKOUT = basic("checkout", "checkout-secret")


async def test_token_is_issued_for_valid_client_credentials(client: Client) -> None:
    resp = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=CONNECTOR)
    assert resp.status == 200
    body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 172800
    assert body["scope"] == "manage_project:demo"
    check = await client.get("/demo/payments", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert check.status == 200


async def test_token_can_be_narrowed_to_a_subset_of_scopes(client: Client) -> None:
    resp = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "view_payments:demo view_sessions:demo"},
        headers=CONNECTOR,
    )
    body = await resp.json()
    assert body["scope"] == "view_payments:demo view_sessions:demo"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/demo/payments", headers=headers)).status == 200
    denied = await client.post("/demo/payments", json={}, headers=headers)
    assert denied.status == 403


async def test_scope_outside_the_clients_scopes_is_refused(client: Client) -> None:
    resp = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "manage_payments:demo"},
        headers=CHECKOUT,
    )
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_scope"


async def test_bad_client_secret_is_401_invalid_client(client: Client) -> None:
    resp = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("connector", "nope")
    )
    assert resp.status == 401
    body = await resp.json()
    assert body["error"] == "invalid_client"
    assert body["errors"][0]["code"] == "invalid_client"
    assert body["statusCode"] == 401
    assert body["error_description"] == body["message"]


async def test_missing_or_garbled_basic_auth_is_401(client: Client) -> None:
    form = {"grant_type": "client_credentials"}
    assert (await client.post("/oauth/token", data=form)).status == 401
    garbled = {"Authorization": "Basic %%%"}
    assert (await client.post("/oauth/token", data=form, headers=garbled)).status == 401
    no_colon = {"Authorization": "Basic " + base64.b64encode(b"connector").decode()}
    assert (await client.post("/oauth/token", data=form, headers=no_colon)).status == 401


async def test_other_grant_types_are_refused(client: Client) -> None:
    resp = await client.post("/oauth/token", data={"grant_type": "password"}, headers=CONNECTOR)
    assert resp.status == 400
    assert (await resp.json())["error"] == "unsupported_grant_type"


async def test_introspection_reports_an_active_token(client: Client, emulator: Emulator) -> None:
    token = emulator.issue_token("checkout")
    resp = await client.post("/oauth/introspect", data={"token": token}, headers=CONNECTOR)
    assert resp.status == 200
    body = await resp.json()
    assert body["active"] is True
    assert body["client_id"] == "checkout"
    assert body["scope"] == "manage_checkout_payment_intents:demo manage_checkout_transactions:demo"
    assert body["exp"] > emulator.now()


async def test_introspection_of_unknown_or_expired_token_is_inactive(
    client: Client, emulator: Emulator, advance_clock: Advance
) -> None:
    token = emulator.issue_token("checkout")
    unknown = await client.post("/oauth/introspect", data={"token": "nope"}, headers=CONNECTOR)
    assert await unknown.json() == {"active": False}
    advance_clock(172800)
    expired = await client.post("/oauth/introspect", data={"token": token}, headers=CONNECTOR)
    assert await expired.json() == {"active": False}


async def test_introspection_needs_the_introspect_scope(client: Client, emulator: Emulator) -> None:
    token = emulator.issue_token("checkout")
    resp = await client.post("/oauth/introspect", data={"token": token}, headers=CHECKOUT)
    assert resp.status == 401
    assert (await resp.json())["error"] == "insufficient_scope"
    bad = await client.post("/oauth/introspect", data={"token": token}, headers=basic("checkout", "x"))
    assert (await bad.json())["error"] == "invalid_client"


async def test_api_without_token_is_401_invalid_token(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        resp = await client.get("/demo/payments", headers=headers)
        assert resp.status == 401
        body = await resp.json()
        assert body["error"] == "invalid_token"
        assert body["errors"][0]["code"] == "invalid_token"


async def test_api_with_unknown_or_expired_token_is_401(
    client: Client, bearer: Bearer, advance_clock: Advance
) -> None:
    assert (await client.get("/demo/payments", headers={"Authorization": "Bearer nope"})).status == 401
    headers = bearer()
    assert (await client.get("/demo/payments", headers=headers)).status == 200
    advance_clock(172800)
    resp = await client.get("/demo/payments", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "invalid_token"


async def test_api_token_without_the_scope_is_403_insufficient_scope(client: Client, bearer: Bearer) -> None:
    checkout = bearer("checkout")
    resp = await client.get("/demo/payments", headers=checkout)
    assert resp.status == 403
    body = await resp.json()
    assert body["error"] == "insufficient_scope"
    assert body["errors"][0]["code"] == "insufficient_scope"
    session_reader = bearer("connector", ["view_sessions:demo"])
    assert (await client.post("/demo/sessions", json={}, headers=session_reader)).status == 403
    assert (await client.get("/demo/carts/x", headers=session_reader)).status == 403


async def test_token_of_one_project_does_not_open_another(client: Client, bearer: Bearer) -> None:
    resp = await client.get("/other-project/payments", headers=bearer())
    assert resp.status == 403
