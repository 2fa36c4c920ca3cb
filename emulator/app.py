"""The one assembly point: :func:`create_emulator_app` and the middleware chain.

Middlewares, outermost first:

1. stats  — counts every request under ``"METHOD /route/template"`` (``/_emulator`` excluded);
2. errors — turns :class:`~emulator.errors.CtError`, aiohttp's 404/405 and any unexpected
   exception into commercetools-shaped JSON errors;
3. faults — an injected fault (``emulator.faults``): an error before anything else runs (so nothing
   changes), or after the handler (the write landed, the answer is lost); or an answer held past the
   client's timeout;
4. auth   — requires a bearer token with one of the route's scopes (see ``emulator.oauth``).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from . import (
    carts,
    custom_objects,
    customers,
    hooks,
    mc_jwt,
    oauth,
    payment_methods,
    payments,
    sessions,
    shipping,
    types,
)
from .config import EmulatorConfig
from .core import Emulator
from .errors import CtError, for_status
from .faults import Strike
from .routing import EMULATOR_KEY, SCOPES_KEY, Handler, Route, route_key

logger = logging.getLogger(__name__)

ROUTES: list[Route] = [
    *oauth.ROUTES,
    *mc_jwt.ROUTES,
    *hooks.ROUTES,
    *sessions.ROUTES,
    *carts.ROUTES,
    *payments.ROUTES,
    *payment_methods.ROUTES,
    *custom_objects.ROUTES,
    *shipping.ROUTES,
    *customers.ROUTES,
    *types.ROUTES,
]
_HOOKS_PREFIX = "/_emulator/"
_late_writes: set[asyncio.Task[web.StreamResponse]] = set()   # held requests, whether or not the client waits


def _template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return None if resource is None else resource.canonical


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    template = _template(request)
    if template is not None and not template.startswith(_HOOKS_PREFIX):
        request.app[EMULATOR_KEY].stats[route_key(request.method, template)] += 1
    return await handler(request)


def _http_error(request: web.Request, exc: web.HTTPException) -> CtError:
    if exc.status == 404:
        message = f"No endpoint matches '{request.method} {request.path}'."
        return CtError(404, "ResourceNotFound", message)
    if exc.status == 405:
        message = f"The method {request.method} is not allowed on '{request.path}'."
        return CtError(405, "MethodNotAllowed", message)
    if exc.status == 413:
        return CtError(413, "InvalidInput", "The request body is too large.")
    return for_status(exc.status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except CtError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = _http_error(request, exc)
        return web.json_response(error.body(), status=error.status)
    except Exception:
        logger.exception("emulator: unexpected error on %s %s", request.method, request.path)
        error = CtError(500, "General", "Internal Server Error.")
        return web.json_response(error.body(), status=500)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(_HOOKS_PREFIX):
        return await handler(request)
    strike = request.app[EMULATOR_KEY].faults.strike(request.method, request.path,
                                                     request.headers.get("X-Correlation-ID"))
    if strike is None:
        return await handler(request)
    if not strike.after:
        if strike.delay:
            return await _held(strike, request, handler)
        assert strike.status is not None
        raise for_status(strike.status)
    return await _answer_lost(strike, request, handler)


async def _held(strike: Strike, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Handle the request only after ``strike.delay``. The client has given up by then, but, like
    commercetools, the emulator finishes what it received: the write lands late."""
    await request.read()

    async def late() -> web.StreamResponse:
        await asyncio.sleep(strike.delay)
        try:
            return await handler(request)
        except CtError as exc:
            return web.json_response(exc.body(), status=exc.status)

    task = asyncio.create_task(late())
    _late_writes.add(task)
    task.add_done_callback(_late_writes.discard)
    return await asyncio.shield(task)


async def _answer_lost(strike: Strike, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Handle the request (the write lands), then lose its answer: an error, or an answer held too long."""
    try:
        response: web.StreamResponse | CtError = await handler(request)
    except CtError as exc:      # it failed on its own; that answer is lost all the same
        response = exc
    await asyncio.sleep(strike.delay)
    if strike.status is not None:
        raise for_status(strike.status)
    if isinstance(response, CtError):
        raise response
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    template = _template(request)
    if template is not None:
        scopes = request.app[SCOPES_KEY].get(route_key(request.method, template))
        if scopes:
            oauth.authorize(request.app[EMULATOR_KEY], request, scopes)
    return await handler(request)


def create_emulator_app(config: EmulatorConfig | None = None) -> web.Application:
    """Build the emulator's aiohttp application; its :class:`Emulator` is ``app[EMULATOR_KEY]``."""
    emulator = Emulator(config)
    app = web.Application(middlewares=[stats_middleware, error_middleware, fault_middleware, auth_middleware])
    app[EMULATOR_KEY] = emulator
    scopes: dict[str, tuple[str, ...]] = {}
    for route in ROUTES:
        # No implicit HEAD: every method that reaches a handler is checked by auth_middleware.
        resource = app.router.add_resource(route.path)
        resource.add_route(route.method, route.handler)
        if route.scopes is not None:
            scopes[route_key(route.method, resource.canonical)] = route.scopes
    app[SCOPES_KEY] = scopes

    async def close(_: web.Application) -> None:
        emulator.close()

    app.on_cleanup.append(close)
    return app
