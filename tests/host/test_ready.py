"""``/ready`` (readiness: commercetools reachable, instances loaded) against ``/health`` (liveness)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from host import health
from host.testing import HostClient

INSTANCES = """\
sandbox: {plugin: sandbox, paymentInterface: mock}
spare: {plugin: sandbox, paymentInterface: spare, enabled: false}
"""


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]], monkeypatch: pytest.MonkeyPatch) -> HostClient:
    monkeypatch.setattr(health, "CT_CHECK_TTL", 0.0)    # every probe asks commercetools
    return await connector_host(INSTANCES)


async def test_ready_when_commercetools_answers_and_instances_are_loaded(host: HostClient) -> None:
    resp = await host.client.get("/ready")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "reasons": [], "commercetools": {"status": "up"},
                                 "instances": {"sandbox": "loaded", "spare": "disabled"}}


async def test_not_ready_while_commercetools_is_unreachable_but_still_alive(host: HostClient) -> None:
    await host.ct.server.close()
    resp = await host.client.get("/ready")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "not ready"
    assert body["commercetools"]["status"] == "down"
    assert body["reasons"] == [f"commercetools is not reachable: {body['commercetools']['message']}"]
    assert (await host.client.get("/health")).status == 200        # liveness does not depend on it


async def test_not_ready_once_shutting_down(host: HostClient) -> None:
    await host.app.shutdown()
    resp = await host.client.get("/ready")
    assert resp.status == 503
    assert (await resp.json())["reasons"] == ["shutting down"]


async def test_a_commercetools_check_is_reused_briefly(host: HostClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "CT_CHECK_TTL", 3600.0)
    assert (await host.client.get("/ready")).status == 200
    host.ct.reset_stats()
    assert (await host.client.get("/ready")).status == 200
    assert host.ct.calls() == 0
