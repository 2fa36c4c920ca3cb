"""Inbound Idempotency-Key on every mutating endpoint: the same key and body answer the first response, on
any replica and without a second PSP call; the same key with another body is a 422 that says so (issue 12)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.stored import sandbox_card

from host.testing import HostClient

INSTANCES = """\
card: {plugin: sandbox, paymentInterface: mock, storedPaymentMethods: true}
giftcards:
  plugin: sandbox_giftcard
  paymentInterface: mock-giftcard-provider
  settings: {cards: {GC-50: {balance: 5000, currency: EUR}}}
"""
MakeHost = Callable[..., Awaitable[HostClient]]
PAY = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}


@pytest.fixture
async def replicas(connector_host: MakeHost) -> tuple[HostClient, HostClient]:
    return await connector_host(INSTANCES), await connector_host(INSTANCES)


def _money(cents: int) -> dict[str, Any]:
    return {"centAmount": cents, "currencyCode": "EUR"}


async def _answer(resp: Any) -> tuple[int, Any]:
    return resp.status, await resp.json()


async def test_a_repeated_payment_answers_the_first_response_on_another_replica(
        replicas: tuple[HostClient, HostClient]) -> None:
    a, b = replicas
    sid = a.session("mock")
    headers = {"X-Session-Id": sid, "Idempotency-Key": "pay-1"}
    first = await _answer(await a.client.post("/payments", json=PAY, headers=headers))
    a.ct.reset_stats()
    again = await _answer(await b.client.post("/payments", json=PAY, headers=headers))
    assert first[0] == 200 and again == first
    assert "POST /{projectKey}/payments" not in a.ct.stats()          # no second Payment, so no second PSP call
    assert len(a.ct.payments()) == 1


async def test_the_same_key_with_another_body_is_a_422_that_says_so(replicas: tuple[HostClient, HostClient]) -> None:
    a, _ = replicas
    sid = a.session("mock")
    headers = {"X-Session-Id": sid, "Idempotency-Key": "pay-2"}
    assert (await a.client.post("/payments", json=PAY, headers=headers)).status == 200
    status, body = await _answer(await a.client.post("/payments", headers=headers, json={
        "paymentMethod": {"type": "invoice"}, "paymentOutcome": "Authorized"}))
    assert (status, body["errors"][0]["code"]) == (422, "IdempotencyKeyReused")
    assert "another request" in body["message"]


async def test_a_repeated_capture_captures_once_and_another_amount_under_its_key_is_refused(
        replicas: tuple[HostClient, HostClient]) -> None:
    a, b = replicas
    pid = (await (await a.pay(a.session("mock", amount=5000))).json())["paymentReference"]
    capture = {"action": "capturePayment", "amount": _money(2000)}
    first = await _answer(await a.intent(pid, capture, **{"Idempotency-Key": "cap-1"}))
    again = await _answer(await b.intent(pid, capture, **{"Idempotency-Key": "cap-1"}))
    assert first == again == (200, {"outcome": "approved"})
    other = await b.intent(pid, {"action": "capturePayment", "amount": _money(2500)}, **{"Idempotency-Key": "cap-1"})
    assert other.status == 422
    charges = [t for t in a.payment(pid)["transactions"] if t["type"] == "Charge"]
    assert [(t["state"], t["amount"]["centAmount"]) for t in charges] == [("Success", 2000)]


async def test_a_refused_request_is_answered_the_same_again(replicas: tuple[HostClient, HostClient]) -> None:
    a, b = replicas
    pid = (await (await a.pay(a.session("mock", amount=5000))).json())["paymentReference"]
    too_much = {"action": "capturePayment", "amount": _money(5001)}
    first = await _answer(await a.intent(pid, too_much, **{"Idempotency-Key": "cap-2"}))
    again = await _answer(await b.intent(pid, too_much, **{"Idempotency-Key": "cap-2"}))
    assert first[0] == 400 and again == first


async def test_a_repeated_redeem_takes_the_balance_once(replicas: tuple[HostClient, HostClient]) -> None:
    a, b = replicas
    sid = a.session("mock-giftcard-provider", amount=3000)
    body = {"code": "GC-50", "redeemAmount": _money(2000)}
    headers = {"X-Session-Id": sid, "Idempotency-Key": "redeem-1"}
    first = await _answer(await a.client.post("/redeem", json=body, headers=headers))
    again = await _answer(await b.client.post("/redeem", json=body, headers=headers))
    assert first[0] == 200 and first[1]["result"] == "Success" and again == first
    assert len(a.ct.payments()) == 1
    balance = await (await a.balance(a.session("mock-giftcard-provider"), "GC-50")).json()
    assert balance["amount"] == _money(3000)


async def test_a_repeated_recurring_transaction_charges_once(replicas: tuple[HostClient, HostClient]) -> None:
    a, b = replicas
    cart = a.cart(2500, customer_id="cust-9")
    method_id = await sandbox_card(a, "cust-9")
    paid = len(a.ct.payments())               # the stored card's own payment
    body = {"cartId": cart["id"], "paymentMethodId": method_id, "type": "Recurring", "amount": _money(2500)}
    headers = {"Authorization": f"Bearer {a.oauth_token(['manage_checkout_transactions:test-project'])}",
               "Idempotency-Key": "recurring-1"}
    first = await _answer(await a.client.post("/operations/transactions", json=body, headers=headers))
    again = await _answer(await b.client.post("/operations/transactions", json=body, headers=headers))
    assert first[0] == 201 and first[1]["transactionStatus"]["state"] == "Completed" and again == first
    assert len(a.ct.payments()) == paid + 1


async def test_a_key_left_started_by_a_request_that_died_is_taken_over_after_the_horizon(
        connector_host: MakeHost) -> None:
    from host.flows import idempotency
    from host.keys import CT

    host = await connector_host(INSTANCES, extra="reconciler: {interval: 0, horizon: 60}\n")
    sid = host.session("mock")
    cart_id = host.ct.get_session(sid)["activeCart"]["cartRef"]["id"]  # type: ignore[index]
    name = idempotency.record_key(f"payments|{cart_id}", "died-1")
    fingerprint = idempotency.fingerprint("POST", "/payments", PAY)
    ct = host.app[CT]
    headers = {"X-Session-Id": sid, "Idempotency-Key": "died-1"}
    # a request started a minute ago and never finished (its host was killed)
    await ct.put_custom_object(idempotency.CONTAINER, name, {"fingerprint": fingerprint, "state": "started",
                                                             "startedAt": "2026-01-01T00:00:00.000Z"}, 0)
    resp = await host.client.post("/payments", json=PAY, headers=headers)
    assert resp.status == 200, await resp.text()
    record = await ct.get_custom_object(idempotency.CONTAINER, name)
    assert record is not None and record["value"]["state"] == "done"
    # a fresh one is still a request in progress
    fresh = idempotency.record_key(f"payments|{cart_id}", "running-1")
    await ct.put_custom_object(idempotency.CONTAINER, fresh, {"fingerprint": fingerprint, "state": "started",
                                                              "startedAt": idempotency._now()}, 0)
    busy = await host.client.post("/payments", json=PAY, headers={**headers, "Idempotency-Key": "running-1"})
    assert busy.status == 409
