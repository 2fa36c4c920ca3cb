"""The gift-card ledger in the instance's store: replicas sharing it, idempotency across them, ``reconcile``,
what is (not) written, and what it costs in commercetools calls, counted at the emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from host import (
    MemoryStore,
    Money,
    PaymentView,
    ReconcileRequest,
    ReconcileResult,
    Stored,
    Transaction,
    TxState,
    TxType,
)
from host.testing import HostClient
from plugins.sandbox_giftcard import ledger

if TYPE_CHECKING:
    from conftest import GiftRequests, MakeGiftCard

CARDS: dict[str, Any] = {"CARD-100": {"balance": 10000, "currency": "EUR"}}


class Recording(MemoryStore):
    """A store that keeps every value written, to look at what the ledger writes."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, Any]] = []

    async def put(self, key: str, value: Any, version: int) -> Stored:
        self.written.append((key, value))
        return await super().put(key, value, version)


def ask(payment: PaymentView, type_: TxType, key: str | None, reference: str | None = None) -> ReconcileRequest:
    tx = Transaction("tx-1", type_, TxState.INITIAL, payment.amount_planned, None, key)
    return ReconcileRequest(payment, tx, "redeem" if type_ == TxType.CHARGE else "refundPayment", key, reference)


def summary(result: ReconcileResult) -> list[tuple[str, str, int | None, str | None]]:
    return [(t.type.value, t.state.value, t.amount.cent_amount if t.amount else None, t.interaction_id)
            for t in result.transactions]


async def test_replicas_never_spend_more_than_the_card_holds(make_giftcard: MakeGiftCard,
                                                             greq: type[GiftRequests]) -> None:
    store = MemoryStore()
    replicas = [make_giftcard(store=store, cards=CARDS, latency=0.01) for _ in range(2)]
    requests = [greq.redeem("CARD-100", 3000, key=f"k{i}", payment_id=f"p{i}") for i in range(6)]
    results = await asyncio.gather(*(replicas[i % 2].redeem(r) for i, r in enumerate(requests)))
    assert [r.state for r in results].count(TxState.SUCCESS) == 3
    assert await replicas[0].ledger.remaining("CARD-100") == await replicas[1].ledger.remaining("CARD-100") == 1000


async def test_redeem_and_refund_are_idempotent_across_replicas(make_giftcard: MakeGiftCard,
                                                                greq: type[GiftRequests]) -> None:
    store = MemoryStore()
    one, two = make_giftcard(store=store, cards=CARDS), make_giftcard(store=store, cards=CARDS)
    first = await one.redeem(greq.redeem("CARD-100", 4000, key="same"))
    assert await two.redeem(greq.redeem("CARD-100", 4000, key="same")) == first
    refund = greq.refund(first.redemption_id, 1500, key="r")
    assert await two.refund(refund) == await one.refund(refund)
    assert await one.ledger.remaining("CARD-100") == 10000 - 4000 + 1500


async def test_the_stored_balance_counts_once_the_card_was_used(make_giftcard: MakeGiftCard,
                                                                greq: type[GiftRequests]) -> None:
    store = MemoryStore()
    await make_giftcard(store=store, cards=CARDS).redeem(greq.redeem("CARD-100", 1000))
    changed = make_giftcard(store=store, cards={"CARD-100": {"balance": 50000, "currency": "EUR"}})
    assert (await changed.balance("CARD-100", "EUR")).amount == Money(9000, "EUR")


async def test_codes_are_not_written_to_the_store(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    store = Recording()
    provider = make_giftcard(store=store, cards=CARDS)
    redeemed = await provider.redeem(greq.redeem("CARD-100", 1000))
    await provider.refund(greq.refund(redeemed.redemption_id, 500))
    assert store.written and "CARD-100" not in json.dumps(store.written)


async def test_a_card_remembers_its_latest_redemptions(make_giftcard: MakeGiftCard, greq: type[GiftRequests],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "REMEMBERED", 2)
    provider = make_giftcard(cards=CARDS)
    ids = [(await provider.redeem(greq.redeem("CARD-100", 100, key=f"k{i}"))).redemption_id for i in range(3)]
    assert [await provider.ledger.taken(rid) is not None for rid in ids] == [False, True, True]
    assert await provider.ledger.remaining("CARD-100") == 9700


async def test_reconcile_answers_from_the_ledger(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redeemed = await provider.redeem(greq.redeem("CARD-100", 2500, key="gift:redeem:k"))
    rid = redeemed.redemption_id
    payment = greq.payment(cent=2500)
    assert summary(await provider.reconcile(ask(payment, TxType.CHARGE, "gift:redeem:k"))) == [
        ("Charge", "Success", 2500, rid)]
    assert (await provider.reconcile(ask(payment, TxType.CHARGE, "gift:redeem:k"))).psp_reference == rid
    assert summary(await provider.reconcile(ask(payment, TxType.CHARGE, None, rid))) == [
        ("Charge", "Success", 2500, rid)]
    assert not (await provider.reconcile(ask(payment, TxType.CHARGE, "gift:redeem:other"))).found
    refunded = await provider.refund(greq.refund(rid, 1000, key="gift:refundPayment:r"))
    charge = Transaction("tx-0", TxType.CHARGE, TxState.SUCCESS, Money(2500, "EUR"), rid, "gift:redeem:k")
    paid = greq.payment(cent=2500, interface_id=rid, transactions=(charge,))
    assert summary(await provider.reconcile(ask(paid, TxType.REFUND, "gift:refundPayment:r"))) == [
        ("Refund", "Success", 1000, refunded.psp_reference)]
    assert not (await provider.reconcile(ask(paid, TxType.REFUND, "gift:refundPayment:other"))).found


async def test_a_refused_redemption_leaves_nothing_to_reconcile(make_giftcard: MakeGiftCard,
                                                                greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    refused = await provider.redeem(greq.redeem("CARD-100", 10001, key="too-much"))
    assert refused.state == TxState.FAILURE
    assert not (await provider.reconcile(ask(greq.payment(cent=10001), TxType.CHARGE, "too-much"))).found


async def test_the_ledger_costs_in_commercetools_calls(connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    cards = json.dumps({"cards": CARDS})
    host = await connector_host(f"gift: {{plugin: sandbox_giftcard, paymentInterface: gift, settings: {cards}}}\n")
    session = host.session("gift", amount=10000)
    custom = "/{projectKey}/custom-objects"
    get, post = f"GET {custom}/{{container}}/{{key}}", f"POST {custom}"

    async def counted(call: Awaitable[Any]) -> dict[str, int]:
        host.emulator.reset_stats()
        assert (await call).status == 200
        return {k: v for k, v in host.emulator.stats().items() if "custom-objects" in k}

    assert await counted(host.balance(session, "CARD-100")) == {get: 1, post: 1}     # the card's first use
    assert await counted(host.balance(session, "CARD-100")) == {get: 1}
    assert await counted(host.redeem(session, "CARD-100", 2000)) == {get: 1, post: 2}
    pid = host.ct.payments()[0]["id"]
    refund = {"action": "refundPayment", "amount": {"centAmount": 500, "currencyCode": "EUR"}}
    assert await counted(host.intent(pid, refund)) == {get: 2, post: 1}
