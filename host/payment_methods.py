"""Stored payment methods as a provider sees them (CONTRACT.md §5.7).

The host keeps a customer's stored payment methods in commercetools (the Payment Methods API): the PSP's
token, never card data. A provider meets them in two places:

- paying with one: ``CreatePaymentRequest.stored_method`` (a ``StoredMethod``, token included), when the
  shopper picked a stored method (``paymentMethod.storedPaymentMethodId``) or a recurring charge names one
  (``/operations/transactions``);
- storing one: when ``CreatePaymentRequest.store_method`` is set (the shopper asked to store it), a
  provider returns ``PaymentResult.saved`` (a ``SavedMethod``: the token and what to show of it) with a
  successful authorization; a PSP that learns the outcome later returns it in ``PaymentEvent.saved``.

``PaymentProvider.detach`` hears of a deletion. ``DisplayOptions`` is all a browser ever sees of a method.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_END_DIGITS = re.compile(r"^[0-9]{1,4}\Z")


@dataclass(frozen=True, slots=True)
class DisplayOptions:
    """What a shopper may see of a stored method: never enough to pay with (at most the last 4 digits)."""

    end_digits: str | None = None
    brand: str | None = None              # visa, mastercard, amex... (``brand.key`` on the wire)
    expiry_month: int | None = None
    expiry_year: int | None = None
    logo_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire shape of ``displayOptions`` (absent values omitted); ``endDigits`` only when it is 1 to 4
        digits, so a provider's mistake can never put a card number on the wire or into storage."""
        out: dict[str, Any] = {}
        if self.end_digits is not None and _END_DIGITS.match(self.end_digits):
            out["endDigits"] = self.end_digits
        if self.brand:
            out["brand"] = {"key": self.brand}
        if isinstance(self.expiry_month, int) and 1 <= self.expiry_month <= 12:
            out["expiryMonth"] = self.expiry_month
        if isinstance(self.expiry_year, int) and 0 < self.expiry_year < 10_000:
            out["expiryYear"] = self.expiry_year
        if self.logo_url:
            out["logoUrl"] = self.logo_url
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DisplayOptions:
        if not isinstance(data, Mapping):
            return cls()
        brand = data.get("brand")
        month, year = data.get("expiryMonth"), data.get("expiryYear")
        return cls(end_digits=_str(data.get("endDigits")),
                   brand=_str(brand.get("key")) if isinstance(brand, Mapping) else None,
                   expiry_month=month if isinstance(month, int) else None,
                   expiry_year=year if isinstance(year, int) else None, logo_url=_str(data.get("logoUrl")))


@dataclass(frozen=True, slots=True)
class StoredMethod:
    """A customer's stored payment method (a commercetools PaymentMethod of this instance).

    ``token`` is the PSP's (a Stripe ``pm_...``, the sandbox's opaque token); it is left out of ``repr`` so
    that logging a request never prints it."""

    id: str                               # the commercetools PaymentMethod id
    token: str = field(repr=False)
    customer_id: str
    method: str | None = None             # the payment method it pays with (``card``...)
    display: DisplayOptions = DisplayOptions()


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """What a provider stored at its PSP for the customer and the host is to keep: the PSP's token (never a
    card number: the host refuses to store a token that looks like one) and what to show of it."""

    token: str = field(repr=False)
    display: DisplayOptions = DisplayOptions()
    method: str | None = None             # None: the Payment's method


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


__all__ = ["DisplayOptions", "SavedMethod", "StoredMethod"]
