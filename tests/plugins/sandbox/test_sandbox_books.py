"""The sandbox PSP's books, called directly: replicas sharing one store, ``reconcile``'s answers, lost answers,
``books: memory``; and what the books cost in commercetools calls, counted at the emulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from host import (
    CaptureMethod,
    MemoryStore,
    Operation,
    Outcome,
    PaymentView,
    ProviderError,
    ReconcileRequest,
    ReconcileResult,
    Transaction,
    TxState,
    TxType,
)
from host.testing import HostClient
from plugins.sandbox import books
from plugins.sandbox.books import reference
from plugins.sandbox.hosted import transactions_for
from plugins.sandbox.signing import read_token

if TYPE_CHECKING:
    from conftest import MakeProvider, Requests


def ask(payment: PaymentView, type_: TxType, key: str | None, operation: str = "create",
        reference: str | None = None) -> ReconcileRequest:
    """``reconcile``'s request for an undecided ``type_`` transaction reserved under ``key``."""
    tx = Transaction("tx-1", type_, TxState.INITIAL, payment.amount_planned, None, key)
    return ReconcileRequest(payment, tx, operation, key, reference)


def summary(result: ReconcileResult) -> list[tuple[str, str, str | None]]:
    return [(t.type.value, t.state.value, t.interaction_id) for t in result.transactions]


async def test_a_replica_answers_what_another_did_under_the_same_key(make_provider: MakeProvider,
                                                                   req: type[Requests]) -> None:
    store = MemoryStore()
    one, two = make_provider(store=store, mode="async", webhookDelay=60), make_provider(store=store, mode="async")
    assert await two.create_payment(req.create(key="k")) == await one.create_payment(req.create(key="k"))
    first = await one.capture(req.modify(key="cap"))
    again = await two.capture(req.modify(key="cap"))
    assert again == first and first.outcome == Outcome.RECEIVED
    assert (one.pending_webhooks, two.pending_webhooks) == (1, 0)    # one capture, one webhook


async def test_reconcile_finds_an_authorization_by_key_or_reference(make_provider: MakeProvider,
                                                                   req: type[Requests]) -> None:
    provider = make_provider()
    payment = req.payment("pay-1")
    made = await provider.create_payment(req.create(payment=payment, key="sandbox-card:create:k1"))
    by_key = await provider.reconcile(ask(payment, TxType.AUTHORIZATION, "sandbox-card:create:k1"))
    assert summary(by_key) == [("Authorization", "Success", made.psp_reference)]
    assert by_key.psp_reference == made.psp_reference
    by_reference = await provider.reconcile(ask(payment, TxType.AUTHORIZATION, None, reference=made.psp_reference))
    assert summary(by_reference) == summary(by_key)
    assert not (await provider.reconcile(ask(payment, TxType.AUTHORIZATION, "sandbox-card:create:k2"))).found
    assert not (await provider.reconcile(ask(payment, TxType.AUTHORIZATION, None, reference="psp-other"))).found
    other = req.payment("pay-2")   # the same key for another Payment (ct-mock's duplicate keys): not this one
    assert not (await provider.reconcile(ask(other, TxType.AUTHORIZATION, "sandbox-card:create:k1"))).found


async def test_reconcile_of_an_automatic_capture(make_provider: MakeProvider, req: type[Requests]) -> None:
    provider = make_provider()
    payment = req.payment()
    made = await provider.create_payment(req.create(payment=payment, key="c:create:k",
                                                    capture_method=CaptureMethod.AUTOMATIC))
    ref = made.psp_reference
    auth = await provider.reconcile(ask(payment, TxType.AUTHORIZATION, "c:create:k"))
    assert summary(auth) == [("Authorization", "Success", ref), ("Charge", "Success", f"{ref}:charge")]
    charge = await provider.reconcile(ask(payment, TxType.CHARGE, "c:create:k:Charge"))   # the host's extra's key
    assert summary(charge) == [("Charge", "Success", f"{ref}:charge")]


async def test_a_rejected_authorization_reconciles_as_failed(make_provider: MakeProvider,
                                                             req: type[Requests]) -> None:
    provider = make_provider()
    body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Rejected"}
    await provider.create_payment(req.create(body, key="k"))
    assert [s for _, s, _ in summary(await provider.reconcile(ask(req.payment(), TxType.AUTHORIZATION, "k")))] \
        == ["Failure"]


@pytest.mark.parametrize(("operation", "type_"), [(Operation.CAPTURE, TxType.CHARGE),
                                                  (Operation.REFUND, TxType.REFUND),
                                                  (Operation.CANCEL, TxType.CANCEL_AUTHORIZATION)])
