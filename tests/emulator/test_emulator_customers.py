"""Customers and Types over HTTP: the custom-field actions, versions, unique keys and emails, scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
TYPE = {"key": "payment-connector-stripe-customer-id", "name": {"en": "Stripe"}, "resourceTypeIds": ["customer"],
        "fieldDefinitions": [{"name": "stripeConnector_stripeCustomerId", "label": {"en": "Stripe"},
                              "required": False, "type": {"name": "String"}}]}


async def _post(client: Client, path: str, body: Any, auth: dict[str, str], status: int = 201) -> Any:
    resp = await client.post(f"/demo/{path}", json=body, headers=auth)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_customer_gets_a_type_and_a_field_with_versioned_updates(client: Client,
                                                                         auth: dict[str, str]) -> None:
    made = await _post(client, "types", TYPE, auth)
    by_key = await client.get(f"/demo/types/key={TYPE['key']}", headers=auth)
    assert (await by_key.json())["id"] == made["id"]
    customer = (await _post(client, "customers", {"email": "ada@example.com", "firstName": "Ada"}, auth))["customer"]
    assert customer["version"] == 1 and "custom" not in customer

    set_type = {"action": "setCustomType", "type": {"typeId": "type", "key": TYPE["key"]},
                "fields": {"stripeConnector_stripeCustomerId": "cus_1"}}
    updated = await _post(client, f"customers/{customer['id']}", {"version": 1, "actions": [set_type]}, auth, 200)
    assert updated["version"] == 2
    assert updated["custom"] == {"type": {"typeId": "type", "id": made["id"]},
                                 "fields": {"stripeConnector_stripeCustomerId": "cus_1"}}

    set_field = {"action": "setCustomField", "name": "stripeConnector_stripeCustomerId", "value": "cus_2"}
    stale = await _post(client, f"customers/{customer['id']}", {"version": 1, "actions": [set_field]}, auth, 409)
    assert stale["errors"][0]["currentVersion"] == 2
    again = await _post(client, f"customers/{customer['id']}", {"version": 2, "actions": [set_field]}, auth, 200)
    assert again["custom"]["fields"] == {"stripeConnector_stripeCustomerId": "cus_2"}


async def test_fields_must_be_defined_and_types_must_exist(client: Client, auth: dict[str, str]) -> None:
    await _post(client, "types", TYPE, auth)
    customer = (await _post(client, "customers", {"email": "a@example.com"}, auth))["customer"]
    path = f"customers/{customer['id']}"
    no_type = await _post(client, path, {"version": 1, "actions": [
        {"action": "setCustomField", "name": "stripeConnector_stripeCustomerId", "value": "x"}]}, auth, 400)
    assert no_type["errors"][0]["code"] == "InvalidOperation"
    unknown = await _post(client, path, {"version": 1, "actions": [
        {"action": "setCustomType", "type": {"typeId": "type", "key": "nope"}}]}, auth, 400)
    assert unknown["errors"][0]["code"] == "ReferencedResourceNotFound"
    undefined = await _post(client, path, {"version": 1, "actions": [
        {"action": "setCustomType", "type": {"typeId": "type", "key": TYPE["key"]}, "fields": {"other": "x"}}]},
        auth, 400)
    assert undefined["errors"][0]["code"] == "InvalidOperation"
    assert (await (await client.get(f"/demo/{path}", headers=auth)).json())["version"] == 1


async def test_keys_and_emails_are_unique(client: Client, auth: dict[str, str]) -> None:
    await _post(client, "types", TYPE, auth)
    assert (await _post(client, "types", TYPE, auth, 400))["errors"][0]["code"] == "DuplicateField"
    await _post(client, "customers", {"email": "a@example.com"}, auth)
    assert (await _post(client, "customers", {"email": "A@example.com"}, auth, 400))["errors"][0]["code"] \
        == "DuplicateField"


async def test_customers_need_their_scope(client: Client, bearer: Callable[..., dict[str, str]]) -> None:
    checkout = bearer("checkout")
    resp = await client.post("/demo/customers", json={"email": "a@example.com"}, headers=checkout)
    assert resp.status == 403
    resp = await client.get("/demo/types/key=x", headers=checkout)
    assert resp.status == 403
