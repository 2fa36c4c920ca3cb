"""The payment rules, as pure functions over typed views: what may be paid, captured, refunded.

- **Paid**: a Payment with an Authorization or Charge in Success/Pending and no CancelAuthorization or
  Refund in Success/Pending (CONTRACT.md §5.0).
- **In flight**: a Payment that is not paid but holds a reservation, an Authorization or Charge still
  ``Initial``: an attempt that has not been decided yet (a PSP call under way, or an outcome that only
  the PSP's webhook or the reconciler will tell). It blocks its amount: a second attempt for the same
  cart must not pay it again.
- **Open amount** of a cart: its total minus what is paid and what is in flight (and, for a card
  payment, the session's planned gift-card amount).
- **Limits** of a Payment: capture <= authorized - captured, refund <= captured - refunded, where captures
  and refunds still in flight count as done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from host.commercetools.views import CartView
from host.errors import (
    InvalidFieldError,
    InvalidOperationError,
    NotSupportedError,
    PaymentInProgressError,
)
from host.models import Money, Operation, PaymentView, Transaction, TxState, TxType
from host.providers import Capabilities

LIVE = (TxState.SUCCESS, TxState.PENDING)
IN_FLIGHT = (TxState.SUCCESS, TxState.PENDING, TxState.INITIAL)
TX_TYPE = {Operation.CAPTURE: TxType.CHARGE, Operation.REFUND: TxType.REFUND,
           Operation.CANCEL: TxType.CANCEL_AUTHORIZATION}
OPERATION = {v: k for k, v in TX_TYPE.items()}
_PAYING = (TxType.AUTHORIZATION, TxType.CHARGE)
_REVERTING = (TxType.CANCEL_AUTHORIZATION, TxType.REFUND)


def counts_as_paid(payment: PaymentView) -> bool:
    """Approved (an Authorization or Charge in Success/Pending) and not reverted."""
    return any(payment.has(t, LIVE) for t in _PAYING) and not any(payment.has(t, LIVE) for t in _REVERTING)


def in_flight(payment: PaymentView, abandoned_before: datetime | None = None) -> bool:
    """Not paid, not refused: an Authorization or Charge is still ``Initial`` (an undecided attempt).

    An attempt the PSP answered with "action required" (``Initial`` with the PSP's reference: a 3-D Secure
    or redirect the shopper has not finished) stops counting once it is older than ``abandoned_before``:
    the shopper walked away and may pay again. One without any PSP answer always counts, until it is
    reconciled: its money may have moved."""
    if counts_as_paid(payment) or any(payment.has(t, (TxState.FAILURE,)) for t in _PAYING):
        return False
    return any(t.type in _PAYING and t.state == TxState.INITIAL and not _abandoned(t, abandoned_before)
               for t in payment.transactions)


def _abandoned(tx: Transaction, before: datetime | None) -> bool:
    if before is None or not tx.interaction_id or not tx.timestamp:
        return False
    try:
        return datetime.fromisoformat(tx.timestamp.replace("Z", "+00:00")) < before
    except ValueError:
        return False


def open_amount(cart: CartView, payments: Sequence[PaymentView], gift_card_planned: Money | None = None,
                abandoned_before: datetime | None = None) -> Money:
    """What is left to pay. 400 ``InvalidOperation`` when the cart is paid in full; 409 when what is left is
    covered by attempts still in flight (a double click, another replica): they are not paid twice."""
    total = cart.total
    mine = [p for p in payments if p.amount_planned.currency == total.currency]
    paid = sum(p.amount_planned.cent_amount for p in mine if counts_as_paid(p))
    deciding = sum(p.amount_planned.cent_amount for p in mine if in_flight(p, abandoned_before))
    left = total.cent_amount - paid
    if gift_card_planned is not None and gift_card_planned.currency == total.currency:
        left -= gift_card_planned.cent_amount
    fields: dict[str, Any] = {"resource": cart.id, "cartAmount": total.to_json(),
                              "paidAmount": Money(paid, total.currency, total.fraction_digits).to_json()}
    if left <= 0:
        raise InvalidOperationError("The cart has already been paid in full", **fields)
    if left - deciding <= 0:
        raise PaymentInProgressError("Another payment for this cart is in progress.",
                                     inProgressAmount=Money(deciding, total.currency).to_json(), **fields)
    return Money(left - deciding, total.currency, total.fraction_digits)


@dataclass(frozen=True, slots=True)
class Modification:
    """A payment-intents action, typed: the operation asked for and, for capture/refund, the amount."""

    requested: Operation
    amount: Money | None = None
    merchant_reference: str | None = None


def plan(payment: PaymentView, command: Modification, caps: Capabilities) -> tuple[Operation, Money]:
    """Check ``command`` against the Payment's transactions; returns the operation to run and its amount."""
    if command.requested == Operation.REVERSE:
        return _plan_reverse(payment, caps)
    if command.requested == Operation.CANCEL:
        if not caps.cancel:
            raise NotSupportedError("This payment integration does not support cancelling a payment.")
        if not payment.has(TxType.AUTHORIZATION):
            raise InvalidOperationError("There is no successful authorization to cancel.")
        if payment.has(TxType.CANCEL_AUTHORIZATION, IN_FLIGHT):
            raise InvalidOperationError("The authorization has already been cancelled.")
        if payment.has(TxType.CHARGE, IN_FLIGHT):
            raise InvalidOperationError("The payment has been captured; refund it instead of cancelling.")
        return Operation.CANCEL, payment.amount_planned
    assert command.amount is not None
    amount = Money(command.amount.cent_amount, command.amount.currency, payment.amount_planned.fraction_digits)
    if amount.currency != payment.amount_planned.currency:
        raise InvalidFieldError("amount.currencyCode", f"Currency {amount.currency} does not match the payment's "
                                f"currency {payment.amount_planned.currency}.", invalidValue=amount.currency)
    if amount.cent_amount <= 0:
        raise InvalidFieldError("amount.centAmount", "The amount must be greater than 0.",
                                invalidValue=amount.cent_amount)
    if command.requested == Operation.CAPTURE:
        return Operation.CAPTURE, _plan_capture(payment, amount, caps)
    return Operation.REFUND, _plan_refund(payment, amount, caps)


