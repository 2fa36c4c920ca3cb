"""The Stripe element configuration route, under both names the enablers use.

``GET /get-config-element/{paymentComponent}`` (seed-era enabler) and
``GET /config-element/{paymentComponent}`` (current enabler), session auth, answer what the browser
needs to mount the Stripe element::

    {"cartInfo": {"amount": 12300, "currency": "EUR"}, "appearance": "<JSON text>",
     "captureMethod": "manual", "webElements": "payment", "paymentMode": "payment",
     "layout": "{\\"type\\":\\"tabs\\",\\"defaultCollapsed\\":false}", "collectBillingAddress": "auto",
     "paymentMethodTypes": ["card"]}

``appearance`` is the configured JSON *text* (the enabler parses it) and is omitted when unset. An
unknown component, or one not enabled for this instance, is a 400 ``InvalidField`` (the official
connector silently falls back to the Express Checkout appearance).
"""

from __future__ import annotations

from aiohttp import web

from host import InvalidFieldError, ProviderContext, Route, RouteContext
from plugins.stripe.settings import StripeSettings

#: Path value (case-insensitive) → the instance method it belongs to.
COMPONENTS = {"payment": "payment", "paymentelement": "payment", "expresscheckout": "expressCheckout"}
#: The official connector's defaults for the keys this plugin does not make configurable.
DEFAULT_LAYOUT = '{"type":"tabs","defaultCollapsed":false}'


def element_routes(settings: StripeSettings, context: ProviderContext) -> tuple[Route, ...]:
    """The two element routes of one instance."""

    async def config_element(ctx: RouteContext) -> web.StreamResponse:
        component = ctx.request.match_info.get("paymentComponent", "")
        method = COMPONENTS.get(component.lower())
        if method is None:
            raise InvalidFieldError("paymentComponent", f"Unknown payment component {component!r}: use "
                                    "payment, paymentElement or expressCheckout.", invalidValue=component,
                                    allowedValues=["payment", "paymentElement", "expressCheckout"])
        if method not in context.methods:
            raise InvalidFieldError("paymentComponent", f"Payment component {component!r} is not enabled for "
                                    f"this payment integration.", invalidValue=component,
                                    allowedValues=sorted(context.methods))
        amount = await ctx.amount_to_pay()
        appearance = (settings.appearance_payment if method == "payment"
                      else settings.appearance_express_checkout)
        body: dict[str, object] = {
            "cartInfo": {"amount": amount.cent_amount, "currency": amount.currency},
            "captureMethod": context.capture_method.value,
            "webElements": component,
            "paymentMode": "payment",
            "layout": DEFAULT_LAYOUT,
            "collectBillingAddress": "auto",
        }
        if settings.payment_method_types:      # the allow list; without one, automatic payment methods
            body["paymentMethodTypes"] = list(settings.payment_method_types)
        if settings.saved_payment_methods_config.get("payment_method_save_usage"):   # as the official one
            body["setupFutureUsage"] = settings.setup_future_usage
        if appearance is not None:
            body["appearance"] = appearance
        return web.json_response(body)

    return (
        Route("GET", "/get-config-element/{paymentComponent}", config_element, auth="session"),
        Route("GET", "/config-element/{paymentComponent}", config_element, auth="session"),
    )
