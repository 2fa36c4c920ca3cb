"""commercetools that cannot be reached is a 503 in the envelope, never a 500 with a traceback
(issue 15: "commercetools unreachable answers 500"): one test per kind of failure, each over loopback or
the resolver's own refusal (``.invalid`` never resolves, RFC 6761)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from host.app import create_app
from host.config import load_config
from host.testing.harness import HostTestServer, connector_yaml, discovered_plugins, free_port

INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock}\n"
#: a well-formed Merchant Center JWT whose key must be fetched (its signature is never reached)
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln"
Serve = Callable[[str], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def serve_against(tmp_path: Path) -> AsyncIterator[Serve]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def serve(url: str) -> TestClient[web.Request, web.Application]:
        port = free_port()
        path = tmp_path / f"connector{len(clients)}.yaml"
        path.write_text(connector_yaml(INSTANCES, url=url, port=port).replace("timeout: 5", "timeout: 0.5"))
        client: TestClient[web.Request, web.Application] = TestClient(HostTestServer(
            create_app(load_config(path, discovered_plugins())), host="127.0.0.1", port=port))
        await client.start_server()
        clients.append(client)
        return client

    try:
        yield serve
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def _assert_503_everywhere(client: TestClient[web.Request, web.Application],
                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    calls = [client.get("/operations/config", headers={"X-Session-Id": "3f2c9a1e-1b2c-4d5e-8f90-1234567890ab"}),
             client.post("/operations/payment-intents/p-1", headers={"Authorization": "Bearer tok"},
                         json={"actions": [{"action": "cancelPayment"}]}),
             client.get("/operations/payment-components", headers={"Authorization": f"Bearer {JWT}"})]
    for call in calls:
        resp = await call
        body = await resp.json()
        assert resp.status == 503, (resp.url.path, body)
        assert body["errors"][0]["code"] == "ServiceUnavailable", body
    status = await client.get("/operations/status", headers={"Authorization": f"Bearer {JWT}"})
    assert status.status == 503   # the status route needs the JWKS as well
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_connection_refused_is_503(serve_against: Serve, caplog: pytest.LogCaptureFixture) -> None:
    await _assert_503_everywhere(await serve_against(f"http://127.0.0.1:{free_port()}"), caplog)


async def test_dns_failure_is_503(serve_against: Serve, caplog: pytest.LogCaptureFixture) -> None:
    await _assert_503_everywhere(await serve_against("http://commercetools.invalid"), caplog)


async def test_a_server_that_never_answers_is_503(serve_against: Serve, silent_server: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    await _assert_503_everywhere(await serve_against(silent_server), caplog)
