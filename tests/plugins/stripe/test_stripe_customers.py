"""The Stripe Customer of a commercetools customer, kept on the custom field the official connector uses
(``stripeConnector_stripeCustomerId``, Type ``payment-connector-stripe-customer-id``), and ``GET /customer/session``.

Stripe is localstripe (out of process); commercetools is the emulator and the judge (``ct_backend``: each test
marked so runs on both). localstripe has no ephemeral keys and no Customer Sessions, so those two calls (and only
those) are answered by ``aioresponses`` with Stripe's documented shapes (2025-12-15.clover).
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe
from aioresponses import aioresponses
from yarl import URL

from host.keys import CT
from host.testing import Commercetools, HostClient
from plugins.stripe.customers import STRIPE_CUSTOMER_FIELD

FIELD, TYPE_KEY = STRIPE_CUSTOMER_FIELD.name, STRIPE_CUSTOMER_FIELD.type_key
OFFICIAL_TYPE = {"key": TYPE_KEY, "name": {"en": "Stripe Customer ID"}, "resourceTypeIds": ["customer"],
                 "fieldDefinitions": [{"name": FIELD, "label": {"en": "Stripe Customer ID"}, "required": False,
                                       "type": {"name": "String"}, "inputHint": "SingleLine"}]}


def _yaml(build: Any, localstripe: str, extra: str = "") -> str:
    return build.instance_yaml(localstripe).replace("  settings:", "  storedPaymentMethods: true\n  settings:", 1) \
        .replace("paymentMethodTypes: [card]", f"paymentMethodTypes: [card]{extra}")


@pytest.fixture
async def host(money_host: Any, build: Any, localstripe: str) -> HostClient:
    started: HostClient = await money_host(_yaml(build, localstripe))
    return started


async def _stripe_customers(browser: stripe.StripeClient) -> list[Any]:
    return list((await browser.v1.customers.list_async()).data)


async def test_the_stripe_customer_is_kept_on_the_commercetools_customer(
        host: HostClient, ct_backend: Commercetools, browser: stripe.StripeClient) -> None:
    shopper = ct_backend.create_customer("ada@example.com", firstName="Ada", lastName="Lovelace")
    customers = host.provider("stripe-eu").customers           # type: ignore[attr-defined]
    stripe_id = await customers.of(shopper["id"])

    made = await browser.v1.customers.retrieve_async(stripe_id)
    assert (made.email, made.name, made.metadata["ct_customer_id"]) == ("ada@example.com", "Ada Lovelace",
                                                                        shopper["id"])
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {FIELD: stripe_id}
    created_type = ct_backend.get_type(TYPE_KEY)
    assert created_type is not None and stored["custom"]["type"]["id"] == created_type["id"]

    assert await customers.of(shopper["id"]) == stripe_id
    assert [c.id for c in await _stripe_customers(browser)] == [stripe_id]


async def test_a_customer_the_official_connector_linked_is_used_for_payments(
        host: HostClient, ct_backend: Commercetools, browser: stripe.StripeClient) -> None:
    ct_backend.create_type(OFFICIAL_TYPE)
    shopper = ct_backend.create_customer("grace@example.com")
    theirs = await browser.v1.customers.create_async({"metadata": {"ct_customer_id": shopper["id"]}})
    ct_backend.create_customer("other@example.com")            # not linked: never anybody's Customer
    # what the official connector wrote: the field on its own Type (here through the host's customers API)
    await host.provider("stripe-eu").context.customers.set_field(shopper["id"], STRIPE_CUSTOMER_FIELD, theirs.id)

    session = host.session("stripe-eu", cart=host.cart(1500, customer_id=shopper["id"]))
    paid = await host.pay(session, {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    assert paid.status == 200, await paid.text()
    [pi] = (await browser.v1.payment_intents.list_async()).data
    assert pi.customer == theirs.id and pi.metadata["ct_customer_id"] == shopper["id"]
    assert "setup_future_usage" not in pi or not pi.setup_future_usage
    assert [c.id for c in await _stripe_customers(browser)] == [theirs.id]


async def test_a_guest_cart_has_no_customer_session(host: HostClient, ct_backend: Commercetools) -> None:
    session = host.session("stripe-eu", cart=host.cart(1500))
    resp = await host.client.get("/customer/session", headers={"X-Session-Id": session})
    assert resp.status == 204 and await resp.read() == b""


async def test_an_unreadable_customer_has_no_customer_session(connector_host: Any, build: Any,
                                                              localstripe: str) -> None:
    host: HostClient = await connector_host(_yaml(build, localstripe))
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id="no-such-customer"))
    resp = await host.client.get("/customer/session", headers={"X-Session-Id": session})
    assert resp.status == 204 and await resp.read() == b""


# -- /customer/session with a customer: localstripe lacks ephemeral keys and Customer Sessions -------------------

FEATURES = ", savedPaymentMethodsConfig: {payment_method_save: enabled, payment_method_redisplay: enabled}"


@pytest.fixture
async def session_host(money_host: Any, build: Any, localstripe: str) -> HostClient:
    started: HostClient = await money_host(_yaml(build, localstripe, FEATURES))
    return started


@pytest.fixture
def stripe_gaps(session_host: HostClient, ct_backend: Commercetools, localstripe: str) -> Any:
    """Everything real (the host, commercetools, localstripe's customers) except ``/v1/ephemeral_keys`` and
    ``/v1/customer_sessions``, which localstripe does not have: those are answered as Stripe documents them."""
    passthrough = [str(session_host.client.make_url("/")), f"{ct_backend.url}/", f"{localstripe}/v1/customers"]
    with aioresponses(passthrough=passthrough) as mocked:
        mocked.post(f"{localstripe}/v1/ephemeral_keys", repeat=True, payload={
            "id": "ephkey_1QcustSESSION", "object": "ephemeral_key", "created": 1764700000,
            "expires": 1764703600, "livemode": False, "secret": "ek_test_YWNjdF8xQ3VzdFNFU1NJT04"})
        mocked.post(f"{localstripe}/v1/customer_sessions", repeat=True, payload={
            "object": "customer_session", "client_secret": "cuss_secret_QcustSESSIONabc", "created": 1764700000,
            "expires_at": 1764701800, "livemode": False, "components": {}})
        yield mocked


def _sent(mocked: aioresponses, url: str) -> list[Any]:
    return [call for (verb, target), recorded in mocked.requests.items()
            if verb.upper() == "POST" and target == URL(url) for call in recorded]


async def test_a_customer_gets_a_customer_session_of_its_stripe_customer(
        session_host: HostClient, ct_backend: Commercetools, localstripe: str, stripe_gaps: aioresponses,
        browser: stripe.StripeClient) -> None:
    shopper = ct_backend.create_customer("alan@example.com", firstName="Alan")
    session = session_host.session("stripe-eu", cart=session_host.cart(1500, customer_id=shopper["id"]))
    resp = await session_host.client.get("/customer/session", headers={"X-Session-Id": session})
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None
    stripe_id = stored["custom"]["fields"][FIELD]
    assert answer == {"stripeCustomerId": stripe_id, "ephemeralKey": "ek_test_YWNjdF8xQ3VzdFNFU1NJT04",
                      "sessionId": "cuss_secret_QcustSESSIONabc"}
    assert (await browser.v1.customers.retrieve_async(stripe_id)).metadata["ct_customer_id"] == shopper["id"]

    [key] = _sent(stripe_gaps, f"{localstripe}/v1/ephemeral_keys")
    assert parse_qs(key.kwargs["data"]) == {"customer": [stripe_id]}
    assert key.kwargs["headers"]["Stripe-Version"] == "2025-12-15.clover"
    [customer_session] = _sent(stripe_gaps, f"{localstripe}/v1/customer_sessions")
    assert parse_qs(customer_session.kwargs["data"]) == {
        "customer": [stripe_id], "components[payment_element][enabled]": ["true"],
        "components[payment_element][features][payment_method_save]": ["enabled"],
        "components[payment_element][features][payment_method_redisplay]": ["enabled"]}

    again = await session_host.client.get("/customer/session", headers={"X-Session-Id": session})
    assert (await again.json())["stripeCustomerId"] == stripe_id
    assert len((await browser.v1.customers.list_async()).data) == 1


async def test_a_stripe_customer_id_from_the_browser_must_be_this_customers(
        session_host: HostClient, ct_backend: Commercetools, stripe_gaps: aioresponses,
        browser: stripe.StripeClient) -> None:
    victim = await browser.v1.customers.create_async({"metadata": {"ct_customer_id": "somebody-else"}})
    shopper = ct_backend.create_customer("eve@example.com")
    session = session_host.session("stripe-eu", cart=session_host.cart(1500, customer_id=shopper["id"]))
    resp = await session_host.client.get(f"/customer/session?stripeCustomerId={victim.id}",
                                         headers={"X-Session-Id": session})
    assert resp.status == 200, await resp.text()
    own = (await resp.json())["stripeCustomerId"]
    assert own != victim.id
    assert (await browser.v1.customers.retrieve_async(own)).metadata["ct_customer_id"] == shopper["id"]


async def test_an_id_an_older_version_kept_in_the_store_moves_to_the_custom_field(
        host: HostClient, ct_backend: Commercetools, browser: stripe.StripeClient) -> None:
    shopper = ct_backend.create_customer("barbara@example.com")
    earlier = await browser.v1.customers.create_async({"metadata": {"ct_customer_id": shopper["id"]}})
    provider: Any = host.provider("stripe-eu")
    await provider.context.store.put(f"customer:{shopper['id']}", {"id": earlier.id}, 0)

    assert await provider.customers.of(shopper["id"]) == earlier.id
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {FIELD: earlier.id}
    assert [c.id for c in await _stripe_customers(browser)] == [earlier.id]


async def test_a_customer_deleted_at_stripe_is_replaced_on_the_field(
        host: HostClient, ct_backend: Commercetools, browser: stripe.StripeClient) -> None:
    shopper = ct_backend.create_customer("john@example.com")
    customers = host.provider("stripe-eu").customers           # type: ignore[attr-defined]
    first = await customers.of(shopper["id"])
    await browser.v1.customers.delete_async(first)
    second = await customers.of(shopper["id"])
    assert second != first
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {FIELD: second}


# -- the PaymentIntent's parameters: localstripe refuses automatic_payment_methods and setup_future_usage ----

API = "https://api.stripe.com"


@pytest.fixture
def stripe_api() -> Any:
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def _intent(**fields: Any) -> dict[str, Any]:
    return {"id": "pi_3QcustDEFghiJKL", "object": "payment_intent", "amount": 1000, "amount_capturable": 0,
            "amount_received": 0, "capture_method": "manual", "client_secret": "pi_3QcustDEFghiJKL_secret_xyz",
            "currency": "eur", "latest_charge": None, "livemode": False, "metadata": {},
            "status": "requires_payment_method", **fields}


async def test_automatic_payment_methods_by_default_and_the_app_named(make_provider: Any, build: Any,
                                                                      stripe_api: aioresponses) -> None:
    """The official default (Dashboard-enabled methods); Stripe sees which application calls it."""
    provider = await make_provider(paymentMethodTypes=None)
    stripe_api.post(f"{API}/v1/payment_intents", payload=_intent())
    await provider.create_payment(build.create(1000))
    [call] = _sent(stripe_api, f"{API}/v1/payment_intents")
    sent = parse_qs(call.kwargs["data"])
    assert sent["automatic_payment_methods[enabled]"] == ["true"]
    assert not any(k.startswith(("payment_method_types", "allowed_payment_method_types")) for k in sent)
    assert "connector-host/" in call.kwargs["headers"]["User-Agent"]
    assert '"name": "connector-host"' in call.kwargs["headers"]["X-Stripe-Client-User-Agent"]


async def test_storing_asks_for_the_configured_future_usage_on_the_linked_customer(
        make_provider: Any, build: Any, stripe_api: aioresponses) -> None:
    """``payment_method_save_usage`` of ``savedPaymentMethodsConfig`` is the PaymentIntent's ``setup_future_usage``."""
    provider = await make_provider(savedPaymentMethodsConfig={"payment_method_save_usage": "on_session"})
    shopper = provider.context.customers.add("kay@example.com", **{FIELD: "cus_QlinkedKAY"})
    stripe_api.get(f"{API}/v1/customers/cus_QlinkedKAY", payload={
        "id": "cus_QlinkedKAY", "object": "customer", "metadata": {"ct_customer_id": shopper.id}})
    stripe_api.post(f"{API}/v1/payment_intents", payload=_intent(customer="cus_QlinkedKAY"))
    request = build.create(1000, pm=None)
    await provider.create_payment(dataclasses.replace(request, customer_id=shopper.id, store_method=True))
    sent = parse_qs(_sent(stripe_api, f"{API}/v1/payment_intents")[0].kwargs["data"])
    assert sent["customer"] == ["cus_QlinkedKAY"] and sent["setup_future_usage"] == ["on_session"]
    assert sent["metadata[ct_customer_id]"] == [shopper.id]


def test_an_unknown_future_usage_is_refused_at_start(build: Any) -> None:
    with pytest.raises(ValueError, match="payment_method_save_usage"):
        build.settings(savedPaymentMethodsConfig={"payment_method_save_usage": "sometimes"})


async def test_the_element_gets_no_type_list_without_an_allow_list(connector_host: Any, build: Any) -> None:
    """The Payment Element then shows the Dashboard's methods, as the PaymentIntent allows them."""
    yaml = (f"stripe-eu:\n  plugin: stripe\n  paymentInterface: stripe-eu\n"
            f"  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},\n"
            f"             webhookSecret: {build.WEBHOOK_SECRET}, apiBase: \"http://127.0.0.1:9\"}}\n")
    host: HostClient = await connector_host(yaml)
    resp = await host.client.get("/config-element/payment", headers={"X-Session-Id": host.session("stripe-eu")})
    assert resp.status == 200, await resp.text()
    assert "paymentMethodTypes" not in await resp.json()


async def test_the_element_is_told_the_configured_future_usage(connector_host: Any, build: Any) -> None:
    """Stripe.js refuses to confirm when the Elements' ``setupFutureUsage`` differs from the PaymentIntent's."""
    yaml = (f"stripe-eu:\n  plugin: stripe\n  paymentInterface: stripe-eu\n"
            f"  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},\n"
            f"             webhookSecret: {build.WEBHOOK_SECRET}, apiBase: \"http://127.0.0.1:9\",\n"
            f"             savedPaymentMethodsConfig: {{payment_method_save_usage: on_session}}}}\n")
    host: HostClient = await connector_host(yaml)
    resp = await host.client.get("/config-element/payment", headers={"X-Session-Id": host.session("stripe-eu")})
    assert (await resp.json())["setupFutureUsage"] == "on_session"


async def test_stored_methods_of_a_linked_customer_are_listed_charged_and_deleted(
        connector_host: Any, build: Any, localstripe: str, browser: stripe.StripeClient) -> None:
    """The contract's stored-method routes with the Stripe Customer on the custom field (the emulator: ct-mock has
    no Payment Methods)."""
    host: HostClient = await connector_host(_yaml(build, localstripe))
    shopper = host.ct.create_customer("mary@example.com")
    stripe_id = await host.provider("stripe-eu").customers.of(shopper["id"])      # type: ignore[attr-defined]
    pm = await browser.v1.payment_methods.create_async({"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    await browser.v1.payment_methods.attach_async(pm.id, {"customer": stripe_id})
    created = await host.app[CT].create_payment_method({
        "customer": {"typeId": "customer", "id": shopper["id"]}, "paymentInterface": "stripe-eu", "method": "card",
        "default": False, "paymentMethodStatus": "Active", "token": {"value": pm.id}})
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id=shopper["id"]))

    listed = await host.client.get("/stored-payment-methods", headers={"X-Session-Id": session})
    assert created["id"] in await listed.text()
    cart = host.cart(2500, customer_id=shopper["id"])
    charged = await host.client.post("/operations/transactions", json={
        "cartId": cart["id"], "paymentMethodId": created["id"], "type": "Recurring"}, headers={
        "Authorization": f"Bearer {host.oauth_token(['manage_checkout_transactions:test-project'])}"})
    assert charged.status == 201 and (await charged.json())["transactionStatus"]["state"] == "Completed"
    [pi] = (await browser.v1.payment_intents.list_async()).data
    assert (pi.customer, pi.payment_method, pi.metadata["ct_customer_id"]) == (stripe_id, pm.id, shopper["id"])

    deleted = await host.client.delete(f"/stored-payment-methods/{created['id']}", headers={"X-Session-Id": session})
    assert deleted.status == 200
    assert (await browser.v1.payment_methods.retrieve_async(pm.id)).customer is None


async def test_commercetools_calls_of_a_customer_session_and_a_linked_customers_payment(
        connector_host: Any, build: Any, localstripe: str, browser: stripe.StripeClient) -> None:
    """Counted against the emulator: linking costs its writes once; afterwards a customer session reads the
    session, the cart and the customer, and a payment reads the customer once more than a guest's."""
    host: HostClient = await connector_host(_yaml(build, localstripe))
    shopper = host.ct.create_customer("lin@example.com")
    await host.provider("stripe-eu").customers.of(shopper["id"])               # type: ignore[attr-defined]
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id=shopper["id"]))
    guest = host.session("stripe-eu", cart=host.cart(1500))
    passthrough = [str(host.client.make_url("/")), f"{host.ct.url}/", f"{localstripe}/v1/customers",
                   f"{localstripe}/v1/payment_intents"]
    with aioresponses(passthrough=passthrough) as mocked:
        mocked.post(f"{localstripe}/v1/ephemeral_keys", payload={"id": "ephkey_1", "object": "ephemeral_key",
                                                                 "secret": "ek_test_1"})
        mocked.post(f"{localstripe}/v1/customer_sessions", payload={"object": "customer_session",
                                                                    "client_secret": "cuss_secret_1"})
        host.emulator.reset_stats()
        assert (await host.client.get("/customer/session", headers={"X-Session-Id": session})).status == 200
        assert host.emulator.stats() == {"GET /{projectKey}/sessions/{id}": 1, "GET /{projectKey}/carts/{id}": 1,
                                         "GET /{projectKey}/customers/{id}": 1}
    body = {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}}
    host.emulator.reset_stats()
    assert (await host.pay(guest, body)).status == 200
    guest_calls = host.emulator.calls()
    host.emulator.reset_stats()
    assert (await host.pay(session, body)).status == 200
    assert host.emulator.calls() == guest_calls + 1
    assert host.emulator.stats()["GET /{projectKey}/customers/{id}"] == 1


async def test_without_the_customers_scope_payments_go_on_and_the_id_is_kept_in_the_store(
        connector_host: Any, build: Any, localstripe: str, browser: stripe.StripeClient) -> None:
    """An API client without ``manage_customers`` (commercetools answers 403): a shopper with an account still
    pays, and a customer session still works, its Stripe Customer kept in the instance's store."""
    host: HostClient = await connector_host(_yaml(build, localstripe))
    shopper = host.ct.create_customer("noscope@example.com")
    host.emulator.emulator.inject_faults(r"/customers/", statuses=[403])
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id=shopper["id"]))
    paid = await host.pay(session, {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}})
    assert paid.status == 200, await paid.text()
    provider: Any = host.provider("stripe-eu")
    stripe_id = await provider.customers.of(shopper["id"])
    assert (await provider.context.store.get(f"customer:{shopper['id']}")).value == {"id": stripe_id}
    assert await provider.customers.of(shopper["id"]) == stripe_id
    assert len((await browser.v1.customers.list_async()).data) == 1
