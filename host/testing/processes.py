"""A host as a separate OS process: ``python -m host serve --config <file>`` on a free loopback port.

For tests of what holds across replicas: two processes share nothing but commercetools. The process
discovers the installed plugins itself (``plugins_with`` cannot reach it), and logs to ``host.log`` in its
directory, whose tail is in the error when it does not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from host.testing.backends import Commercetools
from host.testing.harness import HostShortcuts, free_port, yaml_for

_START_TIMEOUT = 30.0


@dataclass
class HostProcess(HostShortcuts):
    """A running ``connector-host serve`` against ``ct``, with the same shortcuts as ``HostClient``."""

    ct: Commercetools
    url: str
    process: asyncio.subprocess.Process
    http: aiohttp.ClientSession
    log: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.http.request(method, f"{self.url}{path}", **kwargs)

    async def close(self) -> None:
        await self.http.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_host_process(ct: Commercetools, instances: str, directory: Path, *, extra: str = "") -> HostProcess:
    """Write a connector.yaml for ``instances`` against ``ct`` in ``directory``, start the host on it and wait
    until ``/health`` answers."""
    port = free_port()
    config = directory / "connector.yaml"
    config.write_text(yaml_for(ct, instances, port=port, extra=extra), encoding="utf-8")
    log = directory / "host.log"
    with log.open("wb") as out:
        # one process: a replica the test can kill is one process, not a supervisor of workers
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "host", "serve", "--workers", "1", "--config", str(config), cwd=directory,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    host = HostProcess(ct, f"http://127.0.0.1:{port}", process, aiohttp.ClientSession(), log)
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        try:
            async with host.http.get(f"{host.url}/health", timeout=aiohttp.ClientTimeout(total=1)) as resp:
                if resp.status == 200:
                    return host
        except (aiohttp.ClientError, TimeoutError):
            pass
        if process.returncode is not None or time.monotonic() > deadline:
            await host.close()
            raise RuntimeError(f"connector-host serve did not start on port {port}: {log.read_text()[-2000:]}")
        await asyncio.sleep(0.1)
