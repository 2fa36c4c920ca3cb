"""What localstripe cannot produce, answered by ``aioresponses`` with Stripe-shaped JSON.

localstripe ignores idempotency keys (so it never replays), never fails with 5xx, has no per-key
accounts, knows no error codes beyond a few, and refuses parameters it does not model
(``statement_descriptor_suffix``, ``allowed_payment_method_types``). Each test says which of these it needs.
The JSON bodies follow the shapes of Stripe's API reference for the pinned version 2025-12-15.clover.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from host import Operation, Outcome, ProviderError, WebhookResult

API = "https://api.stripe.com"
PI_URL = f"{API}/v1/payment_intents"


def intent(**fields: Any) -> dict[str, Any]:
    return {"id": "pi_3QabcDEFghiJKL", "object": "payment_intent", "amount": 1000, "amount_capturable": 0,
            "amount_received": 0, "capture_method": "manual", "client_secret": "pi_3QabcDEFghiJKL_secret_xyz",
            "currency": "eur", "latest_charge": None, "livemode": False, "metadata": {},
            "payment_method_types": ["card"], "status": "requires_payment_method", **fields}


def stripe_error(status: int, type_: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
    return {"status": status, "payload": {"error": error}, "headers": {"Request-Id": "req_test123"}}


@pytest.fixture
def stripe_api():
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def calls(mocked: aioresponses, method: str, url: str) -> list[Any]:
    """The recorded requests to ``url`` (the SDK passes the method in lower case)."""
    return [call for (verb, target), recorded in mocked.requests.items()
            if verb.upper() == method and target == URL(url) for call in recorded]


def form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.kwargs["data"])


# -- idempotency ------------------------------------------------------------------------------------

async def test_a_retried_create_reuses_its_key_and_gets_the_same_payment_intent(make_provider, build,
                                                                                  stripe_api, caplog):
    """Needs Stripe's replay (``Idempotent-Replayed: true``), which localstripe never sends."""
    provider = await make_provider()
    stripe_api.post(PI_URL, payload=intent())
    stripe_api.post(PI_URL, payload=intent(), headers={"Idempotent-Replayed": "true"})
    request = build.create(1000)

    with caplog.at_level(logging.INFO):
        first = await provider.create_payment(request)
        retried = await provider.create_payment(request)

    assert first.psp_reference == retried.psp_reference == "pi_3QabcDEFghiJKL"
    keys = [c.kwargs["headers"]["Idempotency-Key"] for c in calls(stripe_api, "POST", PI_URL)]
    assert keys == [request.idempotency_key, request.idempotency_key]
    assert "replayed" in caplog.text


async def test_a_capture_retry_reuses_the_key_and_a_new_attempt_gets_a_new_one(make_provider, build,
                                                                               stripe_api):
    """Shows the keys on the wire; localstripe would accept any key and prove nothing."""
    provider = await make_provider()
    url = f"{PI_URL}/pi_1/capture"
    stripe_api.post(url, payload=intent(id="pi_1", status="succeeded", latest_charge="ch_1"), repeat=True)
    attempt_1 = build.modify(Operation.CAPTURE, "pi_1", 500, attempt=1)
    attempt_2 = build.modify(Operation.CAPTURE, "pi_1", 500, attempt=2, payment=attempt_1.payment)

    results = [await provider.capture(r) for r in (attempt_1, attempt_1, attempt_2)]

    assert {r.psp_reference for r in results} == {"ch_1"}
    keys = [c.kwargs["headers"]["Idempotency-Key"] for c in calls(stripe_api, "POST", url)]
    assert keys == [attempt_1.idempotency_key, attempt_1.idempotency_key, attempt_2.idempotency_key]
    assert attempt_1.idempotency_key != attempt_2.idempotency_key
    assert form(calls(stripe_api, "POST", url)[0])["amount_to_capture"] == ["500"]


