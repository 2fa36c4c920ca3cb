"""The server's own limits, over real sockets: oversized and malformed requests get the envelope with CORS,
a slow head or body is cut off with 408, connections beyond ``server.maxConnections`` get 503
(issue 13: oversized headers, slow clients)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from host.testing import HostClient

INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock}\n"
LIMITS = "  headerTimeout: 0.5\n  bodyTimeout: 0.5\n  maxConnections: 3\n"


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES, extra=LIMITS)


@pytest.fixture
async def default_host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    """The default limits (maxHeaderSize 8190)."""
    return await connector_host(INSTANCES)


async def _open(host: HostClient) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = host.client.server.port
    assert port is not None
    return await asyncio.open_connection("127.0.0.1", port)


def _parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


async def _exchange(host: HostClient, data: bytes) -> tuple[int, dict[str, str], Any]:
    reader, writer = await _open(host)
    writer.write(data)
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return _parse(raw)


def _assert_enveloped(status: int, headers: dict[str, str], body: Any, expected: int, code: str) -> None:
    assert status == expected, body
    assert body["statusCode"] == expected and body["errors"][0]["code"] == code, body
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("application/json")
    assert headers["server"] == "connector-host"


async def test_an_oversized_authorization_header_gets_the_envelope_and_cors(default_host: HostClient) -> None:
    token = "A" * 9000
    resp = await default_host.client.post("/operations/transactions", headers={"Authorization": f"Bearer {token}"},
                                  json={})
    body = await resp.json()
    _assert_enveloped(resp.status, {k.lower(): v for k, v in resp.headers.items()}, body, 431,
                      "RequestHeaderFieldsTooLarge")
    assert token[:50] not in json.dumps(body)


async def test_a_request_that_is_not_http_gets_the_envelope(default_host: HostClient) -> None:
    status, headers, body = await _exchange(default_host, b"GET /health HTTP/1.1\r\nHost x\r\n\r\n")
    _assert_enveloped(status, headers, body, 400, "InvalidInput")


async def test_a_head_trickled_past_the_header_timeout_is_cut_off(host: HostClient) -> None:
    reader, writer = await _open(host)
    started = time.monotonic()
    answer = asyncio.create_task(reader.read())
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    for _ in range(20):   # a header line every 0.1 s: never complete
        await asyncio.sleep(0.1)
        if answer.done():
            break
        writer.write(b"X-Slow: 1\r\n")
    raw = await asyncio.wait_for(answer, 5)
    elapsed = time.monotonic() - started
    status, headers, body = _parse(raw)
    _assert_enveloped(status, headers, body, 408, "RequestTimeout")
    assert elapsed < 1.5
    writer.close()


async def test_a_connection_that_sends_nothing_is_closed(host: HostClient) -> None:
    reader, writer = await _open(host)
    raw = await asyncio.wait_for(reader.read(), 5)
    _assert_enveloped(*_parse(raw), 408, "RequestTimeout")
    writer.close()


async def test_a_body_trickled_past_the_body_timeout_is_408(host: HostClient) -> None:
    sid = host.session("mock")
    reader, writer = await _open(host)
    writer.write(b"POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\nX-Session-Id: " + sid.encode() + b"\r\n\r\n{")
    raw = await asyncio.wait_for(reader.read(), 5)
    status, headers, body = _parse(raw)
    assert status == 408 and body["errors"][0]["code"] == "RequestTimeout", body
    assert headers["connection"] == "close"
    assert host.ct.emulator.payments() == []
    writer.close()


async def test_a_fast_client_is_unaffected_by_the_timeouts(host: HostClient) -> None:
    resp = await host.pay(host.session("mock"))
    assert resp.status == 200
    await asyncio.sleep(0.7)   # idle keep-alive is not a slow head
    assert (await host.client.get("/health")).status == 200


async def test_connections_beyond_the_limit_get_503(host: HostClient) -> None:
    held = [await _open(host) for _ in range(3)]
    status, headers, body = await _exchange(host, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    _assert_enveloped(status, headers, body, 503, "ServiceUnavailable")
    for _, writer in held:
        writer.close()
    await asyncio.sleep(0.05)
    status, _, body = await _exchange(host, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200, body
