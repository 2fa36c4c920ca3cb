"""Typed access to JSON request documents, failing the way commercetools does.

A missing required value or a value of the wrong JSON type is a 400 ``InvalidJsonInput`` whose
``detailedErrorMessage`` names the path (``actions -> transaction -> amount: Missing required
value``); no helper lets a malformed draft reach the handlers as anything but a 400.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from .errors import invalid_json, missing

JsonObject = dict[str, Any]


def path_of(*parts: str) -> str:
    """Join path parts the way commercetools prints them."""
    return " -> ".join(p for p in parts if p)


async def read_json(request: web.Request) -> JsonObject:
    """The request body as a JSON object, or 400 ``InvalidJsonInput``."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise invalid_json(str(exc)) from None
    if not isinstance(body, dict):
        raise invalid_json("The request body must be a JSON object.")
    return body


def as_object(value: Any, path: str) -> JsonObject:
    if not isinstance(value, dict):
        raise invalid_json(f"{path}: JSON object expected")
    return value


def opt_object(doc: JsonObject, key: str, parent: str = "") -> JsonObject | None:
    value = doc.get(key)
    return None if value is None else as_object(value, path_of(parent, key))


def req_object(doc: JsonObject, key: str, parent: str = "") -> JsonObject:
    value = opt_object(doc, key, parent)
    if value is None:
        raise missing(path_of(parent, key))
    return value


def opt_str(doc: JsonObject, key: str, parent: str = "") -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid_json(f"{path_of(parent, key)}: JSON string expected")
    return value


def req_str(doc: JsonObject, key: str, parent: str = "") -> str:
    value = opt_str(doc, key, parent)
    if value is None:
        raise missing(path_of(parent, key))
    return value


def opt_int(doc: JsonObject, key: str, parent: str = "") -> int | None:
    value = doc.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise invalid_json(f"{path_of(parent, key)}: JSON number (integer) expected")
    return value


def req_int(doc: JsonObject, key: str, parent: str = "") -> int:
    value = opt_int(doc, key, parent)
    if value is None:
        raise missing(path_of(parent, key))
    return value


def opt_number(doc: JsonObject, key: str, parent: str = "") -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_json(f"{path_of(parent, key)}: JSON number expected")
    return float(value)


def opt_bool(doc: JsonObject, key: str, parent: str = "") -> bool | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, bool):
        raise invalid_json(f"{path_of(parent, key)}: JSON boolean expected")
    return value


def opt_list(doc: JsonObject, key: str, parent: str = "") -> list[Any] | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, list):
        raise invalid_json(f"{path_of(parent, key)}: JSON array expected")
    return value


def req_list(doc: JsonObject, key: str, parent: str = "") -> list[Any]:
    value = opt_list(doc, key, parent)
    if value is None:
        raise missing(path_of(parent, key))
    return value


def req_enum(doc: JsonObject, key: str, allowed: Iterable[str], parent: str = "") -> str:
    value = req_str(doc, key, parent)
    choices = list(allowed)
    if value not in choices:
        raise invalid_json(f"{path_of(parent, key)}: Unknown value '{value}'. Allowed: {', '.join(choices)}")
    return value


def opt_reference(doc: JsonObject, key: str, type_id: str, parent: str = "") -> JsonObject | None:
    """A ``{"typeId", "id"}`` (or ``key``) reference to a resource of ``type_id``."""
    ref = opt_object(doc, key, parent)
    if ref is None:
        return None
    where = path_of(parent, key)
    given_type = opt_str(ref, "typeId", where)
    if given_type is not None and given_type != type_id:
        raise invalid_json(f"{where} -> typeId: '{type_id}' expected")
    ref_id, ref_key = opt_str(ref, "id", where), opt_str(ref, "key", where)
    if ref_id is None and ref_key is None:
        raise missing(path_of(where, "id"))
    out: JsonObject = {"typeId": type_id}
    if ref_id is not None:
        out["id"] = ref_id
    if ref_key is not None:
        out["key"] = ref_key
    return out


def custom_fields(value: Any, path: str) -> JsonObject | None:
    """A CustomFieldsDraft (``{"type": ResourceIdentifier, "fields"?}``) as stored."""
    if value is None:
        return None
    draft = as_object(value, path)
    type_ref = opt_reference(draft, "type", "type", path)
    if type_ref is None:
        raise missing(path_of(path, "type"))
    fields = opt_object(draft, "fields", path) or {}
    return {"type": type_ref, "fields": dict(fields)}
