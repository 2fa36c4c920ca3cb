"""Fixtures of the Stripe plugin tests: localstripe out of process, providers built on it, and the
aioresponses shim for aiohttp 3.14.

localstripe runs once per session (``localstripe_port``, ``tests/support/stripe_server.py``: 127.0.0.1, no
persistence) and is emptied before every test that uses it (``DELETE /_config/data``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import inspect
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import aioresponses.core
import pytest
import stripe
from aiohttp import web
from support.stripe_server import request

from host import (
    CaptureMethod,
    CreatePaymentRequest,
    ModificationRequest,
    Money,
    Operation,
    PaymentView,
    ProviderContext,
    ReconcileRequest,
    SessionInfo,
    Transaction,
    TxState,
    TxType,
    WebhookRequest,
)
from plugins.stripe import StripeProvider, StripeSettings

SECRET_KEY = "sk_test_connectorhostSECRETkey0123456789"
PUBLISHABLE_KEY = "pk_test_connectorhostPUBLICkey"
WEBHOOK_SECRET = "whsec_connectorhost_test_secret"
US_WEBHOOK_SECRET = "whsec_us_other_secret"
DELIVERY_WAIT = 5.0   # seconds; localstripe posts an event about 1 s after it happens


# -- aioresponses on aiohttp 3.14 (pnuckowski/aioresponses#289) -------------------------------------

class _NoStreamWriter:
    output_size = 0


class _ShimResponse(aiohttp.ClientResponse):
    """``ClientResponse`` whose ``stream_writer`` argument (new in aiohttp 3.14) has a default."""

    def __init__(self, *args: Any, stream_writer: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, stream_writer=stream_writer or _NoStreamWriter(), **kwargs)


if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters \
        and aioresponses.core.ClientResponse is aiohttp.ClientResponse:
    aioresponses.core.ClientResponse = _ShimResponse  # type: ignore[misc]


# -- localstripe (the session's process: ``localstripe_port`` in tests/conftest.py) ----------------

@pytest.fixture
def localstripe(localstripe_port: int) -> Iterator[str]:
    """The base URL of an emptied localstripe; its webhook sink is switched off again afterwards."""
    assert request(localstripe_port, "DELETE", "/_config/data") == 200
    yield f"http://127.0.0.1:{localstripe_port}"
    # localstripe keeps registered webhooks across DELETE /_config/data: point ours at an event
    # type that never happens, so later tests do not post to a server that is gone.
    request(localstripe_port, "POST", "/_config/webhooks/pytest",
             {"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events": ["never.happens"]})


# -- providers --------------------------------------------------------------------------------------

class Build:
    """Builders of settings and of the host's request values (the ``build`` fixture)."""

    SECRET_KEY = SECRET_KEY
    PUBLISHABLE_KEY = PUBLISHABLE_KEY
    WEBHOOK_SECRET = WEBHOOK_SECRET

    @staticmethod
    def settings(**overrides: Any) -> StripeSettings:
        """Settings with ``paymentMethodTypes: [card]``: localstripe refuses ``automatic_payment_methods``, the
        default without an allow list (``paymentMethodTypes=None`` gives the default back)."""
        values: dict[str, Any] = {"secretKey": SECRET_KEY, "publishableKey": PUBLISHABLE_KEY,
                                  "webhookSecret": WEBHOOK_SECRET, "paymentMethodTypes": ["card"], **overrides}
        return StripeSettings.model_validate(values)

    @staticmethod
    def payment(amount: int = 1000, currency: str = "EUR", interface_id: str | None = None,
                payment_id: str | None = None) -> PaymentView:
        return PaymentView(id=payment_id or str(uuid.uuid4()), version=1,
                           amount_planned=Money(amount, currency), payment_interface="stripe-eu",
                           interface_id=interface_id, method="payment", cart_id="cart-1")

    @staticmethod
    def create(amount: int = 1000, currency: str = "EUR", *, pm: str | None = "pm_card_visa",
               capture: CaptureMethod = CaptureMethod.MANUAL, body: dict[str, Any] | None = None,
               payment: PaymentView | None = None) -> CreatePaymentRequest:
        payment = payment or Build.payment(amount, currency)
        if body is None:
            body = {"paymentMethod": {"type": "payment", "id": pm}} if pm else {}
        return CreatePaymentRequest(
            payment=payment, amount=Money(amount, currency), method="payment", capture_method=capture,
            body=body, idempotency_key=f"stripe-eu:create:{payment.id}",
            session=SessionInfo(session_id="sess-1", cart_id="cart-1", payment_interface="stripe-eu",
                                merchant_return_url="https://shop.example/return"),
            return_url="http://127.0.0.1:8080/plugins/stripe-eu/return")

    @staticmethod
    def instance_yaml(localstripe: str, **settings: Any) -> str:
        """connector.yaml's ``stripe-eu`` instance on localstripe, with these settings and ``settings`` (JSON
        values, which YAML reads as they are)."""
        extra = "".join(f", {key}: {json.dumps(value)}" for key, value in settings.items())
        return (f"stripe-eu:\n  plugin: stripe\n  paymentInterface: stripe-eu\n"
                f"  settings: {{secretKey: {SECRET_KEY}, publishableKey: {PUBLISHABLE_KEY},\n"
                f"             webhookSecret: {WEBHOOK_SECRET}, apiBase: \"{localstripe}\",\n"
                f"             paymentMethodTypes: [card]{extra}}}\n")

    @staticmethod
    def two_accounts_yaml(localstripe: str, us_secret: str = US_WEBHOOK_SECRET) -> str:
        """``stripe-eu`` (manual capture) and ``stripe-us`` (automatic, its own key and webhook secret)."""
        return Build.instance_yaml(localstripe) + (
            f"stripe-us:\n  plugin: stripe\n  paymentInterface: stripe-us\n  captureMethod: automatic\n"
            f"  settings: {{secretKey: sk_test_usACCOUNT, publishableKey: pk_test_usACCOUNT,\n"
            f"             webhookSecret: {us_secret}, apiBase: \"{localstripe}\",\n"
            f"             paymentMethodTypes: [card]}}\n")

    @staticmethod
    def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header: ``t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")``."""
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"

    @staticmethod
    def event(event_type: str, obj: dict[str, Any], secret: str = WEBHOOK_SECRET,
              timestamp: int | None = None) -> WebhookRequest:
        """A Stripe-shaped event about ``obj``, signed as Stripe signs it."""
        event = {"id": "evt_1", "object": "event", "api_version": "2025-12-15.clover", "livemode": False,
                 "created": int(time.time()), "type": event_type, "data": {"object": obj}}
        body = json.dumps(event).encode()
        return WebhookRequest(body=body, headers={"Stripe-Signature": Build.sign(body, secret, timestamp)},
                              content_type="application/json")

    @staticmethod
    def modify(operation: Operation, pi_id: str, amount: int, *, attempt: int = 1,
               payment: PaymentView | None = None, currency: str = "EUR") -> ModificationRequest:
        payment = payment or Build.payment(1000, currency, interface_id=pi_id)
        return ModificationRequest(operation=operation, payment=payment, amount=Money(amount, currency),
                                   idempotency_key=f"stripe-eu:{operation.value}:{payment.id}:{attempt}")

    @staticmethod
    def reconcile(tx_type: TxType, payment: PaymentView, key: str | None, *, interaction_id: str | None = None,
                  amount: int | None = None, state: TxState = TxState.INITIAL, age: float = 120,
                  recorded: tuple[Transaction, ...] = ()) -> ReconcileRequest:
        """The reconciler's question about an undecided ``tx_type`` on ``payment`` (which then holds
        ``recorded`` and it), reserved ``age`` seconds ago under the attempt ``key``."""
        stamp = (datetime.now(UTC) - timedelta(seconds=age)).isoformat(timespec="milliseconds")
        money = Money(amount, payment.amount_planned.currency) if amount is not None else payment.amount_planned
        tx = Transaction("tx-undecided", tx_type, state, money, interaction_id, key, stamp)
        payment = dataclasses.replace(payment, transactions=(*recorded, tx), created_at=stamp)
        operation = key.split(":")[1] if key else "unknown"
        return ReconcileRequest(payment, tx, operation, key, interaction_id or payment.interface_id)


