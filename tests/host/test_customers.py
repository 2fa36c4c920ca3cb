"""``context.customers`` (host API 1.3): a plugin reads a commercetools Customer and keeps a value in a custom
field on it, the Type created when missing. Each test runs on the emulator and on the judge
(@labdigital/commercetools-mock), through a running host's own commercetools client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from host import CustomField, InvalidOperationError
from host.testing import Commercetools, HostClient

INSTANCES = "sandbox:\n  plugin: sandbox\n  paymentInterface: sandbox\n"
FIELD = CustomField(type_key="payment-connector-stripe-customer-id", name="stripeConnector_stripeCustomerId",
                    label="Stripe customer id")


def _type_draft(key: str, field: str) -> dict[str, Any]:
    return {"key": key, "name": {"en": key}, "resourceTypeIds": ["customer"], "fieldDefinitions": [
        {"name": field, "label": {"en": field}, "required": False, "type": {"name": "String"}}]}


@pytest.fixture
async def host(money_host: Any) -> HostClient:
    started: HostClient = await money_host(INSTANCES)
    return started


async def test_a_customer_gets_the_type_and_the_value_once(host: HostClient, ct_backend: Commercetools) -> None:
    customers = host.provider("sandbox").context.customers
    shopper = ct_backend.create_customer("ada@example.com", firstName="Ada", lastName="Lovelace")
    read = await customers.get(shopper["id"])
    assert read is not None and (read.email, read.first_name, read.fields) == ("ada@example.com", "Ada", {})
    assert ct_backend.get_type(FIELD.type_key) is None

    written = await customers.set_field(shopper["id"], FIELD, "cus_A1")
    assert written.fields == {FIELD.name: "cus_A1"}
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {FIELD.name: "cus_A1"}
    created = ct_backend.get_type(FIELD.type_key)
    assert created is not None and stored["custom"]["type"]["id"] == created["id"]
    assert created["resourceTypeIds"] == ["customer"]

    again = await customers.set_field(shopper["id"], FIELD, "cus_A1")      # the same value: nothing written
    assert again.version == written.version
    changed = await customers.set_field(shopper["id"], FIELD, "cus_A2")
    assert changed.fields[FIELD.name] == "cus_A2" and changed.version == written.version + 1
    assert (await customers.get(shopper["id"])).fields == {FIELD.name: "cus_A2"}  # type: ignore[union-attr]


async def test_a_type_made_by_the_official_connector_is_used(host: HostClient, ct_backend: Commercetools) -> None:
    made = ct_backend.create_type(_type_draft(FIELD.type_key, FIELD.name))
    shopper = ct_backend.create_customer("grace@example.com", custom={
        "type": {"typeId": "type", "key": FIELD.type_key}, "fields": {FIELD.name: "cus_official"}})
    customers = host.provider("sandbox").context.customers
    read = await customers.get(shopper["id"])
    assert read is not None and read.fields[FIELD.name] == "cus_official"
    await customers.set_field(shopper["id"], FIELD, "cus_new")
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"] == {"type": {"typeId": "type", "id": made["id"]},
                                                      "fields": {FIELD.name: "cus_new"}}


async def test_a_merchants_other_type_is_never_replaced(host: HostClient, ct_backend: Commercetools) -> None:
    ct_backend.create_type(_type_draft("merchant-loyalty", "loyaltyTier"))
    shopper = ct_backend.create_customer("alan@example.com", custom={
        "type": {"typeId": "type", "key": "merchant-loyalty"}, "fields": {"loyaltyTier": "gold"}})
    customers = host.provider("sandbox").context.customers
    with pytest.raises(InvalidOperationError):
        await customers.set_field(shopper["id"], FIELD, "cus_X")
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {"loyaltyTier": "gold"}


async def test_an_unknown_or_malformed_customer_reads_as_none(host: HostClient, ct_backend: Commercetools) -> None:
    customers = host.provider("sandbox").context.customers
    assert await customers.get("00000000-0000-4000-8000-000000000000") is None
    assert await customers.get("../payments?where=x") is None


async def test_two_writers_at_once_both_land_on_one_type(host: HostClient, ct_backend: Commercetools) -> None:
    """Two replicas setting the field at once: one Type, the customer's version is the lock (one retries)."""
    shopper = ct_backend.create_customer("edsger@example.com")
    customers = host.provider("sandbox").context.customers
    await asyncio.gather(customers.set_field(shopper["id"], FIELD, "cus_1"),
                         customers.set_field(shopper["id"], FIELD, "cus_1"))
    stored = ct_backend.get_customer(shopper["id"])
    assert stored is not None and stored["custom"]["fields"] == {FIELD.name: "cus_1"}
