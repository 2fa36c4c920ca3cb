"""``connector-host reconcile [--dry-run]`` beside a host process that lost an answer and one that was killed
at the PSP call: the dry run prints what it would settle and writes nothing; the real run settles both."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from host.testing import HostProcess

INSTANCES = "".join(
    f"{name}: {json.dumps({'plugin': 'sandbox', 'paymentInterface': name, 'settings': settings})}\n"
    for name, settings in (("lost", {"lostRate": 1, "timeout": 0}), ("slow", {"latency": 600})))


async def cli(config: Path, *flags: str) -> tuple[str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "host", "reconcile", "--config", str(config), "--horizon", "0", *flags,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode(), err.decode()


async def killed_at_the_psp(host: HostProcess) -> str:
    """A payment whose host dies while the PSP call is under way (the ``slow`` PSP takes 10 minutes)."""
    cart = host.cart(5950)
    paying = asyncio.create_task(host.pay(host.session("slow", cart=cart)))
    deadline = time.monotonic() + 30
    while not ((host.ct.get_cart(cart["id"]) or {}).get("paymentInfo") or {}).get("payments"):
        assert time.monotonic() < deadline and not paying.done(), "the payment was never attached"
        await asyncio.sleep(0.05)
    host.process.kill()
    await host.process.wait()
    with contextlib.suppress(aiohttp.ClientError):
        await paying
    return str(host.ct.get_cart(cart["id"])["paymentInfo"]["payments"][0]["id"])


def state(host: HostProcess, pid: str) -> dict[str, Any]:
    (auth,) = [t for t in host.payment(pid)["transactions"] if t["type"] == "Authorization"]
    return dict(auth)


async def test_reconcile_cli_dry_run_then_settles(host_process: Callable[..., Awaitable[HostProcess]]) -> None:
    host = await host_process(INSTANCES, extra="reconciler: {interval: 0}\n")
    resp = await host.pay(host.session("lost"))
    assert resp.status == 504, await resp.text()
    (lost,) = [p["id"] for p in host.ct.payments()]
    slow = await killed_at_the_psp(host)
    config = host.log.parent / "connector.yaml"
    versions = {pid: host.payment(pid)["version"] for pid in (lost, slow)}

    out, err = await cli(config, "--dry-run")
    assert f"would settle payment {lost} (lost): Authorization 5950 EUR Initial -> Success: the PSP says" in out
    assert f"would settle payment {slow} (slow): Authorization 5950 EUR Initial -> Failure: the PSP has no" in out
    assert "would settle 2, left 0" in err
    assert {pid: host.payment(pid)["version"] for pid in (lost, slow)} == versions
    assert state(host, lost)["state"] == state(host, slow)["state"] == "Initial"

    out, err = await cli(config)
    assert f"settled payment {lost} (lost): Authorization 5950 EUR Initial -> Success" in out
    assert f"settled payment {slow} (slow): Authorization 5950 EUR Initial -> Failure" in out
    assert "settled 2, left 0" in err
    assert state(host, lost)["state"] == "Success" and state(host, lost)["interactionId"].startswith("sandbox-")
    assert host.payment(lost)["interfaceId"] == state(host, lost)["interactionId"]
    assert state(host, slow)["state"] == "Failure"

    out, err = await cli(config)
    assert out == "" and "settled 0, left 0" in err
