"""Payment Methods (stored payment methods): create, read, query, delete.

``DELETE /{projectKey}/payment-methods/{id}?version=N`` needs the current version (409
``ConcurrentModification`` otherwise) and answers the deleted resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .clock import new_id
from .errors import concurrent_modification, duplicate_field, invalid_input, not_found
from .fields import (
    JsonObject,
    custom_fields,
    opt_bool,
    opt_object,
    opt_reference,
    opt_str,
    read_json,
    req_str,
)
from .predicates import paged_query
from .routing import Route, emulator_of
from .store import PAYMENT_METHODS

if TYPE_CHECKING:
    from .core import Emulator

_SCOPES = ("manage_payment_methods",)
_READ = ("manage_payment_methods", "view_payment_methods")
_STATUSES = ("Active", "Inactive")


def create_payment_method(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a PaymentMethodDraft, store it and return the PaymentMethod."""
    now = emu.timestamp()
    method: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now}
    key = opt_str(draft, "key")
    if key is not None:
        if any(m.get("key") == key for m in emu.store.all(PAYMENT_METHODS)):
            raise duplicate_field("key", key)
        method["key"] = key
    customer = opt_reference(draft, "customer", "customer")
    if customer is not None:
        method["customer"] = customer
    for field in ("paymentInterface", "interfaceAccount", "method"):
        value = opt_str(draft, field)
        if value is not None:
            method[field] = value
    name = opt_object(draft, "name")
    if name is not None:
        method["name"] = name
    token = opt_object(draft, "token")
    if token is not None:
        method["token"] = {"value": req_str(token, "value", "token")}
    default = opt_bool(draft, "default")
    method["default"] = bool(default)
    status = opt_str(draft, "paymentMethodStatus") or "Active"
    if status not in _STATUSES:
        raise invalid_input(f"Unknown paymentMethodStatus '{status}'.")
    method["paymentMethodStatus"] = status
    custom = custom_fields(draft.get("custom"), "custom")
    if custom is not None:
        method["custom"] = custom
    emu.store.put(PAYMENT_METHODS, method["id"], method)
    return method


async def post_payment_method(request: web.Request) -> web.Response:
    """``POST /{projectKey}/payment-methods``."""
    method = create_payment_method(emulator_of(request), await read_json(request))
    return web.json_response(method, status=201)


async def query_payment_methods(request: web.Request) -> web.Response:
    """``GET /{projectKey}/payment-methods?where=...``."""
    methods = emulator_of(request).store.all(PAYMENT_METHODS)
    where = request.query.getall("where", [])
    return web.json_response(paged_query(methods, where, request.query))


async def get_payment_method(request: web.Request) -> web.Response:
    """``GET /{projectKey}/payment-methods/{id}``."""
    method_id = request.match_info["id"]
    method = emulator_of(request).store.get(PAYMENT_METHODS, method_id)
    if method is None:
        raise not_found(method_id)
    return web.json_response(method)


async def delete_payment_method(request: web.Request) -> web.Response:
    """``DELETE /{projectKey}/payment-methods/{id}?version=N``."""
    emu = emulator_of(request)
    method_id = request.match_info["id"]
    method = emu.store.get(PAYMENT_METHODS, method_id)
    if method is None:
        raise not_found(method_id)
    raw = request.query.get("version")
    if raw is None:
        raise invalid_input("Missing required parameter: version.")
    try:
        version = int(raw)
    except ValueError:
        raise invalid_input(f"Malformed parameter: version: '{raw}' is not a number.") from None
    if version != method["version"]:
        raise concurrent_modification(method_id, version, method["version"])
    emu.store.delete(PAYMENT_METHODS, method_id)
    return web.json_response(method)


ROUTES = [
    Route("POST", "/{projectKey}/payment-methods", post_payment_method, _SCOPES),
    Route("GET", "/{projectKey}/payment-methods", query_payment_methods, _READ),
    Route("GET", "/{projectKey}/payment-methods/{id}", get_payment_method, _READ),
    Route("DELETE", "/{projectKey}/payment-methods/{id}", delete_payment_method, _SCOPES),
]
