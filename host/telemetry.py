"""OpenTelemetry traces: optional (``pip install connector-host[otel]``) and off unless configured.

When on, every request is a SERVER span that continues the caller's W3C trace context (``traceparent``),
with a CLIENT child span per commercetools call (which carries the trace on to commercetools) and an
INTERNAL child span per PSP call. Spans carry ``connector.instance_id`` and ``connector.operation``.

``setup(config.tracing)`` is called once per serving process by ``connector-host serve``; the exporter's
endpoint and headers come from the standard ``OTEL_EXPORTER_OTLP_*`` variables. Tests call
``configure(provider)`` with an SDK provider of their own. Off, each hook costs one ``None`` check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from host.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from host.config import TracingConfig

INSTANCE = "connector.instance_id"
OPERATION = "connector.operation"


@dataclass
class _Tracing:
    tracer: Tracer
    propagator: TraceContextTextMapPropagator
    provider: TracerProvider


_state: _Tracing | None = None


def enabled() -> bool:
    return _state is not None


def configure(provider: TracerProvider | None) -> None:
    """Trace with ``provider`` from now on; ``None`` turns tracing off."""
    global _state
    if provider is None:
        _state = None
        return
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from host._version import __version__

    _state = _Tracing(provider.get_tracer("connector-host", __version__), TraceContextTextMapPropagator(),
                      provider)


def setup(config: TracingConfig) -> None:
    """Turn tracing on as connector.yaml's ``tracing`` says (nothing for ``exporter: none``)."""
    if config.exporter == "none":
        return
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError:
        raise ConfigError(f"exporter {config.exporter!r} needs OpenTelemetry, which is not installed",
                          path="tracing.exporter", fix="pip install 'connector-host[otel]'") from None
    exporter: SpanExporter
    if config.exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError("exporter 'otlp' needs the OTLP exporter, which is not installed",
                              path="tracing.exporter", fix="pip install 'connector-host[otel]'") from None
        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": config.serviceName}),
                              sampler=ParentBased(TraceIdRatioBased(config.sampleRatio)))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)   # plugins' own instrumented SDKs join the same traces
    configure(provider)


def shutdown() -> None:
    """Export what is still buffered and stop (end of ``serve``)."""
    if _state is not None:
        _state.provider.shutdown()
        configure(None)


@contextmanager
def server_span(method: str, route: str, headers: Mapping[str, str]) -> Iterator[Span | None]:
    """The span of one incoming request, a child of the caller's ``traceparent`` if it sent one."""
    if _state is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    parent = _state.propagator.extract(headers)
    with _state.tracer.start_as_current_span(
            f"{method} {route}", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route}) as span:
        yield span


def finish_server_span(span: Span, status: int, instance_id: str, operation: str) -> None:
    from opentelemetry.trace import StatusCode

    span.set_attribute("http.response.status_code", status)
    if instance_id:
        span.set_attribute(INSTANCE, instance_id)
    if operation:
        span.set_attribute(OPERATION, operation)
    if status >= 500:
        span.set_status(StatusCode.ERROR)


@contextmanager
def psp_span(instance_id: str, operation: str) -> Iterator[None]:
    """The span of one call to a provider (a child of the request's span)."""
    if _state is None:
        yield
        return
    with _state.tracer.start_as_current_span(f"psp {operation}",
                                             attributes={INSTANCE: instance_id, OPERATION: operation}):
        yield


def start_client_span(method: str, route: str, headers: MutableMapping[str, Any]) -> Span | None:
    """Open the span of one commercetools call and put its ``traceparent`` into the outgoing ``headers``."""
    if _state is None:
        return None
    from opentelemetry.trace import SpanKind, set_span_in_context

    span = _state.tracer.start_span(f"commercetools {method} {route}", kind=SpanKind.CLIENT,
                                    attributes={"http.request.method": method, "url.template": route,
                                                "peer.service": "commercetools"})
    _state.propagator.inject(headers, context=set_span_in_context(span))
    return span


def end_client_span(span: Span, status: int | None, error: BaseException | None = None) -> None:
    from opentelemetry.trace import StatusCode

    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if error is not None:
        span.record_exception(error)
    if error is not None or (status is not None and status >= 500):
        span.set_status(StatusCode.ERROR)
    span.end()
