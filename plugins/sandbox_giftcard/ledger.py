"""The sandbox gift-card PSP's own books: balances and redemptions, in memory.

This is the simulated provider's state, like a real gift-card provider's ledger, not the host's (the host
keeps none). It lives in one process: balances start again from the configured cards at every start, and
several replicas would each keep their own books. Every method is synchronous, so under asyncio a check
and the update that follows it can never interleave with another request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from host import BalanceResult, GiftCardState, Money, RedeemResult, TxState
from plugins.sandbox_giftcard.settings import CardSpec

GENERIC_ERROR_CODE = "GenericError"
MESSAGES: dict[GiftCardState, str] = {
    GiftCardState.NOT_FOUND: "The gift card code is not found.",
    GiftCardState.EXPIRED: "The gift card is expired.",
    GiftCardState.CURRENCY_NOT_MATCH: "The gift card currency does not match the cart currency.",
    GiftCardState.ZERO_BALANCE: "The gift card has no balance left.",
    GiftCardState.GENERIC_ERROR: "The gift card provider could not process the request.",
}


@dataclass
class Redemption:
    code: str
    amount: Money
    refunded: int = 0

    @property
    def refundable(self) -> int:
        return self.amount.cent_amount - self.refunded


class Ledger:
    """Balances by code and redemptions by id. ``today`` gives the current (UTC) date."""

    def __init__(self, cards: Mapping[str, CardSpec], currency: str | None,
                 today: Callable[[], date]) -> None:
        self._cards = dict(cards)
        self._currency = currency
        self._today = today
        self._balances = {code: card.balance for code, card in cards.items()}
        self._redemptions: dict[str, Redemption] = {}

    def remaining(self, code: str) -> int | None:
        return self._balances.get(code)

    def redemption(self, redemption_id: str) -> Redemption | None:
        return self._redemptions.get(redemption_id)

    def _state(self, code: str, currency: str) -> GiftCardState:
        if self._currency is not None and self._currency != currency:
            return GiftCardState.CURRENCY_NOT_MATCH
        if code == GENERIC_ERROR_CODE:
            return GiftCardState.GENERIC_ERROR
        card = self._cards.get(code)
        if card is None:
            return GiftCardState.NOT_FOUND
        if card.expires is not None and self._today() > card.expires:
            return GiftCardState.EXPIRED
        if card.currency != currency:
            return GiftCardState.CURRENCY_NOT_MATCH
        if self._balances[code] <= 0:
            return GiftCardState.ZERO_BALANCE
        return GiftCardState.VALID

    def balance(self, code: str, currency: str) -> BalanceResult:
        state = self._state(code, currency)
        if state != GiftCardState.VALID:
            return BalanceResult(state, message=MESSAGES[state])
        return BalanceResult(state, Money(self._balances[code], self._cards[code].currency))

    def redeem(self, code: str, amount: Money) -> RedeemResult:
        """Take ``amount`` from the card: never more than its balance."""
        state = self._state(code, amount.currency)
        if state != GiftCardState.VALID:
            return RedeemResult(TxState.FAILURE, "", message=MESSAGES[state])
        if amount.cent_amount <= 0:
            return RedeemResult(TxState.FAILURE, "", message="The redeem amount must be positive.")
        if amount.cent_amount > self._balances[code]:
            return RedeemResult(TxState.FAILURE, "", message="The gift card has insufficient balance.")
        self._balances[code] -= amount.cent_amount
        redemption_id = f"giftcard-redemption-{uuid.uuid4()}"
        self._redemptions[redemption_id] = Redemption(code, amount)
        return RedeemResult(TxState.SUCCESS, redemption_id)

    def refund(self, redemption_id: str | None, amount: Money) -> str | None:
        """Give ``amount`` of a redemption back to its card; ``None`` when done, else why not."""
        redemption = self._redemptions.get(redemption_id) if redemption_id else None
        if redemption is None:
            return "unknown redemption"
        if amount.currency != redemption.amount.currency:
            return "currency differs from the redemption's"
        if amount.cent_amount <= 0:
            return "the refund amount must be positive"
        if amount.cent_amount > redemption.refundable:
            return f"only {redemption.refundable} of the redemption is left to refund"
        redemption.refunded += amount.cent_amount
        self._balances[redemption.code] += amount.cent_amount
        return None
