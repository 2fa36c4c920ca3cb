"""``/operations/config``, ``/status``, ``/payment-components`` and ``/transactions``."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from host._version import __version__
from host.auth import TRANSACTION_AUTHORITIES
from host.commercetools import wallet as ct_wallet
from host.commercetools.client import predicate, valid_id
from host.errors import InvalidFieldError, InvalidOperationError, RequiredFieldError, ResourceNotFoundError
from host.flows import create, stored
from host.handlers import enablers
from host.handlers.common import Body, idempotency_key, idempotent, read_model
from host.jsonio import json_response
from host.keys import CT, DEPLOYMENT, JWT, OAUTH, ROUTER, SESSION_AUTH
from host.models import (
    CreatePaymentRequest,
    Money,
    PaymentResult,
    PaymentView,
    SessionInfo,
    StatusCheck,
    TxState,
    TxType,
)
from host.providers import PaymentProvider, Provider
from host.routing import Bound, Router, as_payment

logger = logging.getLogger(__name__)

REQUIRED_SCOPES = ("manage_payments", "view_sessions", "view_api_clients", "manage_orders",
                   "introspect_oauth_tokens", "manage_checkout_payment_intents")


async def config(request: web.Request) -> web.Response:
    session = await request.app[SESSION_AUTH].authenticate(request)
    bound = request.app[ROUTER].for_interface(session.payment_interface, None)
    data = dict(await bound.provider.public_config(session))
    if bound.provider.kind == "payment":   # the templates' enabler needs it (CONTRACT.md §5.4); the host decides
        is_enabled = await stored.offered(request.app[CT], bound.wallet, session.cart_id)
        data["storedPaymentMethodsConfig"] = {"isEnabled": is_enabled}
    return json_response({k: v for k, v in data.items() if v is not None})


async def _ct_check(request: web.Request) -> dict[str, Any]:
    pk = request.app[DEPLOYMENT].config.commercetools.projectKey
    name = "commercetools permissions"
    try:
        scopes = await request.app[CT].token_scopes()
    except Exception as exc:  # any failure to get a token means commercetools is not usable
        logger.warning("status: commercetools token failed: %s", type(exc).__name__)
        return {"name": name, "status": "DOWN", "message": "Not able to talk with commercetools API"}
    granted = set(scopes)
    if f"manage_project:{pk}" in granted or all(f"{s}:{pk}" in granted for s in REQUIRED_SCOPES):
        return {"name": name, "status": "UP", "details": {"scope": " ".join(scopes)}}
    expected = [f"{s}:{pk}" for s in REQUIRED_SCOPES]
    return {"name": name, "status": "DOWN",
            "message": f"commercetools permissions are not correct, expected scopes: {' '.join(expected)} , "
                       f"actual scopes: {' '.join(scopes)}",
            "details": {"expectedScopes": expected, "actualScopes": scopes, "reason": "scopes not available"}}


async def _instance_check(bound: Bound[Provider], budget: float) -> dict[str, Any]:
    meta = {"instance": bound.id, "paymentInterface": bound.payment_interface, "plugin": bound.plugin,
            "version": bound.version}
    try:
        check: StatusCheck = await asyncio.wait_for(bound.provider.status(), budget)
    except TimeoutError:
        return {"name": bound.id, "status": "DOWN", "message": f"no answer within {budget:g} s", "details": meta}
    except Exception as exc:  # a failing PSP check is a DOWN, never a failed status page
        return {"name": bound.id, "status": "DOWN", "message": f"{type(exc).__name__}", "details": meta}
    out: dict[str, Any] = {"name": check.name, "status": check.status,
                           "details": {**meta, **(dict(check.details) if check.details else {})}}
    if check.message:
        out["message"] = check.message
    return out


async def status(request: web.Request) -> web.Response:
    await request.app[JWT].authenticate(request)
    budget = request.app[DEPLOYMENT].config.server.statusTimeout
    checks = await asyncio.gather(_ct_check(request),
                                  *(_instance_check(b, budget) for b in request.app[ROUTER].enabled))
    up = sum(1 for c in checks if c["status"] == "UP")
    overall = "OK" if up == len(checks) else "Unavailable" if up == 0 else "Partially Available"
    return json_response({
        "status": overall, "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "version": __version__, "metadata": {"name": "connector-host", "description": "commercetools payment "
                                             "connector host", "instances": len(request.app[ROUTER].enabled)},
        "checks": list(checks)})


async def payment_components(request: web.Request) -> web.Response:
    await request.app[JWT].authenticate(request)
    wanted = request.query.get("paymentInterface")
    router = request.app[ROUTER]
    selected = [router.for_interface(wanted, None)] if wanted else router.enabled
    out: dict[str, list[dict[str, Any]]] = {"dropins": [], "components": [], "express": []}
    for bound in selected:
        for key, items in bound.provider.payment_components(bound.methods).items():
            for item in items:
                if item not in out.setdefault(key, []):
                    out[key].append(item)
    out["enablers"] = [u for u in (enablers.urls(request.app, b) for b in selected) if u]
    return json_response(out)


class TxAmount(Body):
    centAmount: int = Field(gt=0)
    currencyCode: str = Field(min_length=3, max_length=3)


class StoredMethodRef(Body):
    id: str


class TransactionBody(Body):
    cartId: str
    checkoutTransactionItemId: str | None = None
    paymentInterface: str | None = None
    amount: TxAmount | None = None
    paymentMethodId: str | None = None
    paymentMethod: StoredMethodRef | None = None
    idempotencyKey: str | None = None
    futureOrderNumber: str | None = None
    type: Literal["Recurring"] | None = None


async def transactions(request: web.Request) -> web.Response:
    app = request.app
    await app[OAUTH].authenticate(request, TRANSACTION_AUTHORITIES)
    body = await read_model(request, TransactionBody)
    if body.type not in (None, "Recurring"):
        raise InvalidOperationError("Only Recurring transactions are supported.")
    ct = app[CT]
    cart = await ct.get_cart(body.cartId)
    customer = stored.customer_of(cart)
    method_id = body.paymentMethodId or (body.paymentMethod.id if body.paymentMethod else None)
    if not method_id:
        raise RequiredFieldError("paymentMethodId")
    bound, record = await _stored_method(request, body.paymentInterface, customer, method_id)
    method = record.method.method or Router.check_method(bound, None)

    async def charge_once() -> web.Response:
        session = SessionInfo(session_id="", cart_id=body.cartId,
                              checkout_transaction_item_id=body.checkoutTransactionItemId,
                              future_order_number=body.futureOrderNumber)
        amount = Money(body.amount.centAmount, body.amount.currencyCode.upper()) if body.amount else None
        order = create.Order(bound.id, bound.payment_interface, body.cartId, method, amount=amount,
                             checkout_transaction_item_id=body.checkoutTransactionItemId,
                             idempotency_key=body.idempotencyKey or idempotency_key(request), kind="transaction",
                             abandon_after=app[DEPLOYMENT].config.reconciler.horizon)

        async def charge(attempt: create.Attempt) -> PaymentResult:
            # the typed fields carry the stored method; the body keeps the shape plugins of host API 1.1 read
            legacy = {"paymentMethod": {"type": method, "token": record.method.token, "storedPaymentMethodId":
                                        record.method.id}, "recurring": True}
            return await bound.provider.create_payment(CreatePaymentRequest(
                payment=attempt.payment, amount=attempt.amount, method=method, capture_method=bound.capture_method,
                body=legacy, session=session, return_url=f"{bound.provider.context.base_url}/plugins/{bound.id}",
                idempotency_key=attempt.key, customer_id=customer, stored_method=record.method, recurring=True))

        paid = await create.pay(ct, order, charge, _fits)
        if not paid.recorded:   # done at the PSP, not yet in commercetools: the reconciler records it
            return json_response({"transactionStatus": {"state": "Pending", "errors": []},
                                      "paymentId": paid.payment.id}, status=201)
        return _transaction_status(paid.payment)

    return await idempotent(request, scope=f"transactions|{body.cartId}", body=body.model_dump(), run=charge_once)


async def _stored_method(request: web.Request, interface: str | None, customer: str,
                         method_id: str) -> tuple[Bound[PaymentProvider], ct_wallet.Record]:
    """The instance a recurring charge goes to (the request's paymentInterface, else the stored method's) and the
    customer's stored method of that instance; 404 for anybody else's method, or one of another instance."""
    router, ct = request.app[ROUTER], request.app[CT]
    if not interface:   # learn it from the customer's method itself (by id and customer: nobody else's)
        found = await ct.query_payment_methods(predicate("id={id} and customer(id={customer})", id=method_id,
                                                         customer=customer), limit=1) if valid_id(method_id) else []
        interface = found[0].get("paymentInterface") if found else None
        if not interface:
            raise ResourceNotFoundError(f"The Resource with ID {method_id} was not found.")
    bound = as_payment(router.for_interface(interface, "payment"))
    record = await ct_wallet.find(ct, stored.enabled(bound.wallet, bound.payment_interface), customer, method_id)
    if record is None:
        raise ResourceNotFoundError(f"The Resource with ID {method_id} was not found.")
    return bound, record


def _fits(asked: Money, open_: Money) -> None:
    if asked.currency != open_.currency:
        raise InvalidFieldError("amount.currencyCode", f"The currency {asked.currency} does not match "
                                f"the cart currency {open_.currency}.", invalidValue=asked.currency)
    if asked.cent_amount > open_.cent_amount:
        raise InvalidFieldError("amount.centAmount", f"The amount {asked.cent_amount} exceeds the open "
                                f"amount of the cart ({open_.cent_amount}).", invalidValue=asked.cent_amount,
                                allowedValues=f"<= {open_.cent_amount}")


def _transaction_status(recorded: PaymentView) -> web.Response:
    state = "Completed" if recorded.has(TxType.AUTHORIZATION) or recorded.has(TxType.CHARGE) else \
        "Pending" if recorded.has(TxType.AUTHORIZATION, (TxState.PENDING, TxState.INITIAL)) else "Failed"
    errors = [] if state != "Failed" else [{"code": "PaymentRejected",
                                            "message": f"Payment '{recorded.id}' has been rejected."}]
    return json_response({"transactionStatus": {"state": state, "errors": errors}, "paymentId": recorded.id},
                             status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/operations/config", config)
    app.router.add_get("/operations/status", status)
    app.router.add_get("/operations/payment-components", payment_components)
    app.router.add_post("/operations/transactions", transactions)
