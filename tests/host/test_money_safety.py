"""Issue 11's money-safety scenarios, judged by both commercetools implementations.

Each scenario runs against the emulator and against @labdigital/commercetools-mock (``[emulator]``,
``[ctmock]``), within one host (``one-host``) and split over two host OS processes that share nothing but
commercetools (``two-processes``). What is asserted is what the shopper or the merchant would notice: how
much money was captured, refunded or authorized, and the answers Checkout got.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from host import metrics
from host.testing import HostClient, HostProcess, HostShortcuts
from plugins.sandbox.settings import DEV_WEBHOOK_SECRET
from plugins.sandbox.signing import sign

INSTANCES = """\
card: {plugin: sandbox, paymentInterface: mock}
card-slow: {plugin: sandbox, paymentInterface: mock-slow, settings: {latency: 0.2}}
giftcards:
  plugin: sandbox_giftcard
  paymentInterface: mock-giftcard-provider
  settings: {cards: {GC-100: {balance: 10000, currency: EUR}}}
"""
EUR = "EUR"
TOTAL = 5950                      # 59.50 EUR
LIVE = ("Success", "Pending")     # states in which money has moved, or is moving


@pytest.fixture(params=["one-host", "two-processes"])
async def replicas(request: pytest.FixtureRequest, money_host: Callable[..., Awaitable[HostClient]],
                   host_process: Callable[..., Awaitable[HostProcess]]) -> list[HostShortcuts]:
    """The hosts a scenario's requests are spread over, round robin."""
    if request.param == "one-host":
        return [await money_host(INSTANCES)]
    return list(await asyncio.gather(host_process(INSTANCES), host_process(INSTANCES)))


def _money(cents: Any) -> dict[str, Any]:
    return {"centAmount": cents, "currencyCode": EUR}


def _total(payment: dict[str, Any], tx_type: str) -> int:
    return sum(int(t["amount"]["centAmount"]) for t in payment.get("transactions") or []
               if t["type"] == tx_type and t["state"] in LIVE)


async def _authorized(host: HostShortcuts, amount: int = TOTAL) -> str:
    resp = await host.pay(host.session("mock", amount=amount))
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["paymentReference"])


async def _approved(responses: list[Any], cents: int) -> int:
    """The amount Checkout was told went through: ``approved``/``received`` answers times their amount."""
    total = 0
    for resp in responses:
        if resp.status == 200 and (await resp.json())["outcome"] in ("approved", "received"):
            total += cents
    return total


async def _concurrently(replicas: list[HostShortcuts], pid: str, action: dict[str, Any], times: int) -> list[Any]:
    return list(await asyncio.gather(*(replicas[i % len(replicas)].intent(pid, action) for i in range(times))))

@pytest.mark.parametrize(("times", "cents"), [(4, 2000), (20, 1000)])
async def test_concurrent_equal_captures_never_exceed_the_authorization(
        replicas: list[HostShortcuts], times: int, cents: int) -> None:
    pid = await _authorized(replicas[0])
    responses = await _concurrently(replicas, pid, {"action": "capturePayment", "amount": _money(cents)}, times)
    captured = _total(replicas[0].payment(pid), "Charge")
    assert captured <= TOTAL, f"{captured} captured on an authorization of {TOTAL}"
    assert await _approved(responses, cents) <= TOTAL


@pytest.mark.parametrize(("times", "cents"), [(4, 2000), (20, 1000)])
async def test_concurrent_equal_refunds_never_exceed_the_capture(
        replicas: list[HostShortcuts], times: int, cents: int) -> None:
    pid = await _authorized(replicas[0])
    capture = await replicas[0].intent(pid, {"action": "capturePayment", "amount": _money(TOTAL)})
    assert capture.status == 200, await capture.text()
    responses = await _concurrently(replicas, pid, {"action": "refundPayment", "amount": _money(cents)}, times)
    refunded = _total(replicas[0].payment(pid), "Refund")
    assert refunded <= TOTAL, f"{refunded} refunded of a capture of {TOTAL}"
    assert await _approved(responses, cents) <= TOTAL


