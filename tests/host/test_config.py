"""connector.yaml: every configuration error names file, line, path and the fix; never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from host.config import load_config
from host.errors import ConfigError
from host.testing.harness import discovered_plugins

BASE = """\
commercetools:
  projectKey: pk
instances:
"""


def write(tmp_path: Path, instances: str, head: str = BASE) -> Path:
    path = tmp_path / "connector.yaml"
    path.write_text(head + textwrap.indent(textwrap.dedent(instances), "  "), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, discovered_plugins())
    return str(info.value)


def test_missing_setting_names_file_line_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        stripe-eu:
          plugin: stripe
          paymentInterface: stripe-eu
          settings:
            publishableKey: pk_test_1
            webhookSecret: whsec_1
        """)
    message = error_of(path)
    assert message.startswith("connector.yaml:7 instances.stripe-eu.settings.secretKey: field required"), message


def test_unknown_setting_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        sb:
          plugin: sandbox
          paymentInterface: mock
          settings:
            mode: sync
            colour: blue
        """)
    assert error_of(path) == ("connector.yaml:9 instances.sb.settings.colour: unknown key "
                              "(remove it or check its spelling)")


def test_unknown_plugin_lists_available_ones_with_distribution(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        x:
          plugin: adyen
          paymentInterface: adyen
        """)
    message = error_of(path)
    assert message.startswith("connector.yaml:5 instances.x.plugin: unknown plugin 'adyen'")
    assert "sandbox (connector-host " in message and "example_psp (connector-host-test-plugin 0.3.1)" in message


def test_duplicate_payment_interface(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        a:
          plugin: sandbox
          paymentInterface: mock
        b:
          plugin: sandbox
          paymentInterface: mock
        """)
    assert error_of(path).startswith("connector.yaml:9 instances.b.paymentInterface: paymentInterface 'mock' "
                                     "is already used by instance 'a'")


def test_method_the_plugin_cannot_serve(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        a:
          plugin: sandbox
          paymentInterface: mock
          methods: [card, bitcoin]
        """)
    message = error_of(path)
    assert message.startswith("connector.yaml:7 instances.a.methods: plugin 'sandbox' cannot serve method(s) bitcoin")
    assert "it serves: card, customtestmethod, invoice, purchaseorder" in message


def test_unset_variable_without_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    path = write(tmp_path, """\
        a:
          plugin: example_psp
          paymentInterface: ex
          settings:
            apiKey: ${NOPE_SECRET}
        """)
    assert error_of(path) == ("connector.yaml:8 instances.a.settings.apiKey: environment variable NOPE_SECRET "
                              "is not set (export NOPE_SECRET=... or write ${NOPE_SECRET:-default})")


def test_interpolation_with_defaults_and_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EX_KEY", "secret-from-env")
    monkeypatch.delenv("EX_PORT", raising=False)
    path = write(tmp_path, """\
        a:
          plugin: example_psp
          paymentInterface: ex-${EX_REGION:-eu}
          settings: {apiKey: "${EX_KEY}"}
        """, head="server:\n  port: ${EX_PORT:-9123}\n" + BASE)
    deployment = load_config(path, discovered_plugins())
    assert deployment.config.server.port == 9123
    inst = deployment.instances["a"]
    assert inst.payment_interface == "ex-eu"
    assert inst.settings.apiKey == "secret-from-env"  # type: ignore[attr-defined]


def test_ctp_environment_carries_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTP_PROJECT_KEY", "from-env")
    monkeypatch.setenv("CTP_API_URL", "https://api.example.test")
    path = tmp_path / "connector.yaml"
    path.write_text("instances:\n  a: {plugin: sandbox, paymentInterface: mock}\n", encoding="utf-8")
    ct = load_config(path, discovered_plugins()).config.commercetools
    assert (ct.projectKey, ct.apiUrl) == ("from-env", "https://api.example.test")


def test_two_instances_of_one_plugin_keep_their_own_settings(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        ex-eu:
          plugin: example_psp
          paymentInterface: ex-eu
          settings: {apiKey: k1, region: eu}
        ex-us:
          plugin: example_psp
          paymentInterface: ex-us
          settings: {apiKey: k2, region: us}
        """)
    deployment = load_config(path, discovered_plugins())
    regions = {i.id: i.settings.region for i in deployment.instances.values()}  # type: ignore[attr-defined]
    assert regions == {"ex-eu": "eu", "ex-us": "us"}


def test_invalid_yaml_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text("instances:\n  a: {plugin: sandbox\n  b: [\n", encoding="utf-8")
    assert error_of(path).startswith("connector.yaml:")


def test_cli_check_prints_one_line_and_exit_2_never_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "a: {plugin: nope, paymentInterface: x}\n")
    result = subprocess.run([sys.executable, "-m", "host", "check", "--config", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("connector-host: connector.yaml:4 instances.a.plugin: unknown plugin 'nope'")


def test_cli_check_prints_routing_table_with_distribution(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        ex:
          plugin: example_psp
          paymentInterface: ex-pi
          methods: [ideal]
          captureMethod: automatic
          settings: {apiKey: k}
        """)
    result = subprocess.run([sys.executable, "-m", "host", "check", "--config", str(path)],
                            capture_output=True, text=True, check=True)
    row = next(line for line in result.stdout.splitlines() if line.startswith("ex "))
    assert row.split() == ["ex", "example_psp", "connector-host-test-plugin", "0.3.1", "ex-pi", "ideal",
                           "automatic", "yes"]


def test_capture_method_defaults_to_what_the_provider_supports(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        sb: {plugin: sandbox, paymentInterface: mock}
        bank:
          plugin: bank_transfer
          paymentInterface: bank
          settings:
            iban: DE89 3704 0044 0532 0130 00
            bic: COBADEFFXXX
            accountHolder: Shop
            webhookSecret: sixteen-chars-secret
        """)
    instances = load_config(path, discovered_plugins()).instances
    assert instances["sb"].capture_method.value == "manual"
    assert instances["bank"].capture_method.value == "automatic"


def test_unsupported_capture_method_names_the_supported_ones(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        bank:
          plugin: bank_transfer
          paymentInterface: bank
          captureMethod: manual
          settings:
            iban: DE89 3704 0044 0532 0130 00
            bic: COBADEFFXXX
            accountHolder: Shop
            webhookSecret: sixteen-chars-secret
        """)
    assert error_of(path) == ("connector.yaml:7 instances.bank.captureMethod: plugin 'bank_transfer' does not "
                              "support captureMethod manual (supported: automatic)")
