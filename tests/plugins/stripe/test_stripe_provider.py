"""The Stripe provider against localstripe: create, confirm (as the browser would), capture, refund,
cancel, automatic capture, a declined card, a 3-D Secure card, and the status check."""

from __future__ import annotations

import pytest
import stripe

from host import CaptureMethod, Money, Operation, Outcome, ProviderError, TransactionResult, TxState, TxType

pytestmark = pytest.mark.localstripe


async def test_manual_capture_then_partial_capture_and_two_partial_refunds(provider, browser, build):
    request = build.create(1000)
    result = await provider.create_payment(request)

    pi_id = result.psp_reference
    assert pi_id is not None and pi_id.startswith("pi_")
    initial = TransactionResult(TxType.AUTHORIZATION, TxState.INITIAL, interaction_id=pi_id)
    assert result.transactions == (initial,)
    assert result.response["clientSecret"].startswith(f"{pi_id}_secret_")
    assert result.response["sClientSecret"] == result.response["clientSecret"]
    assert result.response["merchantReturnUrl"] == "https://shop.example/return"

    pi = await browser.v1.payment_intents.retrieve_async(pi_id)
    assert (pi.amount, pi.currency, pi.capture_method) == (1000, "eur", "manual")
    assert pi.metadata.to_dict() == {"ct_payment_id": request.payment.id, "cart_id": "cart-1",
                                     "ct_attempt_key": request.idempotency_key}
    assert (await browser.v1.payment_intents.confirm_async(pi_id)).status == "requires_capture"

    payment = build.payment(1000, interface_id=pi_id, payment_id=request.payment.id)
    captured = await provider.capture(build.modify(Operation.CAPTURE, pi_id, 600, payment=payment))
    pi = await browser.v1.payment_intents.retrieve_async(pi_id)
    assert pi.status == "succeeded"
    assert captured == captured.__class__(Outcome.APPROVED, pi.latest_charge.id)   # the charge id: ch_...

    first = await provider.refund(build.modify(Operation.REFUND, pi_id, 200, payment=payment, attempt=1))
    second = await provider.refund(build.modify(Operation.REFUND, pi_id, 100, payment=payment, attempt=2))
    assert first.outcome == second.outcome == Outcome.APPROVED
    assert first.psp_reference.startswith("re_") and second.psp_reference.startswith("re_")
    assert first.psp_reference != second.psp_reference       # two refunds never collapse into one
    refund = await browser.v1.refunds.retrieve_async(first.psp_reference)
    assert refund.amount == 200 and refund.metadata["ct_payment_id"] == request.payment.id
    assert refund.metadata["ct_attempt_key"] == f"stripe-eu:refundPayment:{payment.id}:1"


async def test_cancel_releases_the_authorization_and_a_second_cancel_is_rejected(provider, browser, build):
    result = await provider.create_payment(build.create(1500))
    pi_id = result.psp_reference
    await browser.v1.payment_intents.confirm_async(pi_id)

    cancel = await provider.cancel(build.modify(Operation.CANCEL, pi_id, 1500))
    assert cancel.outcome == Outcome.APPROVED and cancel.psp_reference == pi_id
    assert (await browser.v1.payment_intents.retrieve_async(pi_id)).status == "canceled"

    again = build.modify(Operation.CANCEL, pi_id, 1500, attempt=2)
    rejected = await provider.cancel(again)
    assert rejected.outcome == Outcome.REJECTED
    assert rejected.psp_reference == f"{pi_id}:cancel:failed:{again.idempotency_key}"


async def test_automatic_capture_charges_on_confirmation(make_provider, localstripe, browser, build):
    provider = await make_provider(apiBase=localstripe, capture=CaptureMethod.AUTOMATIC)
    result = await provider.create_payment(build.create(2500, capture=CaptureMethod.AUTOMATIC))
    pi = await browser.v1.payment_intents.retrieve_async(result.psp_reference)
    assert pi.capture_method == "automatic"
    confirmed = await browser.v1.payment_intents.confirm_async(pi.id)
    assert confirmed.status == "succeeded"


async def test_a_declined_card_fails_at_confirmation_and_cannot_be_captured(provider, browser, build):
    result = await provider.create_payment(build.create(1000, pm="pm_card_chargeCustomerFail"))
    pi_id = result.psp_reference
    with pytest.raises(stripe.CardError) as declined:
        await browser.v1.payment_intents.confirm_async(pi_id)
    assert declined.value.code == "card_declined"
    assert (await browser.v1.payment_intents.retrieve_async(pi_id)).status == "requires_payment_method"

    capture = await provider.capture(build.modify(Operation.CAPTURE, pi_id, 1000))
    assert capture.outcome == Outcome.REJECTED


async def test_a_3ds_card_requires_action_and_can_be_cancelled(provider, browser, build):
    pm = await browser.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2030,
                                  "cvc": "123"}})
    result = await provider.create_payment(build.create(1000, pm=pm.id))
    confirmed = await browser.v1.payment_intents.confirm_async(result.psp_reference)
    assert confirmed.status == "requires_action"
    assert confirmed.next_action is not None and confirmed.next_action.type == "use_stripe_sdk"

    cancel = await provider.cancel(build.modify(Operation.CANCEL, result.psp_reference, 1000))
    assert cancel.outcome == Outcome.APPROVED


async def test_create_without_a_payment_method_leaves_it_to_the_browser(provider, browser, build):
    result = await provider.create_payment(build.create(700, "USD", pm=None))
    pi = await browser.v1.payment_intents.retrieve_async(result.psp_reference)
    assert (pi.status, pi.amount, pi.currency) == ("requires_payment_method", 700, "usd")


async def test_a_stripe_refusal_at_create_is_a_provider_error_with_stripes_status(provider, build):
    """localstripe refuses a PaymentMethod it does not know with 404: the shopper sees Stripe's answer."""
    with pytest.raises(ProviderError) as raised:
        await provider.create_payment(build.create(1000, pm="pm_unknown"))
    assert raised.value.status == 404 and raised.value.code == "StripeError"


async def test_status_is_up_with_a_working_key(provider):
    check = await provider.status()
    assert (check.name, check.status) == ("Stripe Status check", "UP")
    assert check.details is not None and check.details["mode"] == "test"


async def test_status_is_down_when_stripe_cannot_be_reached(make_provider, build):
    provider = await make_provider(apiBase="http://127.0.0.1:9", maxNetworkRetries=0)
    check = await provider.status()
    assert check.status == "DOWN"
    assert check.message and "Stripe" in check.message
    assert build.SECRET_KEY not in check.message and build.SECRET_KEY not in str(check.details)


async def test_the_amount_is_sent_in_minor_units_of_a_zero_decimal_currency(provider, browser, build):
    result = await provider.create_payment(build.create(1200, "JPY"))
    pi = await browser.v1.payment_intents.retrieve_async(result.psp_reference)
    assert (pi.amount, pi.currency) == (1200, "jpy")
    assert Money(1200, "JPY").fraction_digits == 0
