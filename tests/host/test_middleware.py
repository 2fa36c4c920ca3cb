"""Response headers (issue 13): no server version, a client's correlation id only when it is sane, the
correlation id readable by a browser."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator

import pytest

from host.logs import correlation_id
from host.testing import HostClient

INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock}\n"


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES)


class _Lines(logging.Handler):
    """Every log line as the production formatter would see it: message and correlation id."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {correlation_id.get()} {record.__dict__}")


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler, root = _Lines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_no_response_names_the_server_version(host: HostClient) -> None:
    sid = host.session("mock")
    for resp in (await host.client.get("/health"), await host.client.get("/nope"),
                 await host.pay(sid), await host.client.post("/payments", data=b"{")):
        assert resp.headers["Server"] == "connector-host", resp.headers["Server"]


@pytest.mark.parametrize("cid", ["4111111111111111", "4111-1111-1111-1111", "5500 0000 0000 0004",
                                 "x" * 200, "a\tb", "<script>", "1234567890123456789012"])
async def test_an_insane_correlation_id_is_replaced_and_never_logged(host: HostClient, log_lines: list[str],
                                                                    cid: str) -> None:
    resp = await host.client.get("/operations/config", headers={"X-Correlation-ID": cid,
                                                                "X-Session-Id": host.session("mock")})
    assert resp.status == 200
    returned = resp.headers["X-Correlation-ID"]
    assert returned != cid and len(returned) == 36
    assert log_lines and not any(cid in line for line in log_lines)


async def test_a_sane_correlation_id_is_kept(host: HostClient) -> None:
    for cid in ("abc-1", "checkout/3f2c9a1e-1b2c-4d5e-8f90-1234567890ab", "req-1700000000000"):
        assert (await host.client.get("/health", headers={"X-Correlation-ID": cid})).headers["X-Correlation-ID"] \
            == cid


async def test_cors_exposes_the_correlation_header(host: HostClient) -> None:
    resp = await host.client.get("/health", headers={"Origin": "https://shop.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Correlation-ID" in resp.headers["Access-Control-Expose-Headers"]
    error = await host.client.post("/payments", json={})
    assert "X-Correlation-ID" in error.headers["Access-Control-Expose-Headers"]


def test_card_number_detection() -> None:
    from host.logs import looks_like_card_number, sane_correlation_id

    assert looks_like_card_number("id-4111111111111111-x")
    assert looks_like_card_number("378282246310005")          # American Express
    assert not looks_like_card_number("4111111111111112")      # Luhn fails
    assert not looks_like_card_number("3f2c9a1e-1b2c-4d5e-8f90-a2345b789c0d")
    assert sane_correlation_id("4111111111111112") == "4111111111111112"
    assert sane_correlation_id(None) is None and sane_correlation_id(7) is None
