"""``POST /payments`` (session): create and authorize a payment for the session's cart."""

from __future__ import annotations

from aiohttp import web

from host.commercetools.payments import view
from host.handlers.checkout import new_payment, open_amount, record_result
from host.handlers.common import read_json
from host.keys import CT, ROUTER, SESSION_AUTH
from host.models import CreatePaymentRequest
from host.routing import Router, as_payment


async def create_payment(request: web.Request) -> web.Response:
    app = request.app
    session = await app[SESSION_AUTH].authenticate(request)
    bound = as_payment(app[ROUTER].for_interface(session.payment_interface, "payment"))
    body = await read_json(request, empty={})
    method = Router.check_method(bound, bound.provider.payment_method(body), session.allowed_payment_methods)
    ct = app[CT]
    cart = await ct.get_cart(session.cart_id)
    amount = await open_amount(ct, cart, session)
    payment = await new_payment(ct, cart, amount=amount, payment_interface=bound.payment_interface, method=method,
                                checkout_transaction_item_id=session.checkout_transaction_item_id, session=session)
    base = bound.provider.context.base_url
    result = await bound.provider.create_payment(CreatePaymentRequest(
        payment=view(payment), amount=amount, method=method, capture_method=bound.capture_method, body=body,
        session=session, return_url=f"{base}/plugins/{bound.id}",
        idempotency_key=f"{bound.id}:create:{payment['id']}"))
    await record_result(ct, payment, result, amount)
    # the Payment id is the paymentReference Checkout relies on: a provider cannot override it
    return web.json_response({**result.response, "paymentReference": payment["id"]})


def setup(app: web.Application) -> None:
    app.router.add_post("/payments", create_payment)
