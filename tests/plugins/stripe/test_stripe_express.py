"""Express Checkout routes through the host: shipping changes the cart (a host write, on the emulator and the
judge), the PaymentIntent is then made for the new total, and a cart with a payment under way keeps its
shipping. CK's ``/express-payment-data`` and ``/express-config``."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import stripe

SESSION = "X-Session-Id"


def _express(build: Any, localstripe: str, **settings: Any) -> str:
    return build.instance_yaml(localstripe, **settings).replace("  settings:", "  methods: [payment, expressCheckout]\n"
                                                                "  settings:")


async def _json(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


def _shipping_cart(host: Any) -> tuple[dict[str, Any], str, dict[str, str]]:
    """A 20.00 EUR net cart taxed at 19 %, its session, and two methods to Germany (Standard, Express)."""
    cart = host.cart(2000, tax_rate=0.19, platform_tax=True)
    methods = {m["name"]: m["id"] for m in (host.ct.create_shipping_method("Standard", "DE", 490),
                                            host.ct.create_shipping_method("Express", "DE", 990))}
    return cart, host.session("stripe-eu", cart=cart), methods


async def test_shipping_changes_the_cart_and_the_payment_intent_is_made_for_the_new_total(
        money_host: Any, localstripe: str, build: Any) -> None:
    host = await money_host(_express(build, localstripe))
    cart, session, methods = _shipping_cart(host)
    headers = {SESSION: session}
    address = {"country": "DE", "city": "Berlin", "postalCode": "10115", "line1": "ignored"}
    listed = await _json(await host.request("POST", "/shipping-methods", json=address, headers=headers))
    assert listed == {"shippingRates": [{"id": methods["Standard"], "displayName": "Standard", "amount": 490},
                                        {"id": methods["Express"], "displayName": "Express", "amount": 990}],
                      "lineItems": [{"name": "Test item", "amount": 2000}, {"name": "Shipping", "amount": 490}]}
    stored = host.ct.get_cart(cart["id"])
    assert stored["shippingAddress"]["city"] == "Berlin" and "line1" not in stored["shippingAddress"]
    chosen = await _json(await host.request("POST", "/shipping-methods/update", json={"id": methods["Express"]},
                                            headers=headers))
    assert chosen == {"lineItems": [{"name": "Test item", "amount": 2000}, {"name": "Shipping", "amount": 990}]}
    # the address again (the wallet sends it again): the chosen method stays, listed first
    again = await _json(await host.request("POST", "/shipping-methods", json=address, headers=headers))
    assert [r["displayName"] for r in again["shippingRates"]] == ["Express", "Standard"]

    created = await _json(await host.request("GET", "/payments", headers=headers))
    payment = host.payment(created["paymentReference"])
    assert payment["amountPlanned"]["centAmount"] == 3558            # (2000 + 990) * 1.19, shipping included
    async with aiohttp.ClientSession() as http:
        client = stripe.StripeClient(build.SECRET_KEY, base_addresses={"api": localstripe},
                                     http_client=stripe.AIOHTTPClient(session=http), max_network_retries=0)
        intent = await client.v1.payment_intents.retrieve_async(payment["interfaceId"])
    assert (intent.amount, intent.currency) == (3558, "eur")

    # the PaymentIntent was made for this total: the cart's shipping cannot change under it any more
    version = host.ct.get_cart(cart["id"])["version"]
    for method, path, body in (("POST", "/shipping-methods/update", {"id": methods["Standard"]}),
                               ("GET", "/shipping-methods/remove", None),
                               ("POST", "/shipping-methods", {"country": "DE", "city": "Hamburg"})):
        refused = await _json(await host.request(method, path, json=body, headers=headers), 409)
        assert refused["errors"][0]["paymentReference"] == payment["id"]
    assert host.ct.get_cart(cart["id"])["version"] == version


async def test_removing_the_method_and_the_express_payment_data(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(_express(build, localstripe))
    cart, session, _ = _shipping_cart(host)
    headers = {SESSION: session}
    await _json(await host.request("POST", "/shipping-methods", json={"country": "DE"}, headers=headers))
    data = await _json(await host.request("GET", "/express-payment-data", headers=headers))
    eur = {"currencyCode": "EUR", "fractionDigits": 2}
    assert data == {"totalPrice": {"centAmount": 2963, **eur}, "currencyCode": "EUR", "lineItems": [
        {"name": "Subtotal", "amount": {"centAmount": 2000, **eur}, "type": "SUBTOTAL"},
        {"name": "Shipping", "amount": {"centAmount": 490, **eur}, "type": "SHIPPING"},
        {"name": "Tax", "amount": {"centAmount": 473, **eur}, "type": "TAX"}]}
    removed = await _json(await host.request("GET", "/shipping-methods/remove", headers=headers))
    assert removed == {"lineItems": [{"name": "Test item", "amount": 2000}]}
    assert "shippingInfo" not in host.ct.get_cart(cart["id"])
    element = await _json(await host.request("GET", "/config-element/expressCheckout", headers=headers))
    assert element["cartInfo"]["amount"] == 2380


async def test_bad_addresses_and_methods_are_400s_that_change_nothing(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(_express(build, localstripe))
    cart, session, _ = _shipping_cart(host)
    headers = {SESSION: session}
    version = host.ct.get_cart(cart["id"])["version"]
    for body in ({"city": "Berlin"}, {"country": "Germany"}, {"country": "DE", "city": ["x"]}, ["DE"]):
        resp = await host.request("POST", "/shipping-methods", json=body, headers=headers)
        assert resp.status == 400, body
    assert host.ct.get_cart(cart["id"])["version"] == version
    nowhere = await _json(await host.request("POST", "/shipping-methods", json={"country": "FR"}, headers=headers),
                          400)
    assert nowhere["message"] == "No shipping methods found for the given address."
    for bad in ("../carts", None, "x" * 300):
        resp = await host.request("POST", "/shipping-methods/update", json={"id": bad}, headers=headers)
        assert resp.status == 400, bad
    unknown = await host.request("POST", "/shipping-methods/update", json={"id": "no-such-method"}, headers=headers)
    assert unknown.status == 400
    assert "shippingInfo" not in host.ct.get_cart(cart["id"])
    assert (await host.request("POST", "/shipping-methods", json={"country": "DE"})).status == 401


async def test_an_instance_without_express_checkout_has_no_shipping_routes(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(build.instance_yaml(localstripe).replace("  settings:", "  methods: [payment]\n"
                                                                        "  settings:"))
    cart = host.cart()
    host.ct.create_shipping_method("Standard", "DE", 490)
    resp = await host.request("POST", "/shipping-methods", json={"country": "DE"},
                              headers={SESSION: host.session("stripe-eu", cart=cart)})
    assert resp.status == 404
    assert "shippingAddress" not in host.ct.get_cart(cart["id"])


async def test_express_config_answers_allowed_origins_only(connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(_express(build, localstripe, allowedOrigins=["https://shop.example"],
                                         appearanceExpressCheckout='{"theme":"flat"}'))
    ok = await _json(await host.request("POST", "/express-config", json={},
                                        headers={"Origin": "https://shop.example"}))
    assert ok == {"publishableKey": build.PUBLISHABLE_KEY, "environment": "test", "captureMethod": "manual",
                  "appearance": '{"theme":"flat"}'}
    for headers in ({"Origin": "https://evil.example"}, {}):
        assert await _json(await host.request("POST", "/express-config", json={}, headers=headers), 403) == {
            "error": "Forbidden", "message": "CORS origin not allowed."}


async def test_choosing_shipping_costs_these_commercetools_calls(
        connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(_express(build, localstripe))
    _, session, methods = _shipping_cart(host)
    headers = {SESSION: session}
    await _json(await host.request("GET", "/operations/config", headers=headers))   # the token is cached now
    host.emulator.reset_stats()
    await _json(await host.request("POST", "/shipping-methods", json={"country": "DE"}, headers=headers))
    assert host.emulator.stats() == {
        "GET /{projectKey}/sessions/{id}": 1,                      # session auth
        "GET /{projectKey}/carts/{id}": 2,                         # before each write: no payment under way?
        "POST /{projectKey}/carts/{id}": 2,                        # the address, then the first method
        "GET /{projectKey}/shipping-methods/matching-cart": 1,
    }
    host.emulator.reset_stats()
    await _json(await host.request("POST", "/shipping-methods/update", json={"id": methods["Express"]},
                                   headers=headers))
    assert host.emulator.stats() == {"GET /{projectKey}/sessions/{id}": 1, "GET /{projectKey}/carts/{id}": 1,
                                     "POST /{projectKey}/carts/{id}": 1}


async def test_shipping_cannot_change_under_an_unconfirmed_payment_intent_after_the_horizon(
        connector_host: Any, localstripe: str, build: Any) -> None:
    """GET /payments hands out a PaymentIntent (its client secret) for the cart's total. The browser holds it
    for as long as it likes: however old the attempt (here older than the reconciler's horizon), the shipping
    stays, or Stripe could authorize an amount that is not the cart's."""
    host = await connector_host(_express(build, localstripe), extra="reconciler: {interval: 0, horizon: 1}\n")
    cart = host.cart(2000, tax_rate=0.19, platform_tax=True)
    methods = {m["name"]: m["id"] for m in (host.ct.create_shipping_method("Standard", "DE", 490),
                                            host.ct.create_shipping_method("Express", "DE", 990))}
    headers = {SESSION: host.session("stripe-eu", cart=cart)}
    await _json(await host.request("POST", "/shipping-methods", json={"country": "DE"}, headers=headers))
    await _json(await host.request("POST", "/shipping-methods/update", json={"id": methods["Express"]},
                                   headers=headers))
    created = await _json(await host.request("GET", "/payments", headers=headers))
    payment = host.payment(created["paymentReference"])
    assert payment["amountPlanned"]["centAmount"] == 3558
    await asyncio.sleep(1.5)      # the unconfirmed attempt is now older than the horizon
    resp = await host.request("POST", "/shipping-methods/update", json={"id": methods["Standard"]}, headers=headers)
    total = host.ct.get_cart(cart["id"])["taxedPrice"]["totalGross"]["centAmount"]
    async with aiohttp.ClientSession() as http:
        client = stripe.StripeClient(build.SECRET_KEY, base_addresses={"api": localstripe},
                                     http_client=stripe.AIOHTTPClient(session=http), max_network_retries=0)
        intent = await client.v1.payment_intents.retrieve_async(payment["interfaceId"])
    # the browser holds this PaymentIntent's client secret: it can still confirm 35.58 while the cart now costs 29.63
    assert intent.status in ("requires_payment_method", "requires_confirmation")
    assert (resp.status, intent.amount) == (409, total), (resp.status, intent.amount, total)


async def test_a_deeply_nested_body_to_an_express_route_is_a_400_not_a_500(
        connector_host: Any, localstripe: str, build: Any) -> None:
    """Plugin routes parse their bodies themselves (``json.loads``), where deep nesting is a RecursionError:
    the host refuses it before the plugin sees it, as on its own routes (``too_deep``)."""
    host = await connector_host(_express(build, localstripe))
    cart = host.cart(2000)
    headers = {SESSION: host.session("stripe-eu", cart=cart), "Content-Type": "application/json"}
    for path in ("/shipping-methods", "/shipping-methods/update", "/confirmPayments/p-1"):
        resp = await host.request("POST", path, data=b"[" * 200_000, headers=headers)
        assert resp.status == 400, (path, resp.status, await resp.text())
