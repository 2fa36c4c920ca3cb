"""``GET /stored-payment-methods`` and ``DELETE /stored-payment-methods/{id}`` (session), and reading the stored
payment method fields of a ``POST /payments`` body (``host.flows.stored``; CONTRACT.md §5.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from host.commercetools import wallet as ct_wallet
from host.errors import InvalidFieldError
from host.flows import stored
from host.jsonio import json_response
from host.keys import CT, ROUTER, SESSION_AUTH
from host.providers import PaymentProvider
from host.routing import Bound, as_payment


def requested(body: Mapping[str, Any]) -> tuple[str | None, bool]:
    """``paymentMethod.storedPaymentMethodId`` and ``paymentMethod.storePaymentMethod`` of a ``POST /payments``
    body, typed; a wrong type is a 400 ``InvalidField`` naming the field."""
    method = body.get("paymentMethod")
    if not isinstance(method, Mapping):
        return None, False
    method_id = method.get("storedPaymentMethodId")
    if method_id is not None and (not isinstance(method_id, str) or not method_id):
        raise InvalidFieldError("paymentMethod.storedPaymentMethodId", "Field paymentMethod.storedPaymentMethodId "
                                "must be the id of a stored payment method.", invalidValue=method_id)
    store = method.get("storePaymentMethod", False)
    if not isinstance(store, bool):
        raise InvalidFieldError("paymentMethod.storePaymentMethod", "Field paymentMethod.storePaymentMethod must "
                                "be true or false.", invalidValue=store)
    return method_id, store


async def _customer_wallet(request: web.Request) -> tuple[Bound[PaymentProvider], ct_wallet.Wallet, str]:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = as_payment(request.app[ROUTER].for_interface(session.payment_interface, "payment"))
    wallet = stored.enabled(bound.wallet, bound.payment_interface)
    customer = stored.customer_of(await request.app[CT].get_cart(session.cart_id))
    return bound, wallet, customer


async def list_methods(request: web.Request) -> web.Response:
    """The session customer's stored methods of the session's instance: display data, never a token."""
    _, wallet, customer = await _customer_wallet(request)
    return json_response({"storedPaymentMethods": await ct_wallet.listing(request.app[CT], wallet, customer)})


async def delete_method(request: web.Request) -> web.Response:
    """Delete one of the session customer's stored methods (404 for any other); 200 with an empty body."""
    bound, wallet, customer = await _customer_wallet(request)
    await stored.remove(request.app[CT], wallet, bound.provider, customer, request.match_info["id"])
    return web.Response(status=200)


def setup(app: web.Application) -> None:
    app.router.add_get("/stored-payment-methods", list_methods)
    app.router.add_delete("/stored-payment-methods/{id}", delete_method)
