"""The payment rules as pure functions: open amount (paid and in flight), limits, overdrawn Payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from host.commercetools.views import cart_view, payment_view
from host.errors import InvalidFieldError, InvalidOperationError, PaymentInProgressError
from host.flows.rules import Modification, counts_as_paid, in_flight, open_amount, overdrawn, plan
from host.models import Money, Operation, PaymentView
from host.providers import Capabilities

EUR = "EUR"
CAPS = Capabilities(methods=frozenset({"card"}))


def _cart(gross: int | None = None, total: int = 10000, currency: str = EUR) -> Any:
    cart: dict[str, Any] = {"id": "c1", "version": 1,
                            "totalPrice": {"currencyCode": currency, "centAmount": total, "fractionDigits": 2}}
    if gross is not None:
        cart["taxedPrice"] = {"totalGross": {"currencyCode": currency, "centAmount": gross, "fractionDigits": 2}}
    return cart_view(cart)


def _payment(amount: int, *txs: tuple[str, str, int] | tuple[str, str]) -> PaymentView:
    return payment_view({"id": f"p{amount}", "version": 1, "amountPlanned": {"currencyCode": EUR, "centAmount": amount},
                         "transactions": [{"id": f"t{i}", "type": t[0], "state": t[1], "amount": {
                             "currencyCode": EUR, "centAmount": t[2] if len(t) == 3 else amount}}
                             for i, t in enumerate(txs)]})


def test_amount_prefers_taxed_gross_and_subtracts_live_payments() -> None:
    assert open_amount(_cart(gross=11900), []).cent_amount == 11900
    assert open_amount(_cart(), [_payment(3000, ("Authorization", "Success"))]).cent_amount == 7000
    assert open_amount(_cart(), [_payment(3000, ("Charge", "Pending"))]).cent_amount == 7000


def test_failed_and_reverted_payments_free_their_amount_and_undecided_ones_block_it() -> None:
    payments = [_payment(3000, ("Authorization", "Failure")),
                _payment(2000, ("Authorization", "Success"), ("CancelAuthorization", "Success")),
                _payment(1000, ("Authorization", "Initial"))]
    assert open_amount(_cart(), payments).cent_amount == 9000
    assert [in_flight(p) for p in payments] == [False, False, True]
    assert [counts_as_paid(p) for p in payments] == [False, False, False]


def test_an_undecided_payment_covering_the_cart_is_a_409_not_a_second_charge() -> None:
    with pytest.raises(PaymentInProgressError) as info:
        open_amount(_cart(), [_payment(10000, ("Authorization", "Initial"))])
    assert info.value.status == 409
    assert info.value.fields["inProgressAmount"] == {"centAmount": 10000, "currencyCode": EUR}


def test_amount_subtracts_gift_card_planned_amount_of_the_same_currency() -> None:
    assert open_amount(_cart(), [], Money(2500, EUR)).cent_amount == 7500
    assert open_amount(_cart(), [], Money(2500, "USD")).cent_amount == 10000


def test_paid_in_full_is_400_invalid_operation() -> None:
    with pytest.raises(InvalidOperationError) as info:
        open_amount(_cart(), [_payment(10000, ("Charge", "Success"))])
    body = info.value.body()
    assert body["statusCode"] == 400
    assert body["errors"][0] == {"code": "InvalidOperation", "message": "The cart has already been paid in full",
                                 "resource": "c1", "paidAmount": {"centAmount": 10000, "currencyCode": EUR},
                                 "cartAmount": {"centAmount": 10000, "currencyCode": EUR}}


def test_zero_decimal_currency_keeps_its_fraction_digits() -> None:
    cart = cart_view({"id": "c", "version": 1,
                      "totalPrice": {"currencyCode": "JPY", "centAmount": 1500, "fractionDigits": 0}})
    assert open_amount(cart, []) == Money(1500, "JPY", 0)


def test_captures_in_flight_count_against_the_authorization() -> None:
    payment = _payment(5950, ("Authorization", "Success"), ("Charge", "Initial", 2000), ("Charge", "Pending", 2000))
    capture = Modification(Operation.CAPTURE, Money(1950, EUR))
    assert plan(payment, capture, CAPS) == (Operation.CAPTURE, Money(1950, EUR))
    with pytest.raises(InvalidFieldError) as info:
        plan(payment, Modification(Operation.CAPTURE, Money(1951, EUR)), CAPS)
    assert "already captured or in progress 4000, capturable 1950" in info.value.message


def test_reverse_waits_for_a_capture_in_flight() -> None:
    payment = _payment(5000, ("Authorization", "Success"), ("Charge", "Success", 2000), ("Charge", "Initial", 1000))
    with pytest.raises(InvalidOperationError, match="still in progress"):
        plan(payment, Modification(Operation.REVERSE), CAPS)


def test_overdrawn_names_what_breaks_the_limits() -> None:
    assert overdrawn(_payment(5000, ("Authorization", "Success"), ("Charge", "Success", 5000))) is None
    assert overdrawn(_payment(5000, ("Authorization", "Success"), ("Charge", "Success", 6000))) == \
        "charged 6000 > authorized 5000 EUR"
    assert overdrawn(_payment(5000, ("Charge", "Success"), ("Refund", "Success", 5001))) == \
        "refunded 5001 > charged 5000 EUR"


def _waiting(minutes_ago: float, reference: str | None) -> PaymentView:
    """An Authorization the PSP answered "action required" (a reference) or not at all, ``minutes_ago``."""
    stamp = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    tx = {"id": "t", "type": "Authorization", "state": "Initial", "timestamp": stamp,
          "amount": {"currencyCode": EUR, "centAmount": 10000}}
    if reference:
        tx["interactionId"] = reference
    return payment_view({"id": "p", "version": 1, "amountPlanned": {"currencyCode": EUR, "centAmount": 10000},
                         "transactions": [tx]})


def test_an_abandoned_action_required_frees_the_cart_and_an_unanswered_attempt_never_does() -> None:
    five_minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    assert not in_flight(_waiting(10, "pi_1"), five_minutes_ago)     # the shopper walked away from 3-D Secure
    assert in_flight(_waiting(1, "pi_1"), five_minutes_ago)          # still within the horizon
    assert in_flight(_waiting(60, None), five_minutes_ago)           # no PSP answer: its money may have moved
    assert open_amount(_cart(), [_waiting(10, "pi_1")], abandoned_before=five_minutes_ago).cent_amount == 10000
    with pytest.raises(PaymentInProgressError):
        open_amount(_cart(), [_waiting(60, None)], abandoned_before=five_minutes_ago)
