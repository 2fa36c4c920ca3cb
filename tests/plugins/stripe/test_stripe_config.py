"""The Stripe plugin's registration, settings, enabler-facing answers and element routes (no Stripe calls)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from pydantic import ValidationError

from host import CaptureMethod, InvalidFieldError, Money, Registry, SessionInfo
from plugins import stripe as stripe_plugin
from plugins.stripe import StripeProvider

SESSION = SessionInfo(session_id="sess-1", cart_id="cart-1", payment_interface="stripe-eu")


def test_register_providers_registers_stripe():
    added: list[tuple[str, Any]] = []
    stripe_plugin.register_providers(Registry(_add=lambda name, cls, plugin: added.append((name, cls))))
    assert added == [("stripe", StripeProvider)]


def test_settings_defaults(build):
    settings = build.settings()
    assert settings.api_version == "2025-12-15.clover"
    assert settings.payment_method_types == ["card"]
    assert (settings.webhook_tolerance, settings.max_network_retries) == (300, 2)
    assert (settings.api_base, settings.project_key, settings.statement_descriptor) == (None, None, None)


@pytest.mark.parametrize(("overrides", "field", "fragment"), [
    ({"secretKey": "not-a-key-but-secret-value"}, "secretKey", "secret key"),
    ({"publishableKey": "sk_test_oops"}, "publishableKey", "publishable key"),
    ({"webhookSecret": "we_123endpointid"}, "webhookSecret", "whsec_"),
    ({"appearancePayment": "{theme: night}"}, "appearancePayment", "JSON"),
    ({"statementDescriptor": "A" * 23}, "statementDescriptor", "22"),
    ({"statementDescriptor": "12345"}, "statementDescriptor", "letter"),
    ({"secretKey": "sk_live_realLIVEkey123"}, "", "live key but publishableKey is a test key"),
    ({"secretkey": "sk_test_typo"}, "secretkey", "Extra inputs"),
])
def test_bad_settings_name_the_key_and_never_echo_a_secret(build, overrides, field, fragment):
    with pytest.raises(ValidationError) as bad:
        build.settings(**overrides)
    error = bad.value.errors()[0]
    assert ".".join(str(p) for p in error["loc"]) == field
    assert fragment in error["msg"]
    assert "secret-value" not in error["msg"] and "realLIVEkey" not in error["msg"]


async def test_public_config_gives_only_the_publishable_key(make_provider, build):
    provider = await make_provider()
    config = await provider.public_config(SESSION)
    assert config == {"clientKey": build.PUBLISHABLE_KEY, "environment": "test",
                      "publishableKey": build.PUBLISHABLE_KEY}
    assert build.SECRET_KEY not in json.dumps(config)


async def test_payment_components_answer_the_official_shapes(make_provider):
    provider = await make_provider()
    # the official connector (CA) without Express; the Checkout-only one (CK) with it
    assert provider.payment_components(frozenset({"payment"})) == {
        "dropins": [{"type": "embedded"}], "components": [], "express": []}
    assert provider.payment_components(frozenset({"payment", "expressCheckout"})) == {
        "dropins": [{"type": "embedded"}], "components": [], "express": [{"type": "dropin"}]}
    assert provider.payment_components(frozenset({"expressCheckout"})) == {
        "dropins": [], "components": [], "express": [{"type": "dropin"}]}


async def test_payment_method_of_a_body(make_provider):
    both = await make_provider()
    express_only = await make_provider(instance="stripe-express", methods=frozenset({"expressCheckout"}))
    assert both.payment_method({}) == "payment"
    assert both.payment_method({"paymentMethodOptions": {"card": {}}}) == "payment"
    assert both.payment_method({"paymentMethod": {"type": "expressCheckout"}}) == "expressCheckout"
    assert express_only.payment_method({}) == "expressCheckout"


@pytest.mark.parametrize(("body", "field"), [
    ({"paymentMethod": "pm_card_visa"}, "paymentMethod"),
    ({"paymentMethod": {"id": "tok_visa"}}, "paymentMethod.id"),
    ({"paymentMethodOptions": ["card"]}, "paymentMethodOptions"),
    ({"paymentMethodOptions": {"card": "any"}}, "paymentMethodOptions.card"),
])
async def test_a_malformed_payments_body_is_a_400_before_stripe_is_called(make_provider, build, body, field):
    provider = await make_provider()
    with pytest.raises(InvalidFieldError) as bad:
        await provider.create_payment(build.create(body=body))
    assert bad.value.status == 400 and bad.value.fields["field"] == field


# -- element routes ---------------------------------------------------------------------------------

@dataclass
class FakeRouteContext:
    """The host's ``RouteContext`` for one request: the open amount of the session's cart is 4200 EUR."""

    request: Any
    instance_id: str = "stripe-eu"
    session: SessionInfo | None = SESSION

    async def amount_to_pay(self) -> Money:
        return Money(4200, "EUR")

    async def get_payment(self, payment_id: str) -> Any:
        raise AssertionError("not used")

    async def record(self, event: Any) -> Any:
        raise AssertionError("not used")


async def call_route(provider: StripeProvider, path_prefix: str, component: str) -> dict[str, Any]:
    (route,) = [r for r in provider.routes() if r.path.startswith(path_prefix)]
    assert (route.method, route.auth) == ("GET", "session")
    request = make_mocked_request("GET", f"{path_prefix}{component}",
                                  match_info={"paymentComponent": component})
    response = await route.handler(FakeRouteContext(request))
    return json.loads(response.body)


APPEARANCE = '{"theme":"night","variables":{"colorPrimary":"#0570de"}}'


@pytest.mark.parametrize("prefix", ["/get-config-element/", "/config-element/"])
async def test_the_element_config_for_the_payment_element(make_provider, prefix):
    provider = await make_provider(appearancePayment=APPEARANCE, capture=CaptureMethod.AUTOMATIC)
    answer = await call_route(provider, prefix, "payment")
    assert answer["cartInfo"] == {"amount": 4200, "currency": "EUR"}
    assert answer["appearance"] == APPEARANCE                 # JSON text, as the enabler parses it
    assert (answer["captureMethod"], answer["webElements"]) == ("automatic", "payment")


async def test_the_element_config_for_express_checkout_uses_its_own_appearance(make_provider):
    provider = await make_provider(appearancePayment=APPEARANCE, appearanceExpressCheckout='{"theme":"flat"}')
    answer = await call_route(provider, "/config-element/", "expressCheckout")
    assert answer["appearance"] == '{"theme":"flat"}' and answer["webElements"] == "expressCheckout"
    assert answer["captureMethod"] == "manual"


async def test_without_a_configured_appearance_the_key_is_left_out(make_provider):
    provider = await make_provider()
    answer = await call_route(provider, "/config-element/", "paymentElement")
    assert "appearance" not in answer and answer["webElements"] == "paymentElement"


@pytest.mark.parametrize("component", ["undefined", "applePay", "expressCheckout", "x"])
async def test_any_other_segment_gets_the_express_appearance_as_the_official_one_answers(make_provider, component):
    # the stock enabler asks for /config-element/undefined when it was given no element type
    provider = await make_provider(methods=frozenset({"payment"}), appearancePayment=APPEARANCE,
                                   appearanceExpressCheckout='{"theme":"flat"}')
    answer = await call_route(provider, "/config-element/", component)
    assert answer["appearance"] == '{"theme":"flat"}' and answer["webElements"] == component
    assert answer["cartInfo"] == {"amount": 4200, "currency": "EUR"}


async def test_layout_and_billing_address_collection_are_settings(make_provider):
    default = await call_route(await make_provider(), "/config-element/", "payment")
    assert (default["layout"], default["collectBillingAddress"]) == (
        '{"type":"tabs","defaultCollapsed":false}', "auto")
    layout = '{"type":"accordion","defaultCollapsed":true}'
    answer = await call_route(await make_provider(layout=layout, collectBillingAddress="never"),
                              "/config-element/", "payment")
    assert (answer["layout"], answer["collectBillingAddress"]) == (layout, "never")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"layout": "{type: tabs}"}, "layout"),
    ({"collectBillingAddress": "always"}, "collectBillingAddress"),
    ({"allowedOrigins": ["https://shop.example/checkout"]}, "allowedOrigins"),
    ({"applePayWellKnown": ""}, "applePayWellKnown"),
])
def test_bad_enabler_settings_name_the_key(build, overrides, field):
    with pytest.raises(ValidationError) as bad:
        build.settings(**overrides)
    assert str(bad.value.errors()[0]["loc"][0]) == field


@pytest.mark.parametrize("body", [
    {"paymentMethod": {"type": "payment", "id": "pm_card_visa\n"}},
    {"paymentMethodOptions": {"card\n": {}}},
])
def test_ids_with_a_trailing_newline_are_refused(body):
    """``$`` in a Python regex also matches before a final newline: every id the browser sends is matched to
    its end (``\\Z``), so ``pm_card_visa\\n`` never reaches Stripe."""
    from host import InvalidFieldError
    from plugins.stripe.body import parse_body

    with pytest.raises(InvalidFieldError):
        parse_body(body)