def _authorizations(host: HostShortcuts) -> int:
    """Successful (or pending) Authorizations over every Payment of the project: each is money held on the
    shopper's card. Every test starts on an empty commercetools, so all of them are this test's."""
    return sum(1 for p in host.ct.payments() for t in p.get("transactions") or []
               if t["type"] == "Authorization" and t["state"] in LIVE)


async def test_a_repeated_payment_request_25_ms_later_authorizes_once(replicas: list[HostShortcuts]) -> None:
    first_host, second_host = replicas[0], replicas[-1]
    sid = first_host.session("mock-slow", amount=TOTAL)
    first = asyncio.ensure_future(first_host.pay(sid))
    await asyncio.sleep(0.025)
    second = await second_host.pay(sid)
    statuses = sorted([(await first).status, second.status])
    assert statuses[0] == 200, statuses
    assert _authorizations(first_host) == 1, statuses


@pytest.mark.parametrize("idempotency_key", [None, "double-click-1"])
async def test_a_burst_of_50_payment_requests_authorizes_at_most_once(
        replicas: list[HostShortcuts], idempotency_key: str | None) -> None:
    sid = replicas[0].session("mock", amount=TOTAL)
    body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
    headers = {"X-Session-Id": sid, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
    responses = await asyncio.gather(*(replicas[i % len(replicas)].request("POST", "/payments", json=body,
                                                                           headers=headers) for i in range(50)))
    assert all(r.status < 500 for r in responses), sorted(r.status for r in responses)
    assert _authorizations(replicas[0]) <= 1


async def test_a_capture_amount_given_as_a_string_is_refused(replicas: list[HostShortcuts]) -> None:
    pid = await _authorized(replicas[0])
    resp = await replicas[-1].intent(pid, {"action": "capturePayment", "amount": _money("10")})
    assert resp.status == 400, await resp.text()
    assert _total(replicas[0].payment(pid), "Charge") == 0


UNEQUAL = (3000, 2000, 1500, 1000, 700, 500, 300)    # 90.00 asked of 59.50


async def _each(replicas: list[HostShortcuts], pid: str, action: str) -> list[tuple[int, Any]]:
    """One request per amount of ``UNEQUAL``, all at once, spread over the replicas."""
    responses = await asyncio.gather(*(replicas[i % len(replicas)].intent(
        pid, {"action": action, "amount": _money(cents)}) for i, cents in enumerate(UNEQUAL)))
    return list(zip(UNEQUAL, responses, strict=True))


async def _told(pairs: list[tuple[int, Any]]) -> int:
    return sum([await _approved([resp], cents) for cents, resp in pairs])


async def test_concurrent_captures_of_unequal_amounts_stay_within_the_authorization(
        replicas: list[HostShortcuts]) -> None:
    pid = await _authorized(replicas[0])
    pairs = await _each(replicas, pid, "capturePayment")
    captured = _total(replicas[0].payment(pid), "Charge")
    assert 0 < captured <= TOTAL
    assert await _told(pairs) == captured        # what Checkout was told is exactly what was captured


async def test_concurrent_refunds_of_unequal_amounts_stay_within_the_capture(replicas: list[HostShortcuts]) -> None:
    pid = await _authorized(replicas[0])
    capture = await replicas[0].intent(pid, {"action": "capturePayment", "amount": _money(TOTAL)})
    assert capture.status == 200, await capture.text()
    pairs = await _each(replicas, pid, "refundPayment")
    refunded = _total(replicas[0].payment(pid), "Refund")
    assert 0 < refunded <= TOTAL
    assert await _told(pairs) == refunded


def _paid(host: HostShortcuts, session_id: str) -> int:
    """What the cart's Payments took or hold: Authorizations and gift-card Charges in Success/Pending."""
    cart_id = host.ct.get_session(session_id)["activeCart"]["cartRef"]["id"]  # type: ignore[index]
    cart = host.ct.get_cart(cart_id) or {}
    total = 0
    for ref in (cart.get("paymentInfo") or {}).get("payments") or []:
        payment = host.payment(ref["id"])
        kind = "Charge" if payment["paymentMethodInfo"].get("method") == "giftcard" else "Authorization"
        total += _total(payment, kind)
    return total


async def test_concurrent_redeems_never_take_more_than_the_cart(replicas: list[HostShortcuts]) -> None:
    sid = replicas[0].session("mock-giftcard-provider", amount=TOTAL)
    body = {"code": "GC-100", "redeemAmount": _money(3000)}
    responses = await asyncio.gather(*(replicas[i % len(replicas)].request(
        "POST", "/redeem", json=body, headers={"X-Session-Id": sid}) for i in range(6)))
    assert all(r.status < 500 for r in responses), [r.status for r in responses]
    successes = [r for r in responses if r.status == 200 and (await r.json())["result"] == "Success"]
    assert len(successes) == 1                   # 2 x 30.00 would take more than the cart's 59.50
    assert _paid(replicas[0], sid) == 3000


async def test_a_card_payment_and_a_redeem_racing_on_one_cart_never_overpay(replicas: list[HostShortcuts]) -> None:
    for _ in range(3):
        card_session = replicas[0].session("mock-slow", amount=TOTAL)
        cart_id = replicas[0].ct.get_session(card_session)["activeCart"]["cartRef"]["id"]  # type: ignore[index]
        gift_session = replicas[0].ct.create_session(cart_id, {"paymentInterface": "mock-giftcard-provider"})["id"]
        pay, redeem = await asyncio.gather(
            replicas[0].pay(card_session),
            replicas[-1].request("POST", "/redeem", json={"code": "GC-100", "redeemAmount": _money(2000)},
                                 headers={"X-Session-Id": gift_session}))
        assert pay.status < 500 and redeem.status < 500, (pay.status, redeem.status)
        assert _paid(replicas[0], card_session) <= TOTAL


# -- a PSP's event above what was captured (issue 17) -------------------------------------------------

def _sandbox_event(pid: str, reference: str, tx_type: str, cents: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": f"evt-{reference}", "type": tx_type.lower(), "paymentId": pid, "pspReference": reference,
                       "transactionType": tx_type, "state": "Success", "amount": _money(cents)}).encode()
    return body, {"Sandbox-Signature": sign(DEV_WEBHOOK_SECRET, body, int(time.time()))}


