"""The cart's shipping, changed for an enabler's express checkout (host API 1.3, ``RouteContext``).

An express element (Stripe's Express Checkout, Apple Pay, Google Pay) learns the shopper's address and
choice of shipping before any payment exists, and the cart's total follows them. The host makes these
commercetools writes for the plugin, like every other one:

1. **Read** the cart; **check** that no payment on it is paid or in progress: an attempt already at the PSP
   was made for the old total, and a paid amount must never end above the cart's (409 otherwise).
2. **Write** ``setShippingAddress`` / ``setShippingMethod`` with the version read. On a 409 (another write,
   such as ``/payments`` attaching a Payment) read again and check again (``retry_on_conflict``).

``/payments`` does the converse: it attaches its Payment with the cart version it computed the amount on, so a
shipping change between the two makes it read again and refuse (the amount changed). The PSP is therefore
never asked for an amount that is not the cart's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from host.commercetools.client import CommercetoolsClient
from host.commercetools.versioned import retry_on_conflict
from host.commercetools.views import CartView
from host.errors import InvalidFieldError, PaymentInProgressError
from host.flows.create import cart_payments
from host.flows.rules import counts_as_paid, in_flight
from host.models import CartLine, CartSummary, Money, ShippingOption

#: The string fields of a commercetools ``BaseAddress`` an enabler may set.
ADDRESS_FIELDS = frozenset({
    "country", "state", "region", "city", "postalCode", "streetName", "streetNumber", "additionalStreetInfo",
    "building", "apartment", "pOBox", "company", "department", "firstName", "lastName", "salutation", "title",
    "phone", "mobile", "email", "additionalAddressInfo"})
_COUNTRY = re.compile(r"^[A-Z]{2}\Z")
_METHOD_ID = re.compile(r"^[A-Za-z0-9_-]{1,256}\Z")
_MAX_FIELD = 256


def _name(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("en") or next(iter(value.values()), ""))
    return str(value or "")


def summary(cart: CartView) -> CartSummary:
    raw = cart.raw
    lines = tuple(CartLine(_name(x.get("name")), Money.from_ct(x["totalPrice"]))
                  for x in [*raw.get("lineItems", []), *raw.get("customLineItems", [])])
    info = raw.get("shippingInfo")
    shipping = None
    if info:
        shipping = ShippingOption(str((info.get("shippingMethod") or {}).get("id", "")),
                                  str(info.get("shippingMethodName", "")), Money.from_ct(info["price"]))
    return CartSummary(cart.id, cart.total, lines, raw.get("shippingAddress"), shipping)


def check_address(address: Mapping[str, Any]) -> dict[str, str]:
    """A commercetools address from what the shopper's wallet gave: known string fields, a country code."""
    clean: dict[str, str] = {}
    for key, value in address.items():
        if key not in ADDRESS_FIELDS:
            raise InvalidFieldError(f"address.{key}" if isinstance(key, str) else "address",
                                    f"{key!r} is not an address field.", allowedValues=sorted(ADDRESS_FIELDS))
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > _MAX_FIELD:
            raise InvalidFieldError(f"address.{key}", f"address.{key} must be a string of at most {_MAX_FIELD} "
                                    f"characters.")
        clean[key] = value
    if not _COUNTRY.match(clean.get("country", "")):
        raise InvalidFieldError("address.country", "address.country must be a two-letter country code (ISO 3166-1).",
                                invalidValue=clean.get("country"))
    return clean


async def options(ct: CommercetoolsClient, cart_id: str) -> tuple[ShippingOption, ...]:
    """The shipping methods that ship to the cart's address, each at its price for the cart (the cart is read
    only when a rate is free above some amount)."""
    found = await ct.matching_shipping_methods(cart_id)
    rates = [m["zoneRates"][0]["shippingRates"][0] for m in found]
    lines = 0
    if any(r.get("freeAbove") for r in rates):
        lines = sum(line.total.cent_amount for line in summary(await ct.get_cart(cart_id)).lines)
    result = []
    for method, rate in zip(found, rates, strict=True):
        price = Money.from_ct(rate["price"])
        free = rate.get("freeAbove")
        if free and lines >= int(free["centAmount"]):
            price = Money(0, price.currency, price.fraction_digits)
        result.append(ShippingOption(str(method["id"]), _name(method.get("name")), price))
    return tuple(result)


async def change(ct: CommercetoolsClient, cart_id: str, action: dict[str, Any]) -> CartSummary:
    """Steps 1-2 for one cart update action. Every undecided attempt blocks, however old: one the PSP
    answered (a PaymentIntent handed to the browser) can still be confirmed for the old total, so the
    reconciler's horizon, after which ``/payments`` lets a shopper start again, does not apply here."""

    async def attempt(_: int) -> CartSummary:
        cart = await ct.get_cart(cart_id)
        for payment in await cart_payments(ct, cart):
            if counts_as_paid(payment) or in_flight(payment):
                raise PaymentInProgressError("The cart has a payment that is paid or in progress: its shipping "
                                             "cannot change now.", paymentReference=payment.id)
        return summary(await ct.update_cart(cart.id, cart.version, [action]))

    return await retry_on_conflict(attempt, what="cart")


def address_action(address: Mapping[str, Any]) -> dict[str, Any]:
    return {"action": "setShippingAddress", "address": check_address(address)}


def method_action(method_id: str | None) -> dict[str, Any]:
    if method_id is None:
        return {"action": "setShippingMethod"}
    if not _METHOD_ID.match(method_id):
        raise InvalidFieldError("id", "The shipping method id is not valid.")
    return {"action": "setShippingMethod", "shippingMethod": {"typeId": "shipping-method", "id": method_id}}


__all__ = ["address_action", "change", "check_address", "method_action", "options", "summary"]
