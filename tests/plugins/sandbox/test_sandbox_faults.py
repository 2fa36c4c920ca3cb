"""Fault injection of the sandbox: errors, timeouts, latency and seeded reproducibility."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from host import Operation, ProviderError
from plugins.sandbox.faults import FaultInjector

if TYPE_CHECKING:
    from conftest import MakeProvider, Requests


async def test_error_rate_one_fails_every_psp_call(make_provider: MakeProvider, req: type[Requests]) -> None:
    provider = make_provider(errorRate=1)
    calls = [provider.create_payment(req.create()), provider.capture(req.modify()),
             provider.cancel(req.modify(Operation.CANCEL)), provider.refund(req.modify(Operation.REFUND))]
    for call in calls:
        with pytest.raises(ProviderError) as info:
            await call
        assert (info.value.code, info.value.status, info.value.message) == ("SandboxError", 502,
                                                                            "Sandbox PSP error")
    check = await provider.status()
    assert check.status == "DOWN" and check.message == "Sandbox PSP error"


async def test_body_errors_come_before_injected_faults(make_provider: MakeProvider,
                                                       req: type[Requests]) -> None:
    with pytest.raises(ProviderError):
        await make_provider(errorRate=1).create_payment(req.create())
    with pytest.raises(Exception) as info:
        await make_provider(errorRate=1).create_payment(req.create({"paymentOutcome": "Authorized"}))
    assert not isinstance(info.value, ProviderError)


async def test_timeout_rate_one_waits_then_fails_with_504(make_provider: MakeProvider,
                                                         req: type[Requests]) -> None:
    provider = make_provider(timeoutRate=1, timeout=0.02)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ProviderError) as info:
        await provider.capture(req.modify())
    assert loop.time() - started >= 0.02
    assert (info.value.code, info.value.status) == ("SandboxTimeout", 504)


async def test_latency_delays_each_call(make_provider: MakeProvider, req: type[Requests]) -> None:
    provider = make_provider(latency=0.03)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await provider.create_payment(req.create())
    await provider.capture(req.modify())
    assert loop.time() - started >= 0.06


async def _pattern(injector: FaultInjector, calls: int = 40) -> list[bool]:
    outcome = []
    for _ in range(calls):
        try:
            await injector.call("test")
        except ProviderError:
            outcome.append(False)
        else:
            outcome.append(True)
    return outcome


async def test_same_seed_replays_the_same_faults() -> None:
    first = await _pattern(FaultInjector(name="x", error_rate=0.5, seed=1234))
    second = await _pattern(FaultInjector(name="x", error_rate=0.5, seed=1234))
    assert first == second
    assert True in first and False in first


async def test_same_seed_through_the_provider(make_provider: MakeProvider, req: type[Requests]) -> None:
    async def run() -> list[bool]:
        provider = make_provider(errorRate=0.5, seed=99)
        outcome = []
        for i in range(20):
            try:
                await provider.capture(req.modify(key=f"k{i}"))
            except ProviderError:
                outcome.append(False)
            else:
                outcome.append(True)
        return outcome

    assert await run() == await run()


async def test_zero_rates_never_fail() -> None:
    assert all(await _pattern(FaultInjector(name="x", seed=None)))
