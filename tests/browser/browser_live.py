"""The browser tests' running host: its connector.yaml, the ``Live`` handle, and the second origin."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from playwright.sync_api import Page, expect

HERE = Path(__file__).resolve().parent
CLIENT = web.AppKey("client", aiohttp.ClientSession)
STRIPE_SECRET = "sk_test_browserSECRETkey0123456789"
PROJECT = "browser"
#: Each test uses its own gift cards: the sandbox ledger lives as long as the session's host.
CARDS = {"GC-SPLIT": 2000, "GC-ROLLBACK": 1000, "GC-SLASH": 1500, "GC-CORS": 500, "GIFT-EMPTY": 0}


def connector_yaml(port: int, emulator_port: int, localstripe: str) -> str:
    cards = "".join(f"        {code}: {{balance: {cents}, currency: EUR}}\n" for code, cents in CARDS.items())
    return f"""\
commercetools:
  embedded: true
  projectKey: {PROJECT}
  clientId: connector
  clientSecret: connector-secret
  jwtIssuer: http://127.0.0.1:{emulator_port}/mc
  emulator: {{port: {emulator_port}}}
server: {{host: 127.0.0.1, port: {port}, publicUrl: "http://127.0.0.1:{port}", logFormat: text}}
instances:
  sandbox:
    plugin: sandbox
    paymentInterface: mock
    methods: [card, invoice, purchaseorder, customtestmethod]
    captureMethod: manual
    storedPaymentMethods: true
  giftcards:
    plugin: sandbox_giftcard
    paymentInterface: mock-giftcard-provider
    settings:
      cards:
{cards}        GIFT-USD: {{balance: 2500, currency: USD}}
        GIFT-EXPIRED: {{balance: 5000, currency: EUR, expires: 2020-01-01}}
  transfer:
    plugin: bank_transfer
    paymentInterface: bank-transfer
    settings: {{iban: DE89 3704 0044 0532 0130 00, bic: COBADEFFXXX, accountHolder: ACME Shop GmbH,
               webhookSecret: bank-notification-secret-0123456789}}
  stripe-eu:
    plugin: stripe
    paymentInterface: stripe-eu
    methods: [payment, expressCheckout]
    captureMethod: manual
    settings: {{secretKey: {STRIPE_SECRET}, publishableKey: pk_test_browserPUBLIC, webhookSecret: whsec_browser,
               apiBase: "{localstripe}", maxNetworkRetries: 0, paymentMethodTypes: [card]}}
"""


class AccessLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@dataclass
class Live:
    """The running host (``url``), its stand-in (``emulator``), the second origin (``other``)."""

    url: str
    emulator: str
    other: str
    localstripe: str
    access: AccessLog
    _token: str = field(default="", repr=False)

    def call(self, method: str, url: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback only
                                         headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback only
            return json.loads(resp.read() or b"null")

    def cart(self, cents: int = 5950, customer: str | None = None) -> str:
        """A cart of one line item, in the stand-in (of ``customer``, else a guest's)."""
        draft: dict[str, Any] = {"currency": "EUR", "lineItems": [{"name": "Test item", "price": {"centAmount": cents},
                                                                    "quantity": 1}]}
        if customer:
            draft["customerId"] = customer
        return str(self.call("POST", f"{self.emulator}/_emulator/carts", draft)["id"])

    def session(self, cart_id: str, payment_interface: str, processor_url: str | None = None) -> str:
        """A Checkout session on ``cart_id`` for ``payment_interface``."""
        metadata = {"processorUrl": processor_url or self.url, "paymentInterface": payment_interface}
        return str(self.call("POST", f"{self.emulator}/_emulator/sessions",
                             {"cartId": cart_id, "metadata": metadata})["id"])

    def expire(self, session_id: str) -> None:
        self.call("POST", f"{self.emulator}/_emulator/sessions/{session_id}/expire", {})

    def _read(self, path: str) -> Any:
        if not self._token:
            self._token = self.call("POST", f"{self.emulator}/_emulator/tokens", {"client_id": "connector"})[
                "access_token"]
        return self.call("GET", f"{self.emulator}/{PROJECT}/{path}", token=self._token)

    def payments_of(self, cart_id: str) -> list[dict[str, Any]]:
        """The cart's Payments as commercetools records them."""
        refs = (self._read(f"carts/{cart_id}").get("paymentInfo") or {}).get("payments") or []
        return [self._read(f"payments/{ref['id']}") for ref in refs]

    def payment_methods_of(self, customer: str) -> list[dict[str, Any]]:
        """The customer's stored payment methods as commercetools keeps them."""
        where = urllib.parse.quote(f'customer(id="{customer}")')
        return list(self._read(f"payment-methods?where={where}")["results"])

    def enabler(self, instance: str) -> str:
        return f"{self.url}/enablers/{instance}/connector-enabler.es.js"


def transactions(payment: dict[str, Any]) -> list[tuple[str, str, int]]:
    """``(type, state, centAmount)`` of each transaction of a Payment."""
    return [(t["type"], t["state"], t["amount"]["centAmount"]) for t in payment["transactions"]]


async def other_origin(port: int, localstripe: str) -> web.AppRunner:
    """The second origin: the harness page, and what Stripe's servers do when Stripe.js confirms."""

    async def harness(_: web.Request) -> web.Response:
        return web.Response(text=(HERE / "harness.html").read_text(), content_type="text/html")

    async def confirm(request: web.Request) -> web.Response:
        body = await request.json()
        pi, method = str(body["paymentIntent"]), str(body["paymentMethod"])
        auth = {"Authorization": f"Bearer {STRIPE_SECRET}"}
        async with request.app[CLIENT].post(f"{localstripe}/v1/payment_intents/{pi}", data={"payment_method": method},
                                            headers=auth) as resp:
            assert resp.status == 200, await resp.text()
        async with request.app[CLIENT].post(f"{localstripe}/v1/payment_intents/{pi}/confirm", headers=auth) as resp:
            return web.json_response(await resp.json(), status=resp.status,
                                     headers={"Access-Control-Allow-Origin": "*"})

    async def preflight(_: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Access-Control-Allow-Origin": "*",
                                                 "Access-Control-Allow-Headers": "Content-Type"})

    app = web.Application()
    app[CLIENT] = aiohttp.ClientSession()
    app.router.add_get("/harness.html", harness)
    app.router.add_post("/stripe/confirm", confirm)
    app.router.add_route("OPTIONS", "/stripe/confirm", preflight)

    async def close(_: web.Application) -> None:
        await app[CLIENT].close()

    app.on_cleanup.append(close)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner




# -- the demo page --------------------------------------------------------------------------------

def open_demo(page: Page, live: Live) -> str:
    """Opens the demo; returns the id of its cart."""
    page.goto(f"{live.url}/demo/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#total")).to_have_text("59.50 EUR")
    return str(page.locator("body").get_attribute("data-cart"))


def payment_box(page: Page, method: str) -> Any:
    return page.locator(f".payment[data-method='{method}']")


def transaction_row(page: Page, method: str, text: str) -> Any:
    """The row "<type> <state> <amount>" of the Payment of ``method`` in the merchant's table."""
    return payment_box(page, method).get_by_role("row", name=text, exact=True)
