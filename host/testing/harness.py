"""The test harness behind ``host.testing``: a running emulator and a host built from a YAML snippet."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from emulator import EMULATOR_KEY, Emulator, EmulatorConfig, create_emulator_app, mint_mc_jwt
from host.app import create_app
from host.config import Deployment, load_config
from host.plugins import Plugins

PROJECT_KEY = "test-project"
ISSUER = "http://127.0.0.1/mc-test"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningEmulator:
    """The commercetools stand-in, served on loopback."""

    url: str
    emulator: Emulator
    config: EmulatorConfig
    server: TestServer

    def stats(self) -> dict[str, int]:
        """Calls per ``METHOD /route/template`` since the last ``reset_stats()``."""
        return dict(self.emulator.stats)

    def reset_stats(self) -> None:
        self.emulator.reset_stats()

    def calls(self) -> int:
        return sum(self.emulator.stats.values())


async def start_emulator(**overrides: Any) -> RunningEmulator:
    config = EmulatorConfig(project_key=PROJECT_KEY, issuer=ISSUER, **overrides)
    app = create_emulator_app(config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return RunningEmulator(str(server.make_url("")).rstrip("/"), app[EMULATOR_KEY], config, server)


def yaml_for(emulator: RunningEmulator, instances: str, *, port: int, extra: str = "") -> str:
    """A full connector.yaml for ``instances`` (the YAML under ``instances:``) against ``emulator``."""
    return (f"commercetools:\n  embedded: false\n  projectKey: {PROJECT_KEY}\n  clientId: connector\n"
            f"  clientSecret: connector-secret\n  authUrl: {emulator.url}\n  apiUrl: {emulator.url}\n"
            f"  sessionUrl: {emulator.url}/\n  jwksUrl: {emulator.url}/.well-known/jwks.json\n"
            f"  jwtIssuer: {ISSUER}\n  timeout: 5\n"
            f"server:\n  host: 127.0.0.1\n  port: {port}\n  publicUrl: http://127.0.0.1:{port}\n"
            f"  logFormat: text\n{extra}"
            f"instances:\n{textwrap.indent(textwrap.dedent(instances).strip(), '  ')}\n")


@dataclass
class HostClient:
    """A running host (``client`` is aiohttp's ``TestClient``) plus shortcuts for the usual set-up."""

    client: TestClient[web.Request, web.Application]
    ct: RunningEmulator
    deployment: Deployment
    url: str
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.client.app

    def cart(self, amount: int = 5950, currency: str = "EUR", **kwargs: Any) -> dict[str, Any]:
        items = [{"name": "Test item", "centAmount": amount, "quantity": 1}]
        return self.ct.emulator.create_cart(currency, items, **kwargs)

    def session(self, payment_interface: str | None = None, *, amount: int = 5950, currency: str = "EUR",
                cart: Mapping[str, Any] | None = None, **metadata: Any) -> str:
        """A Checkout session for a new cart of ``amount`` (or ``cart``); returns the session id."""
        cart = cart or self.cart(amount, currency)
        meta: dict[str, Any] = {"processorUrl": self.url, **metadata}
        if payment_interface:
            meta["paymentInterface"] = payment_interface
        session = self.ct.emulator.create_session(str(cart["id"]), meta)
        return str(session["id"])

    def oauth_token(self, scopes: list[str] | None = None) -> str:
        """A bearer token of Checkout's client (``manage_checkout_payment_intents`` by default), reused per
        scope set as a real client reuses its token."""
        key = " ".join(scopes or ["default"])
        if key not in self._tokens:
            self._tokens[key] = self.ct.emulator.issue_token("checkout", scopes)
        return self._tokens[key]

    def mc_jwt(self, **kwargs: Any) -> str:
        """A Merchant Center JWT the host accepts (pass ``issuer=``, ``expires_in=`` ... to spoil it)."""
        return mint_mc_jwt(self.ct.config, project_key=kwargs.pop("project_key", PROJECT_KEY), **kwargs)

    def payment(self, payment_id: str) -> dict[str, Any]:
        found = self.ct.emulator.get_payment(payment_id)
        assert found is not None, f"no payment {payment_id}"
        return found

    async def pay(self, session_id: str, body: Mapping[str, Any] | None = None) -> aiohttp.ClientResponse:
        """``POST /payments`` with the template mock's body (card, Authorized) unless given."""
        body = body if body is not None else {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
        return await self.client.post("/payments", json=body, headers={"X-Session-Id": session_id})

    async def intent(self, payment_id: str, action: Mapping[str, Any], **headers: str) -> aiohttp.ClientResponse:
        """``POST /operations/payment-intents/{id}`` with one action and Checkout's token."""
        return await self.client.post(f"/operations/payment-intents/{payment_id}", json={"actions": [action]},
                                      headers={"Authorization": f"Bearer {self.oauth_token()}", **headers})

    async def close(self) -> None:
        await self.client.close()


_plugins: Plugins | None = None


def discovered_plugins() -> Plugins:
    """Plugins discovered once per test process (built-ins and installed entry points)."""
    global _plugins
    if _plugins is None:
        _plugins = Plugins.discover(blocked=())
    return _plugins


async def start_host(emulator: RunningEmulator, instances: str, directory: Path, *, extra: str = "",
                     plugins: Plugins | None = None) -> HostClient:
    port = free_port()
    path = directory / "connector.yaml"
    path.write_text(yaml_for(emulator, instances, port=port, extra=extra), encoding="utf-8")
    deployment = load_config(path, plugins or discovered_plugins())
    app = create_app(deployment)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    return HostClient(client, emulator, deployment, f"http://127.0.0.1:{port}")
