"""Plugin discovery: built-ins, the entry-point group, blocking, loud registration errors."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from host import Capabilities, PaymentProvider, hookimpl
from host._version import HOST_API_VERSION
from host.errors import ConfigError
from host.plugins import Plugins
from host.testing import load_instances


def test_builtin_and_entry_point_plugins_are_discovered() -> None:
    plugins = Plugins.discover(blocked=())
    assert plugins.providers["sandbox"].plugin.distribution == "connector-host"
    assert plugins.providers["sandbox"].plugin.builtin
    external = plugins.providers["example_psp"].plugin
    assert (external.distribution, external.version, external.builtin) == ("connector-host-test-plugin", "0.3.1",
                                                                          False)


def test_blocked_plugin_is_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_HOST_BLOCK_PLUGINS", "example_psp, stripe")
    plugins = Plugins.discover()
    assert "example_psp" not in plugins.providers and "stripe" not in plugins.providers
    assert "sandbox" in plugins.providers
    assert plugins.blocked == {"example_psp", "stripe"}


def test_blocked_plugin_is_not_even_imported() -> None:
    code = ("import os, sys; os.environ['CONNECTOR_HOST_BLOCK_PLUGINS']='example_psp';"
            "from host.plugins import Plugins; Plugins.discover(); print('example_plugin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _module(name: str, provider_name: str, cls: type) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def register_providers(registry):  # type: ignore[no-untyped-def]
        registry.register(provider_name, cls)

    module.register_providers = register_providers  # type: ignore[attr-defined]
    return module


class _Dummy(PaymentProvider):
    capabilities = Capabilities(methods=frozenset({"card"}))


def _refused(plugins: Plugins, plugin: str, tmp_path: Path) -> str:
    """The start-up error of a connector.yaml with one instance of ``plugin``."""
    with pytest.raises(ConfigError) as info:
        load_instances(f"x: {{plugin: {plugin}, paymentInterface: x}}", tmp_path, plugins=plugins)
    return str(info.value)


def test_duplicate_provider_name_names_both_packages_and_is_refused_where_used(tmp_path: Path) -> None:
    plugins = Plugins.discover(blocked=(), entry_points=False, extra=[("dup", _module("dup", "sandbox", _Dummy))])
    assert "sandbox" not in plugins.providers and "sandbox_giftcard" in plugins.providers
    (broken,) = plugins.broken
    assert (broken.name, broken.providers) == ("dup", {"sandbox"})
    assert re.search(r"'sandbox' is registered twice: by connector-host \(plugin sandbox\) and by \(in-process\) "
                     r"\(plugin dup\)", broken.problem)
    assert _refused(plugins, "sandbox", tmp_path).endswith(
        f"{broken.problem} (fix or reinstall (in-process), or remove this instance; "
        f"CONNECTOR_HOST_BLOCK_PLUGINS=dup keeps the plugin from loading)")
    load_instances("g: {plugin: sandbox_giftcard, paymentInterface: g}", tmp_path, plugins=plugins)


def test_incompatible_host_api_is_refused_naming_both_versions_where_used(tmp_path: Path) -> None:
    class Future(_Dummy):
        host_api = ">=2,<3"

    plugins = Plugins.discover(blocked=(), entry_points=False, extra=[("future", _module("future", "future", Future))])
    assert "future" not in plugins.providers and "sandbox" in plugins.providers
    assert re.search(r"supports host API >=2,<3, but this connector-host .* provides host API "
                     + re.escape(HOST_API_VERSION),
                     plugins.broken[0].problem)
    assert "supports host API >=2,<3" in _refused(plugins, "future", tmp_path)


def test_registering_something_that_is_not_a_provider_is_reported() -> None:
    plugins = Plugins.discover(blocked=(), entry_points=False, extra=[("bad", _module("bad", "bad", dict))])
    assert "not a PaymentProvider or GiftCardProvider" in plugins.broken[0].problem
    assert plugins.broken_provider("bad") is plugins.broken[0]


def test_a_plugin_whose_registration_raises_is_reported_and_the_others_load(tmp_path: Path) -> None:
    module = types.ModuleType("explodes")

    @hookimpl
    def register_providers(registry):  # type: ignore[no-untyped-def]
        registry.register("explodes", _Dummy)
        raise RuntimeError("no API key in the environment")

    module.register_providers = register_providers  # type: ignore[attr-defined]
    plugins = Plugins.discover(blocked=(), entry_points=False, extra=[("explodes", module)])
    assert "explodes" not in plugins.providers and "sandbox" in plugins.providers
    assert plugins.broken[0].problem.endswith("(plugin explodes) failed: RuntimeError: no API key in the environment")
    assert "no API key" in _refused(plugins, "explodes", tmp_path)


def test_a_plugin_implementing_an_unknown_hook_is_reported() -> None:
    module = types.ModuleType("typo")

    @hookimpl
    def register_provider(registry):  # type: ignore[no-untyped-def]  # the 's' is missing
        pass

    module.register_provider = register_provider  # type: ignore[attr-defined]
    plugins = Plugins.discover(blocked=(), entry_points=False, extra=[("typo", module)])
    assert "typo" not in plugins.plugins and "sandbox" in plugins.providers
    assert "implements an unknown hook" in plugins.broken[0].problem
    assert plugins.broken[0].providers == {"typo"}
