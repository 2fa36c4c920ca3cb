"""``host.testing``: the test kit for connector-host and its plugins (an opt-in pytest plugin).

Enable it in a plugin's ``conftest.py``::

    pytest_plugins = ["host.testing"]

Fixtures:

- ``ct_emulator``: the commercetools stand-in on loopback (``RunningEmulator``: ``url``, ``emulator``,
  ``stats()``, ``reset_stats()``).
- ``connector_host``: an async factory; ``await connector_host(instances_yaml)`` builds the host from a
  connector.yaml snippet (the YAML under ``instances:``) against ``ct_emulator`` and serves it on
  loopback. The returned ``HostClient`` has ``client`` (aiohttp test client), ``session(interface)``,
  ``oauth_token()``, ``mc_jwt()``, ``payment(id)``, ``pay(session)``, ``intent(id, action)``.

``ProviderContract`` (in ``host.testing.contract``) is a test class a plugin subclasses to check its
provider against the contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from host.testing.harness import HostClient, RunningEmulator, start_emulator, start_host

__all__ = ["HostClient", "RunningEmulator", "connector_host", "ct_emulator"]


@pytest.fixture
async def ct_emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator()
    try:
        yield running
    finally:
        await running.server.close()


@pytest.fixture
async def connector_host(ct_emulator: RunningEmulator,
                         tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[HostClient]]]:
    hosts: list[HostClient] = []

    async def make(instances: str, *, extra: str = "") -> HostClient:
        directory = tmp_path / f"host{len(hosts)}"
        directory.mkdir()
        host = await start_host(ct_emulator, instances, directory, extra=extra)
        hosts.append(host)
        return host

    try:
        yield make
    finally:
        for host in hosts:
            await host.close()
