"""``StripeProvider.reconcile`` where localstripe cannot answer as Stripe does, with ``aioresponses``.

Each test names what localstripe lacks: search (it answers 404), Stripe's newest-first list order (it
lists in creation order), ``amount_received`` (it models a partial capture as a full capture plus a
refund), refunds that are not ``succeeded`` at once, the ``processing`` status for cards, and 5xx answers.
The JSON follows Stripe's API reference for the pinned version 2025-12-15.clover.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aioresponses import aioresponses

from host import Money, ProviderError, ReconcileResult, TransactionResult, TxState, TxType
from plugins.stripe.lookup import CLOCK_SLACK, LIST_PAGES, PAGE, SEARCH_LAG

API = "https://api.stripe.com/v1"
KEY = "stripe-eu:create:ch-0123"


def at(path: str) -> re.Pattern[str]:
    """``path`` under the API, with any query string."""
    return re.compile(re.escape(f"{API}{path}") + r"(\?.*)?$")


def intent(pi_id: str, owner: str, status: str = "requires_capture", **fields: Any) -> dict[str, Any]:
    return {"id": pi_id, "object": "payment_intent", "amount": 1000, "amount_capturable": 1000,
            "amount_received": 0, "capture_method": "manual", "currency": "eur", "created": int(time.time()),
            "latest_charge": None, "livemode": False, "metadata": {"ct_payment_id": owner}, "status": status,
            **fields}


def page(data: list[dict[str, Any]], has_more: bool, url: str = "/v1/payment_intents") -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def requests_to(mocked: aioresponses, path: str) -> list[dict[str, list[str]]]:
    """The query of every GET to ``path``."""
    return [parse_qs(urlsplit(str(url)).query) for (verb, url), calls in mocked.requests.items()
            if verb.upper() == "GET" and urlsplit(str(url)).path == f"/v1{path}" for _ in calls]


@pytest.fixture
def stripe_api():
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def _auth(state: TxState, pi: str) -> TransactionResult:
    return TransactionResult(TxType.AUTHORIZATION, state, Money(1000, "EUR"), pi)


# -- finding a PaymentIntent the Payment never recorded ---------------------------------------------

async def test_an_account_too_busy_to_scan_is_searched_by_payment_id(make_provider, build, stripe_api) -> None:
    """localstripe has no search; and the scan gives up only after LIST_PAGES full pages."""
    provider = await make_provider()
    payment = build.payment(1000)
    others = [intent(f"pi_other{i}", "another-payment") for i in range(PAGE)]
    stripe_api.get(at("/payment_intents"), payload=page(others, has_more=True), repeat=True)
    stripe_api.get(at("/payment_intents/search"), payload={
        "object": "search_result", "data": [intent("pi_mine", payment.id)], "has_more": False,
        "next_page": None, "url": "/v1/payment_intents/search"})
    stripe_api.get(at("/payment_intents/pi_mine"), payload=intent("pi_mine", payment.id))

    result = await provider.reconcile(build.reconcile(TxType.AUTHORIZATION, payment, KEY))

    assert result == ReconcileResult(True, (_auth(TxState.SUCCESS, "pi_mine"),), "pi_mine")
    scans = requests_to(stripe_api, "/payment_intents")
    assert len(scans) == LIST_PAGES and scans[1]["starting_after"] == [f"pi_other{PAGE - 1}"]
    (search,) = requests_to(stripe_api, "/payment_intents/search")
    assert search["query"] == [f"metadata['ct_payment_id']:'{payment.id}'"]


async def test_an_empty_search_means_no_record_only_once_the_index_cannot_lag(make_provider, build,
                                                                              stripe_api) -> None:
    """localstripe has no search. Stripe's index may lag up to an hour: a younger attempt is left."""
    provider = await make_provider()
    payment = build.payment(1000)
    others = [intent(f"pi_other{i}", "another-payment") for i in range(PAGE)]
    stripe_api.get(at("/payment_intents"), payload=page(others, has_more=True), repeat=True)
    empty = {"object": "search_result", "data": [], "has_more": False, "next_page": None,
             "url": "/v1/payment_intents/search"}
    stripe_api.get(at("/payment_intents/search"), payload=empty, repeat=True)

    with pytest.raises(ProviderError) as young:
        await provider.reconcile(build.reconcile(TxType.AUTHORIZATION, payment, KEY, age=120))
    assert young.value.status == 503 and young.value.code == "StripeSearchLag"
    old = build.reconcile(TxType.AUTHORIZATION, payment, KEY, age=SEARCH_LAG + CLOCK_SLACK)
    assert await provider.reconcile(old) == ReconcileResult.not_found()


