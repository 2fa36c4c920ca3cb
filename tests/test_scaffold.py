"""``connector-host new-plugin``: ``host.scaffold`` writes a plugin distribution that passes its own tests.

The end-to-end test does what the generated README says, as a plugin author would, outside this
repository's environment: the README's "Develop" block runs in bash in the new project, with ``python`` the
base interpreter (not this venv's). It makes a new virtual environment with pip, installs connector-host
from where ``new-plugin`` found it (this checkout, editable), then the plugin with its test tools, and runs
``pytest``. The dependencies come from the package index through pip's cache, as for any user. Then the
new environment's ``connector-host`` validates a connector.yaml that enables the plugin, and lists it.

It takes about 20 s on a 2-core machine, most of it in pip installing connector-host's dependencies.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from host.scaffold import host_source, install_source, render, scaffold, validate_name

ROOT = Path(__file__).resolve().parents[1]
NAME = "acme_pay"


@pytest.mark.parametrize(("name", "message"), [
    ("AcmePay", r"must be lower_snake_case.*for example 'acmepay'"),
    ("acme-pay", r"must be lower_snake_case.*for example 'acme_pay'"),
    ("acme__pay", "must be lower_snake_case"),
    ("1pay", "must be lower_snake_case"),
    ("a" * 41, "at most 40 characters"),
    ("class", "is a Python keyword"),
    ("host", "taken by connector-host itself"),
    ("plugins", "taken by connector-host itself"),
    ("emulator", "taken by connector-host itself"),
    ("stripe", "is a built-in plugin"),
    ("json", "module of the Python standard library"),
    ("pydantic", "already an importable module"),
])
def test_a_bad_name_is_refused_with_the_reason(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_name(name)


def test_an_existing_project_is_not_overwritten(tmp_path: Path) -> None:
    created = scaffold(NAME, tmp_path)
    assert created == tmp_path / "connector-host-acme-pay"
    (created / "README.md").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="already exists"):
        scaffold(NAME, tmp_path)
    assert (created / "README.md").read_text(encoding="utf-8") == "mine"


def test_the_project_has_the_entry_point_package_and_tests() -> None:
    files = render(NAME)
    assert set(files) == {Path(p) for p in (
        "pyproject.toml", "README.md", ".gitignore", "acme_pay/__init__.py", "acme_pay/provider.py",
        "acme_pay/settings.py", "acme_pay/py.typed", "acme_pay/enabler/enabler.js", "tests/conftest.py",
        "tests/test_acme_pay.py")}
    project = tomllib.loads(files[Path("pyproject.toml")])
    assert project["project"]["name"] == "connector-host-acme-pay"
    assert project["project"]["entry-points"]["connector_host"] == {NAME: NAME}
    assert project["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    assert 'pytest_plugins = ["host.testing"]' in files[Path("tests/conftest.py")]
    assert "class TestAcmePayContract(ProviderContract):" in files[Path("tests/test_acme_pay.py")]
    for path, text in files.items():
        if path.suffix == ".py":
            compile(text, str(path), "exec")
        assert not re.search(r"\$\{?(name|dist|cls|title|interface|env|host_version|host_api)\b", text), \
            f"{path}: a template placeholder is left"


def test_the_readme_installs_connector_host_from_where_it_was_found() -> None:
    readme = render(NAME, "-e /src/connector-host")[Path("README.md")]
    develop = readme.split("## Develop", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert develop[1].startswith("pip install -e /src/connector-host # connector-host, from where")
    assert develop[2].startswith('pip install -e ".[test]"')
    assert "pip install -e /src" not in render(NAME, None)[Path("README.md")], "from an index: nothing to add"


@pytest.mark.parametrize(("direct_url", "expected"), [
    ({"url": "file:///src/connector%20host", "dir_info": {"editable": True}}, "-e '/src/connector host'"),
    ({"url": "file:///src/connector-host", "dir_info": {}}, "/src/connector-host"),
    ({"url": "https://github.com/acme/connector-host.git",
      "vcs_info": {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"}},
     "'connector-host @ git+https://github.com/acme/connector-host.git@0123abc'"),
    ({"url": "file:///wheels/connector_host-0.1.0-py3-none-any.whl", "archive_info": {}},
     "/wheels/connector_host-0.1.0-py3-none-any.whl"),
])
def test_install_source_follows_pep_610(direct_url: dict[str, Any], expected: str) -> None:
    assert install_source(direct_url) == expected


def test_new_plugin_prints_the_steps_with_this_checkout(tmp_path: Path) -> None:
    assert host_source() == f"-e {ROOT}"    # this venv installs the checkout editable (make test)
    made = _run(Path(sys.executable).parent / "connector-host", "new-plugin", NAME, "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[2:] == [
        f"  cd {tmp_path / 'connector-host-acme-pay'}", "  python -m venv .venv && . .venv/bin/activate",
        f"  pip install -e {ROOT}", "  pip install -e '.[test]' && pytest"]


# -- end to end: the README's steps in a new environment -------------------------------------------------

def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """(the new environment's python, the scaffolded project, the output of the README's steps)."""
    base = tmp_path_factory.mktemp("scaffold")
    project = scaffold(NAME, base, host_source())
    readme = (project / "README.md").read_text(encoding="utf-8")
    develop = readme.split("## Develop", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    # `python` is the interpreter this venv was made from, as on a machine where nothing is activated
    bin_dir = base / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(os.path.realpath(sys.executable))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    steps = _run("bash", "-euo", "pipefail", "-c", develop, cwd=project, env=env, timeout=540)
    assert steps.returncode == 0, f"{develop}\n{steps.stdout[-4000:]}\n{steps.stderr[-4000:]}"
    yield project / ".venv" / "bin" / "python", project, steps.stdout


def test_the_scaffolded_plugin_passes_its_tests_and_is_enabled_in_a_separate_environment(
        environment: tuple[Path, Path, str]) -> None:
    python, project, output = environment
    assert _run(sys.executable, "-c", f"import {NAME}", cwd=ROOT).returncode != 0, \
        "the plugin must be installed in the new environment only"

    summary = output.strip().splitlines()[-1]    # the README's last step is pytest
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 15, f"the contract suite did not run: {summary}"

    env = {**os.environ, "ACME_PAY_API_KEY": "sk_test_123", "ACME_PAY_WEBHOOK_SECRET": "whsec_123"}
    config = project / "connector.yaml"
    config.write_text("""\
