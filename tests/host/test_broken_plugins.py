"""A broken or incompatible installed plugin is reported, not fatal, unless connector.yaml uses it.

Two real distributions (``tests/fixtures/broken/``) are installed by pip into a folder of their own, put on
``PYTHONPATH`` of the commands: one whose import fails, one written for host API 2. The environment the
rest of the suite runs in never sees them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.serving import CLI, ROOT, free_port, serving

from host._version import HOST_API_VERSION, __version__

FIXTURES = ROOT / "tests" / "fixtures" / "broken"
BROKEN = ("plugin 'broken_psp' from connector-host-broken-psp 0.2.0 failed to load: ModuleNotFoundError: "
          "No module named 'broken_psp_sdk_that_is_not_installed'")
FUTURE = ("provider 'future_psp' of connector-host-future-psp 2.0.0 supports host API >=2,<3, but this "
          f"connector-host {__version__} provides host API {HOST_API_VERSION}; install a matching version of "
          "connector-host-future-psp")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a shell in which both broken distributions are installed."""
    target = tmp_path_factory.mktemp("site")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(target),
         str(FIXTURES / "dist_broken_psp"), str(FIXTURES / "dist_future_psp")],
        capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env = {**os.environ, "PYTHONPATH": str(target), "CONNECTOR_HOST_BLOCK_PLUGINS": ""}
    env.pop("CONNECTOR_CONFIG", None)
    yield env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_plugins_lists_them_as_broken_with_the_reason(env: dict[str, str]) -> None:
    listed = _run(env, "plugins")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert f"broken_psp           connector-host-broken-psp 0.2.0: BROKEN: {BROKEN}" in lines
    assert f"future_psp           connector-host-future-psp 2.0.0: BROKEN: {FUTURE}" in lines
    assert "sandbox              connector-host 0.1.0 (built-in): sandbox" in lines
    assert "CONNECTOR_HOST_BLOCK_PLUGINS=broken_psp,future_psp keeps them from loading." in listed.stdout


def test_check_warns_and_goes_on_when_connector_yaml_does_not_use_them(env: dict[str, str]) -> None:
    checked = _run(env, "check", "--config", "connector.yaml")
    assert checked.returncode == 0, checked.stderr
    assert "connector.yaml: OK, 2 instance(s)" in checked.stdout
    assert checked.stderr.splitlines() == [
        f"connector-host: warning: {BROKEN} (connector.yaml does not use it; "
        f"CONNECTOR_HOST_BLOCK_PLUGINS=broken_psp keeps the plugin from loading)",
        f"connector-host: warning: {FUTURE} (connector.yaml does not use it; "
        f"CONNECTOR_HOST_BLOCK_PLUGINS=future_psp keeps the plugin from loading)"]

    blocked = _run({**env, "CONNECTOR_HOST_BLOCK_PLUGINS": "broken_psp,future_psp"}, "check")
    assert blocked.returncode == 0 and blocked.stderr == ""


def test_serve_warns_and_serves(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with serving({**env, "PORT": str(port), "CT_EMULATOR_PORT": "0", "METRICS_PORT": "0"}, log, port=port):
        said = log.read_text(encoding="utf-8")
    assert "warning: plugin 'broken_psp' from connector-host-broken-psp 0.2.0 failed to load" in said
    assert "warning: provider 'future_psp' of connector-host-future-psp 2.0.0 supports host API >=2,<3" in said


@pytest.mark.parametrize(("plugin", "problem"), [("future_psp", FUTURE), ("broken_psp", BROKEN)])
def test_an_instance_that_uses_one_stops_start_up_with_the_reason_and_the_hint(
        env: dict[str, str], tmp_path: Path, plugin: str, problem: str) -> None:
    config = tmp_path / "connector.yaml"
    config.write_text(f"commercetools:\n  embedded: true\ninstances:\n  psp:\n    plugin: {plugin}\n"
                      f"    paymentInterface: psp\n", encoding="utf-8")
    for command in ("check", "serve"):
        refused = _run({**env, "PORT": "0", "CT_EMULATOR_PORT": "0", "METRICS_PORT": "0"}, command, "--config",
                       str(config))
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [
            f"connector-host: connector.yaml:5 instances.psp.plugin: {problem} (fix or reinstall "
            f"connector-host-{plugin.replace('_', '-')}, or remove this instance; "
            f"CONNECTOR_HOST_BLOCK_PLUGINS={plugin} keeps the plugin from loading)"]
