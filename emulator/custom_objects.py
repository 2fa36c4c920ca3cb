"""Custom Objects: JSON values by (container, key), versioned like every other resource.

``POST /{projectKey}/custom-objects`` creates or replaces by ``container``/``key``. With a ``version``
the write is conditional, as commercetools documents it: replacing an existing object needs its current
version (409 ``ConcurrentModification`` otherwise), and ``version: 0`` creates only (409 when the object
exists). Without a version the object is replaced whatever its version. ``GET`` by container and key,
``GET`` a container (a query), ``DELETE`` (with an optional ``version``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiohttp import web

from .clock import new_id
from .errors import concurrent_modification, invalid_field, invalid_input, not_found
from .fields import JsonObject, opt_int, read_json, req_str
from .predicates import paged_query
from .routing import Route, emulator_of
from .store import CUSTOM_OBJECTS

if TYPE_CHECKING:
    from .core import Emulator

_WRITE = ("manage_key_value_documents",)
_READ = ("manage_key_value_documents", "view_key_value_documents")
_NAME = re.compile(r"^[-_~.a-zA-Z0-9]{1,256}\Z")


def _doc_id(container: str, key: str) -> str:
    return f"{container}/{key}"


def _name(draft: JsonObject, field: str) -> str:
    value = req_str(draft, field)
    if not _NAME.match(value):
        raise invalid_field(field, value, f"'{field}' must match [-_~.a-zA-Z0-9]+ and have 1 to 256 characters.")
    return value


def put_custom_object(emu: Emulator, draft: JsonObject) -> tuple[JsonObject, bool]:
    """Create or replace; returns the object and whether it was created."""
    container, key = _name(draft, "container"), _name(draft, "key")
    if "value" not in draft:
        raise invalid_input("Missing required field: value.")
    version = opt_int(draft, "version")
    current = emu.store.get(CUSTOM_OBJECTS, _doc_id(container, key))
    now = emu.timestamp()
    if current is None:
        if version not in (None, 0):
            raise concurrent_modification(_doc_id(container, key), version or 0, 0)
        created: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now,
                               "container": container, "key": key, "value": draft["value"]}
        emu.store.put(CUSTOM_OBJECTS, _doc_id(container, key), created)
        return created, True
    if version is not None and version != current["version"]:
        raise concurrent_modification(current["id"], version, current["version"])
    replaced = {**current, "value": draft["value"], "version": current["version"] + 1, "lastModifiedAt": now}
    emu.store.put(CUSTOM_OBJECTS, _doc_id(container, key), replaced)
    return replaced, False


async def post_custom_object(request: web.Request) -> web.Response:
    """``POST /{projectKey}/custom-objects``: 201 when created, 200 when replaced."""
    obj, created = put_custom_object(emulator_of(request), await read_json(request))
    return web.json_response(obj, status=201 if created else 200)


def _found(request: web.Request) -> JsonObject:
    container, key = request.match_info["container"], request.match_info["key"]
    obj = emulator_of(request).store.get(CUSTOM_OBJECTS, _doc_id(container, key))
    if obj is None:
        raise not_found(_doc_id(container, key))
    return obj


async def get_custom_object(request: web.Request) -> web.Response:
    """``GET /{projectKey}/custom-objects/{container}/{key}``."""
    return web.json_response(_found(request))


async def query_container(request: web.Request) -> web.Response:
    """``GET /{projectKey}/custom-objects/{container}`` (``where``, ``limit``, ``offset``)."""
    container = request.match_info["container"]
    objects = [o for o in emulator_of(request).store.all(CUSTOM_OBJECTS) if o["container"] == container]
    return web.json_response(paged_query(objects, request.query.getall("where", []), request.query))


async def delete_custom_object(request: web.Request) -> web.Response:
    """``DELETE /{projectKey}/custom-objects/{container}/{key}[?version=N]``."""
    obj = _found(request)
    raw = request.query.get("version")
    if raw is not None:
        try:
            version = int(raw)
        except ValueError:
            raise invalid_input(f"Malformed parameter: version: '{raw}' is not a number.") from None
        if version != obj["version"]:
            raise concurrent_modification(obj["id"], version, obj["version"])
    emulator_of(request).store.delete(CUSTOM_OBJECTS, _doc_id(obj["container"], obj["key"]))
    return web.json_response(obj)


ROUTES = [
    Route("POST", "/{projectKey}/custom-objects", post_custom_object, _WRITE),
    Route("GET", "/{projectKey}/custom-objects/{container}", query_container, _READ),
    Route("GET", "/{projectKey}/custom-objects/{container}/{key}", get_custom_object, _READ),
    Route("DELETE", "/{projectKey}/custom-objects/{container}/{key}", delete_custom_object, _WRITE),
]