async def test_the_scan_stops_at_the_first_payment_intent_older_than_the_attempt(make_provider, build,
                                                                                 stripe_api) -> None:
    """Needs Stripe's newest-first order; localstripe lists in creation order."""
    provider = await make_provider()
    payment = build.payment(1000)
    question = build.reconcile(TxType.AUTHORIZATION, payment, KEY, age=120)
    before = int(time.time()) - 120 - CLOCK_SLACK - 60
    newest_first = [intent("pi_newer", "another-payment"), intent("pi_older", "another-payment", created=before)]
    stripe_api.get(at("/payment_intents"), payload=page(newest_first, has_more=True), repeat=True)

    assert await provider.reconcile(question) == ReconcileResult.not_found()
    assert len(requests_to(stripe_api, "/payment_intents")) == 1
    assert requests_to(stripe_api, "/payment_intents/search") == []


# -- statuses and amounts localstripe does not produce ----------------------------------------------

async def test_a_processing_payment_intent_is_a_pending_authorization(make_provider, build, stripe_api) -> None:
    """localstripe's card PaymentIntents never reach ``processing`` (that is for debits and wallets)."""
    provider = await make_provider()
    payment = build.payment(1000, interface_id="pi_1")
    stripe_api.get(at("/payment_intents/pi_1"), payload=intent("pi_1", payment.id, "processing"))

    result = await provider.reconcile(build.reconcile(TxType.AUTHORIZATION, payment, KEY, interaction_id="pi_1"))

    assert result == ReconcileResult(True, (_auth(TxState.PENDING, "pi_1"),), "pi_1")


@pytest.mark.parametrize(("received", "expected"), [
    (1000, (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"), "ch_1"),)),
    (600, (TransactionResult(TxType.CHARGE, TxState.FAILURE, Money(1000, "EUR"),
                             "pi_1:capture:failed:stripe-eu:capturePayment:a1"),
           TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(600, "EUR"), "ch_1"))),
])
async def test_a_capture_is_this_attempts_only_for_its_amount(make_provider, build, stripe_api, received,
                                                              expected) -> None:
    """localstripe reports no ``amount_received`` and models a partial capture as a full capture plus a
    refund. Stripe captures exactly the amount asked, once: another amount was captured by someone else
    (the Dashboard), and this attempt was refused; that capture is still reported, so it is recorded."""
    provider = await make_provider()
    payment = build.payment(1000, interface_id="pi_1")
    charge = {"id": "ch_1", "object": "charge", "amount": 1000, "amount_captured": received, "captured": True,
              "currency": "eur", "status": "succeeded", "payment_intent": "pi_1"}
    stripe_api.get(at("/payment_intents/pi_1"), payload=intent(
        "pi_1", payment.id, "succeeded", amount_capturable=0, amount_received=received, latest_charge=charge))

    result = await provider.reconcile(build.reconcile(TxType.CHARGE, payment, "stripe-eu:capturePayment:a1"))

    assert result == ReconcileResult(True, expected, "pi_1")


async def test_a_pending_refund_is_settled_by_its_id(make_provider, build, stripe_api) -> None:
    """localstripe's refunds are ``succeeded`` at once; Stripe's may stay ``pending`` for days."""
    provider = await make_provider()
    payment = build.payment(1000, interface_id="pi_1")
    stripe_api.get(at("/payment_intents/pi_1"), payload=intent("pi_1", payment.id, "succeeded",
                                                                latest_charge="ch_1", amount_received=1000))
    refunds = [{"id": "re_2", "object": "refund", "amount": 300, "currency": "eur", "status": "succeeded",
                "metadata": {}}, {"id": "re_1", "object": "refund", "amount": 400, "currency": "eur",
                                  "status": "succeeded", "metadata": {}}]
    stripe_api.get(at("/refunds"), payload=page(refunds, has_more=False, url="/v1/refunds"))
    question = build.reconcile(TxType.REFUND, payment, "stripe-eu:refundPayment:a1", amount=400,
                               state=TxState.PENDING, interaction_id="re_1")

    result = await provider.reconcile(question)

    assert result == ReconcileResult(True, (TransactionResult(TxType.REFUND, TxState.SUCCESS, Money(400, "EUR"),
                                                              "re_1"),), "pi_1")
    assert requests_to(stripe_api, "/refunds")[0]["payment_intent"] == ["pi_1"]


async def test_stripe_failing_is_a_provider_error_so_the_attempt_is_left(make_provider, build, stripe_api) -> None:
    """localstripe never answers 5xx."""
    provider = await make_provider(maxNetworkRetries=0)
    payment = build.payment(1000, interface_id="pi_1")
    stripe_api.get(at("/payment_intents/pi_1"), status=500, payload={"error": {
        "type": "api_error", "message": "An unknown error occurred"}}, headers={"Request-Id": "req_1"})

    with pytest.raises(ProviderError) as failed:
        await provider.reconcile(build.reconcile(TxType.CHARGE, payment, "stripe-eu:capturePayment:a1"))
    assert failed.value.status == 502