async def test_the_sdk_retries_a_stripe_500_with_the_same_key(make_provider, build, stripe_api):
    """A 5xx needs a mock: localstripe never fails that way."""
    provider = await make_provider(maxNetworkRetries=1)
    url = f"{PI_URL}/pi_1/capture"
    stripe_api.post(url, **stripe_error(500, "api_error", "Something went wrong on Stripe's end."))
    stripe_api.post(url, payload=intent(id="pi_1", status="succeeded", latest_charge="ch_1"))
    request = build.modify(Operation.CAPTURE, "pi_1", 1000)

    result = await provider.capture(request)

    assert (result.outcome, result.psp_reference) == (Outcome.APPROVED, "ch_1")
    keys = [c.kwargs["headers"]["Idempotency-Key"] for c in calls(stripe_api, "POST", url)]
    assert keys == [request.idempotency_key] * 2


# -- errors -----------------------------------------------------------------------------------------

async def test_stripe_down_after_retries_is_a_502_not_a_rejection(make_provider, build, stripe_api):
    """5xx and network failures need a mock; the host answers 502 and records nothing."""
    provider = await make_provider(maxNetworkRetries=0)
    stripe_api.post(f"{PI_URL}/pi_1/capture", **stripe_error(503, "api_error", "Service unavailable"))
    stripe_api.post(f"{API}/v1/refunds", exception=aiohttp.ClientConnectionError("connection reset"))

    with pytest.raises(ProviderError) as down:
        await provider.capture(build.modify(Operation.CAPTURE, "pi_1", 1000))
    assert down.value.status == 502
    with pytest.raises(ProviderError) as unreachable:
        await provider.refund(build.modify(Operation.REFUND, "pi_1", 1000))
    assert (unreachable.value.status, unreachable.value.code) == (502, "StripeConnectionError")


async def test_a_declined_card_at_create_is_a_402_with_stripes_code(make_provider, build, stripe_api):
    """localstripe declines only at confirmation; Stripe can decline a create that carries a PaymentMethod."""
    provider = await make_provider()
    stripe_api.post(PI_URL, **stripe_error(402, "card_error", "Your card was declined.", "card_declined"))

    with pytest.raises(ProviderError) as declined:
        await provider.create_payment(build.create(1000))

    assert (declined.value.status, declined.value.code) == (402, "card_declined")
    assert declined.value.message == "Your card was declined."           # no "Request req_...:" prefix


async def test_an_invalid_key_is_a_502_that_never_shows_the_key(make_provider, build, stripe_api, caplog):
    """localstripe accepts any sk_ key, so the 401 is mocked (Stripe masks all but the last 4 characters).
    Our key being refused is the deployment's fault, so the caller gets a 502, never a 401 (which Checkout
    would read as its own credentials failing)."""
    provider = await make_provider()
    masked = f"Invalid API Key provided: sk_test_{'*' * 24}{build.SECRET_KEY[-4:]}"
    stripe_api.post(PI_URL, **stripe_error(401, "invalid_request_error", masked))

    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as refused:
        await provider.create_payment(build.create(1000))

    error = refused.value
    assert (error.status, error.code) == (502, "StripeAuthenticationError")
    assert "Invalid API Key provided" in error.message
    # The key appears nowhere, not even in the SDK's own log lines...
    assert build.SECRET_KEY not in json.dumps(error.body()) + str(error) + caplog.text
    # ...and our error and log lines do not even carry Stripe's masked form of it.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("connector.")]
    assert ours and not any("sk_test" in line for line in [*ours, error.message])


async def test_an_invalid_key_on_capture_is_an_error_not_a_rejected_capture(make_provider, build, stripe_api):
    provider = await make_provider()
    stripe_api.post(f"{PI_URL}/pi_1/capture", **stripe_error(401, "invalid_request_error", "Invalid API Key"))
    with pytest.raises(ProviderError) as refused:
        await provider.capture(build.modify(Operation.CAPTURE, "pi_1", 1000))
    assert refused.value.status == 502


async def test_a_refund_stripe_refuses_is_rejected_with_a_unique_reference(make_provider, build, stripe_api):
    """localstripe has no over-refund check, so Stripe's refusal is mocked."""
    provider = await make_provider()
    stripe_api.post(f"{API}/v1/refunds", **stripe_error(400, "invalid_request_error",
                                                         "Charge ch_1 has already been refunded.",
                                                         "charge_already_refunded"))
    request = build.modify(Operation.REFUND, "pi_1", 1000)
    result = await provider.refund(request)
    assert result.outcome == Outcome.REJECTED
    assert result.psp_reference == f"pi_1:refund:failed:{request.idempotency_key}"


