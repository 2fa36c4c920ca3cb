"""Types (custom field definitions): create, read by id or key, query.

A Type names the resources it customizes (``resourceTypeIds``) and defines fields by name and type
(``fieldDefinitions``). Its ``key`` is unique (400 ``DuplicateField``). Only creation and reads are
emulated: what the host needs to make sure a Type exists.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .clock import new_id
from .errors import duplicate_field, invalid_field, invalid_json, not_found, referenced_not_found
from .fields import JsonObject, as_object, opt_str, path_of, read_json, req_list, req_object, req_str
from .predicates import paged_query
from .routing import Route, emulator_of
from .store import TYPES

if TYPE_CHECKING:
    from .core import Emulator

_WRITE = ("manage_types",)
_READ = ("manage_types", "view_types")
_KEY = re.compile(r"^[A-Za-z0-9_-]{2,256}\Z")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_-]{2,36}\Z")
_FIELD_TYPES = ("Boolean", "String", "LocalizedString", "Enum", "LocalizedEnum", "Number", "Money", "Date",
                "Time", "DateTime", "Reference", "Set")


def _field_definition(value: Any, path: str) -> JsonObject:
    draft = as_object(value, path)
    name = req_str(draft, "name", path)
    if not _FIELD_NAME.match(name):
        raise invalid_field("name", name, "A field name has 2 to 36 letters, digits, '_' or '-'.")
    field_type = req_object(draft, "type", path)
    if req_str(field_type, "name", path_of(path, "type")) not in _FIELD_TYPES:
        raise invalid_json(f"{path_of(path, 'type', 'name')}: Unknown value '{field_type['name']}'.")
    required = draft.get("required")
    if not isinstance(required, bool):
        raise invalid_json(f"{path_of(path, 'required')}: Missing required value")
    out: JsonObject = {"name": name, "type": dict(field_type), "required": required,
                       "label": req_object(draft, "label", path)}
    hint = opt_str(draft, "inputHint", path)
    out["inputHint"] = hint or "SingleLine"
    return out


def create_type(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a TypeDraft, store it and return the Type."""
    key = req_str(draft, "key")
    if not _KEY.match(key):
        raise invalid_field("key", key, "A key has 2 to 256 letters, digits, '_' or '-'.")
    if find_type(emu, key=key) is not None:
        raise duplicate_field("key", key)
    resource_types = [str(r) for r in req_list(draft, "resourceTypeIds")]
    definitions = [_field_definition(d, "fieldDefinitions") for d in draft.get("fieldDefinitions") or []]
    names = [d["name"] for d in definitions]
    if len(set(names)) != len(names):
        raise duplicate_field("fieldDefinitions.name", names)
    now = emu.timestamp()
    created: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now, "key": key,
                           "name": req_object(draft, "name"), "resourceTypeIds": resource_types,
                           "fieldDefinitions": definitions}
    if draft.get("description") is not None:
        created["description"] = draft["description"]
    emu.store.put(TYPES, created["id"], created)
    return created


def find_type(emu: Emulator, *, type_id: str | None = None, key: str | None = None) -> JsonObject | None:
    """The Type with this id or key, or None."""
    if type_id is not None:
        return emu.store.get(TYPES, type_id)
    return next((t for t in emu.store.all(TYPES) if t["key"] == key), None)


def resolve(emu: Emulator, ref: JsonObject, resource_type: str) -> JsonObject:
    """The Type a ``{"typeId": "type", "id"|"key"}`` identifier names, defined for ``resource_type``."""
    found = find_type(emu, type_id=ref.get("id"), key=ref.get("key"))
    if found is None:
        raise referenced_not_found("type", str(ref.get("id") or ref.get("key")))
    if resource_type not in found["resourceTypeIds"]:
        raise invalid_field("type", found["key"], f"The type '{found['key']}' is not defined for "
                            f"'{resource_type}'.")
    return found


async def post_type(request: web.Request) -> web.Response:
    """``POST /{projectKey}/types``."""
    return web.json_response(create_type(emulator_of(request), await read_json(request)), status=201)


async def get_type(request: web.Request) -> web.Response:
    """``GET /{projectKey}/types/{id}``."""
    found = find_type(emulator_of(request), type_id=request.match_info["id"])
    if found is None:
        raise not_found(request.match_info["id"])
    return web.json_response(found)


async def get_type_by_key(request: web.Request) -> web.Response:
    """``GET /{projectKey}/types/key={key}``."""
    found = find_type(emulator_of(request), key=request.match_info["key"])
    if found is None:
        raise not_found(request.match_info["key"])
    return web.json_response(found)


async def query_types(request: web.Request) -> web.Response:
    """``GET /{projectKey}/types?where=...``."""
    types = emulator_of(request).store.all(TYPES)
    return web.json_response(paged_query(types, request.query.getall("where", []), request.query))


ROUTES = [
    Route("POST", "/{projectKey}/types", post_type, _WRITE),
    Route("GET", "/{projectKey}/types", query_types, _READ),
    Route("GET", "/{projectKey}/types/key={key}", get_type_by_key, _READ),
    Route("GET", "/{projectKey}/types/{id}", get_type, _READ),
]
