"""Two Stripe accounts (instances) in one host, against localstripe: each Payment on its own instance,
each webhook URL verified with its own secret only."""

from __future__ import annotations

import json
import time
from typing import Any

from host import TxType


def _instances(localstripe: str, build: Any) -> str:
    return str(build.two_accounts_yaml(localstripe))


def _event(payment_id: str, charge: str, cents: int) -> bytes:
    return json.dumps({"id": f"evt_{time.time_ns()}", "object": "event", "type": "charge.captured",
                       "created": int(time.time()), "livemode": False, "api_version": "2025-12-15.clover",
                       "data": {"object": {"id": charge, "object": "charge", "amount": cents,
                                           "amount_captured": cents, "currency": "eur",
                                           "metadata": {"ct_payment_id": payment_id}}}}).encode()


async def test_two_stripe_accounts_in_one_host(connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(_instances(localstripe, build))
    body = {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}}
    eu = await (await host.pay(host.session("stripe-eu", amount=1500), body)).json()
    us = await (await host.pay(host.session("stripe-us", amount=2500), body)).json()
    assert eu["clientSecret"] and us["clientSecret"]
    eu_payment, us_payment = host.payment(eu["paymentReference"]), host.payment(us["paymentReference"])
    assert eu_payment["paymentMethodInfo"]["paymentInterface"] == "stripe-eu"
    assert us_payment["paymentMethodInfo"]["paymentInterface"] == "stripe-us"
    assert eu_payment["interfaceId"].startswith("pi_") and eu_payment["interfaceId"] != us_payment["interfaceId"]
    for tx in (eu_payment["transactions"], us_payment["transactions"]):
        assert [(t["type"], t["state"]) for t in tx] == [(TxType.AUTHORIZATION.value, "Initial")]

    event = _event(eu["paymentReference"], "ch_eu_1", 1500)
    signed_eu = {"Stripe-Signature": build.sign(event)}
    # the EU account's event, signed with the EU secret, is refused at the US instance's URL...
    assert (await host.post_webhook("stripe-us", event, signed_eu)).status == 401
    assert host.payment(eu["paymentReference"])["version"] == eu_payment["version"]
    # ...and accepted at its own, once
    assert (await host.post_webhook("stripe-eu", event, signed_eu)).status == 200
    recorded = host.payment(eu["paymentReference"])
    assert (TxType.CHARGE.value, "Success", 1500) in [(t["type"], t["state"], t["amount"]["centAmount"])
                                                      for t in recorded["transactions"]]
    assert (await host.post_webhook("stripe-eu", event, signed_eu)).status == 200
    assert host.payment(eu["paymentReference"])["version"] == recorded["version"]
    # an event of the US account naming an EU Payment is acknowledged but never touches it
    us_event = _event(eu["paymentReference"], "ch_us_x", 1500)
    resp = await host.post_webhook("stripe-us", us_event, {"Stripe-Signature": build.sign(
        us_event, secret="whsec_us_other_secret")})
    assert resp.status == 200
    assert host.payment(eu["paymentReference"])["version"] == recorded["version"]
