"""Stored payment methods: who may see, use, store and delete which (CONTRACT.md §5.7).

- An instance keeps them when connector.yaml enables ``storedPaymentMethods`` for it (its plugin declares
  ``Capabilities.stored_payment_methods``); a shopper needs a cart with a customer.
- A customer sees, pays with and deletes only their own Active methods of the instance: every lookup names
  the customer, the paymentInterface (and interfaceAccount), so another customer's method is simply not
  found. Paying with one is checked after the cart is read and before the Payment is written, so a refused
  method leaves nothing behind and never reaches the PSP.
- Storing happens after a successful authorization, with what the provider returned: a PSP token (a token
  shaped like a card number is refused) and display data. The same token twice for one customer is 400
  ``InternalConstraintViolated``, as in the templates; after money has moved the first one is kept and the
  payment's own answer stands (docs/compatibility.md).
- Deleting: in commercetools first (with its version), then the provider detaches it at its PSP.
"""

from __future__ import annotations

import logging
import re

from host.commercetools import wallet as ct_wallet
from host.commercetools.client import CommercetoolsClient
from host.commercetools.views import CartView
from host.commercetools.wallet import Wallet
from host.errors import (
    ApiError,
    InternalConstraintViolatedError,
    InvalidOperationError,
    RequiredFieldError,
    ResourceNotFoundError,
)
from host.flows.rules import counts_as_paid
from host.models import PaymentView
from host.payment_methods import SavedMethod, StoredMethod
from host.providers import PaymentProvider

logger = logging.getLogger(__name__)
#: 12 to 19 digits, optionally grouped: what a card number looks like. Never stored as a token.
_CARD_NUMBER = re.compile(r"^[0-9]{4}[ -]?(?:[0-9][ -]?){8,15}$")


def enabled(wallet: Wallet | None, payment_interface: str) -> Wallet:
    """The instance's wallet; 400 ``InvalidOperation`` when it does not keep stored payment methods."""
    if wallet is None:
        raise InvalidOperationError(f"Stored payment methods are not enabled for the payment integration "
                                    f"'{payment_interface}'.")
    return wallet


def customer_of(cart: CartView) -> str:
    """The cart's customer; 400 ``RequiredField customerId`` for a guest cart."""
    if not cart.customer_id:
        raise RequiredFieldError("customerId", "Stored payment methods need a cart with a customerId.")
    return cart.customer_id


async def offered(ct: CommercetoolsClient, wallet: Wallet | None, cart_id: str) -> bool:
    """``storedPaymentMethodsConfig.isEnabled``: the instance keeps them and the cart has a customer (a cart
    read only when the instance keeps them)."""
    return wallet is not None and bool((await ct.get_cart(cart_id)).customer_id)


async def for_payment(ct: CommercetoolsClient, wallet: Wallet | None, payment_interface: str, cart: CartView,
                      method_id: str, *, storing: bool) -> StoredMethod:
    """The stored method a ``POST /payments`` names, if it is the cart's customer's own; else 400
    ``InternalConstraintViolated`` (the templates' answer), before anything is written."""
    wallet = enabled(wallet, payment_interface)
    found = await ct_wallet.find(ct, wallet, customer_of(cart), method_id)
    if found is None:
        raise InternalConstraintViolatedError("The stored payment method does not belong to the cart's customer "
                                              "for this payment integration.", storedPaymentMethodId=method_id)
    if storing:
        raise InternalConstraintViolatedError("This payment method is stored already; storePaymentMethod "
                                              "cannot store it again.", storedPaymentMethodId=method_id)
    return found.method


async def remove(ct: CommercetoolsClient, wallet: Wallet, provider: PaymentProvider, customer_id: str,
                 method_id: str) -> None:
    """``DELETE /stored-payment-methods/{id}``: 404 unless it is the customer's own; commercetools first, then
    the PSP (whose failure is logged: the method is gone from the shopper's list either way)."""
    found = await ct_wallet.find(ct, wallet, customer_id, method_id)
    if found is None:
        raise ResourceNotFoundError(f"The Resource with ID '{method_id}' was not found.")
    await ct_wallet.delete(ct, wallet, found)
    try:
        await provider.detach(found.method)
    except ApiError as exc:
        logger.warning("stored payment method %s deleted; the PSP of %s did not detach it: %s %s", method_id,
                       provider.context.instance_id, exc.status, exc.code)


async def store(ct: CommercetoolsClient, wallet: Wallet, customer_id: str, saved: SavedMethod,
                method: str | None) -> StoredMethod:
    """Store what a provider saved; 400 ``InternalConstraintViolated`` when the customer has it already."""
    if _CARD_NUMBER.match(saved.token.strip()):
        logger.error("a provider of %s returned a token shaped like a card number: not stored",
                     wallet.payment_interface)
        raise InternalConstraintViolatedError("The payment method's token was refused: it looks like card data.")
    if await ct_wallet.find_token(ct, wallet, customer_id, saved.token) is not None:
        raise InternalConstraintViolatedError("This payment method is stored already for the customer.")
    stored = await ct_wallet.create(ct, wallet, customer_id, saved, saved.method or method)
    logger.info("stored payment method %s for a customer of %s", stored.id, wallet.payment_interface)
    return stored


async def keep(ct: CommercetoolsClient, wallet: Wallet, customer_id: str, saved: SavedMethod,
               method: str | None) -> StoredMethod | None:
    """``store`` after money has moved: never fails the payment (a method stored already is kept, any other
    problem is logged)."""
    try:
        return await store(ct, wallet, customer_id, saved, method)
    except InternalConstraintViolatedError as exc:
        logger.info("payment method not stored for a customer of %s: %s", wallet.payment_interface, exc.message)
    except ApiError as exc:
        logger.warning("payment method not stored for a customer of %s: %s %s", wallet.payment_interface,
                       exc.status, exc.code)
    return None


async def keep_from_event(ct: CommercetoolsClient, wallet: Wallet | None, payment: PaymentView,
                          saved: SavedMethod) -> StoredMethod | None:
    """A PSP event says it stored the method (the shopper asked, the PSP learnt the outcome later): keep it
    for the Payment's customer once the Payment is authorized. A redelivered event finds it stored."""
    customer = (payment.raw.get("customer") or {}).get("id")
    if wallet is None or not customer or not counts_as_paid(payment):
        logger.info("payment %s: a saved payment method not kept (%s)", payment.id,
                    "stored payment methods are not enabled" if wallet is None
                    else "no customer" if not customer else "not authorized")
        return None
    return await keep(ct, wallet, str(customer), saved, payment.method)


__all__ = ["customer_of", "enabled", "for_payment", "keep", "keep_from_event", "offered", "remove", "store"]
