"""The sandbox's offsite mode: signed hosted-page tokens and the hosted page's routes over real HTTP."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from host import (
    ApiError,
    CaptureMethod,
    InvalidFieldError,
    Money,
    PaymentEvent,
    PaymentView,
    Route,
    SessionInfo,
    Transaction,
    TxState,
    TxType,
    WebhookSignatureError,
)
from plugins.sandbox.hosted import format_amount, with_query
from plugins.sandbox.signing import TOKEN_TTL_SECONDS, HostedToken, make_token, read_token

if TYPE_CHECKING:
    from conftest import MakeProvider, Requests

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
SECRET = "hosted-test-secret"
NOW = 1_700_000_000


def _token(**changes: Any) -> HostedToken:
    token = HostedToken(payment_id="pay-1", psp_reference="sandbox-ref", amount=Money(1234, "EUR"),
                        capture_method=CaptureMethod.MANUAL, merchant_return_url="https://shop.test/done?o=7",
                        expires_at=NOW + TOKEN_TTL_SECONDS)
    return dataclasses.replace(token, **changes)


def test_token_round_trip_is_url_safe() -> None:
    value = make_token(SECRET, _token())
    assert all(c.isalnum() or c in "-_." for c in value)
    assert read_token(SECRET, value, now=NOW) == _token()


@pytest.mark.parametrize("case", ["payload", "signature", "secret", "expired"])
def test_tampered_or_expired_token_is_401(case: str) -> None:
    value, secret, now = make_token(SECRET, _token()), SECRET, NOW
    payload, signature = value.split(".")
    if case == "payload":
        other = make_token(SECRET, _token(amount=Money(1, "EUR"))).split(".")[0]
        value = f"{other}.{signature}"
    elif case == "signature":
        value = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    elif case == "secret":
        secret = "other-secret"
    elif case == "expired":
        now = NOW + TOKEN_TTL_SECONDS + 1
    with pytest.raises(WebhookSignatureError) as info:
        read_token(secret, value, now=now)
    assert info.value.status == 401


@pytest.mark.parametrize("value", ["", "abc", "a.b.c", "abc.d!f", "ab c.def"])
def test_malformed_token_is_400(value: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        read_token(SECRET, value, now=NOW)
    assert info.value.status == 400


def test_signed_garbage_payload_is_400() -> None:
    import base64
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b"not json").rstrip(b"=").decode()
    mac = hmac.new(SECRET.encode(), b"sandbox-hosted-token." + payload.encode(), hashlib.sha256).digest()
    value = f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidFieldError):
        read_token(SECRET, value, now=NOW)


def test_with_query_keeps_existing_parameters() -> None:
    assert with_query("https://shop.test/r?a=1&b=&paymentReference=old#frag",
                      {"paymentReference": "p1", "userAction": "cancelled"}) == (
        "https://shop.test/r?a=1&b=&paymentReference=p1&userAction=cancelled#frag")


@pytest.mark.parametrize(("cent", "currency", "text"), [(1234, "EUR", "12.34 EUR"), (500, "JPY", "500 JPY"),
                                                        (1005, "KWD", "1.005 KWD"), (7, "USD", "0.07 USD")])
def test_format_amount(cent: int, currency: str, text: str) -> None:
    assert format_amount(cent, currency, Money(cent, currency).fraction_digits) == text


async def test_offsite_create_payment_answers_a_redirect(make_provider: MakeProvider,
                                                         req: type[Requests]) -> None:
    provider = make_provider(base_url="https://host.test", mode="offsite", webhookSecret=SECRET)
    request = req.create(merchant_return_url="https://shop.test/back", capture_method=CaptureMethod.AUTOMATIC)
    result = await provider.create_payment(request)
    assert result.psp_reference is not None
    (tx,) = result.transactions
    assert (tx.type, tx.state, tx.interaction_id) == (
        TxType.AUTHORIZATION, TxState.INITIAL, result.psp_reference)
    prefix = "https://host.test/plugins/sandbox-card/hosted/"
    url = result.response["redirectUrl"]
    assert url.startswith(prefix)
    token = read_token(SECRET, url[len(prefix):], now=time.time())
    assert (token.payment_id, token.psp_reference, token.amount) == (
        "pay-1", result.psp_reference, request.amount)
    assert token.capture_method == CaptureMethod.AUTOMATIC
    assert token.merchant_return_url == "https://shop.test/back"
    assert token.expires_at - time.time() == pytest.approx(TOKEN_TTL_SECONDS, abs=5)


class FakeRouteContext:
    """What the host hands a plugin route; ``record`` applies events like the consolidating update."""

    def __init__(self, request: web.Request, payments: dict[str, PaymentView],
                 events: list[PaymentEvent]) -> None:
        self.request = request
        self.instance_id = "sandbox-card"
        self.session: SessionInfo | None = None
        self._payments = payments
        self._events = events

    async def amount_to_pay(self) -> Money:
        raise AssertionError("not used by the hosted page")

    async def get_payment(self, payment_id: str) -> PaymentView:
        return self._payments[payment_id]

    async def record(self, event: PaymentEvent) -> PaymentView:
        self._events.append(event)
        assert event.payment_id is not None
        payment = self._payments[event.payment_id]
        txs = {(t.type, t.interaction_id): t for t in payment.transactions}
        for i, result in enumerate(event.transactions):
            amount = result.amount or payment.amount_planned
            txs[(result.type, result.interaction_id)] = Transaction(
                f"tx-{i}", result.type, result.state, amount, result.interaction_id)
        self._payments[event.payment_id] = dataclasses.replace(payment, transactions=tuple(txs.values()))
        return self._payments[event.payment_id]


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:  # what the host's error middleware does
        return web.json_response(exc.body(), status=exc.status)


class Hosted:
    def __init__(self, client: TestClient[web.Request, web.Application], token: HostedToken,
                 events: list[PaymentEvent], payments: dict[str, PaymentView], url: str) -> None:
        self.client, self.token, self.events, self.payments, self.url = client, token, events, payments, url

    async def post(self, result: str | None, url: str | None = None) -> Any:
        data = {} if result is None else {"result": result}
        return await self.client.post(url or self.url, data=data, allow_redirects=False)


@pytest.fixture
async def hosted(make_provider: MakeProvider, req: type[Requests],
                 aiohttp_client: ClientFactory) -> Callable[..., Awaitable[Hosted]]:
    async def start(capture_method: CaptureMethod = CaptureMethod.MANUAL,
                    merchant_return_url: str | None = "https://shop.test/done?order=7") -> Hosted:
        provider = make_provider(base_url="http://host.test", mode="offsite", webhookSecret=SECRET)
        payment = req.payment("pay-1", cent=2500)
        result = await provider.create_payment(req.create(payment=payment, capture_method=capture_method,
                                                          merchant_return_url=merchant_return_url))
        payments = {payment.id: dataclasses.replace(payment, interface_id=result.psp_reference)}
        events: list[PaymentEvent] = []
        app = web.Application(middlewares=[_errors])
        routes: list[Route] = list(provider.routes())
        assert {(r.method, r.path, r.auth) for r in routes} == {("GET", "/hosted/{token}", "none"),
                                                                ("POST", "/hosted/{token}", "none")}
        for route in routes:
            async def adapt(request: web.Request, route: Route = route) -> web.StreamResponse:
                return await route.handler(FakeRouteContext(request, payments, events))
            app.router.add_route(route.method, f"/plugins/sandbox-card{route.path}", adapt)
        client = await aiohttp_client(app)
        path = urlsplit(result.response["redirectUrl"]).path
        token = read_token(SECRET, path.rsplit("/", 1)[1], now=time.time())
        return Hosted(client, token, events, payments, path)
    return start


async def test_hosted_page_shows_the_amount_and_two_buttons(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted()
    response = await page.client.get(page.url)
    assert response.status == 200
    assert response.content_type == "text/html"
    text = await response.text()
    assert "25.00 EUR" in text
    assert 'value="authorized">Pay</button>' in text and 'value="declined">Decline</button>' in text
    assert "<script" not in text and "src=" not in text and "href=" not in text
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_pay_records_the_authorization_and_redirects(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted()
    response = await page.post("authorized")
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.test", "/done")
    assert parse_qs(location.query) == {"order": ["7"], "paymentReference": ["pay-1"]}
    (event,) = page.events
    assert event.payment_id == "pay-1"
    assert [(t.type, t.state, t.interaction_id, t.amount) for t in event.transactions] == [
        (TxType.AUTHORIZATION, TxState.SUCCESS, page.token.psp_reference, Money(2500, "EUR"))]


async def test_pay_with_automatic_capture_also_charges(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted(capture_method=CaptureMethod.AUTOMATIC)
    assert (await page.post("authorized")).status == 303
    (event,) = page.events
    assert [(t.type, t.state, t.interaction_id) for t in event.transactions] == [
        (TxType.AUTHORIZATION, TxState.SUCCESS, page.token.psp_reference),
        (TxType.CHARGE, TxState.SUCCESS, f"{page.token.psp_reference}:charge")]


async def test_decline_records_a_failure_and_says_cancelled(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted(capture_method=CaptureMethod.AUTOMATIC)
    response = await page.post("declined")
    assert response.status == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "order": ["7"], "paymentReference": ["pay-1"], "userAction": ["cancelled"]}
    (event,) = page.events
    assert [(t.type, t.state) for t in event.transactions] == [(TxType.AUTHORIZATION, TxState.FAILURE)]


async def test_without_return_url_a_page_confirms(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted(merchant_return_url=None)
    response = await page.post("authorized")
    assert response.status == 200
    assert "Payment recorded" in await response.text() and "pay-1" in await response.text()


async def test_a_decision_is_final(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted()
    assert (await page.post("authorized")).status == 303
    again = await page.post("declined")
    assert len(page.events) == 1
    assert "userAction" not in again.headers["Location"]
    auth = [t for t in page.payments["pay-1"].transactions if t.type == TxType.AUTHORIZATION]
    assert [t.state for t in auth] == [TxState.SUCCESS]


@pytest.mark.parametrize(("result", "code"), [(None, "RequiredField"), ("maybe", "InvalidField")])
async def test_bad_form_is_400(hosted: Callable[..., Awaitable[Hosted]], result: str | None,
                               code: str) -> None:
    page = await hosted()
    response = await page.post(result)
    assert response.status == 400
    assert (await response.json())["errors"][0]["code"] == code
    assert page.events == []


async def test_tampered_token_is_refused_over_http(hosted: Callable[..., Awaitable[Hosted]]) -> None:
    page = await hosted()
    other = make_token(SECRET, dataclasses.replace(page.token, amount=Money(1, "EUR")))
    forged = f"{page.url.rsplit('/', 1)[0]}/{other.split('.')[0]}.{page.url.rsplit('.', 1)[1]}"
    assert (await page.client.get(forged)).status == 401
    response = await page.post("authorized", url=forged)
    assert response.status == 401
    assert (await response.json())["errors"][0]["code"] == "invalid_token"
    assert (await page.client.get("/plugins/sandbox-card/hosted/garbage")).status == 400
    assert page.events == []
