"""``StripeProvider.reconcile`` against localstripe: each PaymentIntent status localstripe can reach becomes
the transactions its webhook records, under the same interaction ids."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from host import (
    Money,
    NotSupportedError,
    Operation,
    ReconcileResult,
    Transaction,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.stripe import StripeProvider
from plugins.stripe.events import map_event

THREE_DS_CARD = {"number": "4000002760003184", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


async def _created(provider: StripeProvider, build: Any, pm: str | None = "pm_card_visa") -> tuple[Any, str]:
    request = build.create(1000, pm=pm)
    result = await provider.create_payment(request)
    return request, str(result.psp_reference)


def _auth(state: TxState, pi: str) -> TransactionResult:
    return TransactionResult(TxType.AUTHORIZATION, state, Money(1000, "EUR"), pi)


async def test_an_authorized_payment_intent_is_what_its_webhook_records(provider, build, browser) -> None:
    request, pi = await _created(provider, build)
    confirmed = (await browser.v1.payment_intents.confirm_async(pi)).to_dict()
    question = build.reconcile(TxType.AUTHORIZATION, request.payment, request.idempotency_key)

    result = await provider.reconcile(question)                  # found by metadata.ct_payment_id

    webhook = map_event({"type": "payment_intent.amount_capturable_updated", "data": {"object": confirmed}})
    assert webhook is not None
    assert result == ReconcileResult(True, webhook.transactions, pi) == ReconcileResult(
        True, (_auth(TxState.SUCCESS, pi),), pi)


async def test_a_declined_payment_intent_is_a_failed_authorization(provider, build, browser) -> None:
    request, pi = await _created(provider, build, pm="pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError):
        await browser.v1.payment_intents.confirm_async(pi)
    question = build.reconcile(TxType.AUTHORIZATION, request.payment, request.idempotency_key, interaction_id=pi)

    assert await provider.reconcile(question) == ReconcileResult(True, (_auth(TxState.FAILURE, pi),), pi)


async def test_a_cancelled_payment_intent_says_whether_it_had_been_authorized(provider, build, browser) -> None:
    authorized, pi_1 = await _created(provider, build)
    await browser.v1.payment_intents.confirm_async(pi_1)
    await browser.v1.payment_intents.cancel_async(pi_1)           # e.g. in the Dashboard, or after 7 days
    never, pi_2 = await _created(provider, build)
    await browser.v1.payment_intents.cancel_async(pi_2)

    for request, pi, state in ((authorized, pi_1, TxState.SUCCESS), (never, pi_2, TxState.FAILURE)):
        result = await provider.reconcile(build.reconcile(TxType.AUTHORIZATION, request.payment,
                                                          request.idempotency_key, interaction_id=pi))
        cancel = TransactionResult(TxType.CANCEL_AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"), pi)
        assert result == ReconcileResult(True, (_auth(state, pi), cancel), pi)


async def test_an_unconfirmed_payment_intent_stays_initial_only_if_the_shopper_has_it(
        provider, build, browser) -> None:
    """Handed out (the Authorization carries its id), the shopper may still confirm it (3-D Secure pending,
    or not submitted yet). Never recorded, nobody has its client secret: it can never be confirmed."""
    request, pi = await _created(provider, build)
    secure = await browser.v1.payment_methods.create_async({"type": "card", "card": THREE_DS_CARD})
    three_ds, pi_3ds = await _created(provider, build, pm=secure.id)
    assert (await browser.v1.payment_intents.confirm_async(pi_3ds)).status == "requires_action"

    for req, pi_id in ((request, pi), (three_ds, pi_3ds)):
        handed_out = build.reconcile(TxType.AUTHORIZATION, req.payment, req.idempotency_key, interaction_id=pi_id)
        lost = build.reconcile(TxType.AUTHORIZATION, req.payment, req.idempotency_key)
        assert await provider.reconcile(handed_out) == ReconcileResult(True, (_auth(TxState.INITIAL, pi_id),), pi_id)
        assert await provider.reconcile(lost) == ReconcileResult(True, (_auth(TxState.FAILURE, pi_id),), pi_id)


async def test_an_attempt_stripe_never_saw_is_not_found(provider, build, browser) -> None:
    request, pi = await _created(provider, build)                 # another Payment's PaymentIntent exists
    await browser.v1.payment_intents.confirm_async(pi)
    payment = build.payment(1000)
    assert not (await provider.reconcile(build.reconcile(
        TxType.AUTHORIZATION, payment, f"stripe-eu:create:{payment.id}"))).found
    authorized = build.payment(1000, interface_id=pi, payment_id=request.payment.id)
    for tx_type, operation in ((TxType.CHARGE, Operation.CAPTURE), (TxType.REFUND, Operation.REFUND),
                               (TxType.CANCEL_AUTHORIZATION, Operation.CANCEL)):
        question = build.reconcile(tx_type, authorized, f"stripe-eu:{operation.value}:a1")
        assert await provider.reconcile(question) == ReconcileResult.not_found(), tx_type


async def test_a_charge_already_recorded_by_a_webhook_is_not_reported_again(provider, build, browser) -> None:
    request, pi = await _created(provider, build)
    charge = (await browser.v1.payment_intents.confirm_async(pi)).to_dict()["latest_charge"]["id"]
    await browser.v1.payment_intents.capture_async(pi)
    recorded = Transaction("tx-charge", TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"), charge)
    payment = build.payment(1000, interface_id=pi, payment_id=request.payment.id)

    result = await provider.reconcile(build.reconcile(TxType.AUTHORIZATION, payment, None, interaction_id=pi,
                                                      recorded=(recorded,)))

    assert result == ReconcileResult(True, (_auth(TxState.SUCCESS, pi),), pi)


async def test_a_chargeback_is_left_to_the_webhooks(provider, build) -> None:
    question = build.reconcile(TxType.CHARGEBACK, build.payment(1000, interface_id="pi_1"), None,
                               state=TxState.PENDING, interaction_id="dp_1")
    with pytest.raises(NotSupportedError):
        await provider.reconcile(question)
