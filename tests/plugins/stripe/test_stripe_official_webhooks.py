"""A Stripe endpoint subscribed exactly like the official connector's, pointed at connector-host (issue 17).

The official path ``POST /stripe/webhooks`` serves every Stripe instance: the instance whose own secret
verifies the raw bytes handles the delivery. Only the official event list is sent (charge.succeeded,
charge.updated, charge.refunded, payment_intent.*), and the resulting commercetools Payment is compared
with what shared/STRIPE.md §3.3 says the official connector writes.

localstripe emits only ``payment_intent.succeeded``/``payment_failed`` itself, so the other events are built
from its live objects and signed with the instance's ``whsec_…`` as Stripe signs them. Its Charge lacks two
fields Stripe sends (``amount_captured``, ``payment_method_details``): they are filled in as Stripe would.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
import stripe
from aioresponses import CallbackResult, aioresponses
from prometheus_client import REGISTRY
from yarl import URL

from host.errors import ConfigError

US_SECRET = "whsec_us_other_secret"


def _instances(localstripe: str, build: Any, us_secret: str = US_SECRET) -> str:
    return str(build.two_accounts_yaml(localstripe, us_secret))


def event(event_type: str, obj: dict[str, Any], **data: Any) -> bytes:
    return json.dumps({"id": f"evt_{time.time_ns()}", "object": "event", "type": event_type,
                       "api_version": "2025-12-15.clover", "created": int(time.time()), "livemode": False,
                       "data": {"object": obj, **data}}).encode()


async def deliver(host: Any, body: bytes, secret: str | None, build: Any) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Stripe-Signature"] = build.sign(body, secret)
    return await host.request("POST", "/stripe/webhooks", data=body, headers=headers)


async def stripe_charge(browser: stripe.StripeClient, pi_id: str, *, captured: int) -> dict[str, Any]:
    """The PaymentIntent's Charge as a Stripe event carries it (localstripe's, with Stripe's missing fields)."""
    pi = await browser.v1.payment_intents.retrieve_async(pi_id)
    charge = (await browser.v1.charges.retrieve_async(pi.latest_charge.id)).to_dict()
    charge.pop("refunds", None)                     # clover payloads carry no refunds list
    return {**charge, "amount_captured": captured, "captured": captured > 0, "payment_intent": pi_id,
            "metadata": pi.to_dict().get("metadata") or {},   # Stripe copies the PaymentIntent's metadata
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}}}


def unverified(instance_id: str) -> float:
    return REGISTRY.get_sample_value("connector_host_webhook_verifications_failed_total",
                                     {"instance_id": instance_id}) or 0.0


