"""The sandbox through the real host and the commercetools emulator (``host.testing``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """
card:
  plugin: sandbox
  paymentInterface: sbx-card
auto:
  plugin: sandbox
  paymentInterface: sbx-auto
  captureMethod: automatic
later:
  plugin: sandbox
  paymentInterface: sbx-async
  settings: {mode: async, webhookDelay: 0.01, webhookSecret: through-host-secret}
hpp:
  plugin: sandbox
  paymentInterface: sbx-hpp
  settings: {mode: offsite}
"""


def _txs(payment: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"], t["interactionId"])
            for t in payment["transactions"]]


async def test_sync_payment_and_two_partial_captures(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    response = await host.pay(host.session("sbx-card", amount=5000))
    assert response.status == 200
    payment_id = (await response.json())["paymentReference"]
    for _ in range(2):
        capture = await host.intent(payment_id, {"action": "capturePayment",
                                                 "amount": {"centAmount": 1000, "currencyCode": "EUR"}})
        assert await capture.json() == {"outcome": "approved"}
    txs = _txs(host.payment(payment_id))
    assert [(t[0], t[1], t[2]) for t in txs] == [
        ("Authorization", "Success", 5000), ("Charge", "Success", 1000), ("Charge", "Success", 1000)]
    assert len({t[3] for t in txs}) == 3
    assert host.payment(payment_id)["interfaceId"] == txs[0][3]


async def test_invalid_body_is_refused_before_a_payment_exists(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    session = host.session("sbx-card")
    host.ct.reset_stats()
    body = {"paymentMethod": {"type": "purchaseorder"}, "paymentOutcome": "Authorized"}
    response = await host.pay(session, body)
    assert response.status == 400
    assert (await response.json())["errors"][0] == {"code": "RequiredField", "field": "poNumber",
                                                    "message": "A value is required for field poNumber."}
    writes = [call for call in host.ct.stats() if call.startswith("POST") and "payments" in call]
    assert writes == []


async def test_automatic_capture_records_authorization_and_charge(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    response = await host.pay(host.session("sbx-auto", amount=2500))
    txs = _txs(host.payment((await response.json())["paymentReference"]))
    assert [(t[0], t[1]) for t in txs] == [("Authorization", "Success"), ("Charge", "Success")]
    assert txs[1][3] == f"{txs[0][3]}:charge"


async def test_async_capture_is_pending_then_settled_by_the_webhook(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    payment_id = (await (await host.pay(host.session("sbx-async"))).json())["paymentReference"]
    capture = await host.intent(payment_id, {"action": "capturePayment",
                                             "amount": {"centAmount": 2000, "currencyCode": "EUR"}})
    assert await capture.json() == {"outcome": "received"}
    assert ("Charge", "Pending") in [(t[0], t[1]) for t in _txs(host.payment(payment_id))]
    for _ in range(500):
        if ("Charge", "Success") in [(t[0], t[1]) for t in _txs(host.payment(payment_id))]:
            break
        await asyncio.sleep(0.01)
    charges = [t for t in _txs(host.payment(payment_id)) if t[0] == "Charge"]
    assert [(t[1], t[2]) for t in charges] == [("Success", 2000)]


async def test_unsigned_webhook_is_401(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    response = await host.client.post("/webhooks/later", data=b"{}",
                                      headers={"Content-Type": "application/json"})
    assert response.status == 401


async def test_hosted_page_flow(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    session = host.session("sbx-hpp", amount=4200, merchantReturnUrl="https://shop.test/back?cart=9")
    body = await (await host.pay(session)).json()
    payment_id, path = body["paymentReference"], urlsplit(body["redirectUrl"]).path
    assert [(t[0], t[1]) for t in _txs(host.payment(payment_id))] == [("Authorization", "Initial")]
    page = await host.client.get(path)
    assert page.status == 200 and "42.00 EUR" in await page.text()
    submit = await host.client.post(path, data={"result": "authorized"}, allow_redirects=False)
    assert submit.status == 303
    query = parse_qs(urlsplit(submit.headers["Location"]).query)
    assert query == {"cart": ["9"], "paymentReference": [payment_id]}
    again = await host.client.post(path, data={"result": "declined"}, allow_redirects=False)
    assert "userAction" not in again.headers["Location"]
    assert [(t[0], t[1]) for t in _txs(host.payment(payment_id))] == [("Authorization", "Success")]