async def test_a_pending_refund_is_received_under_its_refund_id(make_provider, build, stripe_api):
    """Pending refunds (bank debits, some cards) do not exist in localstripe."""
    provider = await make_provider()
    pending = {"id": "re_1", "object": "refund", "amount": 400, "currency": "eur", "payment_intent": "pi_1",
               "status": "pending"}
    stripe_api.post(f"{API}/v1/refunds", payload=pending)
    result = await provider.refund(build.modify(Operation.REFUND, "pi_1", 400))
    assert (result.outcome, result.psp_reference) == (Outcome.RECEIVED, "re_1")


# -- what goes on the wire --------------------------------------------------------------------------

async def test_two_instances_never_share_a_key(make_provider, build, stripe_api):
    """localstripe has no accounts: only the wire shows which key each instance sends."""
    eu = await make_provider(instance="stripe-eu")
    us = await make_provider(instance="stripe-us", secretKey="sk_test_usACCOUNTkey987",
                             publishableKey="pk_test_us")
    stripe_api.post(PI_URL, payload=intent(), repeat=True)

    await eu.create_payment(build.create(1000))
    await us.create_payment(build.create(1000, "USD"))

    auth = [c.kwargs["headers"]["Authorization"] for c in calls(stripe_api, "POST", PI_URL)]
    assert auth == [f"Bearer {build.SECRET_KEY}", "Bearer sk_test_usACCOUNTkey987"]


async def test_create_sends_the_configured_parameters(make_provider, build, stripe_api):
    """localstripe refuses ``statement_descriptor_suffix`` (400 Unexpected): the request is inspected here."""
    provider = await make_provider(statementDescriptor="ACME EU", projectKey="shop-prod",
                                   paymentMethodTypes=["card", "link"])
    stripe_api.post(PI_URL, payload=intent())
    options = {"card": {"request_three_d_secure": "any", "capture_method": "automatic"}}
    body = {"paymentMethodOptions": options}

    await provider.create_payment(build.create(1999, "EUR", body=body))

    (call,) = calls(stripe_api, "POST", PI_URL)
    sent = form(call)
    assert call.kwargs["headers"]["Stripe-Version"] == "2025-12-15.clover"
    assert sent["amount"] == ["1999"] and sent["currency"] == ["eur"] and sent["capture_method"] == ["manual"]
    assert sent["payment_method_types[0]"] == ["card"] and sent["payment_method_types[1]"] == ["link"]
    assert sent["statement_descriptor_suffix"] == ["ACME EU"]
    assert sent["metadata[ct_project_key]"] == ["shop-prod"]
    assert sent["payment_method_options[card][request_three_d_secure]"] == ["any"]
    assert "payment_method_options[card][capture_method]" not in sent   # the instance decides


async def test_a_newer_api_version_sends_allowed_payment_method_types(make_provider, build, stripe_api):
    """From 2026-07-29 Stripe takes ``allowed_payment_method_types`` (endive refuses the old name)."""
    provider = await make_provider(apiVersion="2026-09-30.endive")
    stripe_api.post(PI_URL, payload=intent())
    await provider.create_payment(build.create(1000))
    sent = form(calls(stripe_api, "POST", PI_URL)[0])
    assert sent["allowed_payment_method_types[0]"] == ["card"] and "payment_method_types[0]" not in sent


async def test_a_late_payment_failed_does_not_undo_a_later_success(make_provider, build, stripe_api):
    """Out-of-order delivery needs a mock: the PaymentIntent is already succeeded when the failure arrives."""
    provider = await make_provider()
    stripe_api.get(f"{PI_URL}/pi_1", payload=intent(id="pi_1", status="succeeded", latest_charge="ch_2"))
    earlier_attempt = intent(id="pi_1", metadata={"ct_payment_id": "pay-1"})
    failed = build.event("payment_intent.payment_failed", earlier_attempt)

    result = await provider.parse_webhook(failed)
    assert result == WebhookResult()
    assert len(calls(stripe_api, "GET", f"{PI_URL}/pi_1")) == 1
