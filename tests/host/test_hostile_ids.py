"""Ids from a client never shape a commercetools call: each is checked and encoded as one path segment,
and values in ``where`` predicates are escaped (issue 13, "Client ids reach commercetools URLs unescaped")."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

import pytest
from support.stored import sandbox_card

from host.testing import HostClient
from plugins.sandbox import SIGNATURE_HEADER, sign

SECRET = "hostile-ids-secret"
INSTANCES = (f"sandbox: {{plugin: sandbox, paymentInterface: mock, storedPaymentMethods: true,\n"
             f"          settings: {{webhookSecret: {SECRET}}}}}\n")
TX_SCOPES = ["manage_checkout_transactions:test-project"]


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES)


@pytest.mark.parametrize("suffix", ["?x=1", "/../../carts/x", "#x", "%2F..", " x", "\u00e9"])
async def test_a_session_id_that_is_not_an_id_is_refused_before_any_call(host: HostClient, suffix: str) -> None:
    sid = host.session("mock")
    host.ct.reset_stats()
    resp = await host.pay(sid + suffix) if suffix.isascii() else await host.client.post(
        "/payments", json={}, headers={"X-Session-Id": (sid + suffix).encode().decode("latin-1")})
    body = await resp.json()
    assert resp.status == 401, body
    assert body["error"] == "invalid_request" and "not a session id" in body["message"]
    assert host.ct.stats() == {}           # commercetools was never asked
    assert host.ct.emulator.payments() == []


async def test_a_huge_payment_id_in_a_signed_webhook_is_acknowledged(host: HostClient) -> None:
    event = {"id": "evt-1", "type": "capture", "paymentId": "p" * 10_000, "pspReference": "psp-1",
             "transactionType": "Charge", "state": "Success", "amount": {"centAmount": 100, "currencyCode": "EUR"}}
    raw = json.dumps(event).encode()
    resp = await host.post_webhook("sandbox", raw, {SIGNATURE_HEADER: sign(SECRET, raw, int(time.time()))})
    assert resp.status == 200, await resp.text()
    assert "GET /{projectKey}/payments/{id}" not in host.ct.stats()


async def test_a_huge_cart_id_in_a_transaction_is_a_404_without_a_call(host: HostClient) -> None:
    host.ct.reset_stats()
    resp = await host.client.post("/operations/transactions", headers={
        "Authorization": f"Bearer {host.oauth_token(TX_SCOPES)}"},
        json={"cartId": "c" * 10_000, "paymentInterface": "mock", "paymentMethodId": "m"})
    body = await resp.json()
    assert resp.status == 404, body
    assert body["errors"][0]["code"] == "ResourceNotFound" and "c" * 300 not in body["message"]
    assert not any("carts" in key for key in host.ct.stats())


async def test_a_payment_method_id_cannot_widen_the_where_predicate(host: HostClient) -> None:
    """Before: ``X" or id="X`` turned ``id="X" and customer(id="mine")`` into ``id="X"``, and another
    customer's stored card was charged."""
    other = await sandbox_card(host, "customer-b")
    paid = len(host.ct.emulator.payments())
    cart = host.cart(customer_id="customer-a")
    resp = await host.client.post("/operations/transactions", headers={
        "Authorization": f"Bearer {host.oauth_token(TX_SCOPES)}"},
        json={"cartId": cart["id"], "paymentInterface": "mock",
              "paymentMethodId": f'{other}" or id="{other}', "type": "Recurring"})
    assert resp.status == 404, await resp.text()
    assert len(host.ct.emulator.payments()) == paid   # the stored card's own payment


async def test_an_unknown_instance_name_is_not_echoed(host: HostClient) -> None:
    resp = await host.client.post("/webhooks/" + "x" * 5000, data=b"{}")
    body = await resp.json()
    assert resp.status == 404 and "x" * 100 not in body["message"]


def test_segment_refuses_what_is_not_an_id_and_predicate_escapes() -> None:
    from host.commercetools.client import predicate, segment
    from host.errors import ResourceNotFoundError

    assert segment("3f2c-AB_9", "payment") == "3f2c-AB_9"
    for bad in ("", "a/b", "a?b", "..", "a b", "a\n", "x" * 257, "é"):
        with pytest.raises(ResourceNotFoundError):
            segment(bad, "payment")
    assert predicate("id={id}", id='x" or id!="') == r'id="x\" or id!=\""'
    assert predicate("id={id}", id="back\\slash") == r'id="back\\slash"'