def _plan_reverse(payment: PaymentView, caps: Capabilities) -> tuple[Operation, Money]:
    reverted = payment.has(TxType.REFUND, IN_FLIGHT) or payment.has(TxType.CANCEL_AUTHORIZATION, IN_FLIGHT)
    charged = payment.total(TxType.CHARGE)
    if charged and not reverted:
        if not caps.refund:
            raise NotSupportedError("This payment integration does not support refunds, so it cannot reverse a "
                                    "charged payment.")
        if payment.has(TxType.CHARGE, (TxState.INITIAL, TxState.PENDING)):
            raise InvalidOperationError("A capture of this payment is still in progress; reverse it once it is "
                                        "decided.")
        planned = payment.amount_planned
        return Operation.REFUND, Money(charged, planned.currency, planned.fraction_digits)
    if payment.has(TxType.AUTHORIZATION) and not reverted and not payment.has(TxType.CHARGE, IN_FLIGHT):
        if not caps.cancel:
            raise NotSupportedError("This payment integration does not support cancelling, so it cannot reverse "
                                    "an authorization.")
        return Operation.CANCEL, payment.amount_planned
    raise InvalidOperationError("There is no successful payment transaction to reverse.")


def _plan_capture(payment: PaymentView, amount: Money, caps: Capabilities) -> Money:
    if not caps.capture:
        raise NotSupportedError("This payment integration does not support capturing a payment.")
    authorized = payment.total(TxType.AUTHORIZATION)
    captured = payment.total(TxType.CHARGE, IN_FLIGHT)
    if not authorized:
        raise InvalidOperationError("There is no successful authorization to capture.")
    if payment.has(TxType.CANCEL_AUTHORIZATION, IN_FLIGHT):
        raise InvalidOperationError("The authorization has been cancelled.")
    if captured and not caps.multiple_capture:
        raise NotSupportedError("This payment integration captures a payment only once.")
    if amount.cent_amount < authorized - captured and not caps.partial_capture:
        raise NotSupportedError("This payment integration does not support partial capture.")
    if amount.cent_amount > authorized - captured:
        raise InvalidFieldError("amount.centAmount", f"Cannot capture {amount}: authorized {authorized}, "
                                f"already captured or in progress {captured}, capturable "
                                f"{authorized - captured} {amount.currency}.", invalidValue=amount.cent_amount)
    return amount


def _plan_refund(payment: PaymentView, amount: Money, caps: Capabilities) -> Money:
    if not caps.refund:
        raise NotSupportedError("This payment integration does not support refunds.")
    charged = payment.total(TxType.CHARGE)
    refunded = payment.total(TxType.REFUND, IN_FLIGHT)
    if refunded and not caps.multiple_refund:
        raise NotSupportedError("This payment integration refunds a payment only once.")
    if amount.cent_amount < charged - refunded and not caps.partial_refund:
        raise NotSupportedError("This payment integration does not support partial refunds.")
    if amount.cent_amount > charged - refunded:
        raise InvalidFieldError("amount.centAmount", f"Cannot refund {amount}: captured {charged}, already "
                                f"refunded or in progress {refunded}, refundable {charged - refunded} "
                                f"{amount.currency}.", invalidValue=amount.cent_amount)
    return amount


def overdrawn(payment: PaymentView) -> str | None:
    """What breaks the limits on a recorded Payment (charged > authorized, refunded > charged), or None.

    The host never writes such a state itself; a PSP's own event (a dashboard refund) may report one."""
    authorized, charged = payment.total(TxType.AUTHORIZATION), payment.total(TxType.CHARGE)
    refunded = payment.total(TxType.REFUND)
    if authorized and charged > authorized:
        return f"charged {charged} > authorized {authorized} {payment.amount_planned.currency}"
    if refunded > charged:
        return f"refunded {refunded} > charged {charged} {payment.amount_planned.currency}"
    return None
