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

Fixtures for running a test against both commercetools implementations (docs/commercetools.md, "Two
implementations of commercetools"):

- ``ct_backend``: parametrized ``[emulator]`` and ``[ctmock]``; a ``Commercetools`` (``backends``): the emulator,
  or the judge (``RunningJudge``: @labdigital/commercetools-mock in Node, started once per session by
  ``ct_judge`` and reset before each test). Emulator-only tools (faults, stats) stay on ``ct_emulator``
  (``HostClient.emulator`` reaches them, and refuses on the judge).
- ``money_host``: as ``connector_host``, against ``ct_backend``; so a test using it runs once per backend.
- ``host_process``: an async factory of hosts as separate OS processes (``connector-host serve``) against
  ``ct_backend``; a ``HostProcess`` has the same shortcuts as ``HostClient``.

Helpers: ``load_instances(instances_yaml, directory)`` validates a connector.yaml as start-up does and raises
``ConfigError`` (re-exported here) on a problem; ``discovered_plugins()`` is what the host discovers
(built-ins and installed entry points) with each plugin's distribution and version; ``connector_yaml()`` is a
whole connector.yaml around an ``instances:`` snippet.

``ProviderContract`` and ``GiftCardContract`` (``host.testing.contract``) are test classes a plugin
subclasses to check its provider against the contract; see docs/writing-plugins.md.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from host.errors import ConfigError
from host.testing.backends import Commercetools, Endpoints
from host.testing.contract import GiftCardContract, ProviderContract
from host.testing.harness import (
    HostClient,
    HostShortcuts,
    RunningEmulator,
    connector_yaml,
    discovered_plugins,
    load_instances,
    plugins_with,
    start_emulator,
    start_host,
)
from host.testing.judge import JudgeError, RunningJudge, start_judge
from host.testing.processes import HostProcess, start_host_process

__all__ = ["Commercetools", "ConfigError", "Endpoints", "GiftCardContract", "HostClient", "HostProcess",
           "HostShortcuts", "ProviderContract", "RunningEmulator", "RunningJudge", "connector_host",
           "connector_yaml", "ct_backend", "ct_emulator", "ct_judge", "discovered_plugins", "host_process",
           "load_instances", "money_host", "plugins_with"]

MakeHost = Callable[..., Awaitable[HostClient]]
_Host = TypeVar("_Host", HostClient, HostProcess)


@contextlib.asynccontextmanager
async def _factory(start: Callable[..., Awaitable[_Host]], tmp_path: Path,
                   prefix: str) -> AsyncIterator[Callable[..., Awaitable[_Host]]]:
    """``make(instances, extra=..., ...)`` starting each host in its own directory; all closed at the end."""
    hosts: list[_Host] = []
    numbers = itertools.count()     # several hosts may be starting at once

    async def make(instances: str, *, extra: str = "", **options: Any) -> _Host:
        directory = tmp_path / f"{prefix}{next(numbers)}"
        directory.mkdir()
        host = await start(instances, directory, extra=extra, **options)
        hosts.append(host)
        return host

    try:
        yield make
    finally:
        for host in hosts:
            await host.close()


@pytest.fixture
async def ct_emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator()
    try:
        yield running
    finally:
        await running.server.close()


@pytest.fixture
async def connector_host(ct_emulator: RunningEmulator,
                         tmp_path: Path) -> AsyncIterator[MakeHost]:
    """``await connector_host(instances_yaml, extra=..., plugins=...)``: a host in this process on the emulator."""
    async with _factory(functools.partial(start_host, ct_emulator), tmp_path, "host") as make:
        yield make


@pytest.fixture(scope="session")
def ct_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningJudge]:
    """The judge, one Node process for the whole test session."""
    try:
        judge = start_judge(tmp_path_factory.mktemp("judge"))
    except JudgeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield judge
    finally:
        judge.stop()


@pytest.fixture(params=["emulator", "ctmock"])
def ct_backend(request: pytest.FixtureRequest) -> Commercetools:
    """The emulator, then the judge (emptied first): a test using this runs once on each."""
    if request.param == "emulator":
        emulator: RunningEmulator = request.getfixturevalue("ct_emulator")
        return emulator
    judge: RunningJudge = request.getfixturevalue("ct_judge")
    judge.reset()
    return judge


@pytest.fixture
async def money_host(ct_backend: Commercetools, tmp_path: Path) -> AsyncIterator[MakeHost]:
    """``connector_host`` against ``ct_backend``."""
    async with _factory(functools.partial(start_host, ct_backend), tmp_path, "host") as make:
        yield make


@pytest.fixture
async def host_process(ct_backend: Commercetools,
                       tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[HostProcess]]]:
    """``await host_process(instances_yaml, extra=...)``: a host in its own OS process against ``ct_backend``."""
    async with _factory(functools.partial(start_host_process, ct_backend), tmp_path, "process") as make:
        yield make
