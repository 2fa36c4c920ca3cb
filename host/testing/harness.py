"""The test harness behind ``host.testing``: a host built from a YAML snippet, served in-process against a
commercetools (``backends``: the emulator; ``judge``: ct-mock), and the shortcuts every host client has."""

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

from host.app import create_app
from host.config import Deployment, load_config
from host.keys import ROUTER
from host.plugins import Plugins
from host.providers import Provider
from host.server import HostRunner
from host.testing.backends import (
    ISSUER,
    PROJECT_KEY,
    CartLine,
    Commercetools,
    Endpoints,
    RunningEmulator,
    start_emulator,
)

__all__ = ["ISSUER", "PROJECT_KEY", "HostClient", "HostShortcuts", "RunningEmulator", "connector_yaml",
           "discovered_plugins", "free_port", "load_instances", "plugins_with", "start_emulator", "start_host",
           "yaml_for"]


class HostTestServer(TestServer):
    """``TestServer`` with the host's own runner, so the tests meet the limits production has."""

    async def _make_runner(self, **kwargs: Any) -> HostRunner:
        return HostRunner(self.app, **kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def connector_yaml(instances: str, *, url: str | Endpoints = "http://127.0.0.1:9", port: int = 8080,
                   extra: str = "", project_key: str = PROJECT_KEY, issuer: str = ISSUER, ct_timeout: float = 5) -> str:
    """A full connector.yaml for ``instances`` (the YAML under ``instances:``) with commercetools at ``url``
    (one base URL for every service, or each service's ``Endpoints``), ``ct_timeout`` seconds per call."""
    at = Endpoints.at(url) if isinstance(url, str) else url
    return (f"commercetools:\n  embedded: false\n  projectKey: {project_key}\n  clientId: connector\n"
            f"  clientSecret: connector-secret\n  authUrl: {at.auth}\n  apiUrl: {at.api}\n"
            f"  sessionUrl: {at.session}\n  jwksUrl: {at.jwks}\n"
            f"  jwtIssuer: {issuer}\n  timeout: {ct_timeout:g}\n"
            f"server:\n  host: 127.0.0.1\n  port: {port}\n  publicUrl: http://127.0.0.1:{port}\n"
            f"  logFormat: text\n{extra}"
            f"instances:\n{textwrap.indent(textwrap.dedent(instances).strip(), '  ')}\n")


def yaml_for(ct: Commercetools, instances: str, *, port: int, extra: str = "", ct_timeout: float = 5) -> str:
    """A full connector.yaml for ``instances`` (the YAML under ``instances:``) against ``ct``."""
    return connector_yaml(instances, url=ct.endpoints, port=port, extra=extra, project_key=ct.project_key,
                          issuer=ct.issuer, ct_timeout=ct_timeout)


class HostShortcuts:
    """The usual set-up and calls against one host (served in-process or as an OS process) and its ``ct``.

    A subclass provides ``ct``, ``url`` and ``request()``.
    """

    ct: Commercetools
    url: str
    _tokens: dict[str, str]

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """An HTTP request to the host; ``path`` starts with ``/``."""
        raise NotImplementedError

    def cart(self, amount: int = 5950, currency: str = "EUR", **kwargs: Any) -> dict[str, Any]:
        """A cart of one line of ``amount`` (minor units); ``tax_rate=0.19``, ``anonymous_id=`` ... as the backend's
        ``create_cart``."""
        lines: list[CartLine] = [{"name": "Test item", "centAmount": amount, "quantity": 1}]
        return self.ct.create_cart(currency, lines, **kwargs)

    def session(self, payment_interface: str | None = None, *, amount: int = 5950, currency: str = "EUR",
                cart: Mapping[str, Any] | None = None, **metadata: Any) -> str:
        """A Checkout session for a new cart of ``amount`` (or ``cart``); returns the session id."""
        cart = cart or self.cart(amount, currency)
        meta: dict[str, Any] = {"processorUrl": self.url, **metadata}
        if payment_interface:
            meta["paymentInterface"] = payment_interface
        session = self.ct.create_session(str(cart["id"]), meta)
        return str(session["id"])

    def oauth_token(self, scopes: list[str] | None = None) -> str:
        """A bearer token of Checkout's client (``manage_checkout_payment_intents`` by default), reused per
        scope set as a real client reuses its token."""
        key = " ".join(scopes or ["default"])
        if key not in self._tokens:
            self._tokens[key] = self.ct.issue_token("checkout", scopes)
        return self._tokens[key]

    def mc_jwt(self, **kwargs: Any) -> str:
        """A Merchant Center JWT the host accepts (pass ``issuer=``, ``expires_in=`` ... to spoil it)."""
        return self.ct.mc_jwt(**kwargs)

    def payment(self, payment_id: str) -> dict[str, Any]:
        found = self.ct.get_payment(payment_id)
        assert found is not None, f"no payment {payment_id}"
        return found

    async def pay(self, session_id: str, body: Mapping[str, Any] | None = None) -> aiohttp.ClientResponse:
        """``POST /payments`` with the template mock's body (card, Authorized) unless given."""
        body = body if body is not None else {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
        return await self.request("POST", "/payments", json=body, headers={"X-Session-Id": session_id})

    async def intent(self, payment_id: str, action: Mapping[str, Any], **headers: str) -> aiohttp.ClientResponse:
        """``POST /operations/payment-intents/{id}`` with one action and Checkout's token."""
        return await self.request("POST", f"/operations/payment-intents/{payment_id}", json={"actions": [action]},
                                  headers={"Authorization": f"Bearer {self.oauth_token()}", **headers})

    async def config(self, session_id: str) -> aiohttp.ClientResponse:
        """``GET /operations/config`` for a session (what the enabler asks first)."""
        return await self.request("GET", "/operations/config", headers={"X-Session-Id": session_id})

    async def status(self) -> aiohttp.ClientResponse:
        """``GET /operations/status`` with a Merchant Center JWT."""
        return await self.request("GET", "/operations/status", headers={"Authorization": f"Bearer {self.mc_jwt()}"})

    async def balance(self, session_id: str, code: str) -> aiohttp.ClientResponse:
        """``POST /balance`` of a gift card."""
        return await self.request("POST", "/balance", json={"code": code}, headers={"X-Session-Id": session_id})

    async def redeem(self, session_id: str, code: str, amount: int, currency: str = "EUR") -> aiohttp.ClientResponse:
        """``POST /redeem`` of ``amount`` (minor units) from a gift card."""
        body = {"code": code, "redeemAmount": {"centAmount": amount, "currencyCode": currency}}
        return await self.request("POST", "/redeem", json=body, headers={"X-Session-Id": session_id})

    async def post_webhook(self, instance_id: str, body: bytes, headers: Mapping[str, str] | None = None,
                           *, content_type: str = "application/json") -> aiohttp.ClientResponse:
        """``POST /webhooks/{instance_id}`` with the raw ``body`` bytes, as a PSP delivers a notification.

        Signing is the plugin's business: pass its signature header(s) in ``headers`` (the contract suite
        gets them from ``sign_webhook``). The body is sent byte for byte, so a signature over it holds.
        """
        sent = {"Content-Type": content_type, **(headers or {})}
        return await self.request("POST", f"/webhooks/{instance_id}", data=body, headers=sent)


@dataclass
class HostClient(HostShortcuts):
    """A host served in this process (``client`` is aiohttp's ``TestClient``) against ``ct``."""

    client: TestClient[web.Request, web.Application]
    ct: Commercetools
    deployment: Deployment
    url: str
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.client.app

    @property
    def emulator(self) -> RunningEmulator:
        """``ct`` when it is the emulator (faults, stats and the clock are emulator-only)."""
        if not isinstance(self.ct, RunningEmulator):
            raise TypeError(f"this host runs against {self.ct.name}, not the emulator")
        return self.ct

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.client.request(method, path, **kwargs)

    def provider(self, instance_id: str) -> Provider:
        """The provider object the host created for ``instance_id`` (for white-box assertions)."""
        return self.app[ROUTER].for_id(instance_id).provider

    async def close(self) -> None:
        await self.client.close()


_plugins: Plugins | None = None


def discovered_plugins() -> Plugins:
    """Plugins discovered once per test process (built-ins and installed entry points)."""
    global _plugins
    if _plugins is None:
        _plugins = Plugins.discover(blocked=())
    return _plugins


def load_instances(instances: str, directory: Path, *, plugins: Plugins | None = None) -> Deployment:
    """Validate a connector.yaml made of ``instances`` (the YAML under ``instances:``) as start-up and
    ``connector-host check`` do. A problem raises ``ConfigError`` with file, line, path and fix."""
    path = directory / "connector.yaml"
    path.write_text(connector_yaml(instances), encoding="utf-8")
    return load_config(path, plugins or discovered_plugins())


def plugins_with(modules: Mapping[str, object]) -> Plugins:
    """The installed plugins plus ``modules`` (plugin name -> module or object with ``@hookimpl`` functions),
    registered in-process as if they were installed: for testing a provider before it is packaged."""
    if not modules:
        return discovered_plugins()
    return Plugins.discover(blocked=(), extra=list(modules.items()))


async def start_host(ct: Commercetools, instances: str, directory: Path, *, extra: str = "",
                     plugins: Plugins | None = None) -> HostClient:
    """Build the host from ``instances`` against ``ct`` and serve it on a free loopback port in this process."""
    port = free_port()
    path = directory / "connector.yaml"
    path.write_text(yaml_for(ct, instances, port=port, extra=extra), encoding="utf-8")
    deployment = load_config(path, plugins or discovered_plugins())
    app = create_app(deployment)
    client: TestClient[web.Request, web.Application] = TestClient(HostTestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    return HostClient(client, ct, deployment, f"http://127.0.0.1:{port}")
