"""The sandbox gift-card provider's books: balances and redemptions, in the instance's ``host.Store``.

This is the simulated provider's state, like a real gift-card provider's ledger, not the host's (the host
keeps none). It lives in ``context.store`` (commercetools Custom Objects on a running host), so replicas
and restarts share one ledger: two replicas cannot spend 12.00 from a 10.00 card. Two kinds of entry:

- ``card:<digest>``: ``{"balance", "currency", "redemptions": {<redemption id>: {"amount", "refunded",
  "refunds": {<refund id>: amount}, "seq"}}, "seq"}``. Every debit and credit is a versioned
  read-modify-write of it, with the record of the redemption or refund in the same write: a balance and
  what was taken from it cannot disagree, and a repeated call finds its record instead of taking again.
  Created from connector.yaml the first time the card is used (``balance`` or ``redeem``); after that the
  stored balance counts, whatever connector.yaml says.
- ``redemption:<redemption id>``: ``{"card": <digest>}``, written before the debit, so a refund or
  ``reconcile`` that knows only the redemption finds its card.

The digest is a hash of the instance and the code: the codes themselves are not written to commercetools.
Redemption and refund ids are derived from the host's idempotency keys, so the same key names the same
record on every replica. A card keeps the records of its last ``REMEMBERED`` redemptions; a refund of an
older one is refused.

The creation of a card's entry is the one write without a version to check (there is nothing yet): on
commercetools and the emulator a second creation gets 409 and reads the first, but ct-mock lets a create
(``version: 0``) overwrite an existing object, so there two replicas using one card for the very first
time at the same moment could have one creation reset a debit that the other made in between. Creating the
entry on ``balance``, which Checkout calls before ``redeem``, keeps that window to the card's first seconds.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from host import BalanceResult, ConcurrentModificationError, GiftCardState, Money, Store, Stored
from plugins.sandbox_giftcard.settings import CardSpec

GENERIC_ERROR_CODE = "GenericError"
MESSAGES: dict[GiftCardState, str] = {
    GiftCardState.NOT_FOUND: "The gift card code is not found.",
    GiftCardState.EXPIRED: "The gift card is expired.",
    GiftCardState.CURRENCY_NOT_MATCH: "The gift card currency does not match the cart currency.",
    GiftCardState.ZERO_BALANCE: "The gift card has no balance left.",
    GiftCardState.GENERIC_ERROR: "The gift card provider could not process the request.",
}
#: Redemptions whose records a card keeps (the oldest are forgotten first).
REMEMBERED = 500
_NAMESPACE = uuid.UUID("5a2d22be-6769-4674-9a63-617264736278")


def redemption_id(idempotency_key: str) -> str:
    return f"giftcard-redemption-{uuid.uuid5(_NAMESPACE, idempotency_key)}"


def refund_id(idempotency_key: str) -> str:
    return f"giftcard-refund-{uuid.uuid5(_NAMESPACE, idempotency_key)}"


@dataclass(frozen=True, slots=True)
class Taken:
    """A redemption as the ledger knows it."""

    redemption_id: str
    amount: Money
    refunds: Mapping[str, int]


class Refused(Exception):
    """The ledger says no (insufficient balance, nothing left to refund...); nothing was written."""


class _Done(Exception):
    """The change was made before (a repeated call): nothing to write."""


class Ledger:
    """Balances by card and redemptions by id in ``store()``; ``today`` gives the current (UTC) date."""

    def __init__(self, instance_id: str, cards: Mapping[str, CardSpec], currency: str | None,
                 today: Callable[[], date], store: Callable[[], Store]) -> None:
        self._instance = instance_id
        self._cards = dict(cards)
        self._currency = currency
        self._today = today
        self._store = store

    def _digest(self, code: str) -> str:
        return hashlib.sha256(f"{self._instance}\0{code}".encode()).hexdigest()[:40]

    def state(self, code: str, currency: str) -> GiftCardState:
        """What connector.yaml says of the card for a cart in ``currency`` (ZeroBalance is the books')."""
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
        return GiftCardState.VALID

    async def _card(self, code: str) -> tuple[str, Stored]:
        """The card's key and entry, created from connector.yaml when it has none yet."""
        key = f"card:{self._digest(code)}"
        store = self._store()
        found = await store.get(key)
        if found is not None:
            return key, found
        spec = self._cards[code]
        seeded = {"balance": spec.balance, "currency": spec.currency, "redemptions": {}, "seq": 0}
        try:
            return key, await store.put(key, seeded, 0)
        except ConcurrentModificationError:   # another replica created it first: use theirs
            again = await store.get(key)
            if again is None:
                raise
            return key, again

    async def remaining(self, code: str) -> int | None:
        """The card's balance (minor units), or None for a card connector.yaml does not know."""
        if code not in self._cards:
            return None
        return int((await self._card(code))[1].value["balance"])

    async def balance(self, code: str, currency: str) -> BalanceResult:
        state = self.state(code, currency)
        if state != GiftCardState.VALID:
            return BalanceResult(state, message=MESSAGES[state])
        balance = await self.remaining(code) or 0
        if balance <= 0:
            return BalanceResult(GiftCardState.ZERO_BALANCE, message=MESSAGES[GiftCardState.ZERO_BALANCE])
        return BalanceResult(state, Money(balance, self._cards[code].currency))

    async def redeem(self, code: str, amount: Money, idempotency_key: str) -> str:
        """Take ``amount`` from the card, never more than its balance, once per ``idempotency_key``: the
        redemption id. ``Refused`` says why not (nothing was taken)."""
        state = self.state(code, amount.currency)
        if state != GiftCardState.VALID:
            raise Refused(MESSAGES[state])
        if amount.cent_amount <= 0:
            raise Refused("The redeem amount must be positive.")
        rid = redemption_id(idempotency_key)
        key, stored = await self._card(code)
        card = stored.value
        if rid in card["redemptions"]:
            return rid
        if card["balance"] <= 0:
            raise Refused(MESSAGES[GiftCardState.ZERO_BALANCE])
        if amount.cent_amount > card["balance"]:
            raise Refused("The gift card has insufficient balance.")
        # the index first: a debit is never made without a way to find its card
        await self._index(rid, key)

        def debit(current: Any) -> Any:
            if current is None:
                raise Refused("The gift card is not in the books.")
            if rid in current["redemptions"]:
                raise _Done
            if amount.cent_amount > current["balance"]:
                raise Refused("The gift card has insufficient balance.")
            seq = current["seq"] + 1
            redemptions = {**current["redemptions"], rid: {"amount": amount.cent_amount, "refunded": 0,
                                                           "refunds": {}, "seq": seq}}
            if len(redemptions) > REMEMBERED:
                oldest = min(redemptions, key=lambda r: int(redemptions[r]["seq"]))
                del redemptions[oldest]
            return {**current, "balance": current["balance"] - amount.cent_amount, "redemptions": redemptions,
                    "seq": seq}

        await self._write(key, stored, debit)
        return rid

    async def _index(self, rid: str, key: str) -> None:
        with contextlib.suppress(ConcurrentModificationError):   # it exists: its value is the same
            await self._store().put(f"redemption:{rid}", {"card": key}, 0)

    async def _write(self, key: str, stored: Stored, change: Callable[[Any], Any]) -> None:
        """``change`` written over ``stored`` with its version (no second read); on a conflict, the
        read-change-write loop. ``change`` raises ``Refused`` to refuse, ``_Done`` when it was done before."""
        try:
            try:
                await self._store().put(key, change(copy.deepcopy(stored.value)), stored.version)
            except ConcurrentModificationError:
                await self._store().update(key, change)
        except _Done:
            pass

    async def _find(self, rid: str | None) -> tuple[str, Stored] | None:
        """The card key and entry that hold the record of redemption ``rid``, if the books have them."""
        if not rid:
            return None
        index = await self._store().get(f"redemption:{rid}")
        if index is None:
            return None
        key = str(index.value["card"])
        card = await self._store().get(key)
        if card is None or rid not in card.value["redemptions"]:
            return None
        return key, card

    async def taken(self, rid: str | None) -> Taken | None:
        """The redemption ``rid``, or None when the books have no record of it."""
        found = await self._find(rid)
        if found is None or rid is None:
            return None
        card = found[1].value
        record = card["redemptions"][rid]
        return Taken(rid, Money(int(record["amount"]), str(card["currency"])), dict(record["refunds"]))

    async def refund(self, rid: str | None, amount: Money, idempotency_key: str) -> str:
        """Give ``amount`` of redemption ``rid`` back to its card, once per ``idempotency_key``: the refund
        id. ``Refused`` says why not (nothing was given back)."""
        found = await self._find(rid)
        if found is None or rid is None:
            raise Refused("unknown redemption")
        key, stored = found
        if amount.currency != stored.value["currency"]:
            raise Refused("currency differs from the redemption's")
        if amount.cent_amount <= 0:
            raise Refused("the refund amount must be positive")
        fid = refund_id(idempotency_key)

        def credit(current: Any) -> Any:
            record = current["redemptions"].get(rid) if current is not None else None
            if record is None:
                raise Refused("unknown redemption")
            if fid in record["refunds"]:
                raise _Done
            left = record["amount"] - record["refunded"]
            if amount.cent_amount > left:
                raise Refused(f"only {left} of the redemption is left to refund")
            record = {**record, "refunded": record["refunded"] + amount.cent_amount,
                      "refunds": {**record["refunds"], fid: amount.cent_amount}}
            return {**current, "balance": current["balance"] + amount.cent_amount,
                    "redemptions": {**current["redemptions"], rid: record}}

        await self._write(key, stored, credit)
        return fid
