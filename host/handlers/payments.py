"""``POST /payments`` and ``GET /payments`` (session): create and authorize a payment for the session's cart
(``host.flows.create``).

``GET /payments`` is the official Stripe enabler's call (both generations use it unless they have
``paymentMethodOptions`` to send): it is ``POST /payments`` with an empty body, through the same flow, so
the same one-authorization-per-cart and ``Idempotency-Key`` rules hold. Only an instance whose provider
declares ``Capabilities.payment_by_get`` answers it; any other answers 405 (``Allow: POST``) and writes
nothing. ``HEAD /payments`` is not routed: a HEAD must never create a payment.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from host.errors import ApiError
from host.flows import create
from host.handlers import stored
from host.handlers.common import idempotency_key, idempotent, read_json
from host.jsonio import json_response
from host.keys import CT, DEPLOYMENT, ROUTER, SESSION_AUTH
from host.models import CreatePaymentRequest, PaymentResult
from host.routing import Router, as_payment


class MethodNotAllowedError(ApiError):
    """405: the selected instance does not create payments with this HTTP method."""

    status, code = 405, "MethodNotAllowed"


async def create_payment(request: web.Request) -> web.Response:
    app = request.app
    session = await app[SESSION_AUTH].authenticate(request)
    bound = as_payment(app[ROUTER].for_interface(session.payment_interface, "payment"))
    body: dict[str, Any]
    if request.method == "GET":
        if not bound.provider.capabilities.payment_by_get:
            raise MethodNotAllowedError(f"The payment integration '{bound.payment_interface}' creates payments "
                                        f"with POST /payments only.", allowedMethods=["POST"])
        body = {}
    else:
        body = await read_json(request, empty={})
    method = Router.check_method(bound, bound.provider.payment_method(body), session.allowed_payment_methods)
    stored_method_id, store_method = stored.requested(body)

    async def pay() -> web.Response:
        order = create.Order(bound.id, bound.payment_interface, session.cart_id, method,
                             gift_card_planned=session.gift_card_planned_amount,
                             checkout_transaction_item_id=session.checkout_transaction_item_id,
                             idempotency_key=idempotency_key(request),
                             abandon_after=app[DEPLOYMENT].config.reconciler.horizon, wallet=bound.wallet,
                             stored_method_id=stored_method_id, store_method=store_method)

        async def authorize(attempt: create.Attempt) -> PaymentResult:
            return await bound.provider.create_payment(CreatePaymentRequest(
                payment=attempt.payment, amount=attempt.amount, method=method, capture_method=bound.capture_method,
                body=body, session=session, return_url=f"{bound.provider.context.base_url}/plugins/{bound.id}",
                idempotency_key=attempt.key, customer_id=attempt.customer_id, stored_method=attempt.stored,
                store_method=attempt.store, billing_address=attempt.billing_address,
                shipping_address=attempt.shipping_address))

        paid = await create.pay(app[CT], order, authorize)
        # the Payment id is the paymentReference Checkout relies on: a provider cannot override it
        answer = {**(paid.result.response if paid.result else {}), "paymentReference": paid.payment.id}
        if not paid.recorded:   # the PSP answered; commercetools shows it once the reconciler recorded it
            return json_response({**answer, "outcome": "pending"}, status=202)
        return json_response(answer)

    return await idempotent(request, scope=f"payments|{session.cart_id}", body=body, run=pay)


def setup(app: web.Application) -> None:
    app.router.add_post("/payments", create_payment)
    app.router.add_get("/payments", create_payment, allow_head=False)
