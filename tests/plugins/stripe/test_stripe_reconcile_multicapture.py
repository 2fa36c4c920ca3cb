"""The reconciler's capture step on a PaymentIntent captured in parts (multicapture).

Recorded Stripe responses (aioresponses): localstripe refuses ``final_capture`` and has no multicapture.
Each part's interaction id says how much Stripe had captured once it was made (``events.capture_reference``),
so the part an undecided reservation stands for is the one gap between Stripe's total and the parts the
Payment records; when that is not one gap of the reservation's amount, nothing is guessed."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from typing import Any

import pytest
from aioresponses import aioresponses

from host import Money, NotSupportedError, ReconcileResult, Transaction, TransactionResult, TxState, TxType

API = "https://api.stripe.com/v1"


def at(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"{API}{path}") + r"(\?.*)?$")


@pytest.fixture
def stripe_api():
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def _intent(owner: str, status: str, received: int, capturable: int) -> dict[str, Any]:
    charge = {"id": "ch_1", "object": "charge", "amount": 1000, "amount_captured": received, "captured": True,
              "currency": "eur", "status": "succeeded", "payment_intent": "pi_1",
              "payment_method_details": {"type": "card", "card": {"multicapture": {"status": "available"}}}}
    return {"id": "pi_1", "object": "payment_intent", "amount": 1000, "amount_capturable": capturable,
            "amount_received": received, "capture_method": "manual", "currency": "eur",
            "created": int(time.time()), "latest_charge": charge, "livemode": False,
            "metadata": {"ct_payment_id": owner}, "status": status}


def _auth() -> Transaction:
    return Transaction(str(uuid.uuid4()), TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, "EUR"), "pi_1")


async def _ask(make_provider, build, stripe_api, *, status: str, received: int, amount: int,
               parts: tuple[tuple[str, int], ...] = (), capturable: int = 0) -> ReconcileResult:
    """Reconcile an undecided capture of ``amount`` on a 10.00 multicapture PaymentIntent that Stripe shows
    with ``status`` and ``received``, the Payment recording the Charge ``parts`` (interaction id, amount)."""
    provider = await make_provider(multicapture=True)
    recorded = tuple(Transaction(str(uuid.uuid4()), TxType.CHARGE, TxState.SUCCESS, Money(cents, "EUR"), iid)
                     for iid, cents in parts)
    payment = dataclasses.replace(build.payment(1000, interface_id="pi_1"), transactions=(_auth(), *recorded))
    stripe_api.get(at("/payment_intents/pi_1"), payload=_intent(payment.id, status, received, capturable),
                   repeat=True)
    return await provider.reconcile(build.reconcile(TxType.CHARGE, payment, "stripe-eu:capturePayment:a1",
                                                    amount=amount, recorded=payment.transactions))


async def test_a_first_partial_capture_stripe_made_is_found_while_the_rest_stays_capturable(
        make_provider, build, stripe_api) -> None:
    """The host died after Stripe captured 3.00 of 10.00 with ``final_capture: false``: the PaymentIntent is
    ``requires_capture`` again. The capture is found (it was once answered "not found": a Failure for a
    capture Stripe made)."""
    result = await _ask(make_provider, build, stripe_api, status="requires_capture", received=300,
                        capturable=700, amount=300)
    assert result.found, result
    assert result.transactions[0] == TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(300, "EUR"), "ch_1")


async def test_a_first_partial_capture_is_not_counted_with_the_whole_charge_after_a_later_one(
        make_provider, build, stripe_api) -> None:
    """Captures of 3.00 (its outcome never written: reservation Initial) then 7.00 (recorded as ch_1:1000). The
    3.00 is the first part, ``ch_1``. (It was once compared with ``amount_received``, 10.00: a refused 3.00 and
    a Charge of 10.00 beside the 7.00, 17.00 captured on a 10.00 authorization.)"""
    result = await _ask(make_provider, build, stripe_api, status="succeeded", received=1000, amount=300,
                        parts=(("ch_1:1000", 700),))
    charged = sum(t.amount.cent_amount for t in result.transactions
                  if t.type == TxType.CHARGE and t.state == TxState.SUCCESS and t.amount is not None)
    assert charged + 700 <= 1000, result
    assert result.transactions == (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(300, "EUR"), "ch_1"),)


async def test_a_later_part_gets_the_id_its_charge_updated_names(make_provider, build, stripe_api) -> None:
    """3.00 recorded as ``ch_1``, then 7.00 captured and never recorded: it is ``ch_1:1000``."""
    result = await _ask(make_provider, build, stripe_api, status="succeeded", received=1000, amount=700,
                        parts=(("ch_1", 300),))
    assert result.transactions == (TransactionResult(TxType.CHARGE, TxState.SUCCESS, Money(700, "EUR"),
                                                     "ch_1:1000"),)


async def test_a_part_stripe_never_captured_is_not_found(make_provider, build, stripe_api) -> None:
    """Stripe's 3.00 is the recorded ``ch_1``: a second reservation of 2.00 never reached Stripe."""
    result = await _ask(make_provider, build, stripe_api, status="requires_capture", received=300,
                        capturable=700, amount=200, parts=(("ch_1", 300),))
    assert not result.found


async def test_parts_that_cannot_be_told_apart_are_left_undecided(make_provider, build, stripe_api) -> None:
    """Stripe captured 10.00 in parts; the Payment records the last, 2.00 under ``ch_1:1000``, and two
    reservations (3.00 and 5.00) are undecided: the 8.00 gap is not one part of 3.00, so nothing is written
    (the reservation keeps blocking its amount until the webhooks say)."""
    with pytest.raises(NotSupportedError):
        await _ask(make_provider, build, stripe_api, status="succeeded", received=1000, amount=300,
                   parts=(("ch_1:1000", 200),))


async def test_stripe_total_is_recorded_once_when_the_payment_records_no_part(make_provider, build,
                                                                               stripe_api) -> None:
    """Stripe captured 10.00 and the Payment records no part of it: the 3.00 reservation is taken as refused
    and Stripe's capture is recorded once, as a whole (what a single capture of another amount gets); what
    commercetools shows captured is then what Stripe captured, never more."""
    result = await _ask(make_provider, build, stripe_api, status="succeeded", received=1000, amount=300)
    assert [(t.state, t.amount) for t in result.transactions] == [(TxState.FAILURE, Money(300, "EUR")),
                                                                  (TxState.SUCCESS, Money(1000, "EUR"))]
