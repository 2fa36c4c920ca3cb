"""Sandbox webhooks: signature verification, parsing, and real async delivery to a local server."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from host import (
    ApiError,
    InvalidFieldError,
    Money,
    Operation,
    Outcome,
    TxState,
    TxType,
    WebhookRequest,
    WebhookSignatureError,
)
from plugins.sandbox import SIGNATURE_HEADER, sign
from plugins.sandbox import webhooks as webhooks_module
from plugins.sandbox.signing import verify
from plugins.sandbox.webhooks import build_event

if TYPE_CHECKING:
    from conftest import MakeProvider, Requests

ServerFactory = Callable[..., Awaitable[TestServer]]
SECRET = "webhook-test-secret"


@pytest.fixture
def make(make_provider: MakeProvider) -> MakeProvider:
    """Sandbox providers keyed with this module's ``SECRET``."""
    return functools.partial(make_provider, webhookSecret=SECRET)


def _event(**changes: Any) -> bytes:
    body = json.loads(build_event("capture", TxType.CHARGE, "pay-1", "sandbox-capture-1", Money(700, "EUR")))
    body.update(changes)
    return json.dumps(body).encode()


def _request(body: bytes, header: str | None, name: str = SIGNATURE_HEADER) -> WebhookRequest:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers[name] = header
    return WebhookRequest(body=body, headers=headers, content_type="application/json")


def test_sign_is_the_documented_hmac() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()
    assert sign("k", b'{"a":1}', 1700000000) == f"t=1700000000,v1={expected}"


async def test_valid_signature_is_parsed_into_one_event(make: MakeProvider) -> None:
    body = _event()
    result = await make().parse_webhook(_request(body, sign(SECRET, body, int(time.time()))))
    (event,) = result.events
    assert (event.payment_id, event.psp_reference) == ("pay-1", None)
    (tx,) = event.transactions
    assert (tx.type, tx.state, tx.amount, tx.interaction_id) == (
        TxType.CHARGE, TxState.SUCCESS, Money(700, "EUR"), "sandbox-capture-1")
    assert result.status == 200


async def test_header_name_is_case_insensitive(make: MakeProvider) -> None:
    body = _event()
    header = sign(SECRET, body, int(time.time()))
    result = await make().parse_webhook(_request(body, header, name="sandbox-signature"))
    assert len(result.events) == 1


async def test_redelivery_gives_identical_events(make: MakeProvider) -> None:
    provider, body = make(), _event()
    first = await provider.parse_webhook(_request(body, sign(SECRET, body, int(time.time()))))
    again = await provider.parse_webhook(_request(body, sign(SECRET, body, int(time.time()) + 1)))
    assert first == again


@pytest.mark.parametrize("case", ["tampered", "wrong-secret", "stale", "future", "missing", "empty",
                                  "garbage", "no-signature", "bad-timestamp", "short-hex"])
async def test_bad_signatures_are_refused(make: MakeProvider, case: str) -> None:
    body, now = _event(), int(time.time())
    header: str | None = sign(SECRET, body, now)
    if case == "tampered":
        body = body.replace(b"700", b"70000")
    elif case == "wrong-secret":
        header = sign("another-secret", body, now)
    elif case == "stale":
        header = sign(SECRET, body, now - 301)
    elif case == "future":
        header = sign(SECRET, body, now + 301)
    elif case == "missing":
        header = None
    elif case == "empty":
        header = ""
    elif case == "garbage":
        header = "garbage"
    elif case == "no-signature":
        header = f"t={now}"
    elif case == "bad-timestamp":
        header = sign(SECRET, body, now).replace(f"t={now}", "t=soon")
    elif case == "short-hex":
        header = f"t={now},v1=abc"
    with pytest.raises(WebhookSignatureError) as info:
        await make().parse_webhook(_request(body, header))
    assert info.value.status == 401


def test_signature_inside_the_window_is_accepted() -> None:
    body, now = b"{}", 1_700_000_000
    verify(SECRET, sign(SECRET, body, now - 299), body, now=now)
    verify(SECRET, f"t={now},v1={'0' * 64},v1={sign(SECRET, body, now).split('v1=')[1]}", body, now=now)


async def test_valid_signature_over_bad_json_is_a_400(make: MakeProvider) -> None:
    body = b"{not json"
    with pytest.raises(ApiError) as info:
        await make().parse_webhook(_request(body, sign(SECRET, body, int(time.time()))))
    assert (info.value.status, info.value.code) == (400, "InvalidJsonInput")


@pytest.mark.parametrize("changes", [{"transactionType": "Payout"}, {"paymentId": ""},
                                     {"amount": {"centAmount": "700", "currencyCode": "EUR"}},
                                     {"state": "Done"}])
