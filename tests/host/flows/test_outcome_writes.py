"""A commercetools failure after the PSP answered must not lose the outcome (issue 12).

The emulator's fault injection answers the write that records the outcome with a 500: once (the host
repeats the write and the payment succeeds), or every time (the host answers that the outcome is
pending, the reservation keeps the amount blocked, and the shopper's retry does not authorize again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, ClassVar

from host import ModificationRequest, ModificationResult, hookimpl
from host.testing import HostClient, plugins_with
from plugins.sandbox.provider import SandboxProvider

INSTANCES = "card: {plugin: sandbox, paymentInterface: mock}\n"
OUTCOME_WRITE = r"/payments/[^/]+$"


async def _host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    host = await connector_host(INSTANCES, extra="reconciler: {interval: 0}\n")
    await host.client.get("/operations/config", headers={"X-Session-Id": host.session("mock")})   # token cached
    return host


def _states(host: HostClient, payment_id: str) -> list[tuple[str, str]]:
    return [(t["type"], t["state"]) for t in host.payment(payment_id)["transactions"]]


def _authorizations(host: HostClient) -> int:
    return sum(1 for p in host.ct.payments() for t in p["transactions"]
               if t["type"] == "Authorization" and t["state"] == "Success")


async def test_one_500_on_the_outcome_write_is_repeated_and_nothing_is_lost(
        connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    host = await _host(connector_host)
    host.ct.emulator.inject_fault(OUTCOME_WRITE, 500, times=1, method="POST")
    resp = await host.pay(host.session("mock"))
    assert resp.status == 200, await resp.text()
    payment_id = (await resp.json())["paymentReference"]
    assert _states(host, payment_id) == [("Authorization", "Success")]
    assert host.payment(payment_id)["interfaceId"]                  # the PSP reference is recorded


async def test_an_outcome_that_cannot_be_written_is_pending_and_the_retry_does_not_pay_twice(
        connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    host = await _host(connector_host)
    sid = host.session("mock")
    host.ct.emulator.inject_fault(OUTCOME_WRITE, 500, times=1000, method="POST")
    resp = await host.pay(sid)
    body: dict[str, Any] = await resp.json()
    assert (resp.status, body["outcome"]) == (202, "pending"), body
    assert _states(host, body["paymentReference"]) == [("Authorization", "Initial")]
    host.ct.emulator.clear_faults()
    retry = await host.pay(sid)                                     # the shopper clicks again
    assert retry.status == 409, await retry.text()
    assert "in progress" in (await retry.json())["message"]
    assert _authorizations(host) == 0 and len(host.ct.payments()) == 1


class _FailsAfterCapture(SandboxProvider):
    """The sandbox, with commercetools failing from the moment the PSP has captured: the reservation was
    written, the outcome write is what fails (what a commercetools outage mid-request looks like)."""

    emulator: ClassVar[Any] = None

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        result = await super().capture(request)
        type(self).emulator.inject_fault(OUTCOME_WRITE, 500, times=1000, method="POST")
        return result


@hookimpl
def register_providers(registry: Any) -> None:
    registry.register("fails_after_capture", _FailsAfterCapture)


async def test_a_capture_whose_outcome_cannot_be_written_is_received_and_stays_reserved(
        connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    host = await connector_host("card: {plugin: fails_after_capture, paymentInterface: mock}\n",
                                extra="reconciler: {interval: 0}\n",
                                plugins=plugins_with({"fails_after_capture": SimpleNamespace(
                                    register_providers=register_providers)}))
    _FailsAfterCapture.emulator = host.ct.emulator
    payment_id = (await (await host.pay(host.session("mock", amount=5000))).json())["paymentReference"]
    resp = await host.intent(payment_id, {"action": "capturePayment",
                                          "amount": {"centAmount": 3000, "currencyCode": "EUR"}})
    assert (resp.status, await resp.json()) == (200, {"outcome": "received"})
    host.ct.emulator.clear_faults()
    assert _states(host, payment_id) == [("Authorization", "Success"), ("Charge", "Initial")]
    again = await host.intent(payment_id, {"action": "capturePayment",
                                           "amount": {"centAmount": 3000, "currencyCode": "EUR"}})
    assert again.status == 400 and "capturable 2000" in (await again.json())["message"]
