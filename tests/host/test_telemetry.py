"""OpenTelemetry traces (the ``otel`` extra), recorded with the SDK's in-memory exporter.

commercetools is reached through a small recording proxy in front of the emulator, so the test sees the
``traceparent`` header the host sends upstream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from host import telemetry
from host.config import TracingConfig
from host.errors import ConfigError
from host.testing import HostClient, RunningEmulator
from host.testing.harness import start_host

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra is part of the test extra")
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind  # noqa: E402

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock}\n"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.configure(provider)
    try:
        yield exporter
    finally:
        telemetry.configure(None)
        provider.shutdown()


@pytest.fixture
async def upstream_headers(ct_emulator: RunningEmulator) -> AsyncIterator[tuple[str, list[str | None]]]:
    """A proxy to the emulator that records each request's ``traceparent``; yields (url, recorded)."""
    seen: list[str | None] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(request.headers.get("traceparent"))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as http, http.request(
                request.method, ct_emulator.url + request.rel_url.path_qs, headers=headers,
                data=await request.read()) as resp:
            return web.Response(status=resp.status, body=await resp.read(), content_type=resp.content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


@pytest.fixture
async def host(ct_emulator: RunningEmulator, upstream_headers: tuple[str, list[str | None]],
               tmp_path: Path) -> AsyncIterator[HostClient]:
    proxied = dataclasses.replace(ct_emulator, url=upstream_headers[0])
    running = await start_host(proxied, INSTANCES, tmp_path)
    try:
        yield running
    finally:
        await running.close()


def _by_kind(finished: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in finished if s.kind == kind]


async def test_a_payment_is_one_trace_continuing_the_callers(host: HostClient, spans: InMemorySpanExporter,
                                                             upstream_headers: tuple[str, list[str | None]]) -> None:
    sid = host.session("mock")
    body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
    resp = await host.client.post("/payments", json=body, headers={"X-Session-Id": sid, "traceparent": PARENT})
    assert resp.status == 200

    finished = spans.get_finished_spans()
    (server,) = _by_kind(finished, SpanKind.SERVER)
    assert server.name == "POST /payments"
    assert format(server.context.trace_id, "032x") == TRACE_ID            # the caller's trace goes on
    assert server.attributes is not None
    assert server.attributes["connector.instance_id"] == "sandbox"
    assert server.attributes["connector.operation"] == "create_payment"
    assert server.attributes["http.response.status_code"] == 200

    calls = _by_kind(finished, SpanKind.CLIENT)
    assert {s.name for s in calls} >= {"commercetools GET /{projectKey}/carts/{id}",
                                       "commercetools POST /{projectKey}/payments"}
    (psp,) = [s for s in finished if s.name == "psp create_payment"]
    assert psp.attributes is not None
    assert (psp.attributes["connector.instance_id"], psp.attributes["connector.operation"]) == \
        ("sandbox", "create_payment")
    assert psp.parent is not None and psp.parent.span_id == server.context.span_id
    # the host's calls are children of the request; the sandbox PSP's own (its books) of the PSP call
    for child in calls:
        assert child.parent is not None and child.parent.span_id in (server.context.span_id, psp.context.span_id)
    assert any(c.parent is not None and c.parent.span_id == psp.context.span_id for c in calls)

    # every commercetools call carried the trace on, each with its own span as the parent
    sent = upstream_headers[1]
    assert sent and all(h is not None and h.split("-")[1] == TRACE_ID for h in sent)
    assert {h.split("-")[2] for h in sent if h} == {format(s.context.span_id, "016x") for s in calls}


async def test_without_tracing_nothing_is_sent_upstream(host: HostClient,
                                                        upstream_headers: tuple[str, list[str | None]]) -> None:
    assert (await host.pay(host.session("mock"))).status == 200
    assert upstream_headers[1] and set(upstream_headers[1]) == {None}


def test_an_exporter_is_configured_by_connector_yaml() -> None:
    telemetry.setup(TracingConfig(exporter="none"))
    assert not telemetry.enabled()
    telemetry.setup(TracingConfig(exporter="console", serviceName="payments-eu"))
    try:
        assert telemetry.enabled()
    finally:
        telemetry.shutdown()
    assert not telemetry.enabled()


def test_a_missing_sdk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)   # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"connector-host\[otel\]"):
        telemetry.setup(TracingConfig(exporter="otlp"))
