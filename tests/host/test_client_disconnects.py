"""A client that hangs up mid-request (the end of a load run) is logged as a 499, never as an ERROR.

The host is served as ``connector-host serve`` serves it (aiohttp's test server cancels the handler of a
lost connection instead, which production does not do).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from host.app import create_app
from host.config import load_config
from host.testing import RunningEmulator, discovered_plugins
from host.testing.harness import free_port, yaml_for

INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock}\n"


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


@pytest.fixture
async def served(ct_emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[int]:
    port = free_port()
    path = tmp_path / "connector.yaml"
    path.write_text(yaml_for(ct_emulator, INSTANCES, port=port), encoding="utf-8")
    runner = web.AppRunner(create_app(load_config(path, discovered_plugins())), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_a_client_gone_mid_body_is_a_499_without_a_traceback(
        served: int, ct_emulator: RunningEmulator, caplog: pytest.LogCaptureFixture) -> None:
    port = served
    cart = ct_emulator.emulator.create_cart("EUR", [{"name": "Item", "centAmount": 5950, "quantity": 1}])
    session = ct_emulator.emulator.create_session(str(cart["id"]), {"paymentInterface": "mock"})["id"]
    body = b'{"paymentMethod":{"type":"card"},"paymentOutcome":"Authorized"}'
    head = (f"POST /payments HTTP/1.1\r\nHost: x\r\nX-Session-Id: {session}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()

    def in_progress() -> float:
        return REGISTRY.get_sample_value("connector_host_requests_in_progress") or 0.0

    for n in range(1, 4):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        await loop.sock_sendall(sock, head + body[:10])           # the rest of the body never comes
        await _until(lambda: in_progress() == 1, "the host never started on the request")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, as a killed client
        sock.close()
        await _until(lambda n=n: len([r for r in caplog.records if r.name == "host.access"]) == n,  # type: ignore[misc]
                     "the request never ended")

    statuses = [getattr(r, "status", None) for r in caplog.records if r.name == "host.access"]
    assert statuses == [499, 499, 499]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
