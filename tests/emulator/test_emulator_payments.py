"""Payments: drafts, uniqueness, queries, and the update actions a payment connector uses."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]
EUR_10 = {"currencyCode": "EUR", "centAmount": 1000}


class Payments:
    """Small HTTP helper: create a payment and post update actions to it."""

    def __init__(self, client: Client, auth: dict[str, str]) -> None:
        self.client, self.auth = client, auth

    async def create(self, **draft: Any) -> dict[str, Any]:
        resp = await self.client.post(
            "/demo/payments", json={"amountPlanned": EUR_10, **draft}, headers=self.auth
        )
        assert resp.status == 201, await resp.text()
        payment: dict[str, Any] = await resp.json()
        return payment

    async def update(
        self, payment: dict[str, Any], *actions: dict[str, Any], version: int | None = None
    ) -> Any:
        body = {"version": payment["version"] if version is None else version, "actions": list(actions)}
        return await self.client.post(f"/demo/payments/{payment['id']}", json=body, headers=self.auth)

    async def ok(self, payment: dict[str, Any], *actions: dict[str, Any]) -> dict[str, Any]:
        resp = await self.update(payment, *actions)
        assert resp.status == 200, await resp.text()
        updated: dict[str, Any] = await resp.json()
        return updated

    async def error(
        self, payment: dict[str, Any], *actions: dict[str, Any], status: int = 400
    ) -> dict[str, Any]:
        resp = await self.update(payment, *actions)
        assert resp.status == status, await resp.text()
        error: dict[str, Any] = (await resp.json())["errors"][0]
        return error

    async def query(self, **params: str) -> dict[str, Any]:
        resp = await self.client.get("/demo/payments", params=params, headers=self.auth)
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


@pytest.fixture
def payments(client: Client, auth: dict[str, str]) -> Payments:
    return Payments(client, auth)


def authorization(state: str = "Success", **extra: Any) -> dict[str, Any]:
    return {
        "action": "addTransaction",
        "transaction": {"type": "Authorization", "amount": EUR_10, "state": state, **extra},
    }


async def test_payment_draft_becomes_a_payment(payments: Payments) -> None:
    payment = await payments.create(
        key="order-1",
        paymentMethodInfo={"paymentInterface": "sandbox", "method": "card"},
        checkoutTransactionItemId="cti-1",
        customer={"typeId": "customer", "id": "cust-1"},
        transactions=[{"type": "Authorization", "amount": EUR_10, "interactionId": "psp-1"}],
    )
    assert payment["version"] == 1
    assert payment["key"] == "order-1"
    assert payment["amountPlanned"] == {
        "type": "centPrecision",
        "currencyCode": "EUR",
        "centAmount": 1000,
        "fractionDigits": 2,
    }
    assert payment["paymentMethodInfo"] == {"paymentInterface": "sandbox", "method": "card"}
    assert payment["checkoutTransactionItemId"] == "cti-1"
    assert payment["customer"] == {"typeId": "customer", "id": "cust-1"}
    assert payment["paymentStatus"] == {}
    assert payment["interfaceInteractions"] == []
    [tx] = payment["transactions"]
    assert tx["state"] == "Initial"
    assert tx["interactionId"] == "psp-1"
    assert tx["amount"]["fractionDigits"] == 2
    assert tx["timestamp"].endswith("Z")
    read = await payments.client.get(f"/demo/payments/{payment['id']}", headers=payments.auth)
    assert await read.json() == payment


async def test_duplicate_key_is_400_duplicate_field(payments: Payments) -> None:
    await payments.create(key="order-1")
    resp = await payments.client.post(
        "/demo/payments", json={"amountPlanned": EUR_10, "key": "order-1"}, headers=payments.auth
    )
    assert resp.status == 400
    error = (await resp.json())["errors"][0]
    assert error["code"] == "DuplicateField"
    assert error["field"] == "key"
    assert error["duplicateValue"] == "order-1"
    assert (await payments.query())["total"] == 1


async def test_invalid_drafts_are_400_never_500(payments: Payments) -> None:
    for draft in (
        {},
        {"amountPlanned": {"currencyCode": "EUR"}},
        {"amountPlanned": {"currencyCode": "EURO", "centAmount": 1}},
        {"amountPlanned": {"currencyCode": "EUR", "centAmount": 1.5}},
        {"amountPlanned": {"currencyCode": "JPY", "centAmount": 1, "fractionDigits": 2}},
        {"amountPlanned": EUR_10, "transactions": [{"type": "Sale", "amount": EUR_10}]},
        {
            "amountPlanned": EUR_10,
            "transactions": [{"type": "Charge", "amount": {"currencyCode": "USD", "centAmount": 1}}],
        },
        {"amountPlanned": EUR_10, "paymentMethodInfo": "card"},
        {"amountPlanned": EUR_10, "customer": {"typeId": "cart", "id": "x"}},
    ):
        resp = await payments.client.post("/demo/payments", json=draft, headers=payments.auth)
        assert resp.status == 400, draft


async def test_where_queries_find_payments(payments: Payments) -> None:
    a = await payments.create(key="a", interfaceId="psp-a", paymentMethodInfo={"paymentInterface": "stripe"})
    b = await payments.create(key="b", interfaceId="psp-b", paymentMethodInfo={"paymentInterface": "sandbox"})
    await payments.create(key="c")
    by_interface_id = await payments.query(where='interfaceId="psp-b"')
    assert [p["id"] for p in by_interface_id["results"]] == [b["id"]]
    assert by_interface_id["count"] == by_interface_id["total"] == 1
    assert [p["id"] for p in (await payments.query(where='key="a"'))["results"]] == [a["id"]]
    nested = await payments.query(where='paymentMethodInfo(paymentInterface="stripe")')
    assert [p["id"] for p in nested["results"]] == [a["id"]]
    combined = await payments.query(
        where='interfaceId="psp-a" and paymentMethodInfo(paymentInterface="sandbox")'
    )
    assert combined["results"] == []
    assert (await payments.query(where='interfaceId="nope"'))["total"] == 0


async def test_query_pages_with_limit_and_offset(payments: Payments) -> None:
    created = [await payments.create(key=f"k{i}") for i in range(5)]
    page = await payments.query(limit="2", offset="1")
    assert page["limit"] == 2 and page["offset"] == 1 and page["count"] == 2 and page["total"] == 5
    assert [p["id"] for p in page["results"]] == [created[1]["id"], created[2]["id"]]


async def test_malformed_where_is_400_invalid_input(payments: Payments) -> None:
    for where in ('interfaceId="x', "interfaceId=", "and", 'a="x" b="y"'):
        resp = await payments.client.get("/demo/payments", params={"where": where}, headers=payments.auth)
        assert resp.status == 400, where
        assert (await resp.json())["errors"][0]["code"] == "InvalidInput"


async def test_connector_authorization_update_applies_all_actions_with_one_version(
    payments: Payments,
) -> None:
    payment = await payments.create(paymentMethodInfo={"paymentInterface": "sandbox"})
    updated = await payments.ok(
        payment,
        {"action": "setInterfaceId", "interfaceId": "psp-1"},
        {"action": "setMethodInfoMethod", "method": "card"},
        authorization("Success", interactionId="psp-1", timestamp="2026-01-02T03:04:05.678Z"),
    )
    assert updated["version"] == 2
    assert updated["interfaceId"] == "psp-1"
    assert updated["paymentMethodInfo"]["method"] == "card"
    [tx] = updated["transactions"]
    assert tx["type"] == "Authorization" and tx["state"] == "Success" and tx["interactionId"] == "psp-1"
    assert tx["timestamp"] == "2026-01-02T03:04:05.678Z"
    assert tx["amount"]["type"] == "centPrecision"


async def test_transaction_state_interaction_and_interface_ids_change(payments: Payments) -> None:
    payment = await payments.ok(await payments.create(), authorization("Pending"))
    tx_id = payment["transactions"][0]["id"]
    payment = await payments.ok(
        payment,
        {"action": "changeTransactionState", "transactionId": tx_id, "state": "Success"},
        {"action": "changeTransactionInteractionId", "transactionId": tx_id, "interactionId": "psp-2"},
        {"action": "setTransactionInterfaceId", "transactionId": tx_id, "interfaceId": "mod-2"},
        {
            "action": "changeTransactionTimestamp",
            "transactionId": tx_id,
            "timestamp": "2026-03-04T05:06:07.000Z",
        },
    )
    [tx] = payment["transactions"]
    assert (tx["state"], tx["interactionId"], tx["interfaceId"]) == ("Success", "psp-2", "mod-2")
    assert tx["timestamp"] == "2026-03-04T05:06:07.000Z"
    payment = await payments.ok(
        payment, {"action": "changeTransactionState", "transactionId": tx_id, "state": "Failure"}
    )
    assert payment["transactions"][0]["state"] == "Failure"


async def test_transaction_cannot_go_back_to_initial(payments: Payments) -> None:
    payment = await payments.ok(await payments.create(), authorization("Pending"))
    tx_id = payment["transactions"][0]["id"]
    error = await payments.error(
        payment, {"action": "changeTransactionState", "transactionId": tx_id, "state": "Initial"}
    )
    assert error["code"] == "InvalidOperation"


async def test_transaction_interface_id_is_unique_within_the_payment(payments: Payments) -> None:
    payment = await payments.ok(await payments.create(), authorization(interfaceId="mod-1"), authorization())
    second = payment["transactions"][1]["id"]
    error = await payments.error(
        payment, {"action": "setTransactionInterfaceId", "transactionId": second, "interfaceId": "mod-1"}
    )
    assert error["code"] == "DuplicateField"
    error = await payments.error(payment, authorization(interfaceId="mod-1"))
    assert error["code"] == "DuplicateField"


async def test_interface_id_is_write_once(payments: Payments) -> None:
    payment = await payments.ok(await payments.create(), {"action": "setInterfaceId", "interfaceId": "psp-1"})
    same = await payments.ok(payment, {"action": "setInterfaceId", "interfaceId": "psp-1"})
    assert same["interfaceId"] == "psp-1"
    error = await payments.error(same, {"action": "setInterfaceId", "interfaceId": "psp-2"})
    assert error["code"] == "InvalidOperation"


async def test_interface_id_is_unique_per_payment_interface(payments: Payments) -> None:
    info = {"paymentInterface": "stripe"}
    await payments.create(interfaceId="pi_1", paymentMethodInfo=info)
    other = await payments.create(paymentMethodInfo=info)
    error = await payments.error(other, {"action": "setInterfaceId", "interfaceId": "pi_1"})
    assert error["code"] == "DuplicateField"
    elsewhere = await payments.create(paymentMethodInfo={"paymentInterface": "sandbox"})
    await payments.ok(elsewhere, {"action": "setInterfaceId", "interfaceId": "pi_1"})


async def test_money_in_another_currency_is_400_invalid_field(payments: Payments) -> None:
    payment = await payments.create()
    usd = {
        "action": "addTransaction",
        "transaction": {"type": "Charge", "amount": {"currencyCode": "USD", "centAmount": 5}},
    }
    assert (await payments.error(payment, usd))["code"] == "InvalidField"
    bad = {"action": "changeAmountPlanned", "amount": {"currencyCode": "eur", "centAmount": 5}}
    assert (await payments.error(payment, bad))["code"] == "InvalidField"


async def test_update_is_atomic(payments: Payments, emulator: Emulator) -> None:
    payment = await payments.create()
    error = await payments.error(
        payment,
        {"action": "setInterfaceId", "interfaceId": "psp-1"},
        authorization(),
        {"action": "changeTransactionState", "transactionId": "nope", "state": "Success"},
    )
    assert error["code"] == "InvalidOperation"
    assert emulator.get_payment(payment["id"]) == payment


async def test_stale_version_is_409_and_changes_nothing(payments: Payments, emulator: Emulator) -> None:
    payment = await payments.ok(await payments.create(), authorization())
    resp = await payments.update(payment, authorization("Failure"), version=1)
    assert resp.status == 409
    error = (await resp.json())["errors"][0]
    assert error["code"] == "ConcurrentModification"
    assert error["currentVersion"] == 2
    assert len(emulator.get_payment(payment["id"])["transactions"]) == 1  # type: ignore[index]


async def test_unknown_action_is_400_invalid_input(payments: Payments) -> None:
    payment = await payments.create()
    error = await payments.error(payment, {"action": "capture"})
    assert error["code"] == "InvalidInput"
    assert "Unknown action" in error["message"]


async def test_missing_required_action_fields_are_400(payments: Payments) -> None:
    payment = await payments.create()
    for action in (
        {"action": "addTransaction"},
        {"action": "addTransaction", "transaction": {"type": "Charge"}},
        {"action": "setInterfaceId"},
        {"action": "changeTransactionState", "transactionId": "x"},
        {"action": "setMethodInfoToken", "token": {}},
        {"action": "setCustomField", "name": "x", "value": 1},
        {},
        "setKey",
    ):
        resp = await payments.update(payment, action)  # type: ignore[arg-type]
        assert resp.status == 400, action


async def test_remaining_update_actions(payments: Payments) -> None:
    payment = await payments.create(paymentMethodInfo={})
    type_ref = {"typeId": "type", "key": "payment-fields"}
    payment = await payments.ok(
        payment,
        {"action": "setMethodInfoInterface", "interface": "sandbox"},
        {"action": "setMethodInfoName", "name": {"en": "Card"}},
        {"action": "setMethodInfoToken", "token": {"value": "tok_1"}},
        {"action": "setMethodInfoInterfaceAccount", "interfaceAccount": "acct-1"},
        {"action": "setKey", "key": "pay-1"},
        {"action": "setCustomType", "type": type_ref, "fields": {"a": 1}},
        {"action": "setCustomField", "name": "b", "value": "two"},
        {"action": "addInterfaceInteraction", "type": type_ref, "fields": {"request": "{}"}},
        {"action": "setStatusInterfaceCode", "interfaceCode": "00"},
        {"action": "setStatusInterfaceText", "interfaceText": "Approved"},
        {"action": "changeAmountPlanned", "amount": {"currencyCode": "EUR", "centAmount": 900}},
        {"action": "setAnonymousId", "anonymousId": "anon-1"},
        {"action": "setCustomer", "customer": {"typeId": "customer", "id": "cust-1"}},
    )
    assert payment["version"] == 2
    assert payment["paymentMethodInfo"] == {
        "paymentInterface": "sandbox",
        "name": {"en": "Card"},
        "token": {"value": "tok_1"},
        "interfaceAccount": "acct-1",
    }
    assert payment["key"] == "pay-1"
    assert payment["custom"] == {"type": type_ref, "fields": {"a": 1, "b": "two"}}
    assert payment["interfaceInteractions"] == [{"type": type_ref, "fields": {"request": "{}"}}]
    assert payment["paymentStatus"] == {"interfaceCode": "00", "interfaceText": "Approved"}
    assert payment["amountPlanned"]["centAmount"] == 900
    assert payment["anonymousId"] == "anon-1"
    assert payment["customer"] == {"typeId": "customer", "id": "cust-1"}
    error = await payments.error(payment, {"action": "setMethodInfoInterface", "interface": "stripe"})
    assert error["code"] == "InvalidOperation"
    cleared = await payments.ok(
        payment,
        {"action": "setMethodInfoToken"},
        {"action": "setCustomField", "name": "a"},
        {"action": "setKey"},
    )
    assert "token" not in cleared["paymentMethodInfo"]
    assert cleared["custom"]["fields"] == {"b": "two"}
    assert "key" not in cleared


async def test_payment_by_key_and_404(payments: Payments) -> None:
    payment = await payments.create(key="order-9")
    by_key = await payments.client.get("/demo/payments/key=order-9", headers=payments.auth)
    assert (await by_key.json())["id"] == payment["id"]
    missing = await payments.client.get("/demo/payments/nope", headers=payments.auth)
    assert missing.status == 404
    assert (await missing.json())["errors"][0]["code"] == "ResourceNotFound"
    resp = await payments.client.post(
        "/demo/payments/nope", json={"version": 1, "actions": []}, headers=payments.auth
    )
    assert resp.status == 404
