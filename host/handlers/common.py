"""Reading requests: JSON bodies validated with pydantic, errors mapped as CONTRACT.md §4.3."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from host import jsonio
from host.errors import ApiError, InvalidJsonError
from host.flows import idempotency
from host.jsonio import json_response
from host.keys import CT, DEPLOYMENT

M = TypeVar("M", bound=BaseModel)
_ENUM_ERRORS = frozenset({"literal_error", "enum", "union_tag_invalid"})
#: discriminator values pydantic puts into error locations of tagged unions; not part of the field path
UNION_TAGS = frozenset({"capturePayment", "refundPayment", "cancelPayment", "reversePayment"})
#: arrays and objects nest at most this deep in a request body (the contract's bodies need 4)
MAX_JSON_DEPTH = 64
_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects deeper than ``limit`` (brackets in strings do
    not count). Checked before parsing: the parser would recurse once per level."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class Body(BaseModel):
    """Base of request bodies: unknown keys are ignored, as the templates' schemas do; types are strict
    (``"10"`` is not a number, ``"true"`` not a boolean), as the templates' JSON schemas are."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=True)


class ValidationFailed(ApiError):
    """One envelope error entry per schema problem; root message from the first."""

    status = 400

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = {k: v for k, v in errors[0].items() if k not in ("code", "message")}
        super().__init__(str(errors[0]["message"]), code=str(errors[0]["code"]), **first)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "statusCode": self.status, "errors": self.errors}


def _entry(err: Mapping[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    field = ".".join(p for p in loc if p not in UNION_TAGS)
    if err["type"] == "missing":
        return {"code": "RequiredField", "message": f"A value is required for field {field}.", "field": field}
    if err["type"] in _ENUM_ERRORS:
        ctx = err.get("ctx") or {}
        value = err.get("input")
        if err["type"] == "union_tag_invalid":
            value, field = ctx.get("tag"), f"{field}.action" if field else "action"
        allowed = ctx.get("expected_tags") or ctx.get("expected") or ""
        return {"code": "InvalidField", "message": f"The value {value} is not valid for field {field}.",
                "field": field, "invalidValue": value,
                "allowedValues": [a.strip(" '") for a in str(allowed).replace(" or ", ",").split(",") if a.strip()]}
    # the templates answer every other schema violation with InvalidJsonInput; the code stays, the message
    # says what is wrong with which field
    if err["type"] == "union_tag_not_found":   # the discriminator itself is missing: name it
        field = ".".join(p for p in (field, str((err.get("ctx") or {}).get("discriminator", "")).strip("'")) if p)
    return {"code": "InvalidJsonInput", "message": _problem(err, field or "(body)"), "field": field,
            "detail": err["msg"]}


_KINDS = {"string": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
          "list": "a list", "dict": "an object", "model": "an object", "decimal": "a number"}
_LIMITS = {  # pydantic error type -> (its ctx key, words, unit)
    "string_too_short": ("min_length", "at least", "characters"),
    "string_too_long": ("max_length", "at most", "characters"),
    "too_short": ("min_length", "at least", "items"),
    "too_long": ("max_length", "at most", "items"),
    "greater_than": ("gt", "greater than", ""),
    "greater_than_equal": ("ge", "at least", ""),
    "less_than": ("lt", "less than", ""),
    "less_than_equal": ("le", "at most", ""),
}


def _problem(err: Mapping[str, Any], field: str) -> str:
    """What is wrong with ``field``, in words, for a schema violation other than missing or not in an enum."""
    kind, ctx = str(err["type"]), err.get("ctx") or {}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return f"Field {field} must not be empty."
    if kind == "union_tag_not_found":
        return f"Field {field} is required."
    if kind in _LIMITS:
        key, words, unit = _LIMITS[kind]
        if not unit:
            return f"Field {field} must be {words} {ctx.get(key)}."
        has = f" (it has {ctx['actual_length']})" if "actual_length" in ctx else ""
        return f"Field {field} must have {words} {ctx.get(key)} {unit[:-1] if ctx.get(key) == 1 else unit}{has}."
    expected = _KINDS.get(kind.split("_")[0]) if kind.endswith(("_type", "_parsing")) else None
    if expected:
        return f"Field {field} must be {expected}."
    return f"Field {field} is not valid: {err['msg']}."


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([_entry(e) for e in exc.errors()]) from None


async def read_json(request: web.Request, *, empty: Any = None) -> Any:
    """The JSON body. Wrong content type → 415, malformed or nested too deep → 400 InvalidJsonInput, too large
    → 413."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError("Request body is too large.",
                       code="RequestTooLarge", status=413) from None
    if not raw.strip():
        if empty is not None:
            return empty
        raise InvalidJsonError("Request body is empty; a JSON object was expected.")
    ctype = request.content_type
    if ctype not in ("application/json", "application/octet-stream") and not ctype.endswith("+json"):
        raise ApiError(f"Content-Type {ctype} is not supported; send application/json.",
                       code="UnsupportedMediaType", status=415)
    if too_deep(raw):
        raise InvalidJsonError(f"Request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.")
    try:
        data = jsonio.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):   # orjson's JSONDecodeError is a ValueError
        raise InvalidJsonError() from None
    if not isinstance(data, dict):
        raise InvalidJsonError("Request body must be a JSON object.")
    return data


def idempotency_key(request: web.Request) -> str | None:
    """The client's ``Idempotency-Key`` header: 1 to 255 visible ASCII characters, else a 400."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ApiError("The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
                       code="InvalidField", status=400, field="Idempotency-Key")
    return key


async def idempotent(request: web.Request, *, scope: str, body: Any,
                     run: Callable[[], Awaitable[web.Response]]) -> web.Response:
    """Run a mutating request once per ``Idempotency-Key`` (``host.flows.idempotency``); without the header,
    just run it. ``scope`` names what the key is about (the endpoint and the cart, Payment or client)."""
    key = idempotency_key(request)
    if key is None:
        return await run()

    async def answer() -> idempotency.Answer:
        response = await run()
        assert isinstance(response.body, bytes)
        return idempotency.Answer(response.status, jsonio.loads(response.body))

    got = await idempotency.once(request.app[CT], scope=scope, key=key, run=answer,
                                 fingerprint_=idempotency.fingerprint(request.method, request.path, body),
                                 stale_after=request.app[DEPLOYMENT].config.reconciler.horizon)
    return json_response(got.body, status=got.status)


async def read_model(request: web.Request, model: type[M], *, empty: Any = None) -> M:
    return validate(model, await read_json(request, empty=empty))
