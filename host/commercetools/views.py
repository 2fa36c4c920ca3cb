"""Typed views of the commercetools resources the host reads: what the client returns.

A view keeps the JSON it was made from (``raw``) for the few places that pass it on unchanged, but
every rule of the host reads the typed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from host.models import Money, PaymentView, Transaction, TxState, TxType


@dataclass(frozen=True, slots=True)
class CartView:
    """A cart: its version (the lock of one-authorization-per-cart), total and attached Payments."""

    id: str
    version: int
    total: Money                        # taxedPrice.totalGross when taxed, else totalPrice
    payment_ids: tuple[str, ...] = ()
    customer_id: str | None = None
    anonymous_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def cart_view(cart: Mapping[str, Any]) -> CartView:
    taxed = cart.get("taxedPrice") or {}
    refs = (cart.get("paymentInfo") or {}).get("payments") or []
    return CartView(id=str(cart["id"]), version=int(cart["version"]),
                    total=Money.from_ct(taxed.get("totalGross") or cart["totalPrice"]),
                    payment_ids=tuple(str(r["id"]) for r in refs), customer_id=cart.get("customerId"),
                    anonymous_id=cart.get("anonymousId"), raw=cart)


def payment_view(payment: Mapping[str, Any]) -> PaymentView:
    info = payment.get("paymentMethodInfo") or {}
    txs = tuple(
        Transaction(id=str(t.get("id")), type=TxType(t["type"]), state=TxState(t.get("state", "Initial")),
                    amount=Money.from_ct(t["amount"]), interaction_id=t.get("interactionId"),
                    interface_id=t.get("interfaceId"), timestamp=t.get("timestamp"))
        for t in payment.get("transactions") or [])
    return PaymentView(id=str(payment["id"]), version=int(payment["version"]),
                       amount_planned=Money.from_ct(payment["amountPlanned"]),
                       payment_interface=info.get("paymentInterface"), interface_id=payment.get("interfaceId"),
                       method=info.get("method"), transactions=txs, raw=payment, key=payment.get("key"),
                       created_at=payment.get("createdAt"))
