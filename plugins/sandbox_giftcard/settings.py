"""Settings of the ``sandbox_giftcard`` provider, as an operator writes them in connector.yaml::

    instances:
      sandbox-giftcard:
        plugin: sandbox_giftcard
        paymentInterface: sandbox-giftcard
        methods: [giftcard]
        settings:
          currency: EUR            # optional: a single-currency deployment (the template's
                                   # MOCK_CONNECTOR_CURRENCY); a cart in another currency -> CurrencyNotMatch
          cards:                   # code -> card; balance in minor units (cents) of its currency
            GIFT-EUR-100: {balance: 10000, currency: EUR}
            GIFT-EUR-EXPIRED: {balance: 5000, currency: EUR, expires: 2020-12-31}
            GIFT-EUR-EMPTY: {balance: 0, currency: EUR}
          latency: 0.1             # seconds added to every call
          errorRate: 0.0           # probability that a call fails (GenericError)
          lostRate: 0.0            # probability that a redeem or refund is made and its answer lost (504)
          seed: 42                 # reproducible fault injection

A card is valid up to and including its ``expires`` day (UTC). The code ``GenericError`` always answers
GenericError, as in the gift-card template. Without ``cards``, the demo cards of ``DEFAULT_CARDS`` exist.
Balances and redemptions live in the instance's store (commercetools), shared by every replica: a card's
entry is created from ``cards`` the first time the card is used, and from then on its stored balance
counts, whatever ``cards`` says (see ``plugins.sandbox_giftcard.ledger``).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from host import ProviderSettings

_CURRENCY = r"^[A-Z]{3}$"


class CardSpec(BaseModel):
    """One gift card: its starting balance (minor units), currency and optional last valid day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    balance: int = Field(ge=0)
    currency: str = Field(pattern=_CURRENCY)
    expires: date | None = None


DEFAULT_CARDS: dict[str, CardSpec] = {
    "SANDBOX-EUR-100": CardSpec(balance=10000, currency="EUR"),
    "SANDBOX-EUR-10": CardSpec(balance=1000, currency="EUR"),
    "SANDBOX-USD-100": CardSpec(balance=10000, currency="USD"),
    "SANDBOX-EUR-EXPIRED": CardSpec(balance=5000, currency="EUR", expires=date(2020, 12, 31)),
    "SANDBOX-EUR-EMPTY": CardSpec(balance=0, currency="EUR"),
}


class GiftCardSettings(ProviderSettings):
    """The ``settings:`` block of a ``plugin: sandbox_giftcard`` instance."""

    model_config = ConfigDict(alias_generator=to_camel)

    currency: str | None = Field(None, pattern=_CURRENCY,
                                 description="the only cart currency served (unset: any)")
    cards: dict[str, CardSpec] = Field(default_factory=lambda: dict(DEFAULT_CARDS),
                                       description="gift cards by code")
    latency: float = Field(0.0, ge=0, description="seconds added to every call")
    error_rate: float = Field(0.0, ge=0, le=1, description="probability that a call fails")
    lost_rate: float = Field(0.0, ge=0, le=1, description="probability that a redeem or refund is made and "
                                                          "its answer lost (504 after the fact)")
    seed: int | None = Field(None, description="seed of the fault injection")

    @field_validator("lost_rate")
    @classmethod
    def _rates_fit(cls, value: float, info: ValidationInfo) -> float:
        if value + info.data.get("error_rate", 0.0) > 1:
            raise ValueError("errorRate + lostRate must not exceed 1")
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
