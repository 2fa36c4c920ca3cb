"""Emulator-only endpoints under ``/_emulator/`` (no auth; commercetools has nothing like them).

========================================  ========================================================
``GET /_emulator/stats``                  ``{"METHOD /route/template": count}`` since last reset
``POST /_emulator/reset``                 drop all data, stats and faults (clients, tokens stay)
``POST /_emulator/reset-stats``           zero the counts only
``POST /_emulator/faults``                ``{"path": regex, "method"?, "status", "times"?: 1}``
``DELETE /_emulator/faults``              forget pending faults
``POST /_emulator/carts``                 create a cart from a CartDraft (as ``POST /{pk}/carts``)
``POST /_emulator/sessions``              ``{"cartId" | "cart": {"cartRef": {"id"}}, "metadata"?}``
``POST /_emulator/sessions/{id}/expire``  end a session now (it reads ``EXPIRED`` from then on)
``POST /_emulator/tokens``                ``{"client_id", "scopes"?: [..]}`` → a token response
========================================  ========================================================

They call the same methods tests call on :class:`emulator.Emulator`, so a CLI can set a demo up
over HTTP without the Basic-auth dance.
"""

from __future__ import annotations

import re

from aiohttp import web

from . import carts, oauth, sessions
from .errors import OAuthError, invalid_field
from .fields import opt_int, opt_list, opt_object, opt_str, read_json, req_int, req_str
from .routing import Route, emulator_of


async def get_stats(request: web.Request) -> web.Response:
    return web.json_response(dict(emulator_of(request).stats))


async def post_reset(request: web.Request) -> web.Response:
    emulator_of(request).reset()
    return web.json_response({"reset": True})


async def post_reset_stats(request: web.Request) -> web.Response:
    emulator_of(request).reset_stats()
    return web.json_response({"reset": True})


async def post_fault(request: web.Request) -> web.Response:
    body = await read_json(request)
    path = req_str(body, "path")
    try:
        re.compile(path)
    except re.error as exc:
        raise invalid_field("path", path, f"Invalid regular expression: {exc}") from None
    status = req_int(body, "status")
    if not 100 <= status <= 599:
        raise invalid_field("status", status)
    times = opt_int(body, "times")
    times = 1 if times is None else times
    if times < 1:
        raise invalid_field("times", times)
    method = opt_str(body, "method")
    emulator_of(request).inject_fault(path, status, times, method)
    return web.json_response({"path": path, "status": status, "times": times, "method": method}, status=201)


async def delete_faults(request: web.Request) -> web.Response:
    emulator_of(request).clear_faults()
    return web.json_response({"faults": []})


async def post_cart(request: web.Request) -> web.Response:
    cart = carts.create_cart(emulator_of(request), await read_json(request))
    return web.json_response(cart, status=201)


async def post_session(request: web.Request) -> web.Response:
    emu = emulator_of(request)
    body = await read_json(request)
    cart_id = opt_str(body, "cartId")
    if cart_id is None:
        session = sessions.session_from_draft(emu, body)
    else:
        session = sessions.create_session(emu, cart_id, opt_object(body, "metadata"))
    return web.json_response(session, status=201)


async def post_session_expire(request: web.Request) -> web.Response:
    emu = emulator_of(request)
    session_id = request.match_info["id"]
    sessions.expire_session(emu, session_id)
    return web.json_response(sessions.read_session(emu, session_id))


async def post_token(request: web.Request) -> web.Response:
    emu = emulator_of(request)
    body = await read_json(request)
    client_id = req_str(body, "client_id")
    client = emu.config.client(client_id)
    if client is None:
        raise OAuthError(400, "invalid_client", f"Unknown client '{client_id}'.")
    scopes = opt_list(body, "scopes")
    if scopes is not None and not all(isinstance(s, str) for s in scopes):
        raise invalid_field("scopes", scopes)
    return web.json_response(oauth.issue(emu, client, scopes))


ROUTES = [
    Route("GET", "/_emulator/stats", get_stats),
    Route("POST", "/_emulator/reset", post_reset),
    Route("POST", "/_emulator/reset-stats", post_reset_stats),
    Route("POST", "/_emulator/faults", post_fault),
    Route("DELETE", "/_emulator/faults", delete_faults),
    Route("POST", "/_emulator/carts", post_cart),
    Route("POST", "/_emulator/sessions", post_session),
    Route("POST", "/_emulator/sessions/{id}/expire", post_session_expire),
    Route("POST", "/_emulator/tokens", post_token),
]