def txs(payment: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"]) for t in payment["transactions"]]


async def paid(host: Any, browser: stripe.StripeClient, interface: str, amount: int) -> tuple[str, str]:
    """A Payment created by ``POST /payments`` and confirmed in the browser: (Payment id, PaymentIntent id)."""
    resp = await host.pay(host.session(interface, amount=amount), {"paymentMethod": {"type": "payment",
                                                                                     "id": "pm_card_visa"}})
    assert resp.status == 200, await resp.text()
    payment_id = (await resp.json())["paymentReference"]
    pi_id = host.payment(payment_id)["interfaceId"]
    await browser.v1.payment_intents.confirm_async(pi_id)
    return payment_id, pi_id


@pytest.mark.localstripe
async def test_the_official_path_hands_each_delivery_to_the_instance_whose_secret_verifies_it(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(_instances(localstripe, build))
    eu, eu_pi = await paid(host, browser, "stripe-eu", 1500)
    us, us_pi = await paid(host, browser, "stripe-us", 2500)
    eu_event = event("charge.succeeded", await stripe_charge(browser, eu_pi, captured=0))
    us_event = event("charge.succeeded", await stripe_charge(browser, us_pi, captured=2500))
    before = host.payment(eu)["version"], host.payment(us)["version"]

    missing = await deliver(host, eu_event, None, build)
    assert missing.status == 401 and (await missing.json())["error"] == "invalid_token"
    assert (await deliver(host, eu_event, "whsec_nobody_has_this", build)).status == 401
    tampered = eu_event.replace(b'"amount": 1500', b'"amount": 15')
    assert tampered != eu_event
    tampered_resp = await host.request("POST", "/stripe/webhooks", data=tampered, headers={
        "Stripe-Signature": build.sign(eu_event), "Content-Type": "application/json"})
    assert tampered_resp.status == 401
    assert (host.payment(eu)["version"], host.payment(us)["version"]) == before

    # metrics: a delivery nobody verifies is a failure at each instance; stripe-eu turning down a delivery
    # that stripe-us then verifies is no failure (an alert on the counter would fire for every US event)
    refused_so_far = {i: unverified(i) for i in ("stripe-eu", "stripe-us")}
    assert (await deliver(host, eu_event, build.WEBHOOK_SECRET, build)).status == 200
    assert (await deliver(host, us_event, US_SECRET, build)).status == 200
    assert {i: unverified(i) for i in ("stripe-eu", "stripe-us")} == refused_so_far
    assert refused_so_far["stripe-eu"] >= 3 and refused_so_far["stripe-us"] >= 3     # the three refusals above
    assert txs(host.payment(eu)) == [("Authorization", "Success", 1500)]
    assert txs(host.payment(us)) == [("Authorization", "Success", 2500), ("Charge", "Success", 2500)]
    assert host.payment(eu)["paymentMethodInfo"] == {"paymentInterface": "stripe-eu", "method": "card"}
    # the per-instance URL still works, and an EU delivery there for the US instance is still refused
    resp = await host.post_webhook("stripe-us", eu_event, {"Stripe-Signature": build.sign(eu_event)})
    assert resp.status == 401


async def test_two_instances_with_one_signing_secret_stop_start_up(connector_host: Any, build: Any) -> None:
    """Which of the two a delivery to /stripe/webhooks belongs to could not be told."""
    with pytest.raises(ConfigError, match="same webhook signing secret"):
        await connector_host(_instances("http://127.0.0.1:9", build, us_secret=build.WEBHOOK_SECRET))


@pytest.mark.localstripe
async def test_official_subscription_authorize_capture_dashboard_refunds_and_cancel(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    """Manual capture, driven by Checkout's calls and the official event list only.

    The official connector (STRIPE.md §3.3, multi-operations off) ends this payment with: Authorization
    Success, Charge Success 1000 (interactionId pi), Refund Success 400 (pi, the cumulative amount) plus a
    Chargeback Success 400, method ``card``. Ours ends with the same Authorization, Charge and method, the
    refund under its own ``re_…`` id and no Chargeback (docs/plugins/stripe.md, "Webhooks"); a second
    Dashboard refund that Stripe shows above what was captured is flagged, not recorded. The cancelled
    payment: the official one writes Authorization Failure + CancelAuthorization (amount 0); ours keeps the
    Authorization Success and writes CancelAuthorization Success for the authorized amount.
    """
    host = await connector_host(_instances(localstripe, build))
    payment_id, pi_id = await paid(host, browser, "stripe-eu", 1000)
    assert host.payment(payment_id)["paymentMethodInfo"]["method"] == "payment"      # the component, for now

    succeeded = event("charge.succeeded", await stripe_charge(browser, pi_id, captured=0))
    for _ in range(2):                                                                # a redelivery too
        assert (await deliver(host, succeeded, build.WEBHOOK_SECRET, build)).status == 200
    authorized = host.payment(payment_id)
    assert txs(authorized) == [("Authorization", "Success", 1000)]
    assert authorized["paymentMethodInfo"]["method"] == "card"                        # what the shopper used
    assert (await deliver(host, event("payment_intent.requires_action",
                                      (await browser.v1.payment_intents.retrieve_async(pi_id)).to_dict()),
                          build.WEBHOOK_SECRET, build)).status == 200
    assert host.payment(payment_id)["version"] == authorized["version"]              # logged, nothing written

    capture = await host.intent(payment_id, {"action": "capturePayment",
                                             "amount": {"centAmount": 1000, "currencyCode": "EUR"}})
    assert (await capture.json())["outcome"] == "approved"
    captured = host.payment(payment_id)
    pi = (await browser.v1.payment_intents.retrieve_async(pi_id)).to_dict()
    assert (await deliver(host, event("payment_intent.succeeded", pi), build.WEBHOOK_SECRET, build)).status == 200
    assert host.payment(payment_id)["version"] == captured["version"]                # consolidated, not doubled

    refund = await browser.v1.refunds.create_async({"payment_intent": pi_id, "amount": 400})   # the Dashboard
    refunded = event("charge.refunded", await stripe_charge(browser, pi_id, captured=1000))
    for _ in range(2):
        assert (await deliver(host, refunded, build.WEBHOOK_SECRET, build)).status == 200
    done = host.payment(payment_id)
    assert txs(done) == [("Authorization", "Success", 1000), ("Charge", "Success", 1000),
                         ("Refund", "Success", 400)]
    assert [t["interactionId"] for t in done["transactions"]][2] == refund.id
    assert not any(t["type"] == "Chargeback" for t in done["transactions"])

    # localstripe, unlike Stripe, lets a refund go above the charge: what Stripe's own objects show
    # beyond what was captured is flagged (409, so Stripe delivers again) and never recorded as Success
    await browser.v1.refunds.create_async({"payment_intent": pi_id, "amount": 900})
    again = await deliver(host, event("charge.refunded", await stripe_charge(browser, pi_id, captured=1000)),
                          build.WEBHOOK_SECRET, build)
    assert again.status == 409
    flagged = host.payment(payment_id)
    assert txs(flagged) == txs(done)
    assert "above the captured amount" in flagged["paymentStatus"]["interfaceText"]

    other_id, other_pi = await paid(host, browser, "stripe-eu", 700)
    assert (await deliver(host, event("charge.succeeded", await stripe_charge(browser, other_pi, captured=0)),
                          build.WEBHOOK_SECRET, build)).status == 200
    cancel = await host.intent(other_id, {"action": "cancelPayment"})
    assert (await cancel.json())["outcome"] == "approved"
    cancelled = host.payment(other_id)
    canceled_pi = (await browser.v1.payment_intents.retrieve_async(other_pi)).to_dict()
    assert (await deliver(host, event("payment_intent.canceled", canceled_pi), build.WEBHOOK_SECRET,
                          build)).status == 200
    assert host.payment(other_id)["version"] == cancelled["version"]
    assert txs(cancelled) == [("Authorization", "Success", 700), ("CancelAuthorization", "Success", 700)]


# -- multicapture: recorded Stripe responses ---------------------------------------------------------

API = "https://api.stripe.com"
MC_PI = "pi_3MultiCaptureABC"
MC_CHARGE = "ch_3MultiCaptureABC"


def mc_intent(status: str, received: int, **fields: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe answers it under 2025-12-15.clover (its latest_charge an id, not expanded)."""
    return {"id": MC_PI, "object": "payment_intent", "amount": 10000, "amount_capturable": 10000 - received,
            "amount_received": received, "capture_method": "manual", "client_secret": f"{MC_PI}_secret_x",
            "currency": "eur", "latest_charge": MC_CHARGE, "livemode": False, "metadata": {},
            "payment_method_types": ["card"], "status": status, **fields}


def mc_charge(captured: int, multicapture: str = "available", **fields: Any) -> dict[str, Any]:
    return {"id": MC_CHARGE, "object": "charge", "amount": 10000, "amount_captured": captured,
            "amount_refunded": 0, "captured": captured > 0, "currency": "eur", "payment_intent": MC_PI,
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242",
                                                                "multicapture": {"status": multicapture}}},
            "metadata": {}, "status": "succeeded", **fields}


def mc_yaml(build: Any) -> str:
    """A manual-capture instance with ``multicapture: true`` on Stripe's API (answered by aioresponses)."""
    return (f"stripe-mc:\n  plugin: stripe\n  paymentInterface: stripe-mc\n  captureMethod: manual\n"
            f"  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},\n"
            f"             webhookSecret: {build.WEBHOOK_SECRET}, multicapture: true}}\n")


def mock_retrieve(mocked: Any, multicapture: str = "available") -> None:
    """``GET /v1/payment_intents/{id}?expand[]=latest_charge``, read before a partial capture."""
    mocked.get(re.compile(rf"^{re.escape(API)}/v1/payment_intents/{MC_PI}\?.*"), repeat=True,
               payload=mc_intent("requires_capture", 0, latest_charge=mc_charge(0, multicapture)))


def sent(mocked: Any, url: str) -> list[dict[str, list[str]]]:
    return [parse_qs(call.kwargs["data"]) for (verb, target), calls in mocked.requests.items()
            if verb.upper() == "POST" and target == URL(url) for call in calls]


async def test_multicapture_two_partial_captures_then_a_dashboard_refund(connector_host: Any, build: Any) -> None:
    """localstripe refuses ``final_capture`` and captures a PaymentIntent once, so Stripe's multicapture
    answers are recorded here (aioresponses). ``multicapture: true`` asks for ``request_multicapture``,
    sends ``final_capture: false`` while part of the authorization is left, and lets the host capture again
    within the authorized amount; each capture and its ``charge.updated`` count once."""

    host = await connector_host(mc_yaml(build))
    capture_url = f"{API}/v1/payment_intents/{MC_PI}/capture"
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        mocked.post(f"{API}/v1/payment_intents", payload=mc_intent("requires_payment_method", 0))
        mock_retrieve(mocked)
        mocked.post(capture_url, payload=mc_intent("requires_capture", 3000))
        mocked.post(capture_url, payload=mc_intent("requires_capture", 5000))
        mocked.get(f"{API}/v1/refunds?charge={MC_CHARGE}&limit=100", payload={
            "object": "list", "has_more": False, "url": "/v1/refunds", "data": [
                {"id": "re_3Dashboard1", "object": "refund", "amount": 1500, "currency": "eur",
                 "charge": MC_CHARGE, "payment_intent": MC_PI, "status": "succeeded", "metadata": {}}]})
        resp = await host.pay(host.session("stripe-mc", amount=10000), {"paymentMethod": {"type": "payment"}})
        assert resp.status == 200, await resp.text()
        payment_id = (await resp.json())["paymentReference"]
        (create,) = sent(mocked, f"{API}/v1/payment_intents")
        assert create["payment_method_options[card][request_multicapture]"] == ["if_available"]

        succeeded = event("charge.succeeded", mc_charge(0))
        assert (await deliver(host, succeeded, build.WEBHOOK_SECRET, build)).status == 200

        async def capture(cents: int) -> Any:
            return await host.intent(payment_id, {"action": "capturePayment",
                                                  "amount": {"centAmount": cents, "currencyCode": "EUR"}})

        assert (await (await capture(3000)).json())["outcome"] == "approved"
        assert (await (await capture(2000)).json())["outcome"] == "approved"
        over = await capture(5001)                             # 5000 left: refused before Stripe is called
        assert over.status == 400 and "capturable 5000" in (await over.json())["message"]
        first, second = sent(mocked, capture_url)
        assert (first["amount_to_capture"], first["final_capture"]) == (["3000"], ["false"])
        assert (second["amount_to_capture"], second["final_capture"]) == (["2000"], ["false"])

        captured = host.payment(payment_id)
        for before, after in ((0, 3000), (3000, 5000)):        # the official connector's charge.updated
            updated = event("charge.updated", mc_charge(after), previous_attributes={"amount_captured": before})
            assert (await deliver(host, updated, build.WEBHOOK_SECRET, build)).status == 200
        assert host.payment(payment_id)["version"] == captured["version"]

        refunded = event("charge.refunded", mc_charge(5000, amount_refunded=1500))
        assert (await deliver(host, refunded, build.WEBHOOK_SECRET, build)).status == 200
    done = host.payment(payment_id)
    assert txs(done) == [("Authorization", "Success", 10000), ("Charge", "Success", 3000),
                         ("Charge", "Success", 2000), ("Refund", "Success", 1500)]
    assert [t.get("interactionId") for t in done["transactions"]] == [MC_PI, MC_CHARGE, f"{MC_CHARGE}:5000",
                                                                       "re_3Dashboard1"]
    assert done["paymentMethodInfo"]["method"] == "card"


@pytest.mark.localstripe
async def test_without_multicapture_a_second_capture_is_refused(connector_host: Any, localstripe: str,
                                                                build: Any, browser: stripe.StripeClient) -> None:
    host = await connector_host(build.instance_yaml(localstripe))
    payment_id, pi_id = await paid(host, browser, "stripe-eu", 1000)
    assert (await deliver(host, event("charge.succeeded", await stripe_charge(browser, pi_id, captured=0)),
                          build.WEBHOOK_SECRET, build)).status == 200
    amount = {"centAmount": 400, "currencyCode": "EUR"}
    assert (await (await host.intent(payment_id, {"action": "capturePayment", "amount": amount})).json()
            )["outcome"] == "approved"
    again = await host.intent(payment_id, {"action": "capturePayment", "amount": amount})
    assert again.status == 400 and "only once" in (await again.json())["message"]


@pytest.mark.localstripe
async def test_events_in_any_order_end_in_the_same_payment(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    """Stripe does not order deliveries. An automatic-capture payment refunded in the Dashboard, its events
    delivered backwards (the refund first, while commercetools shows no capture yet), ends as in order."""
    host = await connector_host(_instances(localstripe, build))
    payments = [await paid(host, browser, "stripe-us", 2000) for _ in range(2)]
    for _, pi_id in payments:
        await browser.v1.refunds.create_async({"payment_intent": pi_id, "amount": 500})

    async def events(pi_id: str) -> list[bytes]:
        pi = (await browser.v1.payment_intents.retrieve_async(pi_id)).to_dict()
        charge = await stripe_charge(browser, pi_id, captured=2000)
        return [event("charge.succeeded", charge), event("payment_intent.succeeded", pi),
                event("charge.refunded", charge)]

    (in_order, _), (backwards, _) = payments
    for body in await events(payments[0][1]):
        assert (await deliver(host, body, US_SECRET, build)).status == 200
    for body in reversed(await events(payments[1][1])):
        assert (await deliver(host, body, US_SECRET, build)).status == 200
    expected = [("Authorization", "Success", 2000), ("Charge", "Success", 2000), ("Refund", "Success", 500)]
    assert sorted(txs(host.payment(in_order))) == sorted(txs(host.payment(backwards))) == sorted(expected)
    assert host.payment(backwards)["paymentMethodInfo"]["method"] == "card"


async def test_concurrent_multicaptures_never_exceed_the_authorization(connector_host: Any, build: Any) -> None:
    """Recorded Stripe answers (localstripe has no multicapture): four captures of 30.00 race on 100.00
    authorized; the host's reservations let at most three reach Stripe, whatever the order."""
    host = await connector_host(mc_yaml(build))
    received = [0]

    def captured(url: Any, **kwargs: Any) -> Any:
        received[0] += int(parse_qs(kwargs["data"])["amount_to_capture"][0])
        return CallbackResult(payload=mc_intent("requires_capture", received[0]))

    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        mocked.post(f"{API}/v1/payment_intents", payload=mc_intent("requires_payment_method", 0))
        mocked.post(f"{API}/v1/payment_intents/{MC_PI}/capture", callback=captured, repeat=True)
        mock_retrieve(mocked)
        resp = await host.pay(host.session("stripe-mc", amount=10000), {"paymentMethod": {"type": "payment"}})
        payment_id = (await resp.json())["paymentReference"]
        assert (await deliver(host, event("charge.succeeded", mc_charge(0)), build.WEBHOOK_SECRET,
                              build)).status == 200
        amount = {"centAmount": 3000, "currencyCode": "EUR"}
        answers = await asyncio.gather(*(host.intent(payment_id, {"action": "capturePayment", "amount": amount})
                                         for _ in range(4)))
    approved = [r for r in answers if r.status == 200 and (await r.json())["outcome"] == "approved"]
    assert len(approved) == 3 and received[0] == 9000
    charges = [t for t in host.payment(payment_id)["transactions"] if t["type"] == "Charge"]
    assert sum(t["amount"]["centAmount"] for t in charges if t["state"] == "Success") == 9000
    assert len({t["interactionId"] for t in charges}) == 3


async def test_where_stripe_offers_no_multicapture_the_capture_is_final(connector_host: Any, build: Any) -> None:
    """Recorded answers (localstripe has no multicapture): Stripe decides per card (``if_available``); a card
    without it gets no ``final_capture: false``, so Stripe releases the rest as for any partial capture."""
    host = await connector_host(mc_yaml(build))
    capture_url = f"{API}/v1/payment_intents/{MC_PI}/capture"
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        mocked.post(f"{API}/v1/payment_intents", payload=mc_intent("requires_payment_method", 0))
        mock_retrieve(mocked, multicapture="unavailable")
        mocked.post(capture_url, payload=mc_intent("succeeded", 3000))
        resp = await host.pay(host.session("stripe-mc", amount=10000), {"paymentMethod": {"type": "payment"}})
        payment_id = (await resp.json())["paymentReference"]
        assert (await deliver(host, event("charge.succeeded", mc_charge(0, "unavailable")), build.WEBHOOK_SECRET,
                              build)).status == 200
        answer = await host.intent(payment_id, {"action": "capturePayment",
                                                "amount": {"centAmount": 3000, "currencyCode": "EUR"}})
        assert (await answer.json())["outcome"] == "approved"
        (sent_capture,) = sent(mocked, capture_url)
    assert "final_capture" not in sent_capture and sent_capture["amount_to_capture"] == ["3000"]


@pytest.mark.localstripe
async def test_the_shared_path_costs_what_the_instance_path_costs(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    """An EU delivery at /stripe/webhooks is first tried by the US instance (connector.yaml order puts it
    first here): the refusal is a local HMAC check, so commercetools sees one read and one write, as at
    /webhooks/stripe-eu, and a redelivery one read."""
    us_first = build.two_accounts_yaml(localstripe).split("stripe-us:")
    host = await connector_host("stripe-us:" + us_first[1] + us_first[0])
    payment_id, pi_id = await paid(host, browser, "stripe-eu", 1200)
    body = event("charge.succeeded", await stripe_charge(browser, pi_id, captured=0))
    host.ct.reset_stats()
    assert (await deliver(host, body, build.WEBHOOK_SECRET, build)).status == 200
    assert host.ct.stats() == {"GET /{projectKey}/payments/{id}": 1, "POST /{projectKey}/payments/{id}": 1}
    host.ct.reset_stats()
    assert (await deliver(host, body, build.WEBHOOK_SECRET, build)).status == 200
    assert host.ct.stats() == {"GET /{projectKey}/payments/{id}": 1}
    assert txs(host.payment(payment_id)) == [("Authorization", "Success", 1200)]


async def official_payment(host: Any, browser: stripe.StripeClient, amount: int) -> tuple[str, str]:
    """A Payment as the official connector leaves it after authorization (STRIPE.md §1.2, §7.5): no ``key``,
    no reservation of ours, Authorization Success under the PaymentIntent id; the PaymentIntent made and
    confirmed by it on the same Stripe account. (Payment id, PaymentIntent id)."""
    pi = await browser.v1.payment_intents.create_async({
        "amount": amount, "currency": "eur", "capture_method": "manual", "payment_method_types": ["card"],
        "payment_method": "pm_card_visa", "confirm": True, "metadata": {"cart_id": "c-official"}})
    money = {"centAmount": amount, "currencyCode": "EUR"}
    draft = {"amountPlanned": money, "interfaceId": pi.id,
             "paymentMethodInfo": {"paymentInterface": "stripe-eu", "method": "card"},
             "transactions": [{"type": "Authorization", "state": "Success", "amount": money, "interactionId": pi.id}]}
    auth = {"Authorization": f"Bearer {host.ct.issue_token('connector')}"}
    async with aiohttp.ClientSession() as http, \
            http.post(f"{host.ct.url}/{host.ct.project_key}/payments", json=draft, headers=auth) as resp:
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["id"]), pi.id


@pytest.mark.localstripe
async def test_payments_the_official_connector_made_are_captured_refunded_and_cancelled_here(
        connector_host: Any, localstripe: str, build: Any, browser: stripe.StripeClient) -> None:
    """After a migration, Payments authorized by the official connector are modified by the host like its own
    (docs/plugins/stripe.md, "Migrating from the official connector"): Stripe captures, refunds and cancels
    the PaymentIntent, and commercetools records each once."""
    host = await connector_host(build.instance_yaml(localstripe))
    payment_id, pi_id = await official_payment(host, browser, 1500)
    for action in ({"action": "capturePayment", "amount": {"centAmount": 1000, "currencyCode": "EUR"}},
                   {"action": "refundPayment", "amount": {"centAmount": 300, "currencyCode": "EUR"}}):
        resp = await host.intent(payment_id, action)
        assert (resp.status, (await resp.json())["outcome"]) == (200, "approved")
    assert txs(host.payment(payment_id)) == [("Authorization", "Success", 1500), ("Charge", "Success", 1000),
                                             ("Refund", "Success", 300)]
    assert (await browser.v1.payment_intents.retrieve_async(pi_id)).status == "succeeded"     # at Stripe, too
    ours = [r for r in (await browser.v1.refunds.list_async({"payment_intent": pi_id})).data
            if (r.to_dict().get("metadata") or {}).get("ct_payment_id") == payment_id]
    assert [r.amount for r in ours] == [300]

    other_id, other_pi = await official_payment(host, browser, 800)
    resp = await host.intent(other_id, {"action": "cancelPayment"})
    assert (await resp.json())["outcome"] == "approved"
    assert ("CancelAuthorization", "Success", 800) in txs(host.payment(other_id))
    assert (await browser.v1.payment_intents.retrieve_async(other_pi)).status == "canceled"
