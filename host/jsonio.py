"""JSON in and out of the host, with orjson: parsing request and upstream bodies and serialising answers
take a fraction of the standard library's time (docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """``web.json_response`` with orjson (``application/json; charset=utf-8``, as before)."""
    return web.Response(body=orjson.dumps(data), status=status, headers=headers, content_type="application/json",
                        charset="utf-8")