commercetools:
  embedded: true
instances:
  acme:
    plugin: acme_pay
    paymentInterface: acme-pay
    settings:
      apiKey: ${ACME_PAY_API_KEY}
      webhookSecret: ${ACME_PAY_WEBHOOK_SECRET}
""", encoding="utf-8")
    connector_host = python.parent / "connector-host"
    check = _run(connector_host, "check", "--config", config, cwd=project, env=env)
    assert check.returncode == 0, check.stderr
    row = next(line for line in check.stdout.splitlines() if line.startswith("acme "))
    assert row.split()[:5] == ["acme", "acme_pay", "connector-host-acme-pay", "0.1.0", "acme-pay"], row
    assert "OK, 1 instance(s)" in check.stdout

    listed = _run(connector_host, "plugins", cwd=project, env=env)
    assert "acme_pay             connector-host-acme-pay 0.1.0 (installed): acme_pay" in listed.stdout
    assert "example_psp" not in listed.stdout and "bank_transfer" not in listed.stdout, listed.stdout

    with config.open("a", encoding="utf-8") as typo_file:
        typo_file.write("      enviroment: live\n")
    typo = _run(connector_host, "check", "--config", config, cwd=project, env=env)
    assert typo.returncode == 2
    assert "connector.yaml:10 instances.acme.settings.enviroment: unknown key" in typo.stderr, typo.stderr


def test_the_generated_code_passes_ruff_and_mypy_strict(environment: tuple[Path, Path, str]) -> None:
    _, project, _ = environment
    bin_dir = Path(sys.executable).parent
    ruff = _run(bin_dir / "ruff", "check", "--no-cache", ".", cwd=project)
    assert ruff.returncode == 0, ruff.stdout
    mypy = _run(bin_dir / "mypy", "--cache-dir", project.parent / "mypy-cache", NAME, "tests", cwd=project,
                env={**os.environ, "MYPYPATH": str(ROOT)})
    assert mypy.returncode == 0, mypy.stdout
