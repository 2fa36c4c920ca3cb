"""``POST /balance`` and ``POST /redeem`` (session): gift cards, errors in the gift-card shape (§5.6)."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from host.commercetools.amounts import cart_amount
from host.commercetools.payments import view
from host.errors import ApiError, GiftCardError
from host.handlers.checkout import new_payment, open_amount, record_result
from host.handlers.common import Body, read_model
from host.keys import CT, ROUTER, SESSION_AUTH
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
        raise GiftCardError(GiftCardState.GENERIC_ERROR.value, exc.message, status=exc.status) from None


async def _balance(request: web.Request) -> web.Response:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = as_giftcard(request.app[ROUTER].for_interface(session.payment_interface, "giftcard"))
    body = await read_model(request, BalanceBody)
    cart = await request.app[CT].get_cart(session.cart_id)
    result = await bound.provider.balance(body.code, cart_amount(cart).currency)
    if result.state != GiftCardState.VALID or result.amount is None:
        state = result.state if result.state != GiftCardState.VALID else GiftCardState.GENERIC_ERROR
        raise GiftCardError(state.value, result.message or _MESSAGES[state])
    return web.json_response({"status": {"state": "Valid"}, "amount": result.amount.to_json()})


async def redeem(request: web.Request) -> web.Response:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = as_giftcard(request.app[ROUTER].for_interface(session.payment_interface, "giftcard"))
    body = await read_model(request, RedeemBody)
    ct = request.app[CT]
    cart = await ct.get_cart(session.cart_id)
    open_ = await open_amount(ct, cart, None)   # the gift card itself is what the planned amount stands for
    amount = Money(body.redeemAmount.centAmount, body.redeemAmount.currencyCode.upper(), open_.fraction_digits)
    if amount.currency != open_.currency:
        raise GiftCardError(GiftCardState.CURRENCY_NOT_MATCH.value,
                            f"Redeem currency {amount.currency} does not match the cart currency {open_.currency}.")
    if amount.cent_amount > open_.cent_amount:
        raise GiftCardError(GiftCardState.GENERIC_ERROR.value,
                            f"Cannot redeem {amount}: only {open_} is left to pay on the cart.")
    payment = await new_payment(ct, cart, amount=amount, payment_interface=bound.payment_interface,
                                method="giftcard", checkout_transaction_item_id=session.checkout_transaction_item_id,
                                session=None)
    result = await bound.provider.redeem(RedeemRequest(payment=view(payment), code=body.code, amount=amount,
                                                       session=session,
                                                       idempotency_key=f"{bound.id}:redeem:{payment['id']}"))
    reference = result.redemption_id or None
    tx = TransactionResult(TxType.CHARGE, result.state, amount,
                           reference or f"{bound.id}:redeem-failed:{payment['id']}")
    await record_result(ct, payment, PaymentResult(reference, (tx,), method="giftcard"), amount)
    return web.json_response({"result": "Success" if result.state == TxState.SUCCESS else "Failure",
                              "paymentReference": payment["id"], "redemptionId": result.redemption_id})


def setup(app: web.Application) -> None:
    app.router.add_post("/balance", balance)
    app.router.add_post("/redeem", redeem)
