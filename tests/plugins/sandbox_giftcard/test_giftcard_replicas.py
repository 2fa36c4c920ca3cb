"""The gift-card sandbox's ledger is shared by every replica (it lives in commercetools): two host processes
never spend more than a card holds, and a redemption whose answer was lost is found after a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from host.flows.reconcile import reconcile_once
from host.keys import CT, ROUTER
from host.testing import Commercetools, HostClient, HostProcess

CARDS = {"SHARED-10": {"balance": 1000, "currency": "EUR"}}


def gift(**settings: Any) -> str:
    instance = {"plugin": "sandbox_giftcard", "paymentInterface": "gift", "settings": {"cards": CARDS, **settings}}
    return f"gift: {json.dumps(instance)}\n"


def charged(ct: Commercetools) -> list[int]:
    """The Charges in Success on every Payment, in minor units."""
    return [t["amount"]["centAmount"] for p in ct.payments() for t in p["transactions"]
            if t["type"] == "Charge" and t["state"] == "Success"]


async def balance(host: HostProcess | HostClient) -> int:
    resp = await host.balance(host.session("gift", amount=1000), "SHARED-10")
    body = await resp.json()
    return int(body["amount"]["centAmount"]) if resp.status == 200 else 0


async def test_two_replicas_never_spend_more_than_the_card_holds(
        host_process: Callable[..., Awaitable[HostProcess]]) -> None:
    """The issue's "two replicas spend 12.00 from a 10.00 card": 4 redemptions of 6.00, two on each of two
    host processes at once, from a 10.00 card. One succeeds."""
    a, b = await asyncio.gather(host_process(gift()), host_process(gift()))
    assert await balance(a) == await balance(b) == 1000      # as Checkout does, the balance first
    redeems = [host.redeem(host.session("gift", amount=600), "SHARED-10", 600) for host in (a, b, a, b)]
    answers = [await r.json() for r in await asyncio.gather(*redeems)]
    assert sorted(answer["result"] for answer in answers) == ["Failure", "Failure", "Failure", "Success"], answers
    assert charged(a.ct) == [600]
    assert await balance(a) == await balance(b) == 400


async def test_a_redemption_whose_answer_was_lost_is_found_after_a_restart(
        money_host: Callable[..., Awaitable[HostClient]]) -> None:
    lossy = await money_host(gift(lostRate=1))
    resp = await lossy.redeem(lossy.session("gift", amount=1000), "SHARED-10", 400)
    assert resp.status == 504, await resp.text()
    (payment,) = lossy.ct.payments()
    assert [t["state"] for t in payment["transactions"]] == ["Initial"]
    await lossy.close()

    restarted = await money_host(gift())
    assert await balance(restarted) == 600                   # taken once, by the call whose answer was lost
    settled = await reconcile_once(restarted.app[CT], restarted.app[ROUTER], horizon=0,
                                   now=datetime.now(UTC) + timedelta(seconds=1))
    assert [(s.payment_id, s.after and s.after.value) for s in settled] == [(payment["id"], "Success")]
    after = restarted.payment(payment["id"])
    (charge,) = after["transactions"]
    assert (charge["type"], charge["state"], charge["amount"]["centAmount"]) == ("Charge", "Success", 400)
    assert charge["interactionId"].startswith("giftcard-redemption-")
    assert after["interfaceId"] == charge["interactionId"]
    refund = {"action": "refundPayment", "amount": {"centAmount": 400, "currencyCode": "EUR"}}
    assert (await (await restarted.intent(payment["id"], refund)).json()) == {"outcome": "approved"}
    assert await balance(restarted) == 1000
