"""The shopper's page: where to transfer to, and whether the money has arrived.

``POST /payments`` answers ``instructionsUrl``, ``{base}/plugins/{instance}/instructions/{token}``. The
signed token (``bank_transfer.signing``) is the credential, so the route has ``auth="none"``; it names the
Payment, whose state the page reads through the host, never from commercetools directly.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from bank_transfer.reference import grouped
from host import Money, Route, RouteContext, TxState, TxType

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:10vh auto;padding:0 1rem}"
          "dt{color:#57606a;margin-top:.8rem}dd{margin:0;font-size:1.2rem}code{font-size:1.2rem}")


def money(amount: Money) -> str:
    return f"{Decimal(amount.cent_amount).scaleb(-amount.fraction_digits):.{amount.fraction_digits}f} " \
           f"{amount.currency}"


class InstructionsPage:
    """``GET /instructions/{token}``; ``read_token`` verifies a link and returns its payload."""

    def __init__(self, read_token: Callable[[str, float], Mapping[str, Any]]) -> None:
        self._read = read_token

    def routes(self) -> tuple[Route, ...]:
        return (Route("GET", "/instructions/{token}", self.show, auth="none", name="bank-transfer-instructions"),)

    async def show(self, ctx: RouteContext) -> web.StreamResponse:
        link = self._read(ctx.request.match_info["token"], time.time())
        payment = await ctx.get_payment(str(link["p"]))
        due = payment.amount_planned
        received = payment.total(TxType.CHARGE) - payment.total(TxType.REFUND)
        if payment.has(TxType.AUTHORIZATION) and received >= due.cent_amount:
            status = "Your transfer has arrived. Thank you!"
        elif received > 0:
            status = f"{money(Money(received, due.currency))} of {money(due)} has arrived."
        elif payment.has(TxType.AUTHORIZATION, (TxState.FAILURE,)):
            status = "This payment has been closed."
        else:
            status = "We are waiting for your transfer."
        rows = [("Account holder", link["h"]), ("IBAN", grouped(str(link["i"]))), ("BIC", link["b"]),
                ("Amount", money(due)), ("Reference (required)", grouped(str(link["r"]))),
                ("Please transfer by", link["d"])]
        details = "".join(f"<dt>{html.escape(k)}</dt><dd><code>{html.escape(str(v))}</code></dd>" for k, v in rows)
        text = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bank transfer</title>'
                f"<style>{_STYLE}</style></head><body><h1>Pay by bank transfer</h1>"
                f'<p class="status">{html.escape(status)}</p><dl>{details}</dl>'
                f"<p>Put the reference on the transfer exactly: it is how we find your order.</p></body></html>")
        return web.Response(text=text, content_type="text/html", charset="utf-8", headers=_HEADERS)
