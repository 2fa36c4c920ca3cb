"""Fixtures for the emulator tests: an emulator on a loopback port and tokens for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from emulator import EMULATOR_KEY, Emulator, EmulatorConfig, create_emulator_app

Client = TestClient[Any, Any]


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig()


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any], config: EmulatorConfig) -> Client:
    result: Client = await aiohttp_client(create_emulator_app(config))
    return result


@pytest.fixture
def emulator(client: Client) -> Emulator:
    running: Emulator = client.app[EMULATOR_KEY]
    return running


@pytest.fixture
def advance_clock(emulator: Emulator) -> Callable[[float], None]:
    """Move the emulator's clock forward by some seconds (instead of sleeping)."""
    now = [emulator.now()]
    emulator.clock = lambda: now[0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


@pytest.fixture
def auth(emulator: Emulator) -> dict[str, str]:
    """Headers with a bearer token of the ``connector`` client (manage_project:demo)."""
    return {"Authorization": f"Bearer {emulator.issue_token('connector')}"}


@pytest.fixture
def bearer(emulator: Emulator) -> Callable[..., dict[str, str]]:
    """``bearer(client_id="connector", scopes=None)``: headers with a fresh token."""

    def headers(client_id: str = "connector", scopes: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {emulator.issue_token(client_id, scopes)}"}

    return headers
