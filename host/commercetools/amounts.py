"""What a shopper still has to pay for a cart (CONTRACT.md §5.0 "Amount to pay")."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from host.commercetools.client import CommercetoolsClient
from host.errors import InvalidOperationError
from host.models import Money, TxState, TxType

_LIVE = (TxState.SUCCESS.value, TxState.PENDING.value)


def cart_amount(cart: Mapping[str, Any]) -> Money:
    """``taxedPrice.totalGross`` when the cart is taxed, else ``totalPrice``."""
    taxed = cart.get("taxedPrice") or {}
    return Money.from_ct(taxed.get("totalGross") or cart["totalPrice"])


def _any(payment: Mapping[str, Any], types: tuple[str, ...]) -> bool:
    return any(t.get("type") in types and t.get("state") in _LIVE for t in payment.get("transactions") or [])


def counts_as_paid(payment: Mapping[str, Any]) -> bool:
    """Approved (an Authorization or Charge in Success/Pending) and not reverted."""
    return _any(payment, (TxType.AUTHORIZATION.value, TxType.CHARGE.value)) and \
        not _any(payment, (TxType.CANCEL_AUTHORIZATION.value, TxType.REFUND.value))


def amount_to_pay(cart: Mapping[str, Any], payments: Sequence[Mapping[str, Any]],
                  gift_card_planned: Money | None = None) -> Money:
    """The open amount; 400 ``InvalidOperation`` when nothing is left to pay."""
    total = cart_amount(cart)
    paid = sum(int(p["amountPlanned"]["centAmount"]) for p in payments
               if counts_as_paid(p) and p["amountPlanned"]["currencyCode"] == total.currency)
    open_amount = total.cent_amount - paid
    if gift_card_planned is not None and gift_card_planned.currency == total.currency:
        open_amount -= gift_card_planned.cent_amount
    if open_amount <= 0:
        raise InvalidOperationError("The cart has already been paid in full", resource=cart.get("id"),
                                    paidAmount=Money(paid, total.currency, total.fraction_digits).to_json(),
                                    cartAmount=total.to_json())
    return Money(open_amount, total.currency, total.fraction_digits)


async def cart_payments(client: CommercetoolsClient, cart: Mapping[str, Any]) -> list[Any]:
    """The Payments attached to the cart, fetched concurrently."""
    refs = (cart.get("paymentInfo") or {}).get("payments") or []
    return list(await asyncio.gather(*(client.get_payment(r["id"]) for r in refs)))