async def test_valid_signature_over_a_foreign_shape_is_a_400(make: MakeProvider,
                                                              changes: dict[str, Any]) -> None:
    body = _event(**changes)
    with pytest.raises(InvalidFieldError) as info:
        await make().parse_webhook(_request(body, sign(SECRET, body, int(time.time()))))
    assert info.value.status == 400


class Receiver:
    """A local stand-in for the host's webhook endpoint."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, bytes, dict[str, str]]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path, await request.read(), dict(request.headers)))
        self.arrived.set()
        return web.Response(status=self.status)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/{instance}", self.handle)
        return app


@pytest.mark.parametrize(("operation", "kind", "tx_type"), [
    (Operation.CAPTURE, "capture", TxType.CHARGE),
    (Operation.CANCEL, "cancel", TxType.CANCEL_AUTHORIZATION),
    (Operation.REFUND, "refund", TxType.REFUND),
])
async def test_async_mode_posts_a_signed_webhook_that_verifies(
        make: MakeProvider, req: type[Requests], aiohttp_server: ServerFactory,
        caplog: pytest.LogCaptureFixture, operation: Operation, kind: str, tx_type: TxType) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    provider = make(base_url=str(server.make_url("")).rstrip("/"), mode="async", webhookDelay=0.01)
    call = {Operation.CAPTURE: provider.capture, Operation.CANCEL: provider.cancel,
            Operation.REFUND: provider.refund}[operation]
    request = req.modify(operation, cent=300)

    result = await call(request)
    assert result.outcome == Outcome.RECEIVED
    await asyncio.wait_for(receiver.arrived.wait(), timeout=5)

    path, body, headers = receiver.received[0]
    assert path == f"/webhooks/{provider.context.instance_id}"
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    keys = ("type", "paymentId", "pspReference", "transactionType", "state", "amount")
    assert {k: data[k] for k in keys} == {
        "type": kind, "paymentId": request.payment.id, "pspReference": result.psp_reference,
        "transactionType": tx_type.value, "state": "Success",
        "amount": {"centAmount": 300, "currencyCode": "EUR"}}
    parsed = await provider.parse_webhook(WebhookRequest(body=body, headers=headers))
    (tx,) = parsed.events[0].transactions
    assert (tx.type, tx.state, tx.interaction_id, tx.amount) == (
        tx_type, TxState.SUCCESS, result.psp_reference, Money(300, "EUR"))
    assert SECRET not in caplog.text


async def test_async_retry_with_the_same_key_sends_no_second_webhook(
        make: MakeProvider, req: type[Requests], aiohttp_server: ServerFactory) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    provider = make(base_url=str(server.make_url("")).rstrip("/"), mode="async", webhookDelay=0.01)
    first = await provider.capture(req.modify(key="same"))
    assert await provider.capture(req.modify(key="same")) == first
    await asyncio.wait_for(receiver.arrived.wait(), timeout=5)
    for _ in range(50):
        if provider.pending_webhooks == 0:
            break
        await asyncio.sleep(0.01)
    assert len(receiver.received) == 1


async def test_async_create_payment_stays_synchronous(make: MakeProvider, req: type[Requests]) -> None:
    provider = make(mode="async")
    result = await provider.create_payment(req.create())
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.SUCCESS)]
    assert provider.pending_webhooks == 0


async def test_shutdown_cancels_pending_webhooks(make: MakeProvider, req: type[Requests],
                                                 aiohttp_server: ServerFactory) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    provider = make(base_url=str(server.make_url("")).rstrip("/"), mode="async", webhookDelay=60)
    await provider.refund(req.modify(Operation.REFUND))
    assert provider.pending_webhooks == 1
    await provider.shutdown()
    assert provider.pending_webhooks == 0
    assert receiver.received == []


async def test_failed_delivery_is_logged_not_raised(make: MakeProvider, req: type[Requests],
                                                    aiohttp_server: ServerFactory,
                                                    caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks_module, "_RETRY_DELAY", 0.0)
    caplog.set_level(logging.WARNING)
    receiver = Receiver(status=503)
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    provider = make(base_url=str(server.make_url("")).rstrip("/"), mode="async", webhookDelay=0)
    result = await provider.capture(req.modify())
    assert result.outcome == Outcome.RECEIVED
    for _ in range(200):
        if provider.pending_webhooks == 0:
            break
        await asyncio.sleep(0.01)
    assert len(receiver.received) == 3
    assert "not delivered after 3 attempts" in caplog.text
    assert SECRET not in caplog.text
    assert "v1=" not in caplog.text
