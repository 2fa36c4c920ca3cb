"""The sandbox PSP keeps its books in commercetools: an attempt whose answer the host never recorded is
settled by a reconcile pass of another host (a restart, or another replica), on both commercetools.

The PSP's answer is lost with ``lostRate: 1`` (the PSP does what it is asked, then times out): the host
leaves its reservation ``Initial``, exactly as if it had died between the PSP call and its write.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from host.flows.reconcile import Settled, reconcile_once
from host.keys import CT, ROUTER
from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
LOST = {"lostRate": 1, "timeout": 0}


def card(**settings: Any) -> str:
    return f"card: {json.dumps({'plugin': 'sandbox', 'paymentInterface': 'sandbox-card', 'settings': settings})}\n"


async def reconcile_pass(host: HostClient) -> list[Settled]:
    """One pass, as the reconciler runs it once the horizon has passed."""
    return await reconcile_once(host.app[CT], host.app[ROUTER], horizon=0,
                                now=datetime.now(UTC) + timedelta(seconds=1))


def transactions(payment: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [t for t in payment["transactions"] if t["type"] == type_]


async def test_an_authorization_whose_answer_was_lost_is_found_after_a_restart(money_host: MakeHost) -> None:
    lossy = await money_host(card(**LOST))
    resp = await lossy.pay(lossy.session("sandbox-card", amount=5950))
    assert resp.status == 504, await resp.text()
    (payment,) = lossy.ct.payments()
    (auth,) = transactions(payment, "Authorization")
    assert auth["state"] == "Initial" and not auth.get("interactionId") and not payment.get("interfaceId")
    await lossy.close()                       # the host that called the PSP is gone

    restarted = await money_host(card())
    settled = await reconcile_pass(restarted)
    assert [(s.payment_id, s.after and s.after.value) for s in settled] == [(payment["id"], "Success")]
    after = restarted.payment(payment["id"])
    (auth,) = transactions(after, "Authorization")
    assert auth["state"] == "Success" and auth["amount"]["centAmount"] == 5950
    assert auth["interactionId"].startswith("sandbox-") and after["interfaceId"] == auth["interactionId"]
    assert await reconcile_pass(restarted) == []            # nothing left undecided


async def test_an_attempt_that_never_reached_the_psp_is_marked_failed_and_frees_the_cart(
        money_host: MakeHost) -> None:
    down = await money_host(card(errorRate=1))
    session = down.session("sandbox-card", amount=5950)
    resp = await down.pay(session)
    assert resp.status == 502, await resp.text()
    (payment,) = down.ct.payments()
    assert transactions(payment, "Authorization")[0]["state"] == "Initial"
    await down.close()

    restarted = await money_host(card())
    blocked = await restarted.pay(session)
    assert blocked.status == 409, await blocked.text()      # the undecided attempt holds the cart's amount
    settled = await reconcile_pass(restarted)
    assert [(s.payment_id, s.after and s.after.value) for s in settled] == [(payment["id"], "Failure")]
    assert transactions(restarted.payment(payment["id"]), "Authorization")[0]["state"] == "Failure"
    paid = await restarted.pay(session)
    assert paid.status == 200, await paid.text()


async def test_a_capture_whose_answer_was_lost_is_found_by_another_replica(money_host: MakeHost) -> None:
    replica = await money_host(card())
    lossy = await money_host(card(**LOST))
    pid = (await (await replica.pay(replica.session("sandbox-card", amount=5950))).json())["paymentReference"]
    capture = {"action": "capturePayment", "amount": {"centAmount": 2000, "currencyCode": "EUR"}}
    resp = await lossy.intent(pid, capture)
    assert resp.status == 504, await resp.text()
    (charge,) = transactions(replica.payment(pid), "Charge")
    assert charge["state"] == "Initial"
    refused = await replica.intent(pid, {**capture, "amount": {"centAmount": 3951, "currencyCode": "EUR"}})
    assert refused.status == 400                            # the lost capture still counts against the limit
    await lossy.close()

    settled = await reconcile_pass(replica)
    assert [(s.payment_id, s.type.value, s.after and s.after.value) for s in settled] == [(pid, "Charge", "Success")]
    (charge,) = transactions(replica.payment(pid), "Charge")
    assert charge["state"] == "Success" and charge["interactionId"].startswith("sandbox-capture-")
    rest = await replica.intent(pid, {**capture, "amount": {"centAmount": 3950, "currencyCode": "EUR"}})
    assert (await rest.json()) == {"outcome": "approved"}
    charged = sum(t["amount"]["centAmount"] for t in transactions(replica.payment(pid), "Charge")
                  if t["state"] == "Success")
    assert charged == 5950


async def test_a_replayed_capture_on_another_replica_answers_the_first_result(money_host: MakeHost) -> None:
    """The same Idempotency-Key on two replicas: the second host's PSP call finds the first one's in the books."""
    first = await money_host(card(**LOST))
    second = await money_host(card())
    pid = (await (await second.pay(second.session("sandbox-card", amount=5950))).json())["paymentReference"]
    capture = {"action": "capturePayment", "amount": {"centAmount": 2000, "currencyCode": "EUR"}}
    assert (await first.intent(pid, capture, **{"Idempotency-Key": "cap-1"})).status == 504
    again = await second.intent(pid, capture, **{"Idempotency-Key": "cap-1"})
    assert (await again.json()) == {"outcome": "approved"}
    (charge,) = transactions(second.payment(pid), "Charge")
    assert (charge["state"], charge["amount"]["centAmount"]) == ("Success", 2000)
    assert charge["interactionId"].startswith("sandbox-capture-")


async def test_books_in_memory_forget_what_another_process_did(money_host: MakeHost) -> None:
    """``books: memory`` (for benchmarks): each process is its own PSP, so a restart forgets."""
    lossy = await money_host(card(books="memory", **LOST))
    assert (await lossy.pay(lossy.session("sandbox-card"))).status == 504
    await lossy.close()
    restarted = await money_host(card(books="memory"))
    settled = await reconcile_pass(restarted)
    assert [s.after and s.after.value for s in settled] == ["Failure"]