@pytest.fixture
def build() -> type[Build]:
    return Build


ProviderFactory = Callable[..., Awaitable[StripeProvider]]


@pytest.fixture
async def make_provider() -> AsyncIterator[ProviderFactory]:
    """Build started providers (``await make_provider(apiBase=..., capture=...)``); all shut down after."""
    started: list[StripeProvider] = []
    async with aiohttp.ClientSession() as http:
        async def make(*, capture: CaptureMethod = CaptureMethod.MANUAL, instance: str = "stripe-eu",
                       methods: frozenset[str] = frozenset({"payment", "expressCheckout"}),
                       **overrides: Any) -> StripeProvider:
            context = ProviderContext(instance_id=instance, payment_interface=instance, methods=methods,
                                      capture_method=capture, http=http, base_url="http://127.0.0.1:8080",
                                      logger=logging.getLogger(f"connector.{instance}"))
            provider = StripeProvider(Build.settings(**overrides), context)
            await provider.startup()
            started.append(provider)
            return provider

        yield make
        for provider in started:
            await provider.shutdown()


@pytest.fixture
async def provider(make_provider: ProviderFactory, localstripe: str) -> StripeProvider:
    """A manual-capture provider on localstripe."""
    return await make_provider(apiBase=localstripe)


@pytest.fixture
async def browser(localstripe: str) -> AsyncIterator[stripe.StripeClient]:
    """What Stripe.js does in the shopper's browser (confirm), as a plain SDK client on localstripe."""
    async with aiohttp.ClientSession() as http:
        yield stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe},
                                  http_client=stripe.AIOHTTPClient(session=http), max_network_retries=0)


class WebhookSink:
    """A local HTTP server localstripe posts its signed events to."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        return web.Response()

    async def wait_for(self, event_type: str, pi_id: str) -> tuple[bytes, dict[str, str]]:
        """The first delivery of ``event_type`` for ``pi_id``, polling (localstripe sends after ~1 s)."""
        try:
            async with asyncio.timeout(DELIVERY_WAIT):
                while True:
                    for body, headers in self.received:
                        event = json.loads(body)
                        if event["type"] == event_type and event["data"]["object"].get("id") == pi_id:
                            return body, headers
                    await asyncio.sleep(0.05)
        except TimeoutError:
            seen = [json.loads(b)["type"] for b, _ in self.received]
            raise AssertionError(f"no {event_type} for {pi_id} in {DELIVERY_WAIT} s; got {seen}") from None


@pytest.fixture
async def webhook_sink(localstripe: str, aiohttp_server: Any) -> WebhookSink:
    """A running sink registered with localstripe under the secret of ``Build.settings()``."""
    sink = WebhookSink()
    app = web.Application()
    app.router.add_post("/webhooks/stripe-eu", sink.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    port = int(localstripe.rsplit(":", 1)[1])
    url = f"http://127.0.0.1:{server.port}/webhooks/stripe-eu"
    assert request(port, "POST", "/_config/webhooks/pytest", {"url": url, "secret": WEBHOOK_SECRET}) == 200
    return sink
