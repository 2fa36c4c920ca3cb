"""``connector-host new-plugin``: ``host.scaffold`` writes a plugin distribution that passes its own tests.

The end-to-end test installs the scaffolded project into a separate virtual environment, as a user would,
without downloading connector-host's dependencies again:

1. ``python -m venv --without-pip``: a new, empty environment (a few milliseconds).
2. The dependencies come from the venv running this test: a directory of symlinks to every entry of its
   site-packages *except* the editable project installs (connector-host itself, the test plugin, the
   examples), added to the new environment by a ``.pth`` file. The new environment sees aiohttp, pydantic,
   pytest..., and none of this repository's plugins.
3. This venv's pip, pointed at the new interpreter (``pip --python``), installs connector-host (editable,
   from this checkout, so it gets its ``connector-host`` script) and then the scaffolded project as a
   regular install: a wheel is built from it, so a file or an entry point missing from its packaging shows.
   ``--no-deps``: the dependencies are there. The builds use pip's build isolation, so setuptools comes
   from PyPI or pip's cache as for any user (the venv's setuptools 65 cannot build a wheel without the
   ``wheel`` package, so ``--no-build-isolation`` is not an option).
4. The generated tests run with the new interpreter and ``-P``, so the project directory is not on
   ``sys.path``: the package is imported from site-packages and the host finds the plugin through its
   entry point. Then ``connector-host check`` of that environment validates a connector.yaml that enables it.

It takes about 15 s, most of it in the two builds.
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from host.scaffold import render, scaffold, validate_name

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


# -- end to end: a separate environment ------------------------------------------------------------------

def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _dependencies_only(target: Path) -> Path:
    """A directory of symlinks to this venv's site-packages without the editable project installs."""
    source = Path(site.getsitepackages()[0])
    editable: set[str] = set()
    for dist_info in source.glob("*.dist-info"):
        direct_url = dist_info / "direct_url.json"
        if direct_url.exists() and json.loads(direct_url.read_text(encoding="utf-8")).get(
                "dir_info", {}).get("editable"):
            editable.add(dist_info.name)
    target.mkdir()
    for entry in source.iterdir():
        if entry.name in editable or entry.name.startswith("__editable__") or entry.name == "__pycache__":
            continue
        (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the new environment's python, the scaffolded project), installed there and nowhere else."""
    base = tmp_path_factory.mktemp("scaffold")
    project = scaffold(NAME, base)
    venv = base / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base)
    deps = _dependencies_only(base / "deps")
    (Path(purelib.stdout.strip()) / "_connector_host_deps.pth").write_text(
        f"import site; site.addsitedir({str(deps)!r})\n", encoding="utf-8")
    for target in (["-e", ROOT], [project]):
        installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
                         "--disable-pip-version-check", *target, cwd=base)
        assert installed.returncode == 0, f"pip install {target}:\n{installed.stdout}\n{installed.stderr}"
    yield python, project


def test_the_scaffolded_plugin_passes_its_tests_and_is_enabled_in_a_separate_environment(
        environment: tuple[Path, Path]) -> None:
    python, project = environment
    assert _run(sys.executable, "-c", f"import {NAME}", cwd=ROOT).returncode != 0, \
        "the plugin must be installed in the new environment only"

    tests = _run(python, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    summary = tests.stdout.strip().splitlines()[-1]
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


def test_the_generated_code_passes_ruff_and_mypy_strict(environment: tuple[Path, Path]) -> None:
    _, project = environment
    bin_dir = Path(sys.executable).parent
    ruff = _run(bin_dir / "ruff", "check", "--no-cache", ".", cwd=project)
    assert ruff.returncode == 0, ruff.stdout
    mypy = _run(bin_dir / "mypy", "--cache-dir", project.parent / "mypy-cache", NAME, "tests", cwd=project,
                env={**os.environ, "MYPYPATH": str(ROOT)})
    assert mypy.returncode == 0, mypy.stdout
