"""Stored payment methods (issue 15, item 7): the two routes, ``storedPaymentMethodsConfig``, and who may see
and delete which method. Against the emulator (the judge has no Payment Methods API), with the ``vault`` test
PSP (``tests/support/vault.py``), which tokenises and keeps the host's requests for inspection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support.vault import Vault, vault_plugins

from host import StoredMethod
from host.commercetools.wallet import DISPLAY_CONTAINER
from host.testing import ConfigError, HostClient, load_instances

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """\
vault: {plugin: vault, paymentInterface: vault-pi, storedPaymentMethods: true}
plain: {plugin: vault, paymentInterface: plain-pi}
"""
CARD = {"type": "card", "card": {"last4": "4242", "brand": "visa", "expMonth": 12, "expYear": 2030}}


@pytest.fixture
async def host(connector_host: MakeHost) -> AsyncIterator[HostClient]:
    Vault.reset()
    yield await connector_host(INSTANCES, plugins=vault_plugins())
    Vault.reset()


def _session(host: HostClient, customer: str | None = "cust-a", interface: str = "vault-pi",
             amount: int = 5000) -> str:
    cart = host.cart(amount, **({"customer_id": customer} if customer else {}))
    return host.session(interface, cart=cart)


async def _store(host: HostClient, customer: str = "cust-a", card: dict[str, Any] | None = None) -> str:
    """Pay with a new card the shopper asks to store; the stored method's id."""
    before = {m["id"] for m in host.ct.emulator.payment_methods()}
    resp = await host.pay(_session(host, customer), {"paymentMethod": {**(card or CARD), "storePaymentMethod": True},
                                                     "paymentOutcome": "Authorized"})
    assert resp.status == 200, await resp.text()
    created = [m for m in host.ct.emulator.payment_methods() if m["id"] not in before]
    assert len(created) == 1
    return str(created[0]["id"])


async def _listing(host: HostClient, session: str) -> tuple[int, Any, str]:
    resp = await host.client.get("/stored-payment-methods", headers={"X-Session-Id": session})
    text = await resp.text()
    return resp.status, json.loads(text), text


async def test_get_lists_the_customers_methods_with_display_data_and_never_the_token(host: HostClient) -> None:
    method_id = await _store(host)
    token = host.ct.emulator.payment_methods()[0]["token"]["value"]
    status, body, text = await _listing(host, _session(host))
    assert status == 200
    [entry] = body["storedPaymentMethods"]
    assert entry == {"id": method_id, "type": "card", "isDefault": False, "createdAt": entry["createdAt"],
                     "displayOptions": {"endDigits": "4242", "brand": {"key": "visa"}, "expiryMonth": 12,
                                        "expiryYear": 2030}}
    assert entry["createdAt"] and token.startswith("vault-tok-") and token not in text


async def test_a_method_is_stored_as_the_templates_store_it(host: HostClient) -> None:
    method_id = await _store(host)
    [stored] = host.ct.emulator.payment_methods()
    assert stored["id"] == method_id
    assert {k: stored[k] for k in ("customer", "paymentInterface", "method", "default", "paymentMethodStatus")} == {
        "customer": {"typeId": "customer", "id": "cust-a"}, "paymentInterface": "vault-pi", "method": "card",
        "default": False, "paymentMethodStatus": "Active"}
    assert host.ct.emulator.custom_object(DISPLAY_CONTAINER, method_id)["value"]["endDigits"] == "4242"


async def test_the_listing_is_the_customers_own_of_this_instance(host: HostClient) -> None:
    mine = await _store(host, "cust-a")
    await _store(host, "cust-b")
    status, body, _ = await _listing(host, _session(host, "cust-a"))
    assert status == 200 and [m["id"] for m in body["storedPaymentMethods"]] == [mine]


@pytest.mark.parametrize(("interface", "customer", "enabled"), [
    ("vault-pi", "cust-a", True), ("vault-pi", None, False), ("plain-pi", "cust-a", False), ("plain-pi", None, False)])
async def test_is_enabled_follows_the_instance_setting_and_the_carts_customer(
        host: HostClient, interface: str, customer: str | None, enabled: bool) -> None:
    resp = await host.config(_session(host, customer, interface))
    assert resp.status == 200
    assert (await resp.json())["storedPaymentMethodsConfig"] == {"isEnabled": enabled}