async def test_an_async_modification_is_pending_until_its_webhook_is_due(
        make_provider: MakeProvider, req: type[Requests], operation: Operation, type_: TxType) -> None:
    provider = make_provider(mode="async", webhookDelay=30)
    provider.clock = lambda: 1000.0
    request = req.modify(operation, key="mod-1")
    made = await provider.reverse(request) if operation != Operation.CAPTURE else await provider.capture(request)
    question = ask(request.payment, type_, "mod-1", operation.value)
    assert summary(await provider.reconcile(question)) == [(type_.value, "Pending", made.psp_reference)]
    provider.clock = lambda: 1030.0    # the webhook was due, whether or not it arrived
    assert summary(await provider.reconcile(question)) == [(type_.value, "Success", made.psp_reference)]
    other = TxType.REFUND if type_ != TxType.REFUND else TxType.CHARGE    # the key of another kind of operation
    assert not (await provider.reconcile(ask(request.payment, other, "mod-1", "refundPayment"))).found


@pytest.mark.parametrize("where", ["commercetools", "memory"])
async def test_an_offsite_authorization_is_initial_until_the_shopper_decides(make_provider: MakeProvider,
                                                                             req: type[Requests], where: str) -> None:
    provider = make_provider(mode="offsite", capture_method=CaptureMethod.AUTOMATIC, books=where)
    provider.clock = lambda: 1000.0
    payment = req.payment()
    made = await provider.create_payment(req.create(payment=payment, key="k",
                                                    capture_method=CaptureMethod.AUTOMATIC))
    question = ask(payment, TxType.AUTHORIZATION, "k")
    assert summary(await provider.reconcile(question)) == [("Authorization", "Initial", made.psp_reference)]
    token = read_token("test-webhook-secret", made.response["redirectUrl"].rsplit("/", 1)[1], now=1000)
    assert await provider._decide(token, True) == transactions_for(token, True)
    assert await provider._decide(token, False) == transactions_for(token, True)    # the first decision stands
    assert [s for _, s, _ in summary(await provider.reconcile(question))] == ["Success", "Success"]


async def test_an_offsite_link_that_expired_undecided_reconciles_as_failed(make_provider: MakeProvider,
                                                                          req: type[Requests]) -> None:
    provider = make_provider(mode="offsite")
    provider.clock = lambda: 1000.0
    await provider.create_payment(req.create(key="k"))
    provider.clock = lambda: 1000.0 + 31 * 60
    result = await provider.reconcile(ask(req.payment(), TxType.AUTHORIZATION, "k"))
    assert [s for _, s, _ in summary(result)] == ["Failure"]


async def test_a_lost_answer_is_a_504_after_the_psp_did_it(make_provider: MakeProvider,
                                                           req: type[Requests]) -> None:
    provider = make_provider(lostRate=1, timeout=0)
    with pytest.raises(ProviderError) as info:
        await provider.create_payment(req.create(key="k"))
    assert (info.value.status, info.value.code) == (504, "SandboxTimeout")
    assert [s for _, s, _ in summary(await provider.reconcile(ask(req.payment(), TxType.AUTHORIZATION, "k")))] \
        == ["Success"]
    with pytest.raises(ProviderError):
        await provider.capture(req.modify(key="cap"))
    assert (await provider.reconcile(ask(req.modify().payment, TxType.CHARGE, "cap", "capturePayment"))).found


async def test_books_in_memory_stay_in_the_process(make_provider: MakeProvider, req: type[Requests]) -> None:
    store = MemoryStore()
    one, two = make_provider(store=store, books="memory"), make_provider(store=store, books="memory")
    await one.create_payment(req.create(key="k"))
    assert await store.get(reference("authorization", "k")) is None     # nothing in the shared store
    assert (await one.reconcile(ask(req.payment(), TxType.AUTHORIZATION, "k"))).found
    assert not (await two.reconcile(ask(req.payment(), TxType.AUTHORIZATION, "k"))).found


async def test_books_in_memory_forget_the_oldest_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(books, "LOCAL_ENTRIES", 2)
    local = books.Books(None)
    for ref in ("a", "b", "c"):
        assert await local.enter(ref, {"ref": ref}) == ({"ref": ref}, True)
    assert await local.enter("c", {"ref": "again"}) == ({"ref": "c"}, False)
    assert [await local.find(ref) is not None for ref in ("a", "b", "c")] == [False, True, True]


async def test_the_books_cost_one_read_and_one_write_per_psp_call(
        connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    host = await connector_host("card: {plugin: sandbox, paymentInterface: card}\n")
    pid = (await (await host.pay(host.session("card"))).json())["paymentReference"]
    capture = {"action": "capturePayment", "amount": {"centAmount": 100, "currencyCode": "EUR"}}
    await host.intent(pid, capture)
    custom = "/{projectKey}/custom-objects"
    for call in (host.pay(host.session("card")), host.intent(pid, capture)):
        host.emulator.reset_stats()
        assert (await call).status == 200
        assert {k: v for k, v in host.emulator.stats().items() if "custom-objects" in k} == {
            f"GET {custom}/{{container}}/{{key}}": 1, f"POST {custom}": 1}
    memory = await connector_host("card: {plugin: sandbox, paymentInterface: card, settings: {books: memory}}\n")
    memory.emulator.reset_stats()
    assert (await memory.pay(memory.session("card"))).status == 200
    assert not [k for k in memory.emulator.stats() if "custom-objects" in k]

