"""Browser tests: Debian's Chromium driven by Playwright against the real host with its embedded
commercetools stand-in, served on loopback from a background thread.

* ``live`` (session): the host (``connector.yaml`` below, with the Stripe plugin on localstripe) and a
  second origin, ``live.other``, that serves ``harness.html`` (a page that is not the host's, as
  Checkout's is not) and the Stripe.js stand-in's confirm endpoint.
* ``page`` (per test): a fresh browser context; when the test ends, a screenshot goes to
  ``test-artifacts/browser/<test>.png`` and an uncaught page error fails the test.

Playwright's own browser download does not work here: ``make test`` installs Debian's ``chromium``
(``tests/browser/ensure-chromium.sh``), and these tests fail, saying so, when it is missing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from browser_live import AccessLog, Live, connector_yaml, other_origin

from host.app import create_app
from host.config import load_config
from host.testing.harness import discovered_plugins, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def live(localstripe_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    port, emulator_port, other_port = free_port(), free_port(), free_port()
    localstripe = f"http://127.0.0.1:{localstripe_port}"
    path = tmp_path_factory.mktemp("browser-host") / "connector.yaml"
    path.write_text(connector_yaml(port, emulator_port, localstripe), encoding="utf-8")
    app = create_app(load_config(path, discovered_plugins()))
    access = AccessLog()
    access_logger = logging.getLogger("host.access")
    access_logger.addHandler(access)
    level = access_logger.level
    access_logger.setLevel(logging.INFO)
    runners: list[web.AppRunner] = []
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def start() -> None:
        runners.append(web.AppRunner(app, access_log=None))
        await runners[0].setup()
        await web.TCPSite(runners[0], "127.0.0.1", port).start()
        runners.append(await other_origin(other_port, localstripe))

    def serve() -> None:   # the whole life of the servers' loop is in this thread (Playwright owns the main one)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        finally:
            started.set()
        loop.run_forever()
        for runner in reversed(runners):
            loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="browser-host", daemon=True)
    thread.start()
    started.wait(timeout=30)
    try:
        assert len(runners) == 2, "the browser tests' host did not start"
        yield Live(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}", f"http://127.0.0.1:{other_port}",
                   localstripe, access)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        access_logger.removeHandler(access)
        access_logger.setLevel(level)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for one test module. Not longer: while Playwright's sync API runs it holds the main
    thread's event loop, and the async tests of other modules need that loop."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium "
                    "(tests/browser/ensure-chromium.sh), or set CHROMIUM to a Chromium binary", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"),
                    full_page=True)
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
