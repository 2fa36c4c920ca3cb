"""Where metrics and traces are taken: the request middleware, the shared client session, the providers.

- ``observe`` (outermost middleware): one request → ``requests_total``/``request_duration_seconds`` by route
  template, instance and status, and a SERVER span when tracing is on. It opens the request's
  ``host.scope`` that routing and the PSP wrapper fill in.
- ``outbound_trace_config(app)``: an aiohttp ``TraceConfig`` on the shared session. A call to commercetools
  (recognised by its origin) is counted by route template and status, and traced with ``traceparent``
  sent along. Other calls on the session (a PSP's SDK) are left to the provider wrapper.
- ``instrument_provider``: wraps a provider object's operations (authorize, capture, ..., webhook
  parsing) so every call, from whichever flow, is counted by instance, operation and outcome. A call
  made from inside another (the default ``reverse`` calling ``refund``) counts once, as the outer one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from time import perf_counter
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from host import metrics, telemetry
from host.errors import ApiError, WebhookSignatureError
from host.keys import CT, DEPLOYMENT
from host.models import (
    BalanceResult,
    GiftCardState,
    ModificationResult,
    PaymentResult,
    RedeemResult,
    StatusCheck,
    TxState,
    WebhookResult,
)
from host.providers import Provider
from host.scope import RequestScope, current, note_operation

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: path segments of commercetools URLs kept as they are; every other segment is an id or a key
_CT_LITERALS = frozenset({"oauth", "token", "introspect", ".well-known", "jwks.json", "carts", "payments",
                          "sessions", "payment-methods", "orders", "customers", "in-store", "me", "graphql",
                          "custom-objects"})
PSP_OPERATIONS = ("create_payment", "capture", "cancel", "refund", "reverse", "detach", "balance", "redeem",
                  "status", "parse_webhook")


# -- incoming requests ------------------------------------------------------------------------------

_NO_SPAN: AbstractContextManager[None] = nullcontext()


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    method = request.method if request.method in _METHODS else "other"
    scope = RequestScope()
    token = current.set(scope)
    started = perf_counter()
    status = 500
    metrics.IN_PROGRESS.inc()
    traced = telemetry.server_span(method, route, request.headers) if telemetry.enabled() else _NO_SPAN
    try:
        with traced as span:
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            except asyncio.CancelledError:
                status = 499          # the request was abandoned before an answer (nginx's code for it)
                raise
            finally:
                if span is not None:
                    telemetry.finish_server_span(span, status, scope.instance_id, scope.operation)
    finally:
        metrics.IN_PROGRESS.dec()
        metrics.request(route, method, scope.instance_id, status, perf_counter() - started)
        current.reset(token)


# -- calls to commercetools -------------------------------------------------------------------------

def ct_route(path: str, project_key: str) -> str:
    """``/demo/payments/8f1c...`` → ``/{projectKey}/payments/{id}``; ``.../payments/key=ch-1`` → ``key={key}``."""
    out: list[str] = []
    for i, part in enumerate(p for p in path.split("/") if p):
        if i == 0 and part == project_key:
            out.append("{projectKey}")
        elif part in _CT_LITERALS:
            out.append(part)
        elif out[-1:] == ["custom-objects"]:
            out.append("{container}")
        elif out[-1:] == ["{container}"]:
            out.append("{key}")
        else:
            out.append("key={key}" if part.startswith("key=") else "{id}")
    return "/" + "/".join(out)


class _Commercetools:
    """Recognises commercetools URLs by origin, learnt from the client once it exists."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.origins: frozenset[tuple[str | None, int | None]] | None = None
        self.project_key = ""

    def route(self, url: URL) -> str | None:
        if self.origins is None:
            if CT not in self.app:
                return None
            settings = self.app[CT].settings
            urls = [settings.auth_url, settings.api_url, settings.session_url,
                    self.app[DEPLOYMENT].config.commercetools.jwksUrl]
            self.origins = frozenset((u.host, u.port) for u in map(URL, urls))
            self.project_key = settings.project_key
        if (url.host, url.port) not in self.origins:
            return None
        return ct_route(url.path, self.project_key)


def outbound_trace_config(app: web.Application) -> aiohttp.TraceConfig:
    """The ``TraceConfig`` of the host's shared client session (see the module docstring)."""
    ct = _Commercetools(app)

    async def start(_: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
        ctx.route = route = ct.route(params.url)
        if route is not None:
            ctx.started = perf_counter()
            ctx.span = telemetry.start_client_span(params.method, route, params.headers)

    async def end(_: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        if ctx.route is not None:
            status = params.response.status
            metrics.commercetools_call(ctx.route, params.method, str(status), perf_counter() - ctx.started)
            if ctx.span is not None:
                telemetry.end_client_span(ctx.span, status)

    async def failed(_: aiohttp.ClientSession, ctx: SimpleNamespace,
                     params: aiohttp.TraceRequestExceptionParams) -> None:
        if ctx.route is not None:
            metrics.commercetools_call(ctx.route, params.method, "error", None)
            if ctx.span is not None:
                telemetry.end_client_span(ctx.span, None, params.exception)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(failed)
    config.freeze()
    return config


# -- calls to providers -----------------------------------------------------------------------------

_in_psp_call: ContextVar[bool] = ContextVar("connector_host_in_psp_call", default=False)


def instrument_provider(provider: Provider, instance_id: str) -> None:
    """Count and trace every call to ``provider``'s operations (instance attributes shadow the methods, so
    ``isinstance`` and the provider's own ``self.method()`` calls are unaffected)."""
    for operation in PSP_OPERATIONS:
        method = getattr(provider, operation, None)
        if method is not None and inspect.iscoroutinefunction(method):
            setattr(provider, operation, _observed(method, instance_id, operation))


def _observed(method: Callable[..., Awaitable[Any]], instance_id: str,
              operation: str) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        if _in_psp_call.get():
            return await method(*args, **kwargs)
        token = _in_psp_call.set(True)
        note_operation(operation)
        started = perf_counter()
        outcome = "error"
        try:
            with telemetry.psp_span(instance_id, operation):
                result = await method(*args, **kwargs)
            outcome = outcome_of(result)
            return result
        except WebhookSignatureError:
            outcome = "unverified"
            metrics.webhook_verification_failed(instance_id)
            raise
        except ApiError as exc:
            outcome = "refused" if exc.status < 500 else "error"
            raise
        finally:
            metrics.psp_call(instance_id, operation, outcome, perf_counter() - started)
            _in_psp_call.reset(token)

    return call


def outcome_of(result: object) -> str:
    """A provider's answer in a few words: approved, rejected, received, pending, up, down, verified..."""
    if isinstance(result, ModificationResult):
        return result.outcome.value
    if isinstance(result, PaymentResult):
        states = {t.state for t in result.transactions}
        if TxState.SUCCESS in states:
            return "approved"
        return "rejected" if TxState.FAILURE in states else "pending"
    if isinstance(result, RedeemResult):
        return "approved" if result.state == TxState.SUCCESS else "rejected"
    if isinstance(result, BalanceResult):
        return "valid" if result.state == GiftCardState.VALID else "invalid"
    if isinstance(result, StatusCheck):
        return result.status.lower()
    if isinstance(result, WebhookResult):
        return "verified"
    return "ok"
