"""``POST /operations/payment-intents/{paymentId}`` (OAuth2): capture, cancel, refund, reverse.

The body is validated here; the payment rules (limits, reservation, PSP call, outcome) are
``host.flows.modify``. An ``Idempotency-Key`` request header makes the attempt key stable, so a replay
answers the recorded outcome without calling the PSP again.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field

from host.auth import PAYMENT_INTENT_AUTHORITIES
from host.flows.modify import modify
from host.flows.rules import Modification
from host.handlers.common import Body, idempotency_key, idempotent, read_model
from host.ids import new_id
from host.jsonio import json_response
from host.keys import CT, OAUTH, ROUTER
from host.models import Money, Operation


class AmountBody(Body):
    centAmount: int = Field(ge=0)
    currencyCode: str = Field(min_length=3, max_length=3)


class CaptureAction(Body):
    action: Literal["capturePayment"]
    amount: AmountBody
    merchantReference: str | None = None


class RefundAction(Body):
    action: Literal["refundPayment"]
    amount: AmountBody
    merchantReference: str | None = None
    transactionId: str | None = None


class CancelAction(Body):
    action: Literal["cancelPayment"]
    merchantReference: str | None = None


class ReverseAction(Body):
    action: Literal["reversePayment"]
    merchantReference: str | None = None


Action = Annotated[CaptureAction | RefundAction | CancelAction | ReverseAction, Field(discriminator="action")]


class IntentBody(Body):
    actions: list[Action] = Field(min_length=1, max_length=1)
    merchantReference: str | None = None


def modification(body: IntentBody) -> Modification:
    action = body.actions[0]
    amount = None
    if isinstance(action, CaptureAction | RefundAction):
        amount = Money(action.amount.centAmount, action.amount.currencyCode.upper())
    return Modification(Operation(action.action), amount, action.merchantReference or body.merchantReference)


async def payment_intent(request: web.Request) -> web.Response:
    app = request.app
    await app[OAUTH].authenticate(request, PAYMENT_INTENT_AUTHORITIES)
    body = await read_model(request, IntentBody)
    key = idempotency_key(request)
    attempt = hashlib.sha256(key.encode()).hexdigest()[:24] if key else new_id()
    payment_id = request.match_info["paymentId"]

    async def run() -> web.Response:
        outcome = await modify(app[CT], app[ROUTER], payment_id, modification(body), attempt)
        return json_response({"outcome": outcome.value})

    return await idempotent(request, scope=f"payment-intents|{payment_id}", body=body.model_dump(), run=run)


def setup(app: web.Application) -> None:
    app.router.add_post("/operations/payment-intents/{paymentId}", payment_intent)
