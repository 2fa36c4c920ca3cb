"""``POST /confirmPayments/{paymentId}``: the enabler's word is checked with Stripe (localstripe) first."""

from __future__ import annotations

from typing import Any

import stripe

from host.testing import HostClient


async def _payment(host: HostClient, session: str, pm: str = "pm_card_visa") -> dict[str, Any]:
    answer = await (await host.pay(session, {"paymentMethod": {"type": "payment", "id": pm}})).json()
    payment = host.payment(answer["paymentReference"])
    return {"id": payment["id"], "pi": payment["interfaceId"], "version": payment["version"]}


async def _confirm(host: HostClient, session: str, payment_id: str, pi: str) -> Any:
    return await host.client.post(f"/confirmPayments/{payment_id}", json={"paymentIntent": pi},
                                  headers={"X-Session-Id": session})


def _txs(host: HostClient, payment_id: str) -> list[tuple[str, str, int]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"]) for t in host.payment(payment_id)["transactions"]]


async def test_a_confirmed_payment_intent_authorizes_the_payment_once(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(build.instance_yaml(localstripe))
    session = host.session("stripe-eu", amount=2100)
    payment = await _payment(host, session)
    await browser.v1.payment_intents.confirm_async(payment["pi"])          # what Stripe.js does
    resp = await _confirm(host, session, payment["id"], payment["pi"])
    assert resp.status == 200 and await resp.json() == {"outcome": "approved"}
    assert _txs(host, payment["id"]) == [("Authorization", "Success", 2100)]
    version = host.payment(payment["id"])["version"]
    again = await _confirm(host, session, payment["id"], payment["pi"])    # a second click records nothing
    assert again.status == 200 and host.payment(payment["id"])["version"] == version


async def test_an_unconfirmed_or_foreign_payment_intent_is_rejected_and_writes_nothing(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(build.instance_yaml(localstripe))
    session = host.session("stripe-eu", amount=1500)
    payment = await _payment(host, session)
    other = await _payment(host, host.session("stripe-eu", amount=1500))
    await browser.v1.payment_intents.confirm_async(other["pi"])
    for pi in (payment["pi"], other["pi"], "pi_nope", None):     # not confirmed yet, not its own, unknown, none
        resp = await _confirm(host, session, payment["id"], pi)
        assert resp.status == 400, pi
        assert await resp.json() == {"outcome": "rejected", "error": "Payment confirmation failed"}
    assert host.payment(payment["id"])["version"] == payment["version"]
    # another cart's Payment cannot be confirmed with this session, even with its own PaymentIntent
    resp = await _confirm(host, session, other["id"], other["pi"])
    assert resp.status == 400 and host.payment(other["id"])["version"] == other["version"]
