"""``host.testing``'s host in its own OS process is one process: killing it kills the host."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from host.testing import RunningEmulator
from host.testing.processes import start_host_process


async def test_a_killed_host_process_serves_nothing_and_cuts_its_requests(ct_emulator: RunningEmulator,
                                                                         tmp_path: Path) -> None:
    host = await start_host_process(ct_emulator, "slow: {plugin: sandbox, paymentInterface: slow, "
                                                 "settings: {latency: 600}}", tmp_path)
    try:
        paying = asyncio.create_task(host.pay(host.session("slow")))
        while not ct_emulator.emulator.payments():      # the request is at the PSP
            assert not paying.done(), await (await paying).text()
            await asyncio.sleep(0.05)
        host.process.kill()
        await host.process.wait()
        with pytest.raises(aiohttp.ClientConnectionError):
            await asyncio.wait_for(paying, 30)
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientConnectionError):     # no worker left listening on the port
                await http.get(f"{host.url}/health", timeout=aiohttp.ClientTimeout(total=5))
    finally:
        await host.close()
