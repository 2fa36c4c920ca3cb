"""``POST /balance`` and ``POST /redeem`` (session): gift cards, errors in the gift-card shape (§5.6)."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from host.errors import ApiError, GiftCardError
from host.flows import create
from host.handlers.common import Body, idempotency_key, idempotent, read_model
from host.jsonio import json_response
from host.keys import CT, DEPLOYMENT, ROUTER, SESSION_AUTH
from host.models import GiftCardState, Money, PaymentResult, RedeemRequest, TransactionResult, TxState, TxType
from host.routing import as_giftcard

_MESSAGES = {
    GiftCardState.NOT_FOUND: "The gift card code is not found.",
    GiftCardState.EXPIRED: "The gift card has expired.",
    GiftCardState.CURRENCY_NOT_MATCH: "The gift card currency does not match the cart currency.",
    GiftCardState.ZERO_BALANCE: "The gift card has no balance left.",
    GiftCardState.GENERIC_ERROR: "The gift card cannot be used.",
}


class BalanceBody(Body):
    code: str = Field(min_length=1, max_length=256)


class RedeemAmount(Body):
    centAmount: int = Field(gt=0)
    currencyCode: str = Field(min_length=3, max_length=3)


class RedeemBody(Body):
    code: str = Field(min_length=1, max_length=256)
    redeemAmount: RedeemAmount


async def balance(request: web.Request) -> web.Response:
    """``/balance`` answers every failure but auth in the gift-card shape, as the enabler expects."""
    try:
        return await _balance(request)
    except GiftCardError:
        raise
    except ApiError as exc:
        if exc.status == 401:
            raise
        field = {"field": exc.fields["field"]} if "field" in exc.fields else {}
        raise GiftCardError(GiftCardState.GENERIC_ERROR.value, exc.message, status=exc.status, **field) from None


async def _balance(request: web.Request) -> web.Response:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = as_giftcard(request.app[ROUTER].for_interface(session.payment_interface, "giftcard"))
    body = await read_model(request, BalanceBody)
    cart = await request.app[CT].get_cart(session.cart_id)
    result = await bound.provider.balance(body.code, cart.total.currency)
    if result.state != GiftCardState.VALID or result.amount is None:
        state = result.state if result.state != GiftCardState.VALID else GiftCardState.GENERIC_ERROR
        raise GiftCardError(state.value, result.message or _MESSAGES[state])
    return json_response({"status": {"state": "Valid"}, "amount": result.amount.to_json()})


def _fits(asked: Money, open_: Money) -> None:
    if asked.currency != open_.currency:
        raise GiftCardError(GiftCardState.CURRENCY_NOT_MATCH.value,
                            f"Redeem currency {asked.currency} does not match the cart currency {open_.currency}.")
    if asked.cent_amount > open_.cent_amount:
        raise GiftCardError(GiftCardState.GENERIC_ERROR.value,
                            f"Cannot redeem {asked}: only {open_} is left to pay on the cart.")


async def redeem(request: web.Request) -> web.Response:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = as_giftcard(request.app[ROUTER].for_interface(session.payment_interface, "giftcard"))
    body = await read_model(request, RedeemBody)

    async def take_once() -> web.Response:
        # no giftCardPlannedAmount here: the gift card itself is what the planned amount stands for
        order = create.Order(bound.id, bound.payment_interface, session.cart_id, "giftcard", tx_type=TxType.CHARGE,
                             amount=Money(body.redeemAmount.centAmount, body.redeemAmount.currencyCode.upper()),
                             checkout_transaction_item_id=session.checkout_transaction_item_id,
                             idempotency_key=idempotency_key(request), kind="redeem",
                             abandon_after=request.app[DEPLOYMENT].config.reconciler.horizon)

        async def take(attempt: create.Attempt) -> PaymentResult:
            result = await bound.provider.redeem(RedeemRequest(payment=attempt.payment, code=body.code,
                                                               amount=attempt.amount, session=session,
                                                               idempotency_key=attempt.key))
            reference = result.redemption_id or f"{bound.id}:redeem-failed:{attempt.payment.id}"
            tx = TransactionResult(TxType.CHARGE, result.state, attempt.amount, reference)
            return PaymentResult(result.redemption_id or None, (tx,), {"redemptionId": result.redemption_id},
                                 method="giftcard")

        paid = await create.pay(request.app[CT], order, take, _fits)
        redemption = str(paid.result.response["redemptionId"]) if paid.result else paid.payment.interface_id or ""
        return _answer(paid.state if paid.recorded else TxState.INITIAL, paid.payment.id, redemption)

    return await idempotent(request, scope=f"redeem|{session.cart_id}", body=body.model_dump(), run=take_once)


def _answer(state: TxState, payment_id: str, redemption_id: str) -> web.Response:
    """``Initial`` (202): redeemed at the provider, not yet recorded in commercetools (the reconciler will)."""
    result = {TxState.SUCCESS: "Success", TxState.INITIAL: "Initial"}.get(state, "Failure")
    return json_response({"result": result, "paymentReference": payment_id, "redemptionId": redemption_id},
                             status=202 if state == TxState.INITIAL else 200)


def setup(app: web.Application) -> None:
    app.router.add_post("/balance", balance)
    app.router.add_post("/redeem", redeem)
