"""``POST /operations/payment-intents/{paymentId}`` (OAuth2): capture, cancel, refund, reverse.

Each request is one operation and runs in four steps, the Payment's version being the only lock:
1. read the Payment and pick the instance from its ``paymentInterface``;
2. check the operation against what is recorded (capture ≤ authorized - captured, refund ≤ captured -
   refunded, currency) counting in-flight reservations, then write a reservation: a transaction of the
   operation's type in state ``Initial`` whose ``interfaceId`` is the attempt key. Two replicas racing
   for the same amount both write with the version they read; one gets 409, re-reads, and is refused;
3. call the provider with an idempotency key derived from that attempt key;
4. record the outcome on the reservation (``Success``/``Pending``/``Failure`` + the PSP reference).
An ``Idempotency-Key`` request header makes the attempt key stable: a replay answers the recorded outcome
without calling the PSP again. A PSP refusal (4xx) marks the reservation ``Failure``; an unknown outcome
(5xx, timeout) or a crash between 3 and 4 leaves it ``Initial``: the amount stays blocked (never charged
or refunded twice), and a replay with the same ``Idempotency-Key`` calls the PSP again with the same key.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field

from host.auth import PAYMENT_INTENT_AUTHORITIES
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update, build_actions, view
from host.errors import (
    ApiError,
    ConcurrentModificationError,
    InvalidFieldError,
    InvalidOperationError,
    NotSupportedError,
)
from host.handlers.checkout import drafts
from host.handlers.common import Body, read_model
from host.keys import CT, OAUTH, ROUTER
from host.models import (
    ModificationRequest,
    ModificationResult,
    Money,
    Operation,
    Outcome,
    PaymentView,
    TxState,
    TxType,
)
from host.providers import GiftCardProvider, PaymentProvider, Provider

_IN_FLIGHT = (TxState.SUCCESS, TxState.PENDING, TxState.INITIAL)
_RESERVE_ATTEMPTS = 5


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


_TYPE = {Operation.CAPTURE: TxType.CHARGE, Operation.REFUND: TxType.REFUND,
         Operation.CANCEL: TxType.CANCEL_AUTHORIZATION}


def plan(payment: PaymentView, action: Action, provider: Provider) -> tuple[Operation, Money]:
    """Check the operation against the Payment's transactions; returns the concrete operation and amount."""
    caps = provider.capabilities
    if isinstance(action, ReverseAction):
        reverted = payment.has(TxType.REFUND, _IN_FLIGHT) or payment.has(TxType.CANCEL_AUTHORIZATION, _IN_FLIGHT)
        charged = payment.total(TxType.CHARGE)
        if charged and not reverted:
            if not caps.refund:
                raise NotSupportedError("This payment integration does not support refunds, so it cannot reverse a "
                                        "charged payment.")
            return Operation.REFUND, Money(charged, payment.amount_planned.currency,
                                           payment.amount_planned.fraction_digits)
        if payment.has(TxType.AUTHORIZATION) and not reverted and not charged:
            if not caps.cancel:
                raise NotSupportedError("This payment integration does not support cancelling, so it cannot reverse "
                                        "an authorization.")
            return Operation.CANCEL, payment.amount_planned
        raise InvalidOperationError("There is no successful payment transaction to reverse.")
    if isinstance(action, CancelAction):
        if not caps.cancel:
            raise NotSupportedError("This payment integration does not support cancelling a payment.")
        if not payment.has(TxType.AUTHORIZATION):
            raise InvalidOperationError("There is no successful authorization to cancel.")
        if payment.has(TxType.CANCEL_AUTHORIZATION, _IN_FLIGHT):
            raise InvalidOperationError("The authorization has already been cancelled.")
        if payment.has(TxType.CHARGE, _IN_FLIGHT):
            raise InvalidOperationError("The payment has been captured; refund it instead of cancelling.")
        return Operation.CANCEL, payment.amount_planned
    amount = Money(action.amount.centAmount, action.amount.currencyCode.upper(),
                   payment.amount_planned.fraction_digits)
    if amount.currency != payment.amount_planned.currency:
        raise InvalidFieldError("amount.currencyCode", f"Currency {amount.currency} does not match the payment's "
                                f"currency {payment.amount_planned.currency}.", invalidValue=amount.currency)
    if amount.cent_amount <= 0:
        raise InvalidFieldError("amount.centAmount", "The amount must be greater than 0.", invalidValue=0)
    if isinstance(action, CaptureAction):
        if not caps.capture:
            raise NotSupportedError("This payment integration does not support capturing a payment.")
        authorized = payment.total(TxType.AUTHORIZATION)
        captured = payment.total(TxType.CHARGE, _IN_FLIGHT)
        if not authorized:
            raise InvalidOperationError("There is no successful authorization to capture.")
        if payment.has(TxType.CANCEL_AUTHORIZATION, _IN_FLIGHT):
            raise InvalidOperationError("The authorization has been cancelled.")
        if captured and not caps.multiple_capture:
            raise NotSupportedError("This payment integration captures a payment only once.")
        if amount.cent_amount < authorized - captured and not caps.partial_capture:
            raise NotSupportedError("This payment integration does not support partial capture.")
        if amount.cent_amount > authorized - captured:
            raise InvalidFieldError("amount.centAmount", f"Cannot capture {amount}: authorized {authorized}, "
                                    f"already captured or in progress {captured}, capturable "
                                    f"{authorized - captured} {amount.currency}.", invalidValue=amount.cent_amount)
        return Operation.CAPTURE, amount
    if not caps.refund:
        raise NotSupportedError("This payment integration does not support refunds.")
    charged = payment.total(TxType.CHARGE)
    refunded = payment.total(TxType.REFUND, _IN_FLIGHT)
    if refunded and not caps.multiple_refund:
        raise NotSupportedError("This payment integration refunds a payment only once.")
    if amount.cent_amount < charged - refunded and not caps.partial_refund:
        raise NotSupportedError("This payment integration does not support partial refunds.")
    if amount.cent_amount > charged - refunded:
        raise InvalidFieldError("amount.centAmount", f"Cannot refund {amount}: captured {charged}, already "
                                f"refunded or in progress {refunded}, refundable {charged - refunded} "
                                f"{amount.currency}.", invalidValue=amount.cent_amount)
    return Operation.REFUND, amount


