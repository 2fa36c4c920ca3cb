"""The HTTP server around the application: the limits a slow or hostile client cannot get around.

aiohttp runs the application only for a request it could parse; what happens before that is here.

- A request line or header over ``server.maxHeaderSize`` bytes, or more than 128 headers, is answered
  431; any other request that is not valid HTTP 400. Both in the contract's envelope with the CORS
  headers, and logged in one line. (aiohttp answers plain text and logs a traceback that quotes the first
  100 bytes of the offending header: a bearer token, perhaps.)
- ``server.headerTimeout``: a request head must be complete within this many seconds of its first byte
  (for the first request of a connection, of the connection itself); else 408 and the connection closes.
- ``server.bodyTimeout``: a request body must be complete within this many seconds of its head; else the
  handler's read fails with 408 (an ``ApiError``, so the error middleware renders it) and the connection
  closes without waiting for the rest.
- ``server.keepAliveTimeout``: an idle keep-alive connection is closed.
- ``server.maxConnections``: open connections of this process; one more is answered 503 and closed.

``HostRunner`` stands in for ``web.AppRunner`` (``connector-host serve``, through ``host.workers``, and
``host.testing`` both use it). aiohttp has no public hook for its protocol class, so ``HostServer``
builds ``HostRequestHandler``s itself; the tests check every limit over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from host.config import ServerConfig
from host.errors import ApiError
from host.keys import DEPLOYMENT
from host.middleware import EXPOSE_HEADERS, SERVER

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    header_timeout: float
    body_timeout: float
    keep_alive_timeout: float
    max_connections: int
    max_header_size: int

    @classmethod
    def of(cls, server: ServerConfig) -> Limits:
        return cls(server.headerTimeout, server.bodyTimeout, server.keepAliveTimeout, server.maxConnections,
                   server.maxHeaderSize)


def envelope(status: int, code: str, message: str) -> dict[str, Any]:
    return {"message": message, "statusCode": status, "errors": [{"code": code, "message": message}]}


def raw_response(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 response with the envelope, for a connection that has no request to answer."""
    body = json.dumps(envelope(status, code, message)).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body)),
               "Connection": "close", "Server": SERVER, **EXPOSE_HEADERS}
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n" + \
        "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("ascii") + body


class HostRequestHandler(RequestHandler):
    """aiohttp's protocol with a request-head deadline, a connection cap and enveloped parser errors."""

    def __init__(self, manager: web.Server, *, limits: Limits, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = limits
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._manager is not None and len(self._manager.connections) > self._limits.max_connections:
            logger.warning("refused a connection: %d open, server.maxConnections is %d",
                           len(self._manager.connections) - 1, self._limits.max_connections)
            self._refuse(503, "ServiceUnavailable", "The server has too many open connections; try again.")
            return
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:   # a request head is complete (or refused by the parser)
            self._stop_head_timer()
            self._stop_body_timer()
            # only the last head can have a body still on its way: the parser reads a body before the next head
            payload = self._messages[-1][1] if self._messages else None
            if payload is not None and not payload.is_eof():
                self._body_timer = self._loop.call_later(self._limits.body_timeout, self._body_timeout, payload)
        elif self._head_timer is None and not self._request_in_progress and not self._messages:
            self._start_head_timer()       # the first bytes of the next request head

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_timer()
        self._stop_body_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._head_timer = self._loop.call_later(self._limits.header_timeout, self._head_timeout)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._request_in_progress or self._messages or self.transport is None:
            return   # the bytes were a body, or the head completed meanwhile
        logger.info("closed a connection whose request head did not arrive within %g s",
                    self._limits.header_timeout)
        self._refuse(408, "RequestTimeout",
                     f"The request head did not arrive within {self._limits.header_timeout:g} s.")

    def _body_timeout(self, payload: StreamReader) -> None:
        self._body_timer = None
        if payload.is_eof() or payload.exception() is not None:
            return
        logger.info("a request body did not arrive within %g s", self._limits.body_timeout)
        payload.set_exception(ApiError(f"The request body did not arrive within {self._limits.body_timeout:g} s.",
                                       code="RequestTimeout", status=408))
        self._lingering_time = 0.0   # close after the answer instead of waiting for the rest

    def _refuse(self, status: int, code: str, message: str) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(raw_response(status, code, message))   # close() below sends it first
        self.force_close()

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse or handle, as the contract's envelope."""
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        if isinstance(exc, LineTooLong) or (isinstance(exc, BadHttpMessage) and "Too many headers" in str(exc)):
            status, code = 431, "RequestHeaderFieldsTooLarge"
            text = f"The request line or a header is longer than {self._limits.max_header_size} bytes, " \
                   "or there are more than 128 headers."
        elif status < 500:
            code, text = "InvalidInput", "The request is not valid HTTP."
        else:
            code, text = "General", "Internal server error."
        if status >= 500:
            logger.error("error handling a request from %s", request.remote, exc_info=exc)
        else:   # never the message: it quotes the offending bytes
            logger.info("refused a request from %s: %d %s", request.remote, status, type(exc).__name__)
        response = web.json_response(envelope(status, code, text), status=status,
                                     headers={**EXPOSE_HEADERS, "Server": SERVER})
        response.force_close()
        return response


class HostServer(web.Server):
    """``web.Server`` whose connections are ``HostRequestHandler``s."""

    def __init__(self, base: web.Server, limits: Limits) -> None:
        super().__init__(base.request_handler, request_factory=base.request_factory,
                         handler_cancellation=base.handler_cancellation, loop=base._loop, **base._kwargs)
        self.limits = limits

    def __call__(self) -> RequestHandler:
        return HostRequestHandler(self, loop=self._loop, limits=self.limits, **self._kwargs)


class HostRunner(web.AppRunner):
    """``web.AppRunner`` for a host app: its ``server:`` limits apply to every connection."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        self.limits = Limits.of(app[DEPLOYMENT].config.server)
        kwargs.setdefault("keepalive_timeout", self.limits.keep_alive_timeout)
        kwargs.setdefault("max_line_size", self.limits.max_header_size)
        kwargs.setdefault("max_field_size", self.limits.max_header_size)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        return HostServer(await super()._make_server(), self.limits)
