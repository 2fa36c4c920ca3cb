"""The sandbox's hosted payment page (``mode: offsite``).

``create_payment`` answers ``redirectUrl = {base_url}/plugins/{instance}/hosted/{token}``. The routes here
(auth ``none``: the signed token is the credential, see ``plugins.sandbox.signing``):

* ``GET /hosted/{token}``: a self-contained HTML page with the amount and two buttons, Pay and Decline,
  posting ``result=authorized|declined`` back to the same URL.
* ``POST /hosted/{token}``: the PSP books the decision (``decide``), then records the Authorization
  (Success or Failure, plus a Charge Success when the capture is automatic) through the host, then
  redirects (303) to the session's ``merchantReturnUrl`` with ``paymentReference=<payment id>`` (and
  ``userAction=cancelled`` on decline), or shows a small "payment recorded" page when there is no return URL.

A decision is final: the PSP's books keep the first one, and once the Payment holds the Authorization of
this link in Success or Failure, a second POST (a double click, the back button) records nothing and
redirects with the recorded outcome. When the host's record of a booked decision fails, reconciliation
finds it in the books.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from host import (
    CaptureMethod,
    InvalidFieldError,
    PaymentEvent,
    PaymentView,
    RequiredFieldError,
    Route,
    RouteContext,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.sandbox.signing import HostedToken, read_token

logger = logging.getLogger(__name__)

RESULTS = ("authorized", "declined")
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never send it to the merchant's site
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'",
}
_STYLE = ("body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;"
          "justify-content:center;padding-top:10vh}main{background:#fff;border-radius:8px;padding:2rem 3rem;"
          "box-shadow:0 2px 8px rgba(0,0,0,.1);text-align:center}.amount{font-size:2rem;margin:1rem 0}"
          "button{font-size:1rem;padding:.6rem 1.6rem;margin:.3rem;border:0;border-radius:4px;cursor:pointer}"
          ".pay{background:#1a7f37;color:#fff}.decline{background:#d0d7de}small{color:#57606a}")


def format_amount(cent_amount: int, currency: str, digits: int) -> str:
    return f"{Decimal(cent_amount).scaleb(-digits):.{digits}f} {currency}"


def _page(title: str, content: str) -> web.Response:
    text = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{content}</main></body></html>")
    return web.Response(text=text, content_type="text/html", charset="utf-8", headers=_HEADERS)


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` set in its query; other parameters and the fragment are kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def transactions_for(token: HostedToken, authorized: bool) -> tuple[TransactionResult, ...]:
    """The transactions a decision on the hosted page records (identical for identical decisions)."""
    state = TxState.SUCCESS if authorized else TxState.FAILURE
    txs = [TransactionResult(TxType.AUTHORIZATION, state, token.amount, token.psp_reference)]
    if authorized and token.capture_method == CaptureMethod.AUTOMATIC:
        txs.append(TransactionResult(TxType.CHARGE, TxState.SUCCESS, token.amount,
                                     f"{token.psp_reference}:charge"))
    return tuple(txs)


def recorded_decision(payment: PaymentView, psp_reference: str) -> bool | None:
    """True/False when the link's Authorization is already Success/Failure on the Payment, else None."""
    for tx in payment.transactions:
        if tx.type == TxType.AUTHORIZATION and tx.interaction_id == psp_reference:
            if tx.state == TxState.SUCCESS:
                return True
            if tx.state == TxState.FAILURE:
                return False
    return None


Decide = Callable[[HostedToken, bool], Awaitable[tuple[TransactionResult, ...]]]


class HostedPages:
    """Route handlers of the hosted page; ``secret`` verifies tokens, ``clock`` gives unix seconds, ``decide``
    books a decision at the PSP and answers the transactions of the decision that stands."""

    def __init__(self, secret: str, clock: Callable[[], float], decide: Decide) -> None:
        self._secret = secret
        self._clock = clock
        self._decide = decide

    def routes(self) -> tuple[Route, ...]:
        return (Route("GET", "/hosted/{token}", self.show, auth="none", name="sandbox-hosted-page"),
                Route("POST", "/hosted/{token}", self.submit, auth="none", name="sandbox-hosted-submit"))

    def _token(self, ctx: RouteContext) -> HostedToken:
        return read_token(self._secret, ctx.request.match_info.get("token", ""), now=self._clock())

    async def show(self, ctx: RouteContext) -> web.StreamResponse:
        token = self._token(ctx)
        amount = html.escape(format_amount(token.amount.cent_amount, token.amount.currency,
                                           token.amount.fraction_digits))
        return _page("Sandbox payment", (
            "<h1>Sandbox payment</h1>"
            f'<p class="amount">{amount}</p>'
            '<form method="post">'
            '<button class="pay" type="submit" name="result" value="authorized">Pay</button>'
            '<button class="decline" type="submit" name="result" value="declined">Decline</button>'
            "</form><p><small>Sandbox PSP: no money moves.</small></p>"))

    async def submit(self, ctx: RouteContext) -> web.StreamResponse:
        token = self._token(ctx)
        form = await ctx.request.post()
        result = form.get("result")
        if result is None:
            raise RequiredFieldError("result")
        if not isinstance(result, str) or result not in RESULTS:
            shown = result if isinstance(result, str) else type(result).__name__
            raise InvalidFieldError("result", f"The value {shown} is not valid for field result.",
                                    invalidValue=shown, allowedValues=list(RESULTS))
        authorized = result == "authorized"
        decided = recorded_decision(await ctx.get_payment(token.payment_id), token.psp_reference)
        if decided is None:
            transactions = await self._decide(token, authorized)
            authorized = transactions[0].state == TxState.SUCCESS
            await ctx.record(PaymentEvent(transactions=transactions, payment_id=token.payment_id,
                                          psp_reference=token.psp_reference))
            logger.info("sandbox hosted page: payment %s %s", token.payment_id,
                        "authorized" if authorized else "declined")
        else:
            authorized = decided
            logger.info("sandbox hosted page: payment %s already decided, nothing recorded", token.payment_id)
        return self._finish(token, authorized)

    @staticmethod
    def _finish(token: HostedToken, authorized: bool) -> web.StreamResponse:
        url = token.merchant_return_url
        if url and urlsplit(url).scheme in ("http", "https"):
            params = {"paymentReference": token.payment_id}
            if not authorized:
                params["userAction"] = "cancelled"
            return web.Response(status=303, headers={**_HEADERS, "Location": with_query(url, params)})
        title = "Payment recorded" if authorized else "Payment declined"
        return _page(title, f"<h1>{title}</h1><p>Payment reference: "
                            f"<code>{html.escape(token.payment_id)}</code></p>")
