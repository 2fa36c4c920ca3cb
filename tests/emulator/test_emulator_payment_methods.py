"""Payment methods: create, the stored-payment-method lookups, versioned delete."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


async def _create(client: Client, auth: dict[str, str], **draft: Any) -> dict[str, Any]:
    resp = await client.post("/demo/payment-methods", json=draft, headers=auth)
    assert resp.status == 201, await resp.text()
    method: dict[str, Any] = await resp.json()
    return method


async def test_payment_method_is_created_with_defaults(client: Client, auth: dict[str, str]) -> None:
    method = await _create(
        client,
        auth,
        customer={"typeId": "customer", "id": "cust-1"},
        paymentInterface="stripe",
        method="card",
        token={"value": "pm_1"},
    )
    assert method["version"] == 1
    assert method["default"] is False
    assert method["paymentMethodStatus"] == "Active"
    assert method["token"] == {"value": "pm_1"}
    read = await client.get(f"/demo/payment-methods/{method['id']}", headers=auth)
    assert await read.json() == method


async def test_query_by_customer_interface_and_account(client: Client, auth: dict[str, str]) -> None:
    cust = {"typeId": "customer", "id": "cust-1"}
    mine = await _create(client, auth, customer=cust, paymentInterface="stripe", interfaceAccount="eu")
    await _create(client, auth, customer=cust, paymentInterface="stripe", interfaceAccount="us")
    await _create(client, auth, customer={"typeId": "customer", "id": "cust-2"}, paymentInterface="stripe")
    where = 'customer(id="cust-1") and paymentInterface="stripe" and interfaceAccount="eu"'
    resp = await client.get("/demo/payment-methods", params={"where": where}, headers=auth)
    assert [m["id"] for m in (await resp.json())["results"]] == [mine["id"]]
    by_id = await client.get(
        "/demo/payment-methods",
        params={"where": f'id="{mine["id"]}" and customer(id="cust-2")'},
        headers=auth,
    )
    assert (await by_id.json())["total"] == 0


async def test_delete_needs_the_current_version(client: Client, auth: dict[str, str]) -> None:
    method = await _create(client, auth, paymentInterface="stripe")
    url = f"/demo/payment-methods/{method['id']}"
    stale = await client.delete(url, params={"version": "2"}, headers=auth)
    assert stale.status == 409
    assert (await stale.json())["errors"][0]["currentVersion"] == 1
    assert (await client.delete(url, headers=auth)).status == 400
    deleted = await client.delete(url, params={"version": "1"}, headers=auth)
    assert deleted.status == 200
    assert (await deleted.json())["id"] == method["id"]
    assert (await client.get(url, headers=auth)).status == 404


async def test_payment_methods_need_their_scope(client: Client, bearer: Any) -> None:
    payments_only = bearer("connector", ["manage_payments:demo"])
    assert (await client.get("/demo/payment-methods", headers=payments_only)).status == 403
    assert (await client.post("/demo/payment-methods", json={}, headers=payments_only)).status == 403
