"""Payments: create from a PaymentDraft, read (by id, by key, by query) and update.

An update is ``{"version", "actions"}``: a stale version is 409 ``ConcurrentModification`` with
``currentVersion``; otherwise all actions apply or none does, and the version grows by one per
request. ``key`` is unique (400 ``DuplicateField``), and so is ``interfaceId`` among payments of
one ``paymentMethodInfo.paymentInterface``. ``checkoutTransactionItemId`` is kept top-level as
the Checkout connector SDK sends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .clock import new_id
from .errors import CtError, duplicate_field, not_found
from .fields import (
    JsonObject,
    custom_fields,
    opt_list,
    opt_object,
    opt_reference,
    opt_str,
    path_of,
    read_json,
    req_object,
    req_str,
)
from .money import parse_money
from .payment_actions import ACTIONS, build_transaction
from .predicates import paged_query
from .routing import Route, emulator_of
from .store import PAYMENTS
from .updates import versioned_update

if TYPE_CHECKING:
    from .core import Emulator

_READ = ("manage_payments", "view_payments")
_WRITE = ("manage_payments",)
_METHOD_INFO_STRINGS = ("paymentInterface", "method", "interfaceAccount")


def _method_info(draft: JsonObject | None) -> JsonObject:
    info: JsonObject = {}
    if draft is None:
        return info
    where = "paymentMethodInfo"
    for key in _METHOD_INFO_STRINGS:
        value = opt_str(draft, key, where)
        if value is not None:
            info[key] = value
    name = opt_object(draft, "name", where)
    if name is not None:
        info["name"] = name
    token = opt_object(draft, "token", where)
    if token is not None:
        info["token"] = {"value": req_str(token, "value", path_of(where, "token"))}
    custom = custom_fields(draft.get("custom"), path_of(where, "custom"))
    if custom is not None:
        info["custom"] = custom
    return info


def _check_unique(emu: Emulator, payment: JsonObject, before: JsonObject | None) -> None:
    """Key and (interfaceId, paymentInterface) are unique among payments."""
    key = payment.get("key")
    interface_id = payment.get("interfaceId")
    interface = payment["paymentMethodInfo"].get("paymentInterface")
    check_key = key is not None and (before is None or before.get("key") != key)
    check_interface = interface_id is not None and (
        before is None
        or before.get("interfaceId") != interface_id
        or before["paymentMethodInfo"].get("paymentInterface") != interface
    )
    if not (check_key or check_interface):
        return
    for other in emu.store.all(PAYMENTS):
        if other["id"] == payment["id"]:
            continue
        if check_key and other.get("key") == key:
            raise duplicate_field("key", key)
        if (
            check_interface
            and other.get("interfaceId") == interface_id
            and other["paymentMethodInfo"].get("paymentInterface") == interface
        ):
            if interface is None:
                # The wording the Checkout connector SDK looks for before retrying.
                message = (
                    f"The interfaceId '{interface_id}' is already used without setting a payment interface."
                )
                raise CtError(
                    400, "DuplicateField", message, field="interfaceId", duplicateValue=interface_id
                )
            raise duplicate_field("interfaceId", interface_id)


def create_payment(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a PaymentDraft, store the payment and return it."""
    amount = parse_money(req_object(draft, "amountPlanned"), "amountPlanned")
    now = emu.timestamp()
    payment: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now}
    for key in ("key", "interfaceId", "anonymousId", "checkoutTransactionItemId"):
        value = opt_str(draft, key)
        if value is not None:
            payment[key] = value
    customer = opt_reference(draft, "customer", "customer")
    if customer is not None:
        payment["customer"] = customer
    status = opt_object(draft, "paymentStatus") or {}
    payment |= {
        "amountPlanned": amount,
        "paymentMethodInfo": _method_info(opt_object(draft, "paymentMethodInfo")),
        "paymentStatus": {
            k: v for k in ("interfaceCode", "interfaceText") if (v := opt_str(status, k)) is not None
        },
        "transactions": [],
        "interfaceInteractions": [],
    }
    for i, tx in enumerate(opt_list(draft, "transactions") or []):
        built = build_transaction(emu, tx, payment, path_of("transactions", str(i)))
        payment["transactions"].append(built)
    for i, value in enumerate(opt_list(draft, "interfaceInteractions") or []):
        interaction = custom_fields(value, path_of("interfaceInteractions", str(i)))
        payment["interfaceInteractions"].append(interaction)
    custom = custom_fields(draft.get("custom"), "custom")
    if custom is not None:
        payment["custom"] = custom
    _check_unique(emu, payment, None)
    emu.store.put(PAYMENTS, payment["id"], payment)
    return payment


def update_payment(emu: Emulator, payment_id: str, body: JsonObject) -> JsonObject:
    """Apply ``{"version", "actions"}`` atomically and return the updated payment."""
    return versioned_update(emu, PAYMENTS, payment_id, body, ACTIONS, "payments",
                            lambda payment, stored: _check_unique(emu, payment, stored))


def _found(doc: JsonObject | None, ident: str) -> web.Response:
    if doc is None:
        raise not_found(ident)
    return web.json_response(doc)


async def post_payment(request: web.Request) -> web.Response:
    """``POST /{projectKey}/payments``."""
    payment = create_payment(emulator_of(request), await read_json(request))
    return web.json_response(payment, status=201)


async def get_payment(request: web.Request) -> web.Response:
    """``GET /{projectKey}/payments/{id}``."""
    payment_id = request.match_info["id"]
    return _found(emulator_of(request).store.get(PAYMENTS, payment_id), payment_id)


async def get_payment_by_key(request: web.Request) -> web.Response:
    """``GET /{projectKey}/payments/key={key}``."""
    key = request.match_info["key"]
    payments = emulator_of(request).store.all(PAYMENTS)
    return _found(next((p for p in payments if p.get("key") == key), None), key)


async def query_payments(request: web.Request) -> web.Response:
    """``GET /{projectKey}/payments?where=...&limit=&offset=``."""
    payments = emulator_of(request).store.all(PAYMENTS)
    where = request.query.getall("where", [])
    return web.json_response(paged_query(payments, where, request.query))


async def post_payment_update(request: web.Request) -> web.Response:
    """``POST /{projectKey}/payments/{id}``."""
    body = await read_json(request)
    payment_id = request.match_info["id"]
    return web.json_response(update_payment(emulator_of(request), payment_id, body))


ROUTES = [
    Route("POST", "/{projectKey}/payments", post_payment, _WRITE),
    Route("GET", "/{projectKey}/payments", query_payments, _READ),
    Route("GET", "/{projectKey}/payments/key={key}", get_payment_by_key, _READ),
    Route("GET", "/{projectKey}/payments/{id}", get_payment, _READ),
    Route("POST", "/{projectKey}/payments/{id}", post_payment_update, _WRITE),
]
