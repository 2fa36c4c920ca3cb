"""Carts: totals and taxes as the host reads them, addPayment and its version conflicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]


def money(currency: str, cents: int, digits: int = 2) -> dict[str, Any]:
    return {"type": "centPrecision", "currencyCode": currency, "centAmount": cents, "fractionDigits": digits}


async def test_cart_total_sums_line_items_and_custom_line_items(client: Client, auth: dict[str, str]) -> None:
    draft = {
        "currency": "EUR",
        "lineItems": [{"name": "Mug", "price": {"centAmount": 1000}, "quantity": 2}],
        "customLineItems": [{"name": "Gift wrap", "money": {"centAmount": 500}, "quantity": 1}],
        "anonymousId": "anon-1",
    }
    resp = await client.post("/demo/carts", json=draft, headers=auth)
    assert resp.status == 201
    cart = await resp.json()
    assert cart["version"] == 1
    assert cart["cartState"] == "Active"
    assert cart["anonymousId"] == "anon-1"
    assert "customerId" not in cart
    assert cart["totalPrice"] == money("EUR", 2500)
    assert "taxedPrice" not in cart
    assert cart["lineItems"][0]["totalPrice"] == money("EUR", 2000)
    assert cart["customLineItems"][0]["money"] == money("EUR", 500)
    read = await client.get(f"/demo/carts/{cart['id']}", headers=auth)
    assert await read.json() == cart


async def test_cart_with_tax_rate_has_taxed_price(emulator: Emulator) -> None:
    cart = emulator.create_cart(
        "EUR",
        [
            {"name": "Mug", "centAmount": 1000, "quantity": 2},
            {"name": "Pen", "centAmount": 333, "quantity": 1},
        ],
        tax_rate=0.19,
        customer_id="cust-1",
    )
    assert cart["customerId"] == "cust-1"
    assert cart["totalPrice"] == money("EUR", 2333)
    # Per line, half-even: 2000 * 0.19 = 380; 333 * 0.19 = 63.27 -> 63.
    assert cart["taxedPrice"]["totalNet"] == money("EUR", 2333)
    assert cart["taxedPrice"]["totalTax"] == money("EUR", 443)
    assert cart["taxedPrice"]["totalGross"] == money("EUR", 2776)


async def test_tax_included_in_price_keeps_gross_equal_to_total(emulator: Emulator) -> None:
    cart = emulator.create_cart(
        "EUR", [{"name": "Mug", "centAmount": 1190}], tax_rate=0.19, tax_included_in_price=True
    )
    assert cart["totalPrice"]["centAmount"] == 1190
    assert cart["taxedPrice"]["totalGross"]["centAmount"] == 1190
    assert cart["taxedPrice"]["totalNet"]["centAmount"] == 1000


async def test_currency_fraction_digits_follow_iso_4217(emulator: Emulator) -> None:
    jpy = emulator.create_cart("JPY", [{"name": "Tea", "centAmount": 1500, "quantity": 3}])
    assert jpy["totalPrice"] == money("JPY", 4500, 0)
    kwd = emulator.create_cart("KWD", [{"name": "Tea", "centAmount": 1500}])
    assert kwd["totalPrice"]["fractionDigits"] == 3


async def test_invalid_cart_drafts_are_400(client: Client, auth: dict[str, str]) -> None:
    for draft in (
        {},
        {"currency": "euro"},
        {"currency": "EUR", "lineItems": [{"name": "x", "price": {"centAmount": "10"}}]},
        {"currency": "EUR", "lineItems": [{"name": "x", "centAmount": 10, "quantity": 0}]},
        {"currency": "EUR", "lineItems": "nope"},
        {"currency": "EUR", "taxRate": 19},
    ):
        resp = await client.post("/demo/carts", json=draft, headers=auth)
        assert resp.status == 400, draft


async def _payment(client: Client, auth: dict[str, str]) -> str:
    draft = {"amountPlanned": {"currencyCode": "EUR", "centAmount": 2500}}
    resp = await client.post("/demo/payments", json=draft, headers=auth)
    payment_id: str = (await resp.json())["id"]
    return payment_id


def _add_payment(version: int, payment_id: str) -> dict[str, Any]:
    return {
        "version": version,
        "actions": [{"action": "addPayment", "payment": {"typeId": "payment", "id": payment_id}}],
    }


async def test_add_payment_attaches_it_and_bumps_the_version(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2500}])
    first, second = await _payment(client, auth), await _payment(client, auth)
    resp = await client.post(f"/demo/carts/{cart['id']}", json=_add_payment(1, first), headers=auth)
    assert resp.status == 200
    updated = await resp.json()
    assert updated["version"] == 2
    assert updated["paymentInfo"] == {"payments": [{"typeId": "payment", "id": first}]}
    resp = await client.post(f"/demo/carts/{cart['id']}", json=_add_payment(2, second), headers=auth)
    assert [p["id"] for p in (await resp.json())["paymentInfo"]["payments"]] == [first, second]
    assert emulator.get_cart(cart["id"])["version"] == 3  # type: ignore[index]


async def test_add_payment_with_stale_version_is_409_with_current_version(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2500}])
    payment_id = await _payment(client, auth)
    for version in (1, 2, 3):
        await client.post(
            f"/demo/carts/{cart['id']}",
            json=_add_payment(version, await _payment(client, auth)),
            headers=auth,
        )
    resp = await client.post(f"/demo/carts/{cart['id']}", json=_add_payment(3, payment_id), headers=auth)
    assert resp.status == 409
    body = await resp.json()
    assert body["statusCode"] == 409
    assert body["errors"][0]["code"] == "ConcurrentModification"
    assert body["errors"][0]["currentVersion"] == 4
    assert "Expected: 3 - Actual: 4." in body["message"]
    assert payment_id not in [p["id"] for p in emulator.get_cart(cart["id"])["paymentInfo"]["payments"]]  # type: ignore[index]


async def test_add_unknown_payment_is_400_and_changes_nothing(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart()
    resp = await client.post(f"/demo/carts/{cart['id']}", json=_add_payment(1, "nope"), headers=auth)
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "ReferencedResourceNotFound"
    assert emulator.get_cart(cart["id"]) == cart


async def test_unknown_cart_action_is_400_invalid_input(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart()
    body = {"version": 1, "actions": [{"action": "recalculate"}]}
    resp = await client.post(f"/demo/carts/{cart['id']}", json=body, headers=auth)
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "InvalidInput"


async def test_unknown_cart_is_404(client: Client, auth: dict[str, str]) -> None:
    assert (await client.get("/demo/carts/nope", headers=auth)).status == 404
    assert (await client.post("/demo/carts/nope", json=_add_payment(1, "x"), headers=auth)).status == 404


async def test_cart_reads_need_orders_scope(
    client: Client, emulator: Emulator, bearer: Callable[..., dict[str, str]]
) -> None:
    cart = emulator.create_cart()
    viewer = bearer("connector", ["view_orders:demo"])
    assert (await client.get(f"/demo/carts/{cart['id']}", headers=viewer)).status == 200
    assert (
        await client.post(f"/demo/carts/{cart['id']}", json=_add_payment(1, "x"), headers=viewer)
    ).status == 403
