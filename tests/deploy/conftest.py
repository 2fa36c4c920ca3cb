"""Fixtures of the deployment tests: ``services`` (processes stopped at the end of the test) and
``emulator`` (the commercetools stand-in as its own process). The helpers live in ``processes.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import PROJECT_KEY, Emulator, Services, free_port


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    running = Services(tmp_path)
    try:
        yield running
    finally:
        for service in reversed(running.started):
            service.stop(timeout=15)


@pytest.fixture
def emulator(services: Services) -> Emulator:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = services.start("emulator", [sys.executable, "-m", "emulator", "--port", str(port),
                                          "--project-key", PROJECT_KEY, "--issuer", f"{url}/mc"])
    service.wait_http(f"{url}/.well-known/jwks.json")
    return Emulator(url, service)
