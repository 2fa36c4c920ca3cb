"""Middlewares: correlation id, CORS (CONTRACT.md §1), the error envelope (§4), JSON access log.

Every error that reaches a client is rendered here and nowhere else: ``ApiError`` subclasses as the
contract's envelope, aiohttp's own 404/405/413/415 likewise, anything unexpected as 500 ``General``.
(Requests aiohttp refuses before the application runs are rendered by ``host.server``, in the same shape.)

An incoming ``X-Correlation-ID`` is kept only when ``sane_correlation_id`` accepts it; otherwise the request
gets a fresh one. Responses name no server version (``Server: connector-host``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from host.errors import ApiError
from host.ids import uuid_shaped
from host.jsonio import json_response
from host.logs import correlation_id, sane_correlation_id

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("host.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, DELETE",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Correlation-ID, X-Request-ID, X-Session-ID",
}
#: on every response but a preflight: the browser may read the correlation id the host returns
EXPOSE_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Correlation-ID"}
SERVER = "connector-host"
_HTTP_CODES = {404: "ResourceNotFound", 405: "MethodNotAllowed", 413: "RequestTooLarge",
               415: "UnsupportedMediaType", 400: "InvalidInput"}


async def server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response of the app, raised redirects included, names no version."""
    response.headers["Server"] = SERVER


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), status=error.status)


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cid = sane_correlation_id(request.headers.get("X-Correlation-ID")) or uuid_shaped()
    token = correlation_id.set(cid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Correlation-ID"] = correlation_id.get() or cid
        return response
    finally:
        access_logger.info("%s %s %s", request.method, request.path, status,
                           extra={"method": request.method, "path": request.path, "status": status,
                                  "durationMs": round((time.perf_counter() - started) * 1000, 2)})
        correlation_id.reset(token)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers=CORS_HEADERS)
    response = await handler(request)
    response.headers.update(EXPOSE_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        if exc.status >= 500:
            logger.error("%s %s failed: %s (%s)", request.method, request.path, exc.message, exc.code)
        response = error_response(exc)
        if exc.status == 408:
            response.force_close()   # the rest of a slow body is not waited for (host.server)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 404:
            message = f"Route {request.method}:{request.path} not found"
        elif exc.status == 405:
            message = f"Method {request.method} is not allowed on {request.path}"
        elif exc.status == 413:
            message = "Request body is too large."
        else:
            message = exc.reason
        code = _HTTP_CODES.get(exc.status, "General")
        return json_response({"message": message, "statusCode": exc.status,
                                  "errors": [{"code": code, "message": message}]}, status=exc.status,
                                 headers={k: v for k, v in exc.headers.items() if k == "Allow"})
    except Exception as exc:
        if isinstance(exc, ConnectionResetError) and _client_gone(request):
            # the client hung up mid-request (the end of a load run, a closed tab): nothing is broken and
            # nobody is left to answer; the access log records 499
            logger.debug("%s %s: the client closed the connection", request.method, request.path)
            return web.Response(status=499)
        logger.exception("unexpected error in %s %s", request.method, request.path)
        body = {"message": "Internal server error.", "statusCode": 500,
                "errors": [{"code": "General", "message": "Internal server error."}]}
        return json_response(body, status=500)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


MIDDLEWARES = (correlation_middleware, cors_middleware, error_middleware)
