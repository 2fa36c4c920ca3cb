"""Stored payment methods with Stripe, against localstripe (out of process): the Customer of a commercetools
customer, paying with a stored ``pm_...`` on- and off-session, declines, 3-D Secure, detaching; and through
the host, paying, charging recurring and deleting a stored method.

What localstripe refuses (``setup_future_usage``) is in ``test_stripe_stored_mocked.py``. Here the method a
shopper stored is set up as Stripe leaves it after such a payment: a PaymentMethod attached to the Customer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import stripe

from host import CaptureMethod, ProviderError, StoredMethod, TxState, TxType
from host.keys import CT
from host.testing import HostClient

VISA = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
DECLINED = {**VISA, "number": "4000000000000341"}          # attaches, then every charge is declined
THREE_DS = {**VISA, "number": "4000002760003184"}          # needs 3-D Secure
TX_SCOPES = ["manage_checkout_transactions:test-project"]


async def _stored(provider: Any, browser: stripe.StripeClient, card: dict[str, Any] = VISA,
                  ct_customer: str = "cust-a") -> StoredMethod:
    """A PaymentMethod attached to the customer's Stripe Customer, as Stripe leaves it after a payment the
    shopper asked to store; the ``StoredMethod`` the host would hand over."""
    customer = await provider.customers.of(ct_customer)
    pm = await browser.v1.payment_methods.create_async({"type": "card", "card": dict(card)})
    await browser.v1.payment_methods.attach_async(pm.id, {"customer": customer})
    return StoredMethod(id="ct-pm-1", token=pm.id, customer_id=ct_customer, method="card")


def _paying(build: Any, method: StoredMethod, *, recurring: bool = False,
            capture: CaptureMethod = CaptureMethod.MANUAL) -> Any:
    return dataclasses.replace(build.create(pm=None, capture=capture), customer_id=method.customer_id,
                               stored_method=method, recurring=recurring)


async def test_the_customer_is_found_again_and_created_once(provider: Any, browser: stripe.StripeClient) -> None:
    first = await provider.customers.of("cust-a")
    assert await provider.customers.of("cust-a") == first
    assert await provider.customers.of("cust-b") != first
    customer = await browser.v1.customers.retrieve_async(first)
    assert customer.metadata["ct_customer_id"] == "cust-a"


async def test_a_customer_deleted_at_stripe_or_of_someone_else_is_replaced(provider: Any,
                                                                           browser: stripe.StripeClient) -> None:
    first = await provider.customers.of("cust-a")
    await browser.v1.customers.delete_async(first)
    second = await provider.customers.of("cust-a")
    assert second != first
    stranger = await browser.v1.customers.create_async({"metadata": {"ct_customer_id": "cust-z"}})
    stored = await provider.context.store.get("customer:cust-a")
    await provider.context.store.put("customer:cust-a", {"id": stranger.id}, stored.version)
    third = await provider.customers.of("cust-a")
    assert third not in (first, second, stranger.id)


async def test_a_recurring_charge_pays_off_session_with_the_stored_method(provider: Any, build: Any,
                                                                          browser: stripe.StripeClient) -> None:
    method = await _stored(provider, browser)
    result = await provider.create_payment(_paying(build, method, recurring=True))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.SUCCESS)]
    pi = await browser.v1.payment_intents.retrieve_async(result.psp_reference)
    assert (pi.status, pi.payment_method, pi.customer) == ("requires_capture", method.token,
                                                           await provider.customers.of("cust-a"))
    assert pi.metadata["ct_customer_id"] == "cust-a"


async def test_an_on_session_stored_payment_with_automatic_capture_is_charged(make_provider: Any, build: Any,
                                                                              localstripe: str,
                                                                              browser: stripe.StripeClient) -> None:
    provider = await make_provider(apiBase=localstripe, capture=CaptureMethod.AUTOMATIC)
    method = await _stored(provider, browser)
    result = await provider.create_payment(_paying(build, method, capture=CaptureMethod.AUTOMATIC))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.SUCCESS),
                                                                 (TxType.CHARGE, TxState.SUCCESS)]


async def test_a_declined_stored_method_is_an_authorization_failure(provider: Any, build: Any,
                                                                    browser: stripe.StripeClient) -> None:
    method = await _stored(provider, browser, DECLINED)
    result = await provider.create_payment(_paying(build, method, recurring=True))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.FAILURE)]


async def test_a_stored_method_needing_3ds_comes_back_for_the_browser(provider: Any, build: Any,
                                                                      browser: stripe.StripeClient) -> None:
    method = await _stored(provider, browser, THREE_DS)
    result = await provider.create_payment(_paying(build, method))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.INITIAL)]
    assert result.response["nextAction"] == "requires_action" and result.response["clientSecret"]


async def test_a_method_detached_at_stripe_is_refused_before_a_payment_intent(provider: Any, build: Any,
                                                                             browser: stripe.StripeClient) -> None:
    method = await _stored(provider, browser)
    await provider.detach(method)
    assert (await browser.v1.payment_methods.retrieve_async(method.token)).customer is None
    with pytest.raises(ProviderError) as exc:
        await provider.create_payment(_paying(build, method))
    assert exc.value.status == 400
    assert (await browser.v1.payment_intents.list_async()).data == []


# -- through the host --------------------------------------------------------------------------------

def _yaml(build: Any, localstripe: str) -> str:
    return build.instance_yaml(localstripe).replace("  settings:", "  storedPaymentMethods: true\n  settings:", 1)


async def _ct_method(host: HostClient, token: str, customer: str = "cust-a") -> str:
    created = await host.app[CT].create_payment_method({
        "customer": {"typeId": "customer", "id": customer}, "paymentInterface": "stripe-eu", "method": "card",
        "default": False, "paymentMethodStatus": "Active", "token": {"value": token}})
    return str(created["id"])


async def test_through_the_host_pay_charge_recurring_and_delete(connector_host: Any, localstripe: str, build: Any,
                                                               browser: stripe.StripeClient) -> None:
    host = await connector_host(_yaml(build, localstripe))
    provider = host.provider("stripe-eu")
    method = await _stored(provider, browser)
    method_id = await _ct_method(host, method.token)
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id="cust-a"))

    listed = await (await host.client.get("/stored-payment-methods", headers={"X-Session-Id": session})).text()
    assert method_id in listed and method.token not in listed
    paid = await host.pay(session, {"paymentMethod": {"type": "card", "storedPaymentMethodId": method_id}})
    text = await paid.text()
    assert paid.status == 200, text
    assert method.token not in text
    payment = host.payment((await paid.json())["paymentReference"])
    assert [(t["type"], t["state"]) for t in payment["transactions"]] == [("Authorization", "Success")]

    cart = host.cart(2500, customer_id="cust-a")
    recurring = await host.client.post("/operations/transactions", headers={
        "Authorization": f"Bearer {host.oauth_token(TX_SCOPES)}"}, json={
        "cartId": cart["id"], "paymentMethodId": method_id, "type": "Recurring"})
    assert recurring.status == 201, await recurring.text()
    assert (await recurring.json())["transactionStatus"]["state"] == "Completed"

    deleted = await host.client.delete(f"/stored-payment-methods/{method_id}", headers={"X-Session-Id": session})
    assert deleted.status == 200
    assert host.ct.emulator.payment_methods() == []
    assert (await browser.v1.payment_methods.retrieve_async(method.token)).customer is None


async def test_through_the_host_another_customers_stripe_method_is_never_charged(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(_yaml(build, localstripe))
    method = await _stored(host.provider("stripe-eu"), browser, ct_customer="cust-b")
    theirs = await _ct_method(host, method.token, "cust-b")
    session = host.session("stripe-eu", cart=host.cart(1500, customer_id="cust-a"))
    paid = await host.pay(session, {"paymentMethod": {"type": "card", "storedPaymentMethodId": theirs}})
    assert paid.status == 400 and host.ct.payments() == []
    assert (await browser.v1.payment_intents.list_async()).data == []


async def test_a_recurring_charge_needing_3ds_is_a_failure_and_cancelled(provider: Any, build: Any,
                                                                        browser: stripe.StripeClient) -> None:
    """Nobody is there to authenticate: never a PaymentIntent left waiting for an action (audit row B15)."""
    method = await _stored(provider, browser, THREE_DS)
    result = await provider.create_payment(_paying(build, method, recurring=True))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.FAILURE)]
    assert result.response == {}
    [pi] = (await browser.v1.payment_intents.list_async()).data
    assert pi.status == "canceled"
