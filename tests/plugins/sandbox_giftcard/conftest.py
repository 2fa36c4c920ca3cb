"""Fixtures for the sandbox gift-card provider tests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from host import (
    CaptureMethod,
    ModificationRequest,
    Money,
    Operation,
    PaymentView,
    ProviderContext,
    RedeemRequest,
    SessionInfo,
    Store,
    Transaction,
)
from plugins.sandbox_giftcard import GiftCardSettings, SandboxGiftCardProvider

INSTANCE = "sandbox-giftcard"


class GiftRequests:
    """Builders of the host's gift-card request values."""

    @staticmethod
    def payment(payment_id: str = "gpay-1", cent: int = 1000, currency: str = "EUR",
                interface_id: str | None = None, transactions: tuple[Transaction, ...] = ()) -> PaymentView:
        return PaymentView(id=payment_id, version=1, amount_planned=Money(cent, currency),
                           payment_interface=INSTANCE, interface_id=interface_id, method="giftcard",
                           transactions=transactions, cart_id="cart-1")

    @staticmethod
    def redeem(code: str, cent: int, currency: str = "EUR", key: str | None = None,
               payment_id: str = "gpay-1") -> RedeemRequest:
        return RedeemRequest(payment=GiftRequests.payment(payment_id, cent, currency), code=code,
                             amount=Money(cent, currency), session=SessionInfo("sess-1", "cart-1"),
                             idempotency_key=key or f"{INSTANCE}:{payment_id}")

    @staticmethod
    def refund(redemption_id: str | None, cent: int, currency: str = "EUR", key: str = "refund-1",
               transactions: tuple[Transaction, ...] = ()) -> ModificationRequest:
        payment = GiftRequests.payment(interface_id=redemption_id, currency=currency,
                                       transactions=transactions)
        return ModificationRequest(operation=Operation.REFUND, payment=payment, amount=Money(cent, currency),
                                   idempotency_key=key)


@pytest.fixture
def greq() -> type[GiftRequests]:
    return GiftRequests


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeGiftCard = Callable[..., SandboxGiftCardProvider]


@pytest.fixture
async def make_giftcard(http: aiohttp.ClientSession) -> AsyncIterator[MakeGiftCard]:
    """``make_giftcard(store=..., **settings)`` with camelCase settings as in connector.yaml; ``store`` is the
    instance's store (a shared one makes replicas; default: a store of its own)."""
    made: list[SandboxGiftCardProvider] = []

    def make(store: Store | None = None, **settings: Any) -> SandboxGiftCardProvider:
        context = ProviderContext(instance_id=INSTANCE, payment_interface=INSTANCE,
                                  methods=frozenset({"giftcard"}), capture_method=CaptureMethod.AUTOMATIC,
                                  http=http, base_url="http://127.0.0.1:9", store=store,
                                  logger=logging.getLogger("tests.sandbox_giftcard"))
        provider = SandboxGiftCardProvider(GiftCardSettings.model_validate(settings), context)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.shutdown()
