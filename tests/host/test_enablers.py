"""``/enablers/{instance}/{name}``: the enabler files a provider ships, served per instance.

What Checkout's page (another origin) needs: the right content type, CORS on every answer (errors too),
caching it can rely on, nothing outside the bundle, and ``payment-components`` saying which URL is whose.
The bundles themselves run in Chromium in ``tests/browser``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from host import Capabilities, EnablerAssets, GiftCardProvider, PluginError, StatusCheck, hookimpl
from host.enablers import bundle
from host.testing import HostClient, plugins_with

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = """\
card: {plugin: sandbox, paymentInterface: mock}
gift: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
off: {plugin: sandbox, paymentInterface: mock-off, enabled: false}
"""
MODULE = "/enablers/card/connector-enabler.es.js"


@pytest.fixture
async def host(connector_host: MakeHost) -> HostClient:
    return await connector_host(INSTANCES)


async def test_es_module_and_umd_script_with_content_type_cors_and_etag(host: HostClient) -> None:
    module = await host.client.get(MODULE, headers={"Origin": "https://checkout.example"})
    assert module.status == 200
    assert module.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert module.headers["Access-Control-Allow-Origin"] == "*"
    assert module.headers["X-Content-Type-Options"] == "nosniff"
    assert module.headers["Cache-Control"] == "no-cache"
    text = await module.text()
    assert "export { Enabler };" in text and "createComponentBuilder" in text
    script = await (await host.client.get("/enablers/card/connector-enabler.umd.js")).text()
    assert "root.Connector = { Enabler: __connector.Enabler }" in script and "export" not in script.split("\n")[-3]
    again = await host.client.get(MODULE, headers={"If-None-Match": module.headers["ETag"]})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == module.headers["ETag"]


async def test_each_instance_serves_its_own_provider_enabler(host: HostClient) -> None:
    gift = await (await host.client.get("/enablers/gift/connector-enabler.es.js")).text()
    card = await (await host.client.get(MODULE)).text()
    assert "createGiftCardBuilder" in gift and "createGiftCardBuilder" not in card


async def test_payment_components_name_the_urls_and_the_hashed_name_is_immutable(host: HostClient) -> None:
    resp = await host.client.get("/operations/payment-components",
                                 headers={"Authorization": f"Bearer {host.mc_jwt()}"})
    entries = {e["instance"]: e for e in (await resp.json())["enablers"]}
    assert set(entries) == {"card", "gift"}                     # a disabled instance is not offered
    assert entries["gift"]["paymentInterface"] == "mock-giftcard-provider"
    assert entries["card"]["url"] == f"{host.url}{MODULE}"
    versioned = entries["card"]["versionedUrl"].removeprefix(host.url)
    assert versioned != MODULE and versioned.startswith("/enablers/card/connector-enabler.")
    pinned = await host.client.get(versioned)
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert await pinned.read() == await (await host.client.get(MODULE)).read()


@pytest.mark.parametrize("path", [
    "/enablers/card/nope.js",                                  # not in the bundle
    "/enablers/off/connector-enabler.es.js",                   # a disabled instance
    "/enablers/nobody/connector-enabler.es.js",                # no such instance
    "/enablers/card/..%2F..%2Fapp.py",                          # encoded traversal
    "/enablers/card/%2e%2e%2fproviders.py",
    "/enablers/card/common.js",                                 # a source file is not served as it is
])
async def test_anything_else_is_a_404_envelope_with_cors(host: HostClient, path: str) -> None:
    resp = await host.client.get(path, headers={"Origin": "https://checkout.example"})
    assert resp.status == 404
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert (await resp.json())["errors"][0]["code"] == "ResourceNotFound"


async def test_preflight_for_an_enabler_file(host: HostClient) -> None:
    resp = await host.client.options(MODULE, headers={"Origin": "https://checkout.example",
                                                      "Access-Control-Request-Method": "GET"})
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"


def test_bundle_keeps_the_sources_names_out_of_the_page() -> None:
    module, script = bundle("class Enabler {}\nconst helper = 1;")
    assert module.startswith("const __connector = (() => {\n\"use strict\";\nclass Enabler {}")
    assert module.rstrip().endswith("export default Enabler;")
    assert script.startswith("(function (root) {") and "const helper" in script


class _Cards(GiftCardProvider):
    """A gift-card provider that ships a directory of files besides its script."""

    capabilities = Capabilities(methods=frozenset({"giftcard"}), capture=False, cancel=False)
    directory: Path

    async def status(self) -> StatusCheck:
        return StatusCheck("files", "UP")

    async def balance(self, code: str, currency: str) -> Any:
        raise NotImplementedError

    async def redeem(self, request: Any) -> Any:
        raise NotImplementedError

    async def refund(self, request: Any) -> Any:
        raise NotImplementedError

    def enabler(self) -> EnablerAssets:
        return EnablerAssets(sources=[self.directory / "main.js"], files=self.directory / "public")


def _plugin(directory: Path) -> object:
    cls = type("Cards", (_Cards,), {"directory": directory})

    @hookimpl
    def register_providers(registry: Any) -> None:
        registry.register("files", cls)

    return SimpleNamespace(register_providers=register_providers)


async def test_a_plugins_files_directory_is_served_as_it_is(connector_host: MakeHost, tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "main.js").write_text("class Enabler {}\n")
    (tmp_path / "public" / "theme.css").write_text(".x{}\n")
    (tmp_path / "public" / ".hidden").write_text("secret\n")
    host = await connector_host("files: {plugin: files, paymentInterface: files}",
                                plugins=plugins_with({"files": _plugin(tmp_path)}))
    css = await host.client.get("/enablers/files/theme.css")
    assert css.status == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert await css.text() == ".x{}\n"
    assert (await host.client.get("/enablers/files/.hidden")).status == 404


async def test_a_file_clashing_with_the_bundle_stops_start_up(connector_host: MakeHost, tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "main.js").write_text("class Enabler {}\n")
    (tmp_path / "public" / "connector-enabler.es.js").write_text("export {}\n")
    with pytest.raises(PluginError, match=r"enabler of instance .files.* clashes"):
        await connector_host("files: {plugin: files, paymentInterface: files}",
                             plugins=plugins_with({"files": _plugin(tmp_path)}))
