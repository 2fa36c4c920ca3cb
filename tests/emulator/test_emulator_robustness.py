"""Seeded junk in every field of every draft and update action: 4xx answers, never a 500."""

from __future__ import annotations

import random
from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator
from emulator.payment_actions import ACTIONS

Client = TestClient[Any, Any]

JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", "Initial", "2026-13-45", [], [1], {}, {"id": 1}]
EUR = {"currencyCode": "EUR", "centAmount": 100}
TX = {"type": "Charge", "amount": EUR, "state": "Pending", "interactionId": "i", "interfaceId": "f"}
REF = {"typeId": "type", "key": "t"}
FIELDS: dict[str, Any] = {
    "transaction": TX,
    "state": "Success",
    "interactionId": "psp",
    "interfaceId": "psp",
    "timestamp": "2026-01-01T00:00:00Z",
    "interface": "sandbox",
    "method": "card",
    "name": {"en": "Card"},
    "token": {"value": "tok"},
    "interfaceAccount": "acct",
    "key": "k",
    "type": REF,
    "fields": {"a": 1},
    "value": 1,
    "interfaceCode": "00",
    "interfaceText": "ok",
    "amount": EUR,
    "anonymousId": "anon",
    "customer": {"typeId": "customer", "id": "c"},
}


def _junk_variant(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with one (possibly nested) value replaced by junk."""
    out = dict(doc)
    key = rng.choice(list(out))
    if isinstance(out[key], dict) and out[key] and rng.random() < 0.5:
        out[key] = _junk_variant(rng, out[key])
    else:
        out[key] = rng.choice(JUNK)
    return out


async def test_update_actions_with_junk_fields_never_500(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    rng = random.Random(7)
    created = await client.post(
        "/demo/payments", json={"amountPlanned": EUR, "transactions": [TX]}, headers=auth
    )
    payment_id = (await created.json())["id"]
    tx_id = emulator.get_payment(payment_id)["transactions"][0]["id"]  # type: ignore[index]
    for _ in range(400):
        name = rng.choice(sorted(ACTIONS))
        action = _junk_variant(rng, {"action": name, "transactionId": tx_id, **FIELDS})
        version = emulator.get_payment(payment_id)["version"]  # type: ignore[index]
        resp = await client.post(
            f"/demo/payments/{payment_id}", json={"version": version, "actions": [action]}, headers=auth
        )
        assert resp.status in (200, 400), (action, await resp.text())


async def test_drafts_with_junk_fields_never_500(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    rng = random.Random(11)
    cart = emulator.create_cart()
    drafts: dict[str, dict[str, Any]] = {
        "/demo/carts": {
            "currency": "EUR",
            "lineItems": [{"name": "x", "price": {"centAmount": 1}, "quantity": 1}],
            "customLineItems": [{"name": "y", "money": {"centAmount": 1}}],
            "taxRate": 0.2,
            "taxIncludedInPrice": True,
            "customerId": "c",
        },
        "/demo/sessions": {"cart": {"cartRef": {"id": cart["id"]}}, "metadata": {"a": 1}},
        "/demo/payments": {
            "amountPlanned": EUR,
            "paymentMethodInfo": {"paymentInterface": "p", "token": {"value": "t"}, "custom": {"type": REF}},
            "transactions": [TX],
            "custom": {"type": REF, "fields": {}},
            "customer": {"typeId": "customer", "id": "c"},
            "paymentStatus": {"interfaceCode": "x"},
            "interfaceInteractions": [{"type": REF}],
        },
        "/demo/payment-methods": {
            "customer": {"typeId": "customer", "id": "c"},
            "token": {"value": "t"},
            "default": True,
            "paymentMethodStatus": "Active",
            "name": {"en": "n"},
        },
        "/_emulator/faults": {"path": "^/never$", "status": 503, "times": 1, "method": "GET"},
        "/_emulator/tokens": {"client_id": "connector", "scopes": ["view_payments:demo"]},
    }
    for _ in range(300):
        path = rng.choice(sorted(drafts))
        draft = _junk_variant(rng, drafts[path])
        resp = await client.post(path, json=draft, headers=auth)
        assert resp.status in (200, 201, 400), (path, draft, await resp.text())