async def test_delete_removes_it_in_commercetools_first_then_at_the_psp(host: HostClient) -> None:
    method_id = await _store(host)
    seen: list[bool] = []

    async def look(method: StoredMethod) -> None:
        seen.append(any(m["id"] == method.id for m in host.ct.emulator.payment_methods()))

    Vault.detach_sees = look
    resp = await host.client.delete(f"/stored-payment-methods/{method_id}", headers={"X-Session-Id": _session(host)})
    assert (resp.status, await resp.read()) == (200, b"")
    assert host.ct.emulator.payment_methods() == []
    assert host.ct.emulator.custom_object(DISPLAY_CONTAINER, method_id) is None
    assert [m.id for m in Vault.detached] == [method_id] and seen == [False]
    assert Vault.detached[0].token.startswith("vault-tok-") and Vault.detached[0].customer_id == "cust-a"
    status, body, _ = await _listing(host, _session(host))
    assert (status, body) == (200, {"storedPaymentMethods": []})


async def test_another_customers_method_is_404_on_delete_and_stays(host: HostClient) -> None:
    theirs = await _store(host, "cust-b")
    resp = await host.client.delete(f"/stored-payment-methods/{theirs}",
                                    headers={"X-Session-Id": _session(host, "cust-a")})
    assert resp.status == 404 and (await resp.json())["errors"][0]["code"] == "ResourceNotFound"
    assert [m["id"] for m in host.ct.emulator.payment_methods()] == [theirs] and Vault.detached == []


@pytest.mark.parametrize("method_id", ["no-such-method", 'x" or id!="x', "a" * 300])
async def test_an_unknown_or_hostile_id_is_404_and_deletes_nothing(host: HostClient, method_id: str) -> None:
    await _store(host)
    resp = await host.client.delete(f"/stored-payment-methods/{method_id}", headers={"X-Session-Id": _session(host)})
    assert resp.status == 404
    assert len(host.ct.emulator.payment_methods()) == 1


@pytest.mark.parametrize(("method", "path"), [("GET", "/stored-payment-methods"),
                                              ("DELETE", "/stored-payment-methods/m-1")])
@pytest.mark.parametrize(("interface", "customer", "status", "code"), [
    ("plain-pi", "cust-a", 400, "InvalidOperation"), ("vault-pi", None, 400, "RequiredField")])
async def test_the_routes_need_the_setting_and_a_customer(host: HostClient, method: str, path: str, interface: str,
                                                          customer: str | None, status: int, code: str) -> None:
    resp = await host.client.request(method, path, headers={"X-Session-Id": _session(host, customer, interface)})
    assert (resp.status, (await resp.json())["errors"][0]["code"]) == (status, code)


async def test_the_routes_need_a_session(host: HostClient) -> None:
    for method, path in (("GET", "/stored-payment-methods"), ("DELETE", "/stored-payment-methods/m-1")):
        resp = await host.client.request(method, path)
        assert resp.status == 401


async def test_calls_to_commercetools_per_route(host: HostClient) -> None:
    method_id = await _store(host)
    session = _session(host)
    host.ct.reset_stats()
    assert (await _listing(host, session))[0] == 200
    assert host.ct.stats() == {"GET /{projectKey}/sessions/{id}": 1, "GET /{projectKey}/carts/{id}": 1,
                               "GET /{projectKey}/payment-methods": 1,
                               "GET /{projectKey}/custom-objects/{container}": 1}
    host.ct.reset_stats()
    resp = await host.client.delete(f"/stored-payment-methods/{method_id}", headers={"X-Session-Id": session})
    assert resp.status == 200
    assert host.ct.stats() == {"GET /{projectKey}/sessions/{id}": 1, "GET /{projectKey}/carts/{id}": 1,
                               "GET /{projectKey}/payment-methods": 1,
                               "DELETE /{projectKey}/payment-methods/{id}": 1,
                               "DELETE /{projectKey}/custom-objects/{container}/{key}": 1}


def test_a_plugin_without_the_capability_cannot_enable_stored_methods(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_instances("gc: {plugin: sandbox_giftcard, paymentInterface: gc, storedPaymentMethods: true}", tmp_path)
    assert "instances.gc.storedPaymentMethods" in str(exc.value) and "cannot keep stored payment methods" in str(
        exc.value)


def test_the_setting_takes_a_boolean_or_an_interface_account(tmp_path: Path) -> None:
    deployment = load_instances(
        "a: {plugin: sandbox, paymentInterface: a, storedPaymentMethods: true}\n"
        "b: {plugin: sandbox, paymentInterface: b, storedPaymentMethods: {enabled: true, interfaceAccount: eu}}\n",
        tmp_path)
    assert deployment.instances["a"].config.storedPaymentMethods.enabled
    assert deployment.instances["b"].config.storedPaymentMethods.interfaceAccount == "eu"
