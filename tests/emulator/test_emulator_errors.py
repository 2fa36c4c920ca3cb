"""Bad input gets commercetools-shaped 4xx answers, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]

POST_ENDPOINTS = [
    "/demo/carts",
    "/demo/sessions",
    "/demo/payments",
    "/demo/payment-methods",
    "/_emulator/carts",
    "/_emulator/sessions",
    "/_emulator/faults",
    "/_emulator/tokens",
]


@pytest.mark.parametrize("raw", [b"{", b"", b"[1, 2]", b"null", b"\xff\xfe", b"[" * 100000])
async def test_malformed_json_is_400_invalid_json_input(
    client: Client, auth: dict[str, str], raw: bytes
) -> None:
    for path in POST_ENDPOINTS:
        resp = await client.post(path, data=raw, headers={**auth, "Content-Type": "application/json"})
        assert resp.status == 400, path
        body = await resp.json()
        assert body["statusCode"] == 400
        assert body["errors"][0]["code"] == "InvalidJsonInput", path
        assert body["message"] == body["errors"][0]["message"]


async def test_malformed_update_bodies_are_400(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart()
    payment = await (
        await client.post(
            "/demo/payments", json={"amountPlanned": {"currencyCode": "EUR", "centAmount": 1}}, headers=auth
        )
    ).json()
    for path in (f"/demo/carts/{cart['id']}", f"/demo/payments/{payment['id']}"):
        for body in (
            {},
            {"version": "1", "actions": []},
            {"version": 1},
            {"version": 1, "actions": {}},
            {"version": 1, "actions": [1]},
        ):
            resp = await client.post(path, data=json.dumps(body), headers=auth)
            assert resp.status == 400, (path, body)


async def test_unknown_route_is_404_in_the_commercetools_shape(client: Client, auth: dict[str, str]) -> None:
    resp = await client.get("/demo/orders/1", headers=auth)
    assert resp.status == 404
    body = await resp.json()
    assert body["statusCode"] == 404
    assert body["errors"][0]["code"] == "ResourceNotFound"


async def test_wrong_method_is_405_in_the_commercetools_shape(client: Client, auth: dict[str, str]) -> None:
    resp = await client.put("/demo/payments", headers=auth)
    assert resp.status == 405
    assert (await resp.json())["statusCode"] == 405
    head = await client.head("/demo/payments")
    assert head.status == 405  # no unauthenticated HEAD twin of GET routes


async def test_bad_query_parameters_are_400(client: Client, auth: dict[str, str]) -> None:
    for params in ({"limit": "x"}, {"limit": "501"}, {"offset": "-1"}, {"where": "("}):
        resp = await client.get("/demo/payments", params=params, headers=auth)
        assert resp.status == 400, params
        assert (await resp.json())["errors"][0]["code"] == "InvalidInput"


async def test_auth_service_answers_odd_bodies_with_4xx(client: Client) -> None:
    basic = {"Authorization": "Basic Y29ubmVjdG9yOmNvbm5lY3Rvci1zZWNyZXQ="}
    for content_type, raw in (
        ("multipart/form-data; boundary=xx", b"--xx\r\nbroken"),
        ("application/json", b'{"grant_type": "client_credentials"}'),
        ("application/x-www-form-urlencoded", b"%%%=\xff&grant_type=password"),
    ):
        resp = await client.post("/oauth/token", data=raw, headers={**basic, "Content-Type": content_type})
        assert resp.status == 400, content_type
        assert (await resp.json())["error"] in ("invalid_request", "unsupported_grant_type")


async def test_amounts_past_64_bits_are_400_money_overflow(client: Client, auth: dict[str, str]) -> None:
    resp = await client.post(
        "/demo/payments", json={"amountPlanned": {"currencyCode": "EUR", "centAmount": 2**63}}, headers=auth
    )
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "MoneyOverflow"
    line = {"name": "x", "price": {"centAmount": 2**62}, "quantity": 4}
    resp = await client.post("/demo/carts", json={"currency": "EUR", "lineItems": [line]}, headers=auth)
    assert (await resp.json())["errors"][0]["code"] == "MoneyOverflow"