def _flagged() -> float:
    return float(metrics.EVENTS_FLAGGED.labels("card", "refund_above_charge")._value.get())


async def test_a_refund_event_above_the_capture_is_flagged_until_the_capture_is_recorded(
        money_host: Callable[..., Awaitable[HostClient]]) -> None:
    """A PSP reports a 25.00 refund of a payment commercetools shows captured for 20.00 (its event for a
    second, dashboard capture is still on its way): the refund is not recorded, the PSP is told 409 and the
    Payment says why; once the capture's event arrives the redelivered refund is recorded."""
    host = await money_host(INSTANCES)
    pid = await _authorized(host)
    assert (await (await host.intent(pid, {"action": "capturePayment", "amount": _money(2000)})).json())["outcome"] \
        == "approved"
    before = _flagged()
    refund = _sandbox_event(pid, "re-dashboard", "Refund", 2500)

    first = await host.post_webhook("card", *refund)
    assert first.status == 409, await first.text()
    flagged = host.payment(pid)
    assert _total(flagged, "Refund") == 0                                     # not recorded blindly
    assert "re-dashboard" in flagged["paymentStatus"]["interfaceText"]        # visible on the Payment
    assert _flagged() == before + 1
    assert (await host.post_webhook("card", *refund)).status == 409           # redelivered: still held back
    assert host.payment(pid)["version"] == flagged["version"]                 # and marked once

    assert (await host.post_webhook("card", *_sandbox_event(pid, "ch-dashboard", "Charge", 1000))).status == 200
    assert (await host.post_webhook("card", *refund)).status == 200
    settled = host.payment(pid)
    assert (_total(settled, "Charge"), _total(settled, "Refund")) == (3000, 2500)
    assert (await host.post_webhook("card", *refund)).status == 200           # once more: nothing changes
    assert host.payment(pid)["version"] == settled["version"]
