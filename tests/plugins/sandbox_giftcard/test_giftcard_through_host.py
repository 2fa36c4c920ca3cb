"""The gift-card sandbox through the real host and the commercetools emulator (``connector_host``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """
gift:
  plugin: sandbox_giftcard
  paymentInterface: sbx-gift
  settings:
    currency: EUR
    cards:
      G100: {balance: 10000, currency: EUR}
      OLD: {balance: 10000, currency: EUR, expires: 2001-01-01}
"""


async def _post(host: HostClient, path: str, session: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await host.client.post(path, json=body, headers={"X-Session-Id": session})
    return response.status, await response.json()


async def test_balance_redeem_refund(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    session = host.session("sbx-gift", amount=5000)
    assert await _post(host, "/balance", session, {"code": "G100"}) == (
        200, {"status": {"state": "Valid"}, "amount": {"centAmount": 10000, "currencyCode": "EUR"}})
    status, body = await _post(host, "/balance", session, {"code": "OLD"})
    assert (status, body["status"]["state"]) == (400, "Expired")
    status, body = await _post(host, "/balance", session, {"code": "missing"})
    assert (status, body["status"]["errors"][0]["code"]) == (404, "NotFound")

    status, body = await _post(host, "/redeem", session,
                               {"code": "G100", "redeemAmount": {"centAmount": 3000, "currencyCode": "EUR"}})
    assert status == 200 and body["result"] == "Success"
    assert body["redemptionId"].startswith("giftcard-redemption-")
    payment = host.payment(body["paymentReference"])
    assert payment["interfaceId"] == body["redemptionId"]
    assert [(t["type"], t["state"]) for t in payment["transactions"]] == [("Charge", "Success")]

    action = {"action": "refundPayment", "amount": {"centAmount": 1000, "currencyCode": "EUR"}}
    refund = await host.intent(body["paymentReference"], action)
    assert await refund.json() == {"outcome": "approved"}
    status, balance = await _post(host, "/balance", session, {"code": "G100"})
    assert balance["amount"]["centAmount"] == 8000


async def test_cart_in_another_currency_does_not_match(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCES)
    session = host.session("sbx-gift", currency="USD")
    status, body = await _post(host, "/balance", session, {"code": "G100"})
    assert (status, body["status"]["state"]) == (400, "CurrencyNotMatch")
