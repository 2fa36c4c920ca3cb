"""Stored payment methods in commercetools: the Payment Methods API, plus their display data.

A stored method is a commercetools PaymentMethod of the customer, with the instance's ``paymentInterface``
(and ``interfaceAccount`` when the instance has one), ``default: false``, ``paymentMethodStatus: Active`` and
the PSP's token in ``token.value`` (CONTRACT.md §5.7). Only Active methods are listed or usable.

What the shopper sees of it (brand, last digits, expiry: ``DisplayOptions``) is not a field of a
PaymentMethod; it would need a custom field, so a Type created beforehand with ``manage_types``. It is kept
instead in a Custom Object per method, container ``connector-host-payment-methods``, key the PaymentMethod
id: written once when the method is stored, read with one query for a whole listing, deleted with it. The
PSP is not asked at listing time: the enabler lists stored methods every time a checkout page loads.

Every value in a ``where`` goes through ``predicate``; ids from a client through ``segment`` (client).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from host.commercetools.client import CommercetoolsClient, predicate, valid_id
from host.commercetools.versioned import retry_on_conflict
from host.errors import ApiError, InternalConstraintViolatedError, ResourceNotFoundError, UpstreamError
from host.payment_methods import DisplayOptions, SavedMethod, StoredMethod

logger = logging.getLogger(__name__)

DISPLAY_CONTAINER = "connector-host-payment-methods"
#: Methods one listing shows (newest first); a customer with more sees the newest.
LISTED = 100


@dataclass(frozen=True, slots=True)
class Wallet:
    """Where one instance keeps its customers' stored payment methods."""

    payment_interface: str
    interface_account: str | None = None

    def where(self, customer_id: str, *, method_id: str | None = None, token: str | None = None) -> str:
        """The predicate of the customer's Active methods of this instance (one of them, with ``method_id``)."""
        parts = [predicate("customer(id={c}) and paymentInterface={pi}", c=customer_id, pi=self.payment_interface)]
        if self.interface_account is not None:
            parts.append(predicate("interfaceAccount={ia}", ia=self.interface_account))
        parts.append('paymentMethodStatus="Active"')
        if method_id is not None:
            parts.append(predicate("id={id}", id=method_id))
        if token is not None:
            parts.append(predicate("token(value={t})", t=token))
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Record:
    """A stored method as read from commercetools."""

    method: StoredMethod
    version: int
    is_default: bool
    created_at: str | None

    def public(self, display: DisplayOptions) -> dict[str, Any]:
        """The ``GET /stored-payment-methods`` entry: display data only, never the token."""
        return {"id": self.method.id, "type": self.method.method, "isDefault": self.is_default,
                "createdAt": self.created_at, "displayOptions": display.to_json()}


def _record(raw: Mapping[str, Any], customer_id: str) -> Record | None:
    token = (raw.get("token") or {}).get("value")
    if not isinstance(token, str) or not token:
        return None   # a method without a token cannot pay: not offered
    return Record(StoredMethod(id=str(raw["id"]), token=token, customer_id=customer_id,
                               method=raw.get("method") or None),
                  int(raw["version"]), bool(raw.get("default")), raw.get("createdAt"))


async def find(ct: CommercetoolsClient, wallet: Wallet, customer_id: str, method_id: str) -> Record | None:
    """The customer's Active method ``method_id`` of this instance; None for anybody else's, or none (an id no
    resource can have is none, without a call)."""
    if not valid_id(method_id):
        return None
    found = await ct.query_payment_methods(wallet.where(customer_id, method_id=method_id), limit=1)
    return _record(found[0], customer_id) if found else None


async def find_token(ct: CommercetoolsClient, wallet: Wallet, customer_id: str, token: str) -> Record | None:
    """The customer's Active method of this instance holding ``token``."""
    found = await ct.query_payment_methods(wallet.where(customer_id, token=token), limit=1)
    return _record(found[0], customer_id) if found else None


