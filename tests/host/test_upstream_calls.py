"""Upstream calls per host operation, counted at the emulator. The numbers are documented in
docs/commercetools.md; a change here is a change of the product's cost and must update the docs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from host.testing import HostClient

# books: memory: the sandbox PSP keeps its records in this process, so only the host's own calls are counted
INSTANCES = "sandbox: {plugin: sandbox, paymentInterface: mock, settings: {books: memory}}\n"


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    host = await connector_host(INSTANCES)
    warm = host.session("mock")
    await host.client.get("/operations/config", headers={"X-Session-Id": warm})   # token now cached
    return host


async def test_create_and_authorize_never_rereads_the_payment(host: HostClient) -> None:
    sid = host.session("mock")
    host.ct.reset_stats()
    resp = await host.pay(sid)
    assert resp.status == 200
    assert host.ct.stats() == {
        "GET /{projectKey}/sessions/{id}": 1,        # session auth
        "GET /{projectKey}/carts/{id}": 1,           # amount to pay
        "POST /{projectKey}/payments": 1,            # create the Payment
        "POST /{projectKey}/carts/{id}": 1,          # addPayment
        "POST /{projectKey}/payments/{id}": 1,       # record the authorization, version in hand
    }


async def test_capture_costs_one_read_and_two_writes(host: HostClient) -> None:
    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    await host.intent(pid, {"action": "cancelPayment"})   # warms the introspection cache for this token
    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    host.ct.reset_stats()
    resp = await host.intent(pid, {"action": "capturePayment", "amount": {"centAmount": 100, "currencyCode": "EUR"}})
    assert (await resp.json()) == {"outcome": "approved"}
    assert host.ct.stats() == {
        "GET /{projectKey}/payments/{id}": 1,        # the Payment and its transactions
        "POST /{projectKey}/payments/{id}": 2,       # the reservation, then the outcome
    }
