from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings
from host.testing.harness import PROJECT_KEY, RunningEmulator


@pytest.fixture
async def ct_client(ct_emulator: RunningEmulator) -> AsyncIterator[CommercetoolsClient]:
    async with aiohttp.ClientSession() as http:
        yield CommercetoolsClient(CommercetoolsSettings(
            project_key=PROJECT_KEY, client_id="connector", client_secret="connector-secret",
            auth_url=ct_emulator.url, api_url=ct_emulator.url, session_url=ct_emulator.url + "/", timeout=5), http)
