"""The official Stripe enabler's configuration routes.

``GET /get-config-element/{paymentComponent}`` (seed-era enabler) and
``GET /config-element/{paymentComponent}`` (current enabler), session auth, answer what the browser
needs to mount the Stripe element, for **any** path segment, as the official connector does::

    {"cartInfo": {"amount": 12300, "currency": "EUR"}, "appearance": "<JSON text>",
     "captureMethod": "manual", "webElements": "payment", "paymentMode": "payment",
     "layout": "{\\"type\\":\\"tabs\\",\\"defaultCollapsed\\":false}", "collectBillingAddress": "auto",
     "paymentMethodTypes": ["card"]}

``paymentElement`` or ``payment`` (any case) get the Payment Element appearance; any other segment (the
stock enabler sends ``/config-element/undefined`` when it was given no element type) gets the Express
Checkout appearance. ``appearance`` and ``layout`` are the configured JSON *text* (the enabler parses them);
``appearance`` is omitted when unset. ``webElements`` echoes the segment.

``GET /applePayConfig`` (no auth, like the official one) answers the ``applePayWellKnown`` setting as plain
text: the Apple Pay domain association file. With the setting unset it is a 404 saying so.
"""

from __future__ import annotations

import json

from aiohttp import web

from host import CreatePaymentRequest, ProviderContext, ResourceNotFoundError, Route, RouteContext
from plugins.stripe.settings import StripeSettings

#: Path values (lower case) that select the Payment Element appearance; any other gets the Express one.
PAYMENT_ELEMENT = frozenset({"payment", "paymentelement"})


def element_routes(settings: StripeSettings, context: ProviderContext) -> tuple[Route, ...]:
    """The element and Apple Pay routes of one instance."""

    async def config_element(ctx: RouteContext) -> web.StreamResponse:
        component = ctx.request.match_info.get("paymentComponent", "")
        amount = await ctx.amount_to_pay()
        appearance = (settings.appearance_payment if component.lower() in PAYMENT_ELEMENT
                      else settings.appearance_express_checkout)
        body: dict[str, object] = {
            "cartInfo": {"amount": amount.cent_amount, "currency": amount.currency},
            "captureMethod": context.capture_method.value,
            "webElements": component,
            "paymentMode": "payment",
            "layout": settings.layout,
            "collectBillingAddress": settings.collect_billing_address,
        }
        if settings.payment_method_types:      # the allow list; without one, automatic payment methods
            body["paymentMethodTypes"] = list(settings.payment_method_types)
        if settings.saved_payment_methods_config.get("payment_method_save_usage"):   # as the official one
            body["setupFutureUsage"] = settings.setup_future_usage
        if appearance is not None:
            body["appearance"] = appearance
        return web.json_response(body)

    async def apple_pay_config(ctx: RouteContext) -> web.StreamResponse:
        if settings.apple_pay_well_known is None:
            raise ResourceNotFoundError(f"Apple Pay is not configured for '{context.payment_interface}': set "
                                        f"applePayWellKnown in its connector.yaml settings.")
        return web.Response(text=settings.apple_pay_well_known, content_type="text/plain")

    return (
        Route("GET", "/get-config-element/{paymentComponent}", config_element, auth="session"),
        Route("GET", "/config-element/{paymentComponent}", config_element, auth="session"),
        Route("GET", "/applePayConfig", apple_pay_config, auth="none", at_root=True, name="stripe-apple-pay-config"),
    )


def billing_details(request: CreatePaymentRequest) -> str:
    """``billingAddress`` of the ``/payments`` answer when ``collectBillingAddress`` is not ``auto``: JSON text of
    Stripe's ``billing_details`` shape, from the cart's billing address, else its shipping address (as the
    official connector builds it); the Payment Element then does not ask the shopper for it."""
    address = request.billing_address or request.shipping_address or {}

    def text(*keys: str) -> str:
        return " ".join(str(address[k]) for k in keys if address.get(k))

    return json.dumps({
        "name": text("firstName", "lastName"),
        "phone": text("phone") or text("mobile"),
        "email": text("email"),
        "address": {"line1": text("streetNumber", "streetName"), "line2": text("additionalStreetInfo"),
                    "city": text("city"), "postal_code": text("postalCode"), "state": text("state"),
                    "country": text("country")},
    }, separators=(",", ":"))
