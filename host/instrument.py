"""Where metrics and traces are taken: the request middleware, the shared client session, the providers.

- ``observe`` (outermost middleware): one request → ``requests_total``/``request_duration_seconds`` by route
  template, instance and status, and a SERVER span when tracing is on. It opens the request's
  ``host.scope`` that routing and the PSP wrapper fill in.
- ``CommercetoolsObserver``: given to the commercetools client, which tells it about every call: counted
  by route template and status, and traced with ``traceparent`` sent along. (No aiohttp ``TraceConfig``:
  its signals cost more per call than the counting itself.) Calls of a PSP's SDK are left to the
  provider wrapper.
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
from typing import Any

from aiohttp import web

from host import metrics, telemetry
from host.errors import ApiError, WebhookSignatureError
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

class CommercetoolsObserver:
    """The client's ``CallObserver``: each call counted by route template and status (409s included), and
    traced with ``traceparent`` sent along when tracing is on."""

    def started(self, method: str, route: str, headers: dict[str, str]) -> object:
        span = telemetry.start_client_span(method, route, headers) if telemetry.enabled() else None
        return (perf_counter(), method, route, span)

    def ended(self, token: object, status: int | None, error: BaseException | None) -> None:
        assert isinstance(token, tuple)
        started: float = token[0]
        method: str = token[1]
        route: str = token[2]
        span: Any = token[3]
        metrics.commercetools_call(route, method, "error" if status is None else str(status),
                                   None if status is None else perf_counter() - started)
        if span is not None:
            telemetry.end_client_span(span, status, error)


# -- calls to providers -----------------------------------------------------------------------------

_in_psp_call: ContextVar[bool] = ContextVar("connector_host_in_psp_call", default=False)
#: Set while a shared webhook path asks each instance in turn whether a delivery is its own: a refusal
#: then means "not mine", not a failed verification (the path counts one when no instance verifies).
probing_webhook: ContextVar[bool] = ContextVar("connector_host_probing_webhook", default=False)


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
            if probing_webhook.get():
                outcome = "not_this_instance"
            else:
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
