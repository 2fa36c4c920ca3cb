"""The commercetools client against the emulator over real HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings, join_url
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update
from host.errors import (
    ConcurrentModificationError,
    ResourceNotFoundError,
    UpstreamError,
)
from host.models import Money, PaymentView, TxState, TxType
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
    assert (await ct_client.get_cart(cart["id"])).id == cart["id"]
    assert ct_emulator.stats().get("POST /oauth/token") == 2


async def test_503_then_success_is_retried(ct_client: CommercetoolsClient, ct_emulator: RunningEmulator) -> None:
    cart = ct_emulator.emulator.create_cart(EUR, [{"name": "a", "centAmount": 100, "quantity": 1}])
    ct_emulator.emulator.inject_fault(r"/carts/", 503, times=2)
    assert (await ct_client.get_cart(cart["id"])).id == cart["id"]


async def test_persistent_503_gives_up_with_503(ct_client: CommercetoolsClient, ct_emulator: RunningEmulator) -> None:
    cart = ct_emulator.emulator.create_cart(EUR, [{"name": "a", "centAmount": 100, "quantity": 1}])
    ct_emulator.emulator.inject_fault(r"/carts/", 503, times=50)
    with pytest.raises(UpstreamError) as info:
        await ct_client.get_cart(cart["id"])
    assert info.value.status == 503


async def test_typed_errors(ct_client: CommercetoolsClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        await ct_client.get_payment("00000000-0000-0000-0000-000000000000")


async def _payment(ct_client: CommercetoolsClient, amount: int = 1000) -> PaymentView:
    payment, created = await ct_client.create_payment({
        "amountPlanned": {"currencyCode": EUR, "centAmount": amount},
        "paymentMethodInfo": {"paymentInterface": "mock"}})
    assert created
    return payment


async def test_ten_concurrent_writers_record_every_transaction_once(ct_client: CommercetoolsClient) -> None:
    """Ten writers on one Payment version: each write is recorded exactly once, or its writer is told (a
    ``ConcurrentModificationError`` after the retries, which its caller answers 409/503): none is lost silently
    or written twice. On a loaded machine a writer can lose all its attempts, so "all ten" is not asserted;
    most get through."""
    payment = await _payment(ct_client)

    async def write(i: int) -> None:
        tx = TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(100, EUR), interaction_id=f"cap-{i}")
        await apply_update(ct_client, payment.id, PaymentUpdate([tx]))

    outcomes = await asyncio.gather(*(write(i) for i in range(10)), return_exceptions=True)
    told = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, ConcurrentModificationError) for o in told), told
    written = sorted(f"cap-{i}" for i, o in enumerate(outcomes) if o is None)
    recorded = (await ct_client.get_payment(payment.id)).transactions
    assert sorted(str(t.interaction_id) for t in recorded) == written
    assert len(written) >= 5


async def test_replaying_an_update_writes_nothing(ct_client: CommercetoolsClient,
                                                  ct_emulator: RunningEmulator) -> None:
    payment = await _payment(ct_client)
    update = PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.SUCCESS, Money(1000, EUR), "psp-1")],
                           psp_reference="psp-1", method="card")
    first = await apply_update(ct_client, payment.id, update, payment=payment)
    ct_emulator.reset_stats()
    again = await apply_update(ct_client, payment.id, update)
    assert again.version == first.version
    assert "POST /{projectKey}/payments/{id}" not in ct_emulator.stats()


async def test_pending_is_promoted_and_interface_id_never_overwritten(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await apply_update(ct_client, payment.id, PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.PENDING, Money(1000, EUR), "m-1")], psp_reference="first"))
    done = await apply_update(ct_client, payment.id, PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(1000, EUR), "m-1")], psp_reference="second"))
    assert done.interface_id == "first"
    assert [(t.type, t.state) for t in done.transactions] == [(TxType.CHARGE, TxState.SUCCESS)]


async def test_disallowed_transition_is_not_written(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    done = await apply_update(ct_client, payment.id, PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(1000, EUR), "m-1")]))
    again = await apply_update(ct_client, payment.id, PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.PENDING, Money(1000, EUR), "m-1")]))
    assert again.version == done.version


async def test_stale_version_in_hand_is_reread(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await apply_update(ct_client, payment.id, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS,
                                                                        Money(10, EUR), "a")]))
    done = await apply_update(ct_client, payment.id, PaymentUpdate(
        [TxDraft(TxType.CHARGE, TxState.SUCCESS, Money(10, EUR), "b")]), payment=payment)  # stale version 1
    assert {t.interaction_id for t in done.transactions} == {"a", "b"}


async def test_create_payment_with_a_key_is_replay_safe(ct_client: CommercetoolsClient) -> None:
    draft = {"key": "k-123", "amountPlanned": {"currencyCode": EUR, "centAmount": 5}}
    first, created = await ct_client.create_payment(draft)
    second, again = await ct_client.create_payment(draft)
    assert (first.id, created) == (second.id, True) and again is False


async def test_an_update_without_actions_is_never_sent(ct_client: CommercetoolsClient,
                                                       ct_emulator: RunningEmulator) -> None:
    payment = await _payment(ct_client)
    ct_emulator.reset_stats()
    with pytest.raises(ValueError, match="without actions"):
        await ct_client.update_payment(payment.id, payment.version, [])
    assert ct_emulator.stats() == {}


async def test_concurrent_modification_error_carries_current_version(ct_client: CommercetoolsClient) -> None:
    payment = await _payment(ct_client)
    await ct_client.update_payment(payment.id, 1, [{"action": "setInterfaceId", "interfaceId": "x"}])
    with pytest.raises(ConcurrentModificationError) as info:
        await ct_client.update_payment(payment.id, 1, [{"action": "setMethodInfoMethod", "method": "card"}])
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
            await client.update_payment("p-1", 1, [{"action": "setInterfaceId", "interfaceId": "x"}])
        assert info.value.status == 502
