"""Meta-tests of the hook specs (datasette's habit): each is documented, has a test named after it, and
docs/hooks.md is generated from them. Then the tests named after each hook."""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from host import Capabilities, PaymentProvider, Registry, hookimpl
from host.app import create_app
from host.config import load_config
from host.plugins import Plugins
from host.testing import connector_yaml
from host.testing.hookdoc import DOC_PATH, problems, render, specs

TESTS = Path(__file__).resolve().parents[1]
#: the installed test distribution tests/fixtures/dist_example_plugin (found through its entry point)
example_plugin = importlib.import_module("example_plugin")
SPECS = specs()


def test_the_hookspecs_are_found() -> None:
    assert [s.__name__ for s in SPECS] == ["register_providers", "connector_config_loaded"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.__name__)
def test_hookspec_is_documented(spec: Callable[..., Any]) -> None:
    """A description, a ``:param:`` for each parameter, and a ``:return:``."""
    assert problems(spec) == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.__name__)
def test_hookspec_is_not_firstresult(spec: Callable[..., Any]) -> None:
    """STYLE: never ``firstresult`` on a hook (implementations of a broadcast must all run)."""
    assert not spec.connector_host_spec.get("firstresult")  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.__name__)
def test_hookspec_has_a_test_named_after_it(spec: Callable[..., Any]) -> None:
    pattern = re.compile(rf"^\s*(async\s+)?def test_{spec.__name__}\b", re.MULTILINE)
    found = [p for p in TESTS.rglob("test_*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert found, f"no test named test_{spec.__name__} under tests/"


def test_the_documentation_checker_finds_what_is_missing() -> None:
    def half_documented(registry: Registry, extra: int) -> None:
        """Register things.

        :param registry: where.
        :param typo: a parameter it does not have.
        """

    assert problems(half_documented) == [
        "half_documented: no ':param extra:' in the docstring",
        "half_documented: ':param typo:' documents a parameter it does not have",
        "half_documented: no ':return:' in the docstring",
    ]


def test_docs_hooks_md_is_generated_from_the_hookspecs() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), \
        "docs/hooks.md is stale: run `python -m host.testing.hookdoc --write`"
    for spec in SPECS:
        assert f"## {spec.__name__}\n" in render()


# -- one test per hook ---------------------------------------------------------------------------------


class _Psp(PaymentProvider):
    capabilities = Capabilities(methods=frozenset({"card"}))


def test_register_providers() -> None:
    """Each plugin's implementation is called once with a ``Registry``; what it registers is served under
    that name, attributed to the plugin; built-ins and installed plugins register the same way."""
    calls: list[Registry] = []
    module = types.ModuleType("in_process")

    @hookimpl
    def register_providers(registry: Registry) -> None:
        calls.append(registry)
        registry.register("in_process_psp", _Psp)

    module.register_providers = register_providers  # type: ignore[attr-defined]
    plugins = Plugins.discover(blocked=(), extra=[("in_process", module)])
    assert len(calls) == 1 and isinstance(calls[0], Registry)
    entry = plugins.providers["in_process_psp"]
    assert entry.cls is _Psp and entry.plugin.name == "in_process"
    assert {"sandbox", "sandbox_giftcard", "stripe"} <= set(plugins.providers)
    assert plugins.providers["example_psp"].plugin.distribution == "connector-host-test-plugin"


def test_connector_config_loaded(tmp_path: Path) -> None:
    """Called once per app with the enabled instances (id -> paymentInterface), by an installed plugin too."""
    path = tmp_path / "connector.yaml"
    path.write_text(connector_yaml("""\
        card: {plugin: sandbox, paymentInterface: mock}
        off: {plugin: sandbox, paymentInterface: mock-off, enabled: false}
        ex: {plugin: example_psp, paymentInterface: example, settings: {apiKey: k}}
        """), encoding="utf-8")
    deployment = load_config(path, Plugins.discover(blocked=()))
    seen = len(example_plugin.SEEN)
    create_app(deployment)
    assert example_plugin.SEEN[seen:] == [{"card": "mock", "ex": "example"}]
