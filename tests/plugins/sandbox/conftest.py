"""Fixtures for the sandbox provider tests: a real aiohttp client session, providers and request builders."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import pytest

from host import (
    CaptureMethod,
    CreatePaymentRequest,
    ModificationRequest,
    Money,
    Operation,
    PaymentView,
    ProviderContext,
    SessionInfo,
    Store,
    Transaction,
)
from plugins.sandbox import SandboxProvider, SandboxSettings
from plugins.sandbox.body import METHODS

INSTANCE = "sandbox-card"
SECRET = "test-webhook-secret"


class Requests:
    """Builders of the host's request values."""

    @staticmethod
    def payment(payment_id: str = "pay-1", cent: int = 1000, currency: str = "EUR",
                interface_id: str | None = None, transactions: tuple[Transaction, ...] = ()) -> PaymentView:
        return PaymentView(id=payment_id, version=1, amount_planned=Money(cent, currency),
                           payment_interface=INSTANCE, interface_id=interface_id, method="card",
                           transactions=transactions, cart_id="cart-1")

    @staticmethod
    def create(body: Mapping[str, Any] | None = None, *, payment: PaymentView | None = None,
               capture_method: CaptureMethod = CaptureMethod.MANUAL, merchant_return_url: str | None = None,
               key: str | None = None) -> CreatePaymentRequest:
        payment = payment or Requests.payment()
        if body is None:
            body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
        session = SessionInfo(session_id="sess-1", cart_id="cart-1", payment_interface=INSTANCE,
                              merchant_return_url=merchant_return_url)
        return CreatePaymentRequest(payment=payment, amount=payment.amount_planned, method="card",
                                    capture_method=capture_method, body=body, session=session,
                                    return_url="http://host.test/return",
                                    idempotency_key=key or f"{INSTANCE}:{payment.id}")

    @staticmethod
    def modify(operation: Operation = Operation.CAPTURE, *, cent: int = 500, key: str = "key-1",
               payment: PaymentView | None = None) -> ModificationRequest:
        payment = payment or Requests.payment(interface_id="sandbox-ref")
        return ModificationRequest(operation=operation, payment=payment,
                                   amount=Money(cent, payment.amount_planned.currency), idempotency_key=key)


@pytest.fixture
def req() -> type[Requests]:
    return Requests


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeProvider = Callable[..., SandboxProvider]


@pytest.fixture
async def make_provider(http: aiohttp.ClientSession) -> AsyncIterator[MakeProvider]:
    """``make_provider(base_url=..., capture_method=..., store=..., **settings)``: ``store`` is the instance's
    store (a shared one makes replicas; default: a store of its own). Providers are shut down after."""
    made: list[SandboxProvider] = []

    def make(base_url: str = "http://127.0.0.1:9", capture_method: CaptureMethod = CaptureMethod.MANUAL,
             store: Store | None = None, **settings: Any) -> SandboxProvider:
        context = ProviderContext(instance_id=INSTANCE, payment_interface=INSTANCE,
                                  methods=frozenset(METHODS), capture_method=capture_method, http=http,
                                  base_url=base_url, store=store,
                                  logger=logging.getLogger("tests.sandbox"))
        provider = SandboxProvider(SandboxSettings.model_validate({"webhookSecret": SECRET, **settings}),
                                   context)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.shutdown()
