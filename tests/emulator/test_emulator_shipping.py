"""Zones, shipping methods, matching-cart and the cart's shipping actions, as commercetools answers them."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]


async def _update(client: Client, auth: dict[str, str], cart: dict[str, Any], *actions: Any) -> Any:
    return await client.post(f"/demo/carts/{cart['id']}", json={"version": cart["version"], "actions": list(actions)},
                             headers=auth)


def _address(country: str = "DE") -> dict[str, Any]:
    return {"action": "setShippingAddress", "address": {"country": country, "city": "Berlin", "postalCode": "10115"}}


def _method(method_id: str | None) -> dict[str, Any]:
    return {"action": "setShippingMethod", **({"shippingMethod": {"typeId": "shipping-method", "id": method_id}}
                                              if method_id else {})}


async def test_matching_cart_lists_the_methods_that_ship_to_the_address(
        client: Client, auth: dict[str, str], emulator: Emulator) -> None:
    standard = emulator.create_shipping_method("Standard", "DE", 490)
    emulator.create_shipping_method("Express", "DE", 990)
    emulator.create_shipping_method("France", "FR", 700)
    emulator.create_shipping_method("Dollars", "DE", 500, "USD")
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2000, "quantity": 1}])
    resp = await client.get(f"/demo/shipping-methods/matching-cart?cartId={cart['id']}", headers=auth)
    assert resp.status == 400        # no shipping address yet
    assert (await resp.json())["errors"][0]["code"] == "InvalidOperation"
    cart = await (await _update(client, auth, cart, _address())).json()
    page = await (await client.get(f"/demo/shipping-methods/matching-cart?cartId={cart['id']}", headers=auth)).json()
    assert [m["name"] for m in page["results"]] == ["Standard", "Express"] and page["count"] == 2
    [zone_rate] = page["results"][0]["zoneRates"]
    assert zone_rate["shippingRates"] == [{**standard["zoneRates"][0]["shippingRates"][0], "isMatching": True}]


async def test_a_shipping_method_adds_its_price_to_the_totals_and_removing_it_takes_it_away(
        client: Client, auth: dict[str, str], emulator: Emulator) -> None:
    method = emulator.create_shipping_method("Standard", "DE", 500)
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2000, "quantity": 1}], tax_rate=0.19)
    cart = await (await _update(client, auth, cart, _address(), _method(method["id"]))).json()
    assert cart["shippingInfo"]["price"]["centAmount"] == 500
    assert cart["shippingInfo"]["shippingMethodName"] == "Standard"
    assert cart["shippingInfo"]["shippingMethodState"] == "MatchesCart"
    assert cart["totalPrice"]["centAmount"] == 2500
    assert cart["taxedPrice"]["totalGross"]["centAmount"] == 2975      # (2000 + 500) * 1.19
    cart = await (await _update(client, auth, cart, _method(None))).json()
    assert "shippingInfo" not in cart and cart["totalPrice"]["centAmount"] == 2000
    assert cart["taxedPrice"]["totalGross"]["centAmount"] == 2380


async def test_shipping_is_free_above_the_threshold(client: Client, auth: dict[str, str], emulator: Emulator) -> None:
    method = emulator.create_shipping_method("Standard", "DE", 500, free_above=2000)
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2000, "quantity": 1}])
    cart = await (await _update(client, auth, cart, _address(), _method(method["id"]))).json()
    assert cart["shippingInfo"]["price"]["centAmount"] == 0 and cart["totalPrice"]["centAmount"] == 2000


async def test_a_method_that_does_not_ship_there_is_refused_and_changes_nothing(
        client: Client, auth: dict[str, str], emulator: Emulator) -> None:
    france = emulator.create_shipping_method("France", "FR", 700)
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2000, "quantity": 1}])
    cart = await (await _update(client, auth, cart, _address())).json()
    resp = await _update(client, auth, cart, _method(france["id"]))
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "ShippingMethodDoesNotMatchCart"
    unknown = await _update(client, auth, cart, _method("no-such-method"))
    assert (await unknown.json())["errors"][0]["code"] == "ReferencedResourceNotFound"
    assert emulator.get_cart(cart["id"]) == cart


async def test_a_new_address_the_method_does_not_serve_marks_it(
        client: Client, auth: dict[str, str], emulator: Emulator) -> None:
    method = emulator.create_shipping_method("Standard", "DE", 500)
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 2000, "quantity": 1}])
    cart = await (await _update(client, auth, cart, _address(), _method(method["id"]))).json()
    cart = await (await _update(client, auth, cart, _address("FR"))).json()
    assert cart["shippingInfo"]["shippingMethodState"] == "DoesNotMatchCart"
    assert cart["shippingAddress"]["country"] == "FR"
