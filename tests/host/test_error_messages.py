"""What a newcomer reads when a request is wrong: each problem with its own message and field, never
"Request body does not contain valid JSON." for valid JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """\
sandbox: {plugin: sandbox, paymentInterface: mock}
giftcards: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
"""
NOT_JSON = "Request body does not contain valid JSON."


@pytest.fixture
async def host(connector_host: MakeHost) -> HostClient:
    return await connector_host(INSTANCES)


async def test_an_empty_gift_card_code_says_so_with_its_field(host: HostClient) -> None:
    resp = await host.balance(host.session("mock-giftcard-provider"), "")
    assert resp.status == 400
    assert await resp.json() == {"status": {"state": "GenericError", "errors": [
        {"code": "GenericError", "message": "Field code must not be empty.", "field": "code"}]}}


async def test_a_second_action_says_one_is_accepted_with_its_field(host: HostClient) -> None:
    resp = await host.client.post("/operations/payment-intents/x", json={
        "actions": [{"action": "cancelPayment"}, {"action": "cancelPayment"}]},
        headers={"Authorization": f"Bearer {host.oauth_token()}"})
    assert resp.status == 400
    error = (await resp.json())["errors"][0]
    assert error["code"] == "InvalidJsonInput"    # the templates' code for this schema violation
    assert (error["message"], error["field"]) == ("Field actions must have at most 1 item (it has 2).", "actions")


@pytest.mark.parametrize(("body", "message", "field"), [
    ({"actions": [{}]}, "Field actions.0.action is required.", "actions.0.action"),
    ({"actions": []}, "Field actions must have at least 1 item (it has 0).", "actions"),
    ({"actions": "capturePayment"}, "Field actions must be a list.", "actions"),
    ({"actions": [{"action": "capturePayment", "amount": {"centAmount": -1, "currencyCode": "EUR"}}]},
     "Field actions.0.amount.centAmount must be at least 0.", "actions.0.amount.centAmount"),
    ({"actions": [{"action": "refundPayment", "amount": {"centAmount": 5, "currencyCode": "EURO"}}]},
     "Field actions.0.amount.currencyCode must have at most 3 characters.", "actions.0.amount.currencyCode"),
])
async def test_other_schema_violations_name_the_field_and_the_rule(host: HostClient, body: dict[str, object],
                                                                   message: str, field: str) -> None:
    resp = await host.client.post("/operations/payment-intents/x", json=body,
                                  headers={"Authorization": f"Bearer {host.oauth_token()}"})
    data = await resp.json()
    assert resp.status == 400 and data["message"] == message and data["errors"][0]["field"] == field, data
    assert data["errors"][0]["code"] == "InvalidJsonInput"


async def test_malformed_json_still_says_so(host: HostClient) -> None:
    resp = await host.client.post("/balance", data=b'{"code": ', headers={
        "X-Session-Id": host.session("mock-giftcard-provider"), "Content-Type": "application/json"})
    assert (await resp.json())["status"]["errors"][0]["message"] == NOT_JSON


async def test_offsite_sandbox_accepts_a_body_without_payment_outcome(connector_host: MakeHost) -> None:
    host = await connector_host("hosted: {plugin: sandbox, paymentInterface: mock, settings: {mode: offsite}}")
    resp = await host.pay(host.session("mock"), {"paymentMethod": {"type": "card"}})
    assert resp.status == 200, await resp.text()
    assert "/plugins/hosted/hosted/" in (await resp.json())["redirectUrl"]