async def listing(ct: CommercetoolsClient, wallet: Wallet, customer_id: str) -> list[dict[str, Any]]:
    """The customer's methods of this instance as ``GET /stored-payment-methods`` lists them: two calls (the
    methods, then the display data of all of them), one when there is none."""
    raw = await ct.query_payment_methods(wallet.where(customer_id), limit=LISTED, sort="createdAt desc")
    records = [r for r in (_record(m, customer_id) for m in raw) if r is not None]
    if not records:
        return []
    ids = ", ".join(predicate("{id}", id=r.method.id) for r in records)
    displays = await ct.query_custom_objects(DISPLAY_CONTAINER, f"key in ({ids})", limit=LISTED)
    by_key = {str(d.get("key")): DisplayOptions.from_json(d.get("value")) for d in displays}
    return [r.public(by_key.get(r.method.id, DisplayOptions())) for r in records]


def method_key(wallet: Wallet, customer_id: str, token: str) -> str:
    """The PaymentMethod's ``key``: one per instance, customer and token. commercetools refuses a second
    PaymentMethod with the same key, so two replicas storing the same token at once store it once."""
    scope = "|".join((wallet.payment_interface, wallet.interface_account or "", customer_id, token))
    return f"ch-pm-{hashlib.sha256(scope.encode()).hexdigest()[:40]}"


async def create(ct: CommercetoolsClient, wallet: Wallet, customer_id: str, saved: SavedMethod,
                 method: str | None) -> StoredMethod:
    """Store ``saved`` for the customer, then its display data (a failure of the latter is logged: the method
    is stored and usable, only shown without brand and digits). ``InternalConstraintViolatedError`` when the
    customer has that token stored already (its key is taken)."""
    draft: dict[str, Any] = {"key": method_key(wallet, customer_id, saved.token),
                             "customer": {"typeId": "customer", "id": customer_id},
                             "paymentInterface": wallet.payment_interface, "default": False,
                             "paymentMethodStatus": "Active", "token": {"value": saved.token}}
    if wallet.interface_account is not None:
        draft["interfaceAccount"] = wallet.interface_account
    if method:
        draft["method"] = method
    try:
        created = await ct.create_payment_method(draft)
    except UpstreamError as exc:
        if exc.code == "DuplicateField":
            raise InternalConstraintViolatedError("This payment method is stored already for the customer.") \
                from None
        raise
    stored = StoredMethod(id=str(created["id"]), token=saved.token, customer_id=customer_id, method=method)
    display = saved.display.to_json()
    if display:
        try:
            await ct.put_custom_object(DISPLAY_CONTAINER, stored.id, display, 0)
        except ApiError as exc:
            logger.warning("stored payment method %s: its display data was not written (%s)", stored.id, exc.code)
    return stored


async def delete(ct: CommercetoolsClient, wallet: Wallet, record: Record) -> None:
    """Delete the method with its version (re-read on a 409), then its display data."""
    current = record

    async def attempt(n: int) -> None:
        nonlocal current
        if n:
            again = await find(ct, wallet, record.method.customer_id, record.method.id)
            if again is None:
                return          # deleted meanwhile: what was asked is done
            current = again
        await ct.delete_payment_method(current.method.id, current.version)

    with contextlib.suppress(ResourceNotFoundError):   # deleted meanwhile: its display data goes all the same
        await retry_on_conflict(attempt, what="payment-method")
    try:
        await ct.delete_custom_object(DISPLAY_CONTAINER, record.method.id, None)
    except ResourceNotFoundError:
        pass                    # stored without display data
    except ApiError as exc:
        logger.warning("stored payment method %s: its display data was not deleted (%s)", record.method.id,
                       exc.code)


__all__ = ["DISPLAY_CONTAINER", "Record", "Wallet", "create", "delete", "find", "find_token", "listing",
           "method_key"]
