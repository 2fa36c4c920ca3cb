"""The fault matrix's deployment: two ``connector-host serve`` processes against the emulator served on
loopback, a bad day of commercetools and PSP faults, a host killed with SIGKILL and started again, and one
``connector-host reconcile`` pass as a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from host.testing import HostProcess, RunningEmulator
from host.testing.harness import yaml_for
from host.testing.processes import start_host_process

CT_TIMEOUT = 1.0          # commercetools.timeout of the hosts: seconds per call, retries included
HELD = 1.5                # a held commercetools answer comes after the host gave up
HORIZON = 3.0             # reconciler.horizon
CARD, GIFT = "fm-card", "fm-giftcard"
GIFT_CODE, GIFT_BALANCE = "FM-GIFT", 15_000   # about half what the redeems ask for, over both hosts


def instances(seed: int | None) -> str:
    """The card sandbox (async: captures, cancels and refunds answer ``received`` and a signed webhook
    follows) and the gift-card sandbox; with PSP faults at 20% when ``seed`` is given: errors, timeouts, and
    calls done whose answer is lost."""
    card = {"mode": "async", "webhookDelay": 0.2, "latency": 0.1}   # a PSP call takes a while: races
    gift: dict[str, Any] = {"cards": {GIFT_CODE: {"balance": GIFT_BALANCE, "currency": "EUR"}}}
    if seed is not None:
        card |= {"errorRate": 0.07, "timeoutRate": 0.07, "lostRate": 0.06, "timeout": 0.3, "seed": seed}
        gift |= {"errorRate": 0.1, "lostRate": 0.1, "seed": seed}
    # JSON is YAML's flow style
    return (f"card: {{plugin: sandbox, paymentInterface: {CARD}, settings: {json.dumps(card)}}}\n"
            f"giftcards: {{plugin: sandbox_giftcard, paymentInterface: {GIFT}, settings: {json.dumps(gift)}}}\n")


RECONCILER = f"reconciler:\n  interval: 0\n  horizon: {HORIZON:g}\n"


def bad_day(ct: RunningEmulator, seed: int) -> None:
    """commercetools faults at about 20% of the host's calls to carts, sessions, Payments and custom objects
    (the host's Idempotency-Key records; the sandboxes' books too): errors before the write (409 on
    updates), errors and timeouts after it (the write lands, the answer is lost), slow reads."""
    emu, pk = ct.emulator, ct.project_key
    lost = {"statuses": [500, 502, 503, 504], "rate": 0.06, "timeout_rate": 0.04, "delay": HELD, "after": True}
    updates, creates = rf"^/{pk}/(payments|carts)/[^/]+$", rf"^/{pk}/payments$"
    emu.inject_faults(updates, "POST", statuses=[409, 500, 502, 503, 504], rate=0.10, seed=seed)
    emu.inject_faults(updates, "POST", seed=seed + 1, **lost)
    emu.inject_faults(creates, "POST", statuses=[500, 502, 503, 504], rate=0.10, seed=seed + 2)
    emu.inject_faults(creates, "POST", seed=seed + 3, **lost)
    emu.inject_faults(rf"^/{pk}/(payments|carts|sessions|custom-objects)", "GET", statuses=[500, 502, 503, 504],
                      rate=0.15, timeout_rate=0.05, delay=HELD, seed=seed + 4)
    objects = rf"^/{pk}/custom-objects$"
    emu.inject_faults(objects, "POST", statuses=[500, 502, 503, 504], rate=0.10, seed=seed + 5)
    emu.inject_faults(objects, "POST", seed=seed + 6, **lost)


@dataclass
class Cluster:
    """Two hosts; requests go to ``hosts[i % 2]``, or to the other one while a host is down."""

    ct: RunningEmulator
    directory: Path
    seed: int
    hosts: list[HostProcess | None] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=lambda: [0, 0])
    started: int = 0

    async def start(self, index: int) -> HostProcess:
        self.started += 1
        directory = self.directory / f"host{self.started}"
        directory.mkdir()
        host = await start_host_process(self.ct, instances(self.seed + 100 * self.started), directory,
                                        extra=RECONCILER, ct_timeout=CT_TIMEOUT)
        self.hosts[index] = host
        return host

    def pick(self, n: int) -> tuple[int, HostProcess]:
        for index in (n % 2, 1 - n % 2):
            host = self.hosts[index]
            if host is not None:
                return index, host
        raise RuntimeError("no host is up")

    async def request(self, n: int, method: str, path: str, **kwargs: Any) -> tuple[int | None, Any]:
        """(status, JSON body) from the host for request ``n``; status None if the host died meanwhile."""
        index, host = self.pick(n)
        self.in_flight[index] += 1
        try:
            async with host.http.request(method, f"{host.url}{path}", timeout=aiohttp.ClientTimeout(total=60),
                                         **kwargs) as resp:
                raw = await resp.read()
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError):
            return None, None
        finally:
            self.in_flight[index] -= 1
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    async def kill_and_restart(self, index: int) -> None:
        """SIGKILL host ``index`` once it has requests in flight (at most 2 s of waiting), start a new one."""
        for _ in range(200):
            if self.in_flight[index] >= 2:
                break
            await asyncio.sleep(0.01)
        host = self.hosts[index]
        assert host is not None
        self.hosts[index] = None
        host.process.kill()
        await host.process.wait()
        await host.close()
        await self.start(index)

    def host_logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.directory.glob("host*/host.log")))

    async def reconcile(self) -> tuple[list[str], str]:
        """One ``connector-host reconcile`` pass, without PSP faults (the bad day is over): its lines and summary."""
        directory = self.directory / "reconcile"
        directory.mkdir()
        config = directory / "connector.yaml"
        config.write_text(yaml_for(self.ct, instances(None), port=0, extra=RECONCILER), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "host", "reconcile", "--config", str(config), cwd=directory,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()[-3000:]
        return out.decode().splitlines(), err.decode().strip().splitlines()[-1]


@contextlib.asynccontextmanager
async def running(ct: RunningEmulator, directory: Path, seed: int) -> AsyncIterator[Cluster]:
    cluster = Cluster(ct, directory, seed, [None, None])
    try:
        await asyncio.gather(cluster.start(0), cluster.start(1))
        yield cluster
    finally:
        for host in cluster.hosts:
            if host is not None:
                await host.close()
