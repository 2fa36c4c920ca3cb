"""The sandbox gift-card provider called directly: states, redeem, refund, idempotency, faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from host import GiftCardState, Money, Outcome, ProviderError, Transaction, TxState, TxType
from plugins.sandbox_giftcard import GiftCardSettings, SandboxGiftCardProvider
from plugins.sandbox_giftcard.settings import DEFAULT_CARDS

if TYPE_CHECKING:
    from conftest import GiftRequests, MakeGiftCard

TODAY = datetime.now(UTC).date()
CARDS: dict[str, Any] = {
    "EUR100": {"balance": 10000, "currency": "EUR"},
    "USD50": {"balance": 5000, "currency": "USD"},
    "EMPTY": {"balance": 0, "currency": "EUR"},
    "OLD": {"balance": 5000, "currency": "EUR", "expires": (TODAY - timedelta(days=1)).isoformat()},
    "LASTDAY": {"balance": 5000, "currency": "EUR", "expires": TODAY.isoformat()},
}


def test_settings_read_cards_as_written_in_yaml() -> None:
    settings = GiftCardSettings.model_validate({"currency": "EUR", "cards": CARDS, "errorRate": 0.1,
                                                "seed": 3})
    assert settings.cards["OLD"].expires == TODAY - timedelta(days=1)
    assert settings.cards["EUR100"].expires is None
    assert (settings.currency, settings.error_rate, settings.seed, settings.latency) == ("EUR", 0.1, 3, 0)
    assert GiftCardSettings.model_validate({"currency": ""}).currency is None
    assert GiftCardSettings().cards == DEFAULT_CARDS


@pytest.mark.parametrize("bad", [{"cards": {"X": {"balance": -1, "currency": "EUR"}}},
                                 {"cards": {"X": {"balance": 1, "currency": "eur"}}},
                                 {"cards": {"X": {"balance": 1, "currency": "EUR", "pin": "1"}}},
                                 {"currency": "euro"}, {"unknown": 1}, {"errorRate": 2}])
def test_settings_refuse_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GiftCardSettings.model_validate(bad)


def test_capabilities() -> None:
    caps = SandboxGiftCardProvider.capabilities
    assert caps.methods == {"giftcard"}
    assert not caps.capture and not caps.cancel and not caps.webhooks
    assert caps.refund and caps.partial_refund and caps.multiple_refund


@pytest.mark.parametrize(("code", "currency", "state"), [
    ("NOPE", "EUR", GiftCardState.NOT_FOUND),
    ("OLD", "EUR", GiftCardState.EXPIRED),
    ("USD50", "EUR", GiftCardState.CURRENCY_NOT_MATCH),
    ("EMPTY", "EUR", GiftCardState.ZERO_BALANCE),
    ("GenericError", "EUR", GiftCardState.GENERIC_ERROR),
])
async def test_balance_states(make_giftcard: MakeGiftCard, code: str, currency: str,
                              state: GiftCardState) -> None:
    result = await make_giftcard(cards=CARDS).balance(code, currency)
    assert result.state == state
    assert result.amount is None and result.message


async def test_valid_balance(make_giftcard: MakeGiftCard) -> None:
    provider = make_giftcard(cards=CARDS)
    assert (await provider.balance("EUR100", "EUR")).amount == Money(10000, "EUR")
    assert (await provider.balance("USD50", "USD")).amount == Money(5000, "USD")
    last_day = await provider.balance("LASTDAY", "EUR")
    assert (last_day.state, last_day.amount) == (GiftCardState.VALID, Money(5000, "EUR"))


async def test_connector_currency_refuses_other_carts(make_giftcard: MakeGiftCard) -> None:
    provider = make_giftcard(cards=CARDS, currency="EUR")
    assert (await provider.balance("USD50", "USD")).state == GiftCardState.CURRENCY_NOT_MATCH
    assert (await provider.balance("NOPE", "USD")).state == GiftCardState.CURRENCY_NOT_MATCH
    assert (await provider.balance("EUR100", "EUR")).state == GiftCardState.VALID


async def test_injected_errors_are_generic_errors(make_giftcard: MakeGiftCard,
                                                  greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS, errorRate=1)
    assert (await provider.balance("EUR100", "EUR")).state == GiftCardState.GENERIC_ERROR
    redeemed = await provider.redeem(greq.redeem("EUR100", 100))
    assert (redeemed.state, redeemed.redemption_id) == (TxState.FAILURE, "")
    with pytest.raises(ProviderError) as info:
        await provider.refund(greq.refund("any", 100))
    assert (info.value.code, info.value.status) == ("SandboxError", 502)
    assert (await provider.status()).status == "DOWN"
    assert await provider.ledger.remaining("EUR100") == 10000


async def test_status_up(make_giftcard: MakeGiftCard) -> None:
    check = await make_giftcard().status()
    assert (check.name, check.status) == ("Sandbox gift card API", "UP")


async def test_redeem_decrements_the_balance(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    result = await provider.redeem(greq.redeem("EUR100", 3000))
    assert result.state == TxState.SUCCESS
    assert result.redemption_id.startswith("giftcard-redemption-")
    assert (await provider.balance("EUR100", "EUR")).amount == Money(7000, "EUR")


async def test_redeem_never_overdraws(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    too_much = await provider.redeem(greq.redeem("EUR100", 10001, key="k1"))
    assert (too_much.state, too_much.redemption_id) == (TxState.FAILURE, "")
    assert too_much.message and "insufficient" in too_much.message
    assert await provider.ledger.remaining("EUR100") == 10000
    assert (await provider.redeem(greq.redeem("EUR100", 10000, key="k2"))).state == TxState.SUCCESS
    assert (await provider.balance("EUR100", "EUR")).state == GiftCardState.ZERO_BALANCE
    assert (await provider.redeem(greq.redeem("EUR100", 1, key="k3"))).state == TxState.FAILURE
    assert await provider.ledger.remaining("EUR100") == 0


async def test_concurrent_redeems_never_overdraw(make_giftcard: MakeGiftCard,
                                                 greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS, latency=0.01)
    requests = [greq.redeem("EUR100", 3000, key=f"k{i}", payment_id=f"p{i}") for i in range(5)]
    results = await asyncio.gather(*(provider.redeem(r) for r in requests))
    assert sorted(r.state for r in results).count(TxState.SUCCESS) == 3
    assert await provider.ledger.remaining("EUR100") == 1000


@pytest.mark.parametrize(("code", "currency", "cent"), [("NOPE", "EUR", 100), ("OLD", "EUR", 100),
                                                        ("USD50", "EUR", 100), ("EMPTY", "EUR", 100),
                                                        ("GenericError", "EUR", 100), ("EUR100", "EUR", 0)])
async def test_redeem_of_a_card_that_is_not_valid_fails(make_giftcard: MakeGiftCard, greq: type[GiftRequests],
                                                        code: str, currency: str, cent: int) -> None:
    result = await make_giftcard(cards=CARDS).redeem(greq.redeem(code, cent, currency))
    assert (result.state, result.redemption_id) == (TxState.FAILURE, "")
    assert result.message


async def test_redeem_is_idempotent_by_key(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    first = await provider.redeem(greq.redeem("EUR100", 2000, key="same"))
    again = await provider.redeem(greq.redeem("EUR100", 2000, key="same"))
    other = await provider.redeem(greq.redeem("EUR100", 2000, key="other"))
    assert again == first and other.redemption_id != first.redemption_id
    assert await provider.ledger.remaining("EUR100") == 6000


async def test_refund_restores_up_to_what_was_redeemed(make_giftcard: MakeGiftCard,
                                                       greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redemption = (await provider.redeem(greq.redeem("EUR100", 5000))).redemption_id
    first = await provider.refund(greq.refund(redemption, 2000, key="r1"))
    assert first.outcome == Outcome.APPROVED and first.psp_reference.startswith("giftcard-refund-")
    assert await provider.ledger.remaining("EUR100") == 7000
    second = await provider.refund(greq.refund(redemption, 3000, key="r2"))
    assert second.outcome == Outcome.APPROVED and second.psp_reference != first.psp_reference
    assert await provider.ledger.remaining("EUR100") == 10000
    over = await provider.refund(greq.refund(redemption, 1, key="r3"))
    assert over.outcome == Outcome.REJECTED and over.psp_reference.startswith("giftcard-refund-")
    assert await provider.ledger.remaining("EUR100") == 10000


async def test_refund_more_than_redeemed_is_rejected(make_giftcard: MakeGiftCard,
                                                     greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redemption = (await provider.redeem(greq.redeem("EUR100", 1000))).redemption_id
    assert (await provider.refund(greq.refund(redemption, 1001))).outcome == Outcome.REJECTED
    assert (await provider.refund(greq.refund(redemption, 100, "USD", key="r2"))).outcome == Outcome.REJECTED
    assert await provider.ledger.remaining("EUR100") == 9000


async def test_refund_is_idempotent_by_key(make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redemption = (await provider.redeem(greq.redeem("EUR100", 4000))).redemption_id
    first = await provider.refund(greq.refund(redemption, 1500, key="same"))
    again = await provider.refund(greq.refund(redemption, 1500, key="same"))
    assert again == first
    assert await provider.ledger.remaining("EUR100") == 7500


async def test_refund_of_an_unknown_redemption_is_rejected(make_giftcard: MakeGiftCard,
                                                           greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    assert (await provider.refund(greq.refund("giftcard-redemption-nope", 100))).outcome == Outcome.REJECTED
    assert (await provider.refund(greq.refund(None, 100, key="r2"))).outcome == Outcome.REJECTED


async def test_refund_finds_the_redemption_by_charge_when_interface_id_is_unset(
        make_giftcard: MakeGiftCard, greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redemption = (await provider.redeem(greq.redeem("EUR100", 1000))).redemption_id
    charge = Transaction("tx-1", TxType.CHARGE, TxState.SUCCESS, Money(1000, "EUR"), redemption)
    result = await provider.refund(greq.refund(None, 1000, transactions=(charge,)))
    assert result.outcome == Outcome.APPROVED
    assert await provider.ledger.remaining("EUR100") == 10000


async def test_expired_card_can_still_be_refunded(make_giftcard: MakeGiftCard,
                                                  greq: type[GiftRequests]) -> None:
    provider = make_giftcard(cards=CARDS)
    redemption = (await provider.redeem(greq.redeem("LASTDAY", 1000))).redemption_id
    provider.ledger._today = lambda: date.max  # the card expires after the redemption
    assert (await provider.refund(greq.refund(redemption, 1000))).outcome == Outcome.APPROVED
    assert await provider.ledger.remaining("LASTDAY") == 5000
