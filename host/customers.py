"""commercetools Customers as a provider sees them: read one, and keep a value in a custom field on it.

A PSP that has its own customer object (a Stripe Customer, say) keeps that object's id on the commercetools
Customer, where the merchant's other tools (and the PSP's official connector) find it too. The plugin never
talks to commercetools; it asks ``context.customers`` (host API 1.3)::

    FIELD = CustomField(type_key="payment-connector-stripe-customer-id", name="stripeConnector_stripeCustomerId")
    customer = await context.customers.get(ct_customer_id)        # None: no such customer, or unreadable
    known = customer.fields.get(FIELD.name) if customer else None
    await context.customers.set_field(ct_customer_id, FIELD, "cus_...")

``set_field`` makes sure the Type exists first (created once with one String field, for the ``customer``
resource; a Type another replica created meanwhile is simply used), then writes with the customer's version
and re-reads on a 409 (``host.commercetools.versioned.retry_on_conflict``): a customer without custom fields
gets the Type with the value, a customer whose Type defines the field gets the value, and a customer with
another Type that lacks the field is left alone (``InvalidOperationError``: the host never replaces a
merchant's Type). Writing the value already there writes nothing.

On a running host this is commercetools (``host.commercetools.customers``); in a provider's unit tests that
build a ``ProviderContext`` themselves it is a ``MemoryCustomers``.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from host.errors import InvalidOperationError, ResourceNotFoundError


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A commercetools Customer: what a PSP may copy to its own customer, and its custom fields."""

    id: str
    version: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)   # custom fields, whatever Type holds them
    type_key: str | None = None                                # the key of that Type, when known


@dataclass(frozen=True, slots=True)
class CustomField:
    """A String custom field on Customers, defined by the Type ``type_key`` (created when missing)."""

    type_key: str
    name: str
    label: str = ""


class Customers(abc.ABC):
    @abc.abstractmethod
    async def get(self, customer_id: str) -> CustomerView | None:
        """The customer, or None when there is none with this id (a malformed id included)."""

    @abc.abstractmethod
    async def set_field(self, customer_id: str, custom: CustomField, value: str) -> CustomerView:
        """Set ``custom`` to ``value`` on the customer (see the module docstring); the customer as written.
        ``ResourceNotFoundError`` for an unknown customer, ``InvalidOperationError`` when its Type lacks the field."""


class MemoryCustomers(Customers):
    """One process's customers, for a provider's unit tests: ``add()`` them first."""

    def __init__(self) -> None:
        self._customers: dict[str, CustomerView] = {}

    def add(self, email: str | None = None, *, customer_id: str | None = None, **fields: Any) -> CustomerView:
        customer = CustomerView(id=customer_id or str(uuid.uuid4()), version=1, email=email, fields=fields)
        self._customers[customer.id] = customer
        return customer

    async def get(self, customer_id: str) -> CustomerView | None:
        return self._customers.get(customer_id)

    async def set_field(self, customer_id: str, custom: CustomField, value: str) -> CustomerView:
        current = self._customers.get(customer_id)
        if current is None:
            raise ResourceNotFoundError(f"The Resource with ID {customer_id} was not found.")
        if current.type_key not in (None, custom.type_key) and custom.name not in current.fields:
            raise InvalidOperationError(f"The customer's custom type has no field {custom.name}.")
        written = replace(current, version=current.version + 1, type_key=current.type_key or custom.type_key,
                          fields={**current.fields, custom.name: value})
        self._customers[customer_id] = written
        return written
