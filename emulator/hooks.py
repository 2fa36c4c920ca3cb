"""Emulator-only endpoints under ``/_emulator/`` (no auth; commercetools has nothing like them).

========================================  ========================================================
``GET /_emulator/stats``                  ``{"METHOD /route/template": count}`` since last reset
``POST /_emulator/reset``                 drop all data, stats and faults (clients, tokens stay)
``POST /_emulator/reset-stats``           zero the counts only
``POST /_emulator/faults``                a fault rule (``emulator.faults``), see below
``GET /_emulator/faults``                 ``{"rules": [..], "injected": [..], "counts": {..}}``
``DELETE /_emulator/faults``              forget the rules (the log of injected faults stays)
``POST /_emulator/carts``                 create a cart from a CartDraft (as ``POST /{pk}/carts``)
``POST /_emulator/sessions``              ``{"cartId" | "cart": {"cartRef": {"id"}}, "metadata"?}``
``POST /_emulator/sessions/{id}/expire``  end a session now (it reads ``EXPIRED`` from then on)
``POST /_emulator/tokens``                ``{"client_id", "scopes"?: [..]}`` → a token response
========================================  ========================================================

They call the same methods tests call on :class:`emulator.Emulator`, so a CLI can set a demo up
over HTTP without the Basic-auth dance.

A fault rule is ``{"path": regex, "method"?, ...}`` and either

- ``"status": 503, "times"?: 1``: the next ``times`` matching requests answer ``status``, changing nothing;
- or odds: ``"rate"?: 0, "statuses"?: [500], "timeoutRate"?: 0, "delay"?: seconds, "after"?: false,
  "seed"?: int, "times"?: unlimited``: each matching request fails with probability ``rate`` (a status of
  ``statuses``, in turn) or is held ``delay`` seconds with probability ``timeoutRate``; with ``after`` the
  request is handled first, so the write lands and its answer is lost. The log of injected faults names
  each request's ``X-Correlation-ID``.
"""

from __future__ import annotations

import re

from aiohttp import web

from . import carts, oauth, sessions
from .errors import OAuthError, invalid_field
from .faults import Rule
from .fields import (
    JsonObject,
    opt_bool,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    read_json,
    req_str,
)
from .routing import Route, emulator_of


async def get_stats(request: web.Request) -> web.Response:
    return web.json_response(dict(emulator_of(request).stats))


async def post_reset(request: web.Request) -> web.Response:
    emulator_of(request).reset()
    return web.json_response({"reset": True})


async def post_reset_stats(request: web.Request) -> web.Response:
    emulator_of(request).reset_stats()
    return web.json_response({"reset": True})


def _rule(body: JsonObject) -> Rule:
    path = req_str(body, "path")
    try:
        re.compile(path)
    except re.error as exc:
        raise invalid_field("path", path, f"Invalid regular expression: {exc}") from None
    status, statuses = opt_int(body, "status"), opt_list(body, "statuses")
    odds = "rate" in body or "timeoutRate" in body
    if status is None and not odds:
        raise invalid_field("status", None, "Give a 'status', or the odds 'rate' and/or 'timeoutRate'.")
    if statuses is not None and not all(isinstance(s, int) and not isinstance(s, bool) for s in statuses):
        raise invalid_field("statuses", statuses)
    times = opt_int(body, "times")
    rate = (opt_number(body, "rate") or 0.0) if odds else 1.0
    try:
        return Rule(path, opt_str(body, "method"),
                    statuses if statuses is not None else [status if status is not None else 500], rate,
                    timeout_rate=opt_number(body, "timeoutRate") or 0.0, delay=opt_number(body, "delay") or 0.0,
                    after=bool(opt_bool(body, "after")), times=times if times is not None or odds else 1,
                    seed=opt_int(body, "seed"))
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        raise invalid_field(name, body.get(name), message) from None


async def post_fault(request: web.Request) -> web.Response:
    rule = emulator_of(request).faults.add(_rule(await read_json(request)))
    return web.json_response(rule.to_json(), status=201)


async def get_faults(request: web.Request) -> web.Response:
    faults = emulator_of(request).faults
    return web.json_response({"rules": [r.to_json() for r in faults.rules],
                              "injected": [i.to_json() for i in faults.injected], "counts": dict(faults.counts())})


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
    Route("GET", "/_emulator/faults", get_faults),
    Route("DELETE", "/_emulator/faults", delete_faults),
    Route("POST", "/_emulator/carts", post_cart),
    Route("POST", "/_emulator/sessions", post_session),
    Route("POST", "/_emulator/sessions/{id}/expire", post_session_expire),
    Route("POST", "/_emulator/tokens", post_token),
]
