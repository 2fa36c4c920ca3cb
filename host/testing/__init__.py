"""``host.testing``: the test kit for connector-host and its plugins (an opt-in pytest plugin).

Enable it in a plugin's ``conftest.py``::

    pytest_plugins = ["host.testing"]

Fixtures:

- ``ct_emulator``: the commercetools stand-in on loopback (``RunningEmulator``: ``url``, ``emulator``,
  ``stats()``, ``reset_stats()``).
- ``connector_host``: an async factory; ``await connector_host(instances_yaml)`` builds the host from a
  connector.yaml snippet (the YAML under ``instances:``) against ``ct_emulator`` and serves it on
  loopback. The returned ``HostClient`` has ``client`` (aiohttp test client), ``cart()``,
  ``session(interface)`` (a cart and a Checkout session), ``oauth_token()`` and ``mc_jwt()`` (Checkout's
  OAuth token, a Merchant Center JWT), ``pay(session)``, ``intent(id, action)``, ``config(session)``,
  ``status()``, ``balance(session, code)``, ``redeem(session, code, amount)``,
  ``post_webhook(instance, body, headers)`` (a PSP's notification, signed by the caller), ``payment(id)``
  (the Payment as stored) and ``provider(instance)``. Pass ``plugins=plugins_with({...})`` to test a
  provider registered in-process rather than installed.

Helpers: ``load_instances(instances_yaml, directory)`` validates a connector.yaml as start-up does and raises
``ConfigError`` (re-exported here) on a problem; ``discovered_plugins()`` is what the host discovers
(built-ins and installed entry points) with each plugin's distribution and version; ``connector_yaml()`` is a
whole connector.yaml around an ``instances:`` snippet.

``ProviderContract`` and ``GiftCardContract`` (``host.testing.contract``) are test classes a plugin
subclasses to check its provider against the contract; see docs/writing-plugins.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from host.errors import ConfigError
from host.plugins import Plugins
from host.testing.contract import GiftCardContract, ProviderContract
from host.testing.harness import (
    HostClient,
    RunningEmulator,
    connector_yaml,
    discovered_plugins,
    load_instances,
    plugins_with,
    start_emulator,
    start_host,
)

__all__ = ["ConfigError", "GiftCardContract", "HostClient", "ProviderContract", "RunningEmulator",
           "connector_host", "connector_yaml", "ct_emulator", "discovered_plugins", "load_instances", "plugins_with"]


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

    async def make(instances: str, *, extra: str = "", plugins: Plugins | None = None) -> HostClient:
        directory = tmp_path / f"host{len(hosts)}"
        directory.mkdir()
        host = await start_host(ct_emulator, instances, directory, extra=extra, plugins=plugins)
        hosts.append(host)
        return host

    try:
        yield make
    finally:
        for host in hosts:
            await host.close()
