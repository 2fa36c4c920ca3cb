"""The commercetools client against the emulator over real HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from host.commercetools.amounts import amount_to_pay
from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings, join_url
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update
from host.errors import (
    ConcurrentModificationError,
    InvalidOperationError,
    ResourceNotFoundError,
    UpstreamError,
)
from host.models import Money, TxState, TxType
from host.testing.harness import RunningEmulator

EUR = "EUR"


def test_join_url_never_doubles_slashes() -> None:
    assert join_url("https://session.x.com/", "pk", "/sessions/1") == "https://session.x.com/pk/sessions/1"


async def test_token_is_cached_and_refreshed_once_on_401(ct_client: CommercetoolsClient,
                                                         ct_emulator: RunningEmulator) -> None:
    cart = ct_emulator.emulator.create_cart(EUR, [{"name": "a", "centAmount": 100, "quantity": 1}])
    ct_emulator.reset_stats()
    for _ in range(3):
        await ct_client.get_cart(cart["id"])
    assert ct_emulator.stats().get("POST /oauth/token") == 1
    ct_emulator.emulator.inject_fault(r"/carts/", 401)
    assert (await ct_client.get_cart(cart["id"]))["id"] == cart["id"]
    assert ct_emulator.stats().get("POST /oauth/token") == 2


async def test_503_then_success_is_retried(ct_client: CommercetoolsClient, ct_emulator: RunningEmulator) -> None:
    cart = ct_emulator.emulator.create_cart(EUR, [{"name": "a", "centAmount": 100, "quantity": 1}])
    ct_emulator.emulator.inject_fault(r"/carts/", 503, times=2)
    assert (await ct_client.get_cart(cart["id"]))["id"] == cart["id"]


async def test_persistent_503_gives_up_with_503(ct_client: CommercetoolsClient, ct_emulator: RunningEmulator) -> None:
    cart = ct_emulator.emulator.create_cart(EUR, [{"name": "a", "centAmount": 100, "quantity": 1}])
    ct_emulator.emulator.inject_fault(r"/carts/", 503, times=50)
    with pytest.raises(UpstreamError) as info:
        await ct_client.get_cart(cart["id"])
    assert info.value.status == 503


async def test_typed_errors(ct_client: CommercetoolsClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        await ct_client.get_payment("00000000-0000-0000-0000-000000000000")


async def _payment(ct_client: CommercetoolsClient, amount: int = 1000) -> dict:  # type: ignore[type-arg]
    return await ct_client.create_payment({  # type: ignore[no-any-return]
        "amountPlanned": {"currencyCode": EUR, "centAmount": amount},
        "paymentMethodInfo": {"paymentInterface": "mock"}})


async def test_ten_concurrent_writers_record_every_transaction_once(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)

    async def write(i: int) -> None:
        tx = TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(100, EUR), interaction_id=f"cap-{i}")
        await apply_update(ct_client, payment["id"], PaymentUpdate([tx]))

    await asyncio.gather(*(write(i) for i in range(10)))
    recorded = (await ct_client.get_payment(payment["id"]))["transactions"]
    assert sorted(t["interactionId"] for t in recorded) == sorted(f"cap-{i}" for i in range(10))


async def test_replaying_an_update_writes_nothing(ct_client: CommercetoolsClient,
                                                  ct_emulator: RunningEmulator) -> None:
    payment = await _payment(ct_client)
    update = PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, EUR), "psp-1")],
                           psp_reference="psp-1", method="card")
    first = await apply_update(ct_client, payment["id"], update, payment=payment)
    ct_emulator.reset_stats()
    again = await apply_update(ct_client, payment["id"], update)
    assert again["version"] == first["version"]
    assert "POST /{projectKey}/payments/{id}" not in ct_emulator.stats()


async def test_pending_is_promoted_and_interface_id_never_overwritten(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await apply_update(ct_client, payment["id"], PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.PENDING, Money(1000, EUR), "m-1")], psp_reference="first"))
    done = await apply_update(ct_client, payment["id"], PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(1000, EUR), "m-1")], psp_reference="second"))
    assert done["interfaceId"] == "first"
    assert [(t["type"], t["state"]) for t in done["transactions"]] == [("Charge", "Success")]


async def test_disallowed_transition_is_not_written(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    done = await apply_update(ct_client, payment["id"], PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(1000, EUR), "m-1")]))
    again = await apply_update(ct_client, payment["id"], PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.PENDING, Money(1000, EUR), "m-1")]))
    assert again["version"] == done["version"]


async def test_stale_version_in_hand_is_reread(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await apply_update(ct_client, payment["id"], PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS,
                                                                        Money(10, EUR), "a")]))
    done = await apply_update(ct_client, payment["id"], PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(10, EUR), "b")]), payment=payment)  # stale version 1
    assert {t["interactionId"] for t in done["transactions"]} == {"a", "b"}


async def test_create_payment_with_a_key_is_replay_safe(ct_client: CommercetoolsClient) -> None:
    draft = {"key": "k-123", "amountPlanned": {"currencyCode": EUR, "centAmount": 5}}
    first = await ct_client.create_payment(draft)
    second = await ct_client.create_payment(draft)
    assert first["id"] == second["id"]


def _cart(gross: int | None = None, total: int = 10000) -> dict:  # type: ignore[type-arg]
    cart = {"id": "c1", "totalPrice": {"currencyCode": EUR, "centAmount": total, "fractionDigits": 2}}
    if gross is not None:
        cart["taxedPrice"] = {"totalGross": {"currencyCode": EUR, "centAmount": gross, "fractionDigits": 2}}
    return cart


def _paid(amount: int, *txs: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    return {"amountPlanned": {"currencyCode": EUR, "centAmount": amount},
            "transactions": [{"type": t, "state": s} for t, s in txs]}


def test_amount_prefers_taxed_gross_and_subtracts_live_payments() -> None:
    assert amount_to_pay(_cart(gross=11900), []).cent_amount == 11900
    assert amount_to_pay(_cart(), [_paid(3000, ("Authorization", "Success"))]).cent_amount == 7000
    assert amount_to_pay(_cart(), [_paid(3000, ("Charge", "Pending"))]).cent_amount == 7000


def test_amount_ignores_failed_and_reverted_payments() -> None:
    payments = [_paid(3000, ("Authorization", "Failure")),
                _paid(2000, ("Authorization", "Success"), ("CancelAuthorization", "Success")),
                _paid(1000, ("Authorization", "Initial"))]
    assert amount_to_pay(_cart(), payments).cent_amount == 10000


def test_amount_subtracts_gift_card_planned_amount_of_the_same_currency() -> None:
    assert amount_to_pay(_cart(), [], Money(2500, EUR)).cent_amount == 7500
    assert amount_to_pay(_cart(), [], Money(2500, "USD")).cent_amount == 10000


def test_paid_in_full_is_400_invalid_operation() -> None:
    with pytest.raises(InvalidOperationError) as info:
        amount_to_pay(_cart(), [_paid(10000, ("Charge", "Success"))])
    body = info.value.body()
    assert body["statusCode"] == 400
    assert body["errors"][0] == {"code": "InvalidOperation", "message": "The cart has already been paid in full",
                                 "resource": "c1", "paidAmount": {"centAmount": 10000, "currencyCode": EUR},
                                 "cartAmount": {"centAmount": 10000, "currencyCode": EUR}}


def test_zero_decimal_currency_keeps_its_fraction_digits() -> None:
    cart = {"id": "c", "totalPrice": {"currencyCode": "JPY", "centAmount": 1500, "fractionDigits": 0}}
    assert amount_to_pay(cart, []) == Money(1500, "JPY", 0)


async def test_concurrent_modification_error_carries_current_version(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await ct_client.update_payment(payment["id"], 1, [{"action": "setInterfaceId", "interfaceId": "x"}])
    with pytest.raises(ConcurrentModificationError) as info:
        await ct_client.update_payment(payment["id"], 1, [{"action": "setMethodInfoMethod", "method": "card"}])
    assert info.value.fields["currentVersion"] == 2


async def test_payment_methods_create_query_delete(ct_client: CommercetoolsClient) -> None:
    created = await ct_client.create_payment_method({
        "customer": {"typeId": "customer", "id": "cust-9"}, "paymentInterface": "mock", "method": "card",
        "token": {"value": "tok-9"}, "paymentMethodStatus": "Active"})
    found = await ct_client.query_payment_methods('customer(id="cust-9") and paymentInterface="mock"')
    assert [m["id"] for m in found] == [created["id"]]
    with pytest.raises(ConcurrentModificationError):
        await ct_client.delete_payment_method(created["id"], created["version"] + 1)
    await ct_client.delete_payment_method(created["id"], created["version"])
    assert await ct_client.query_payment_methods('customer(id="cust-9")') == []


async def test_an_error_body_that_is_not_json_is_a_typed_error() -> None:
    """The emulator always answers JSON; a proxy in front of commercetools (or aiohttp's own 400 for a
    line too long) does not: a stub on loopback answers the shapes seen in the wild."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def token(_: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "expires_in": 3600, "scope": "manage_project:pk"})

    async def plain_400(_: web.Request) -> web.Response:
        return web.Response(status=400, text="Bad Request\n\nGot more than 8190 bytes")

    async def html_502(_: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>bad gateway</html>", content_type="text/html")

    async def text_200(_: web.Request) -> web.Response:
        return web.Response(text="not json")

    stub = web.Application()
    stub.router.add_post("/oauth/token", token)
    stub.router.add_get("/pk/carts/{id}", plain_400)
    stub.router.add_get("/pk/payments/{id}", html_502)
    stub.router.add_post("/pk/payments/{id}", text_200)
    async with TestServer(stub, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        url = str(server.make_url("")).rstrip("/")
        client = CommercetoolsClient(CommercetoolsSettings(
            project_key="pk", client_id="c", client_secret="s", auth_url=url, api_url=url, session_url=url,
            timeout=0.5), http)
        with pytest.raises(UpstreamError) as info:
            await client.get_cart("c-1")
        assert (info.value.status, info.value.code) == (400, "General")
        with pytest.raises(UpstreamError) as info:
            await client.get_payment("p-1")
        assert (info.value.status, info.value.code) == (502, "ServiceUnavailable")
        with pytest.raises(UpstreamError) as info:
            await client.update_payment("p-1", 1, [])
        assert info.value.status == 502