async def call_provider(provider: Provider, requested: str, request: ModificationRequest) -> ModificationResult:
    if isinstance(provider, GiftCardProvider):
        if request.operation != Operation.REFUND:
            raise NotSupportedError(f"Gift-card payments do not support {request.operation.value}.")
        return await provider.refund(request)
    assert isinstance(provider, PaymentProvider)
    if requested == Operation.REVERSE.value:
        return await provider.reverse(request)
    method = {Operation.CAPTURE: provider.capture, Operation.CANCEL: provider.cancel,
              Operation.REFUND: provider.refund}[request.operation]
    return await method(request)


async def payment_intent(request: web.Request) -> web.Response:
    app = request.app
    await app[OAUTH].authenticate(request, PAYMENT_INTENT_AUTHORITIES)
    body = await read_model(request, IntentBody)
    action = body.actions[0]
    ct = app[CT]
    payment_id = request.match_info["paymentId"]
    raw = await ct.get_payment(payment_id)
    bound = app[ROUTER].for_interface((raw.get("paymentMethodInfo") or {}).get("paymentInterface"), None)
    header_key = request.headers.get("Idempotency-Key")
    attempt = hashlib.sha256(header_key.encode()).hexdigest()[:24] if header_key else uuid.uuid4().hex
    for _ in range(_RESERVE_ATTEMPTS):
        payment = view(raw)
        reservation_key = f"{bound.id}:{action.action}:{attempt}"
        replay = next((t for t in payment.transactions if t.interface_id == reservation_key), None)
        if replay is not None and replay.state != TxState.INITIAL:
            outcome = {TxState.SUCCESS: Outcome.APPROVED, TxState.PENDING: Outcome.RECEIVED}.get(
                replay.state, Outcome.REJECTED)
            return web.json_response({"outcome": outcome.value})
        operation, amount = plan(payment, action, bound.provider) if replay is None else \
            (_replayed_operation(replay.type), replay.amount)
        tx_type = _TYPE[operation]
        if replay is None:
            reservation = TxDraft(tx_type, TxState.INITIAL, amount, interface_id=reservation_key)
            # a plain versioned write, not apply_update: on a 409 the limits must be checked again
            try:
                raw = await ct.update_payment(payment_id, int(raw["version"]),
                                              build_actions(raw, PaymentUpdate([reservation])))
            except ConcurrentModificationError:
                raw = await ct.get_payment(payment_id)
                continue
        break
    else:
        raise ConcurrentModificationError("The payment is being modified concurrently; try again.")
    modification = ModificationRequest(operation=operation, payment=view(raw), amount=amount,
                                       idempotency_key=reservation_key,
                                       merchant_reference=getattr(action, "merchantReference", None)
                                       or body.merchantReference)
    try:
        result = await call_provider(bound.provider, action.action, modification)
    except ApiError as exc:
        if exc.status < 500:
            # the PSP definitely refused: free the reserved amount
            await apply_update(ct, payment_id, PaymentUpdate([TxDraft(tx_type, TxState.FAILURE, amount,
                                                                      interface_id=reservation_key)]))
        # else the outcome is unknown (timeout, 5xx): the reservation stays Initial and keeps the amount
        # blocked; a retry with the same Idempotency-Key repeats the PSP call with the same PSP key
        raise
    txs = [TxDraft(tx_type, result.outcome.state, amount, result.psp_reference, reservation_key),
           *drafts(result.transactions, amount, None)]
    await apply_update(ct, payment_id, PaymentUpdate(txs, psp_reference=result.psp_reference), payment=raw)
    return web.json_response({"outcome": result.outcome.value})


def _replayed_operation(tx_type: TxType) -> Operation:
    return {v: k for k, v in _TYPE.items()}[tx_type]


def setup(app: web.Application) -> None:
    app.router.add_post("/operations/payment-intents/{paymentId}", payment_intent)

