"""Plugin discovery: built-ins, the entry-point group, blocking, loud registration errors."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from host import Capabilities, PaymentProvider, hookimpl
from host.errors import PluginError
from host.plugins import Plugins


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


def test_duplicate_provider_name_names_both_packages() -> None:
    with pytest.raises(PluginError, match=r"'sandbox' is registered twice: by connector-host .*\(in-process\)"):
        Plugins.discover(blocked=(), entry_points=False, extra=[("dup", _module("dup", "sandbox", _Dummy))])


def test_incompatible_host_api_is_refused_naming_both_versions() -> None:
    class Future(_Dummy):
        host_api = ">=2,<3"

    with pytest.raises(PluginError, match=r"supports host API >=2,<3, but this connector-host .* provides host "
                                          r"API 1\.1"):
        Plugins.discover(blocked=(), entry_points=False, extra=[("future", _module("future", "future", Future))])


def test_registering_something_that_is_not_a_provider_fails() -> None:
    with pytest.raises(PluginError, match="not a PaymentProvider or GiftCardProvider"):
        Plugins.discover(blocked=(), entry_points=False, extra=[("bad", _module("bad", "bad", dict))])
