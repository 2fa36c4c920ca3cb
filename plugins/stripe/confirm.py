"""``POST /confirmPayments/{paymentId}`` (session auth): the enabler reports that Stripe.js confirmed.

The official connector's enabler calls it after ``stripe.confirmPayment``, with ``{"paymentIntent": "pi_..."}``.
Nothing the browser says is trusted: as the hardened Checkout connector does, the PaymentIntent is
retrieved from Stripe and must be the Payment's (``interfaceId``, ``metadata.ct_payment_id``), for the
session's cart (``metadata.cart_id``), of the Payment's amount and currency, and in a confirmed status.
Then the transactions are recorded exactly as the webhook for that status records them (same
interaction ids), so a webhook arriving before or after changes nothing; with them what the shopper paid
with (the PaymentMethod's ``type``, ``card``, ``klarna``..., which replaces the Payment's method) and the
PaymentMethod when the shopper asked to store it (``saved.py``), which the host stores once:

==================  ==========================================  =====================================
status              recorded                                    answer
==================  ==========================================  =====================================
requires_capture    Authorization Success                       200 ``{"outcome": "approved"}``
succeeded           Authorization Success + Charge Success      200 ``{"outcome": "approved"}``
processing          Authorization Pending                       202 ``{"outcome": "pending"}``
anything else       nothing                                     400 ``{"outcome": "rejected", ...}``
==================  ==========================================  =====================================
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import stripe
from aiohttp import web

from host import Money, PaymentEvent, Route, RouteContext, SavedMethod, TransactionResult, TxState, TxType
from plugins.stripe.events import intent_event

logger = logging.getLogger(__name__)

REJECTED = {"outcome": "rejected", "error": "Payment confirmation failed"}


def _rejected(payment_id: str, why: str) -> web.Response:
    logger.info("Stripe confirmPayments of %s rejected: %s", payment_id, why)
    return web.json_response(REJECTED, status=400)


def confirm_route(retrieve: Callable[[str], Awaitable[dict[str, Any]]],
                  saved: Callable[[dict[str, Any]], Awaitable[SavedMethod | None]]) -> Route:
    """The route; ``retrieve(pi_id)`` returns the PaymentIntent from Stripe as a dict (its PaymentMethod
    expanded), ``saved(pi)`` the method to store when the shopper asked for it (``saved.py``)."""

    async def confirm(ctx: RouteContext) -> web.StreamResponse:
        payment_id = ctx.request.match_info["paymentId"]
        try:
            body = json.loads(await ctx.request.read() or b"{}")
        except ValueError:
            return _rejected(payment_id, "the body is not JSON")
        pi_id = body.get("paymentIntent") if isinstance(body, dict) else None
        if not isinstance(pi_id, str) or not pi_id.startswith("pi_"):
            return _rejected(payment_id, "no paymentIntent")
        payment = await ctx.get_payment(payment_id)            # 404 for a Payment of another instance
        if payment.interface_id != pi_id:
            return _rejected(payment_id, f"{pi_id} is not the Payment's PaymentIntent")
        try:
            pi = await retrieve(pi_id)
        except stripe.StripeError as exc:
            return _rejected(payment_id, f"Stripe answered {exc.http_status} for {pi_id}")
        status = str(pi.get("status"))
        planned = payment.amount_planned
        metadata = pi.get("metadata") or {}
        if ctx.session is None or metadata.get("cart_id") != ctx.session.cart_id:
            return _rejected(payment_id, f"{pi_id} is not for the session's cart")
        if metadata.get("ct_payment_id") != payment.id \
                or Money(int(pi.get("amount") or 0), str(pi.get("currency", "")).upper()) != \
                Money(planned.cent_amount, planned.currency):
            return _rejected(payment_id, f"{pi_id} does not match the Payment")
        method = pi.get("payment_method")
        paid_with = str(method["type"]) if isinstance(method, dict) and isinstance(method.get("type"), str) \
            else None
        if status == "processing":
            pending = TransactionResult(TxType.AUTHORIZATION, TxState.PENDING, planned, pi_id)
            await ctx.record(PaymentEvent((pending,), payment_id=payment.id, psp_reference=pi_id,
                                          paid_with=paid_with))
            return web.json_response({"outcome": "pending"}, status=202)
        event = intent_event(pi)
        if event is None:
            return _rejected(payment_id, f"{pi_id} is {status}")
        await ctx.record(dataclasses.replace(event, saved=await saved(pi), paid_with=event.paid_with or paid_with))
        return web.json_response({"outcome": "approved"})

    return Route("POST", "/confirmPayments/{paymentId}", confirm, auth="session", name="stripe-confirm-payments")
