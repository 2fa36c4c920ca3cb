"""Paying with and storing payment methods through ``POST /payments``, recurring charges through
``/operations/transactions``, and methods a PSP stores later (a ``PaymentEvent``). Against the emulator, with
the ``vault`` test PSP (``tests/support/vault.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from support.vault import Vault, vault_plugins

from host import DisplayOptions, SavedMethod
from host.commercetools.wallet import Wallet
from host.errors import InternalConstraintViolatedError
from host.flows import stored
from host.keys import CT
from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """\
vault: {plugin: vault, paymentInterface: vault-pi, storedPaymentMethods: true}
other: {plugin: vault, paymentInterface: other-pi, storedPaymentMethods: true}
"""
CARD = {"type": "card", "card": {"last4": "4242", "brand": "visa", "expMonth": 12, "expYear": 2030}}
TX_SCOPES = ["manage_checkout_transactions:test-project"]


@pytest.fixture
async def host(connector_host: MakeHost) -> AsyncIterator[HostClient]:
    Vault.reset()
    yield await connector_host(INSTANCES, plugins=vault_plugins())
    Vault.reset()


def _cart(host: HostClient, customer: str | None = "cust-a", amount: int = 5000) -> dict[str, Any]:
    return host.cart(amount, **({"customer_id": customer} if customer else {}))


def _session(host: HostClient, customer: str | None = "cust-a", interface: str = "vault-pi") -> str:
    return host.session(interface, cart=_cart(host, customer))


async def _store(host: HostClient, customer: str = "cust-a", interface: str = "vault-pi") -> str:
    resp = await host.pay(_session(host, customer, interface), {
        "paymentMethod": {**CARD, "storePaymentMethod": True}, "paymentOutcome": "Authorized"})
    assert resp.status == 200, await resp.text()
    return str(host.ct.emulator.payment_methods()[-1]["id"])


def _with_stored(method_id: str) -> dict[str, Any]:
    return {"paymentMethod": {"type": "card", "storedPaymentMethodId": method_id}, "paymentOutcome": "Authorized"}


def _token(host: HostClient, method_id: str) -> str:
    return str(next(m for m in host.ct.emulator.payment_methods() if m["id"] == method_id)["token"]["value"])


async def test_paying_with_a_stored_method_gives_the_provider_its_token_end_to_end(host: HostClient) -> None:
    method_id = await _store(host)
    resp = await host.pay(_session(host), _with_stored(method_id))
    text = await resp.text()
    assert resp.status == 200, text
    request = Vault.calls[-1]
    assert request.stored_method is not None and request.stored_method.id == method_id
    assert request.stored_method.token == _token(host, method_id) and request.customer_id == "cust-a"
    assert not request.recurring and not request.store_method
    payment = host.payment(json.loads(text)["paymentReference"])
    assert [(t["type"], t["state"]) for t in payment["transactions"]] == [("Authorization", "Success")]
    assert _token(host, method_id) not in text and len(host.ct.emulator.payment_methods()) == 1


async def test_another_customers_method_cannot_pay_and_nothing_is_written(host: HostClient) -> None:
    theirs = await _store(host, "cust-b")
    calls, payments = len(Vault.calls), len(host.ct.payments())
    resp = await host.pay(_session(host, "cust-a"), _with_stored(theirs))
    body = await resp.json()
    assert (resp.status, body["errors"][0]["code"]) == (400, "InternalConstraintViolated")
    assert _token(host, theirs) not in json.dumps(body)
    assert (len(Vault.calls), len(host.ct.payments())) == (calls, payments)


async def test_a_method_of_another_instance_cannot_pay(host: HostClient) -> None:
    elsewhere = await _store(host, "cust-a", "other-pi")
    resp = await host.pay(_session(host, "cust-a", "vault-pi"), _with_stored(elsewhere))
    assert resp.status == 400 and (await resp.json())["errors"][0]["code"] == "InternalConstraintViolated"


async def test_a_guest_cart_cannot_pay_with_a_stored_method(host: HostClient) -> None:
    method_id = await _store(host)
    resp = await host.pay(_session(host, None), _with_stored(method_id))
    body = await resp.json()
    assert (resp.status, body["errors"][0]["code"], body["errors"][0]["field"]) == (400, "RequiredField",
                                                                                    "customerId")


async def test_paying_with_a_stored_method_is_one_authorization_per_cart(host: HostClient) -> None:
    method_id = await _store(host)
    session = _session(host)
    Vault.hold = asyncio.Event()
    first = asyncio.create_task(host.pay(session, _with_stored(method_id)))
    await Vault.held.wait()                # the first attempt is at the PSP
    second = await host.pay(session, _with_stored(method_id))
    assert second.status == 409, await second.text()
    Vault.hold.set()
    assert (await first).status == 200
    third = await host.pay(session, _with_stored(method_id))
    assert third.status == 400 and "paid in full" in (await third.json())["message"]
    assert len(Vault.calls) == 2           # the stored payment and the first attempt only


async def test_storing_a_stored_method_again_is_internal_constraint_violated(host: HostClient) -> None:
    method_id = await _store(host)
    payments = len(host.ct.payments())
    body = _with_stored(method_id)
    body["paymentMethod"]["storePaymentMethod"] = True
    resp = await host.pay(_session(host), body)
    assert resp.status == 400 and (await resp.json())["errors"][0]["code"] == "InternalConstraintViolated"
    assert len(host.ct.payments()) == payments and len(host.ct.emulator.payment_methods()) == 1


async def test_the_same_token_twice_is_refused_by_the_store_rule(host: HostClient) -> None:
    ct, wallet = host.app[CT], Wallet("vault-pi")
    saved = SavedMethod("vault-tok-same", DisplayOptions(end_digits="1111"), "card")
    first = await stored.store(ct, wallet, "cust-a", saved, "card")
    with pytest.raises(InternalConstraintViolatedError):
        await stored.store(ct, wallet, "cust-a", saved, "card")
    other = await stored.store(ct, wallet, "cust-b", saved, "card")   # another customer's is their own
    assert first.id != other.id and len(host.ct.emulator.payment_methods()) == 2


async def test_a_psp_answering_a_stored_token_after_authorizing_keeps_the_payment_and_one_method(
        host: HostClient) -> None:
    """Deliberate difference: the template answers 400 although the PSP authorized."""
    Vault.repeat_token = "vault-tok-again"
    await _store(host)
    resp = await host.pay(_session(host), {"paymentMethod": {**CARD, "storePaymentMethod": True},
                                           "paymentOutcome": "Authorized"})
    assert resp.status == 200, await resp.text()
    assert len(host.ct.emulator.payment_methods()) == 1


@pytest.mark.parametrize(("customer", "outcome", "interface"), [
    (None, "Authorized", "vault-pi"), ("cust-a", "Rejected", "vault-pi")])
async def test_nothing_is_stored_for_a_guest_or_a_refused_payment(host: HostClient, customer: str | None,
                                                                  outcome: str, interface: str) -> None:
    resp = await host.pay(_session(host, customer, interface), {
        "paymentMethod": {**CARD, "storePaymentMethod": True}, "paymentOutcome": outcome})
    assert resp.status == 200
    assert host.ct.emulator.payment_methods() == []


async def test_a_token_shaped_like_a_card_number_is_never_stored(host: HostClient) -> None:
    Vault.repeat_token = "4111 1111 1111 1111"
    resp = await host.pay(_session(host), {"paymentMethod": {**CARD, "storePaymentMethod": True},
                                           "paymentOutcome": "Authorized"})
    assert resp.status == 200 and host.ct.emulator.payment_methods() == []


@pytest.mark.parametrize("field", [{"storedPaymentMethodId": 7}, {"storePaymentMethod": "yes"}])
async def test_a_wrongly_typed_field_is_a_400_naming_it(host: HostClient, field: dict[str, Any]) -> None:
    resp = await host.pay(_session(host), {"paymentMethod": {"type": "card", **field}, "paymentOutcome": "Authorized"})
    body = await resp.json()
    assert resp.status == 400 and body["errors"][0]["field"] == f"paymentMethod.{next(iter(field))}"
    assert host.ct.payments() == []


async def test_recurring_charges_a_method_stored_through_payments(host: HostClient) -> None:
    method_id = await _store(host)
    listed = await (await host.client.get("/stored-payment-methods",
                                          headers={"X-Session-Id": _session(host)})).json()
    assert [m["id"] for m in listed["storedPaymentMethods"]] == [method_id]
    cart = _cart(host, "cust-a", 2500)
    resp = await host.client.post("/operations/transactions", headers={
        "Authorization": f"Bearer {host.oauth_token(TX_SCOPES)}"}, json={
        "cartId": cart["id"], "paymentMethodId": method_id, "type": "Recurring",
        "amount": {"centAmount": 2500, "currencyCode": "EUR"}})
    text = await resp.text()
    assert resp.status == 201, text
    assert json.loads(text)["transactionStatus"] == {"state": "Completed", "errors": []}
    request = Vault.calls[-1]
    assert request.recurring and request.stored_method is not None and request.stored_method.id == method_id
    assert request.body["paymentMethod"]["token"] == request.stored_method.token   # host API 1.1 plugins
    assert _token(host, method_id) not in text


async def test_recurring_never_charges_another_instances_method_through_this_one(host: HostClient) -> None:
    elsewhere = await _store(host, "cust-a", "other-pi")
    calls = len(Vault.calls)
    cart = _cart(host, "cust-a", 2500)
    resp = await host.client.post("/operations/transactions", headers={
        "Authorization": f"Bearer {host.oauth_token(TX_SCOPES)}"}, json={
        "cartId": cart["id"], "paymentMethodId": elsewhere, "paymentInterface": "vault-pi", "type": "Recurring"})
    assert resp.status == 404 and len(Vault.calls) == calls


def _event(payment_id: str, state: str, token: str | None) -> bytes:
    return json.dumps({"paymentId": payment_id, "state": state, "token": token}).encode()


async def test_a_method_the_psp_stores_later_is_kept_once_authorized_and_once(host: HostClient) -> None:
    resp = await host.pay(_session(host), {"paymentMethod": {"type": "card"}, "paymentOutcome": "Later"})
    payment_id = (await resp.json())["paymentReference"]
    await host.post_webhook("vault", _event(payment_id, "Failure", "vault-tok-late"))
    assert host.ct.emulator.payment_methods() == []            # not authorized: nothing kept
    for _ in range(2):                                          # a redelivery stores nothing more
        assert (await host.post_webhook("vault", _event(payment_id, "Success", "vault-tok-late"))).status == 200
    [method] = host.ct.emulator.payment_methods()
    assert method["token"]["value"] == "vault-tok-late" and method["customer"]["id"] == "cust-a"
    listed = await (await host.client.get("/stored-payment-methods",
                                          headers={"X-Session-Id": _session(host)})).json()
    assert listed["storedPaymentMethods"][0]["displayOptions"] == {"endDigits": "0005", "brand": {"key": "amex"}}
