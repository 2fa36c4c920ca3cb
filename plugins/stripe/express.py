"""The Express Checkout routes of the official connectors: shipping (CA and CK) and CK's express data.

The Express Checkout Element asks for them while the shopper picks an address and a shipping rate in the
wallet sheet, before any payment exists. The cart is changed by the host (``RouteContext``: versioned
commercetools writes, refused with 409 once a payment on the cart is paid or in progress), never here.

=====================================  =========  ===============================================================
route                                  auth       answer
=====================================  =========  ===============================================================
``POST /shipping-methods``             session    ``{country, state?, city?, postalCode?, ...}``: sets the cart's
                                                  shipping address; ``{"shippingRates": [{id, displayName,
                                                  amount}], "lineItems": [{name, amount}]}``; the cart's method
                                                  first, else the first one is set on the cart. None ships there:
                                                  400 ``InvalidOperation``
``POST /shipping-methods/update``      session    ``{id}``: sets that method; ``{"lineItems": [...]}``
``GET /shipping-methods/remove``       session    removes the method; ``{"lineItems": [...]}``
``GET /express-payment-data``          session    CK: ``{totalPrice, currencyCode, lineItems: [{name, amount,
                                                  type}]}``, the amount to pay and what it is made of
``POST /express-config``               Origin     CK: ``{publishableKey, environment, captureMethod,
                                                  appearance?}`` for an ``Origin`` in ``allowedOrigins``, else
                                                  403 ``{"error": "Forbidden", "message": "CORS origin not
                                                  allowed."}``
=====================================  =========  ===============================================================

``lineItems`` of the shipping routes are the official ones: each cart line's total, then ``Shipping`` when a
method is set. The PaymentIntent is created later, by ``GET /payments``, for the cart's amount then (shipping
included), as the official connectors do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from host import (
    CartSummary,
    InvalidFieldError,
    InvalidOperationError,
    Money,
    ProviderContext,
    Route,
    RouteContext,
)
from plugins.stripe.settings import StripeSettings

#: The address fields the official connector copies from the request onto the cart.
ADDRESS_KEYS = ("country", "state", "city", "postalCode", "streetName", "streetNumber", "additionalStreetInfo",
                "region")
FORBIDDEN = {"error": "Forbidden", "message": "CORS origin not allowed."}


async def _body(ctx: RouteContext) -> Mapping[str, Any]:
    raw = await ctx.request.read()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise InvalidFieldError("body", "The request body is not JSON.") from None
    if not isinstance(body, Mapping):
        raise InvalidFieldError("body", "The request body must be a JSON object.")
    return body


def _line_items(cart: CartSummary) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"name": line.name, "amount": line.total.cent_amount} for line in cart.lines]
    if cart.shipping is not None:
        items.append({"name": "Shipping", "amount": cart.shipping.price.cent_amount})
    return items


def _money(amount: Money) -> dict[str, Any]:
    return {"centAmount": amount.cent_amount, "currencyCode": amount.currency,
            "fractionDigits": amount.fraction_digits}


def express_routes(settings: StripeSettings, context: ProviderContext) -> tuple[Route, ...]:
    """The express routes of one instance; none when it does not offer ``expressCheckout`` (its session then
    gets a 404 naming it)."""
    if "expressCheckout" not in context.methods:
        return ()

    async def shipping_methods(ctx: RouteContext) -> web.StreamResponse:
        body = await _body(ctx)
        address = {k: body[k] for k in ADDRESS_KEYS if body.get(k) is not None}
        cart = await ctx.set_shipping_address(address)
        options = list(await ctx.shipping_methods())
        if not options:
            raise InvalidOperationError("No shipping methods found for the given address.")
        current = next((o for o in options if cart.shipping and o.id == cart.shipping.id), None)
        if current is not None:
            options.remove(current)
            options.insert(0, current)
        else:
            cart = await ctx.set_shipping_method(options[0].id)
        return web.json_response({
            "shippingRates": [{"id": o.id, "displayName": o.name, "amount": o.price.cent_amount} for o in options],
            "lineItems": _line_items(cart)})

    async def update(ctx: RouteContext) -> web.StreamResponse:
        method_id = (await _body(ctx)).get("id")
        if not isinstance(method_id, str):
            raise InvalidFieldError("id", "id must be the id of a shipping method.", invalidValue=method_id)
        return web.json_response({"lineItems": _line_items(await ctx.set_shipping_method(method_id))})

    async def remove(ctx: RouteContext) -> web.StreamResponse:
        return web.json_response({"lineItems": _line_items(await ctx.set_shipping_method(None))})

    async def payment_data(ctx: RouteContext) -> web.StreamResponse:
        cart = await ctx.cart()
        currency, digits = cart.total.currency, cart.total.fraction_digits
        subtotal = Money(sum(line.total.cent_amount for line in cart.lines), currency, digits)
        items = [{"name": "Subtotal", "amount": _money(subtotal), "type": "SUBTOTAL"}]
        shipping = cart.shipping.price.cent_amount if cart.shipping else 0
        if cart.shipping is not None:
            items.append({"name": "Shipping", "amount": _money(cart.shipping.price), "type": "SHIPPING"})
        tax = cart.total.cent_amount - subtotal.cent_amount - shipping
        if tax:   # a taxed cart: the lines are net, the amount to pay is gross
            items.append({"name": "Tax", "amount": _money(Money(tax, currency, digits)), "type": "TAX"})
        return web.json_response({"totalPrice": _money(cart.total), "currencyCode": currency, "lineItems": items})

    async def express_config(ctx: RouteContext) -> web.StreamResponse:
        origin = ctx.request.headers.get("Origin", "").rstrip("/")
        if not origin or origin not in settings.allowed_origins:
            return web.json_response(FORBIDDEN, status=403)
        answer: dict[str, Any] = {"publishableKey": settings.publishable_key,
                                  "environment": settings.publishable_mode,
                                  "captureMethod": context.capture_method.value}
        if settings.appearance_express_checkout is not None:
            answer["appearance"] = settings.appearance_express_checkout
        return web.json_response(answer)

    return (
        Route("POST", "/shipping-methods", shipping_methods, auth="session", name="stripe-shipping-methods"),
        Route("POST", "/shipping-methods/update", update, auth="session", name="stripe-shipping-method-update"),
        Route("GET", "/shipping-methods/remove", remove, auth="session", name="stripe-shipping-method-remove"),
        Route("GET", "/express-payment-data", payment_data, auth="session", name="stripe-express-payment-data"),
        Route("POST", "/express-config", express_config, auth="none", at_root=True, name="stripe-express-config"),
    )
