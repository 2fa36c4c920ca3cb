"""Customers: create, read, and the custom-field update actions.

``POST /{projectKey}/customers`` answers a ``CustomerSignInResult`` (``{"customer": {...}}``) with 201;
the email is unique (400 ``DuplicateField``). Updates are ``{"version", "actions"}`` like every resource
(stale version: 409). The emulated actions are the ones the host uses: ``setCustomType`` (a Type defined
for ``customer``, found by id or key; no ``type`` removes the custom fields) and ``setCustomField`` (the
field must be defined by the customer's Type; no ``value`` removes it), plus ``setFirstName``,
``setLastName``. Stored custom fields name their Type by id, as commercetools answers them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import types
from .clock import new_id
from .errors import duplicate_field, invalid_input, invalid_operation, not_found
from .fields import JsonObject, as_object, opt_object, opt_reference, opt_str, read_json, req_str
from .predicates import paged_query
from .routing import Route, emulator_of
from .store import CUSTOMERS
from .updates import versioned_update

if TYPE_CHECKING:
    from .core import Emulator

_WRITE = ("manage_customers",)
_READ = ("manage_customers", "view_customers")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\Z")
_A = "actions"


def _custom(emu: Emulator, draft: Any, path: str) -> JsonObject | None:
    """A CustomFieldsDraft checked against its Type, stored as ``{"type": {"typeId", "id"}, "fields"}``."""
    if draft is None:
        return None
    value = as_object(draft, path)
    ref = opt_reference(value, "type", "type", path)
    if ref is None:
        return None
    found = types.resolve(emu, ref, "customer")
    fields = opt_object(value, "fields", path) or {}
    for name in fields:
        _defined(found, name)
    return {"type": {"typeId": "type", "id": found["id"]}, "fields": dict(fields)}


def _defined(type_: JsonObject, name: str) -> None:
    if not any(d["name"] == name for d in type_["fieldDefinitions"]):
        raise invalid_operation(f"The field '{name}' is not defined in the type '{type_['key']}'.")


def create_customer(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a CustomerDraft, store it and return the Customer."""
    email = req_str(draft, "email")
    if not _EMAIL.match(email):
        raise invalid_input(f"Invalid email '{email}'.")
    if any(c["email"].lower() == email.lower() for c in emu.store.all(CUSTOMERS)):
        raise duplicate_field("email", email)
    now = emu.timestamp()
    customer: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now,
                            "email": email, "addresses": [], "isEmailVerified": False,
                            "authenticationMode": "Password" if draft.get("password") else "ExternalAuth"}
    for name in ("key", "firstName", "lastName", "customerNumber"):
        value = opt_str(draft, name)
        if value is not None:
            customer[name] = value
    custom = _custom(emu, draft.get("custom"), "custom")
    if custom is not None:
        customer["custom"] = custom
    emu.store.put(CUSTOMERS, customer["id"], customer)
    return customer


def _set_custom_type(emu: Emulator, customer: JsonObject, action: JsonObject) -> None:
    custom = _custom(emu, action, _A) if action.get("type") is not None else None
    if custom is None:
        customer.pop("custom", None)
    else:
        customer["custom"] = custom


def _set_custom_field(emu: Emulator, customer: JsonObject, action: JsonObject) -> None:
    name = req_str(action, "name", _A)
    custom = customer.get("custom")
    if custom is None:
        raise invalid_operation("This resource has no custom type set.")
    type_ = types.find_type(emu, type_id=custom["type"]["id"])
    if type_ is None:      # the Type was deleted meanwhile: commercetools refuses deleting a used Type
        raise invalid_operation("The custom type of this resource no longer exists.")
    _defined(type_, name)
    if action.get("value") is None:
        custom["fields"].pop(name, None)
    else:
        custom["fields"][name] = action["value"]


def _set_name(field: str) -> Any:
    def apply(_: Emulator, customer: JsonObject, action: JsonObject) -> None:
        value = opt_str(action, field, _A)
        if value is None:
            customer.pop(field, None)
        else:
            customer[field] = value
    return apply


_ACTIONS = {"setCustomType": _set_custom_type, "setCustomField": _set_custom_field,
            "setFirstName": _set_name("firstName"), "setLastName": _set_name("lastName")}


def update_customer(emu: Emulator, customer_id: str, body: JsonObject) -> JsonObject:
    """Apply ``{"version", "actions"}`` atomically and return the updated customer."""
    return versioned_update(emu, CUSTOMERS, customer_id, body, _ACTIONS, "customers")


async def post_customer(request: web.Request) -> web.Response:
    """``POST /{projectKey}/customers``: 201 ``{"customer": ...}``."""
    customer = create_customer(emulator_of(request), await read_json(request))
    return web.json_response({"customer": customer}, status=201)


async def get_customer(request: web.Request) -> web.Response:
    """``GET /{projectKey}/customers/{id}``."""
    customer = emulator_of(request).store.get(CUSTOMERS, request.match_info["id"])
    if customer is None:
        raise not_found(request.match_info["id"])
    return web.json_response(customer)


async def query_customers(request: web.Request) -> web.Response:
    """``GET /{projectKey}/customers?where=...``."""
    customers = emulator_of(request).store.all(CUSTOMERS)
    return web.json_response(paged_query(customers, request.query.getall("where", []), request.query))


async def post_customer_update(request: web.Request) -> web.Response:
    """``POST /{projectKey}/customers/{id}``: update actions."""
    body = await read_json(request)
    return web.json_response(update_customer(emulator_of(request), request.match_info["id"], body))


ROUTES = [
    Route("POST", "/{projectKey}/customers", post_customer, _WRITE),
    Route("GET", "/{projectKey}/customers", query_customers, _READ),
    Route("GET", "/{projectKey}/customers/{id}", get_customer, _READ),
    Route("POST", "/{projectKey}/customers/{id}", post_customer_update, _WRITE),
]
