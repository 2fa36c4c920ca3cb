"""The demo checkout page exists only with the embedded commercetools stand-in (tests/browser drives it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]


async def test_no_demo_against_a_real_commercetools_project(connector_host: MakeHost) -> None:
    host = await connector_host("sandbox: {plugin: sandbox, paymentInterface: mock}")
    assert host.deployment.config.commercetools.embedded is False
    for method, path in (("GET", "/demo"), ("GET", "/demo/"), ("GET", "/demo/checkout.js"),
                         ("POST", "/demo/api/checkout"), ("POST", "/demo/api/payment-intents/x")):
        resp = await host.client.request(method, path, json={})
        assert resp.status == 404, path
    # the enablers are there all the same: Checkout needs them in production
    assert (await host.client.get("/enablers/sandbox/connector-enabler.es.js")).status == 200
