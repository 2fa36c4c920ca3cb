"""``connector-host new-plugin NAME``: a new plugin distribution that passes its own tests as generated.

``scaffold("acme_pay", Path("."))`` writes ``./connector-host-acme-pay/``::

    pyproject.toml          distribution connector-host-acme-pay, entry point connector_host: acme_pay
    README.md               develop, test, enable in connector.yaml, publish
    acme_pay/__init__.py    the @hookimpl that registers the provider as "acme_pay"
    acme_pay/provider.py    AcmePayProvider: a PaymentProvider, its PSP calls stubbed (look for TODO)
    acme_pay/settings.py    AcmePaySettings: apiKey, webhookSecret, environment
    tests/conftest.py       pytest_plugins = ["host.testing"]
    tests/test_acme_pay.py  the contract suite (ProviderContract) and one provider-specific test

The files come from ``host/templates/plugin/`` (``string.Template``: ``$name``, ``$cls``...; a path part
``NAME`` becomes the name, the ``.tmpl`` suffix is dropped).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import keyword
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import unquote, urlparse

from host._version import HOST_API_VERSION, __version__
from host.plugins import BUILTINS

TEMPLATES = Path(__file__).resolve().parent / "templates" / "plugin"
#: Names a plugin package must not take: the host's own top-level packages and its test tree.
RESERVED = frozenset({"host", "plugins", "emulator", "tests", "test", "conftest", "connector_host"})
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
_MAX_LENGTH = 40


def validate_name(name: str) -> str:
    """``name`` if it can be a plugin name (entry-point name and package name alike), else ``ValueError``."""
    if not _NAME.match(name) or len(name) > _MAX_LENGTH:
        suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        hint = f" (for example {suggestion!r})" if suggestion and _NAME.match(suggestion) else ""
        raise ValueError(f"plugin name {name!r} must be lower_snake_case: a lower-case letter, then lower-case "
                         f"letters, digits and single underscores, at most {_MAX_LENGTH} characters{hint}")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValueError(f"plugin name {name!r} is a Python keyword; the package could not be imported")
    if name in RESERVED:
        raise ValueError(f"plugin name {name!r} is taken by connector-host itself; choose another")
    if name in {plugin for plugin, _ in BUILTINS}:
        raise ValueError(f"plugin name {name!r} is a built-in plugin of connector-host; choose another")
    if name in sys.stdlib_module_names:
        raise ValueError(f"plugin name {name!r} is a module of the Python standard library; the package would "
                         f"shadow it. Choose another, for example '{name}_pay'")
    if importlib.util.find_spec(name) is not None:
        raise ValueError(f"plugin name {name!r} is already an importable module here; the package would clash "
                         f"with it. Choose another")
    return name


def install_source(direct_url: Mapping[str, Any]) -> str | None:
    """The ``pip install`` arguments that install connector-host from where it was installed (PEP 610
    ``direct_url.json``): a directory (``-e`` when it was editable), an archive, or a VCS URL at the commit."""
    url = str(direct_url.get("url", ""))
    parsed = urlparse(url)
    local = unquote(parsed.path) if parsed.scheme == "file" else None
    if "vcs_info" in direct_url:
        vcs = direct_url["vcs_info"]
        at = f"@{vcs['commit_id']}" if vcs.get("commit_id") else ""
        return shlex.quote(f"connector-host @ {vcs['vcs']}+{url}{at}")
    if "dir_info" in direct_url and local:
        return f"-e {shlex.quote(local)}" if direct_url["dir_info"].get("editable") else shlex.quote(local)
    if url:
        return shlex.quote(local or f"connector-host @ {url}")
    return None


def host_source() -> str | None:
    """How a new virtual environment gets this very connector-host: ``install_source`` of the installed
    distribution that recorded where it came from, else this checkout when the code runs from one, else
    ``None``: it came from a package index, where the plugin's ``connector-host>=`` dependency finds it."""
    for dist in importlib.metadata.distributions(name="connector-host"):   # a checkout's egg-info may come first
        text = dist.read_text("direct_url.json")
        if text:
            return install_source(json.loads(text))
    checkout = Path(__file__).resolve().parents[1]
    return f"-e {shlex.quote(str(checkout))}" if (checkout / "pyproject.toml").is_file() else None


def variables(name: str, host: str | None = None) -> dict[str, str]:
    """What the templates are filled with; ``host`` is ``host_source()``'s answer."""
    major = int(HOST_API_VERSION.split(".")[0])
    install = f"{f'pip install {host}':<29} # connector-host, from where this plugin was generated\n" if host else ""
    return {
        "name": name,
        "dist": f"connector-host-{name.replace('_', '-')}",
        "cls": "".join(part.capitalize() for part in name.split("_")),
        "title": " ".join(part.capitalize() for part in name.split("_")),
        "interface": name.replace("_", "-"),
        "env": name.upper(),
        "host_version": __version__,
        "host_api": f">={major}.0,<{major + 1}",
        "host_install": install,
    }


def render(name: str, host: str | None = None) -> dict[Path, str]:
    """The files of a new plugin project, by path relative to the project directory."""
    values = variables(name, host)
    files: dict[Path, str] = {}
    for template in sorted(p for p in TEMPLATES.rglob("*.tmpl") if p.is_file()):
        relative = template.relative_to(TEMPLATES).with_suffix("")
        parts = [part.replace("NAME", name) for part in relative.parts]
        parts[-1] = parts[-1].replace("dot-", ".", 1) if parts[-1].startswith("dot-") else parts[-1]
        try:
            files[Path(*parts)] = Template(template.read_text(encoding="utf-8")).substitute(values)
        except (KeyError, ValueError) as exc:  # a broken template is a bug of connector-host: say which
            raise RuntimeError(f"template {template.relative_to(TEMPLATES)}: {exc}") from exc
    return files


def scaffold(name: str, directory: Path, host: str | None = None) -> Path:
    """Create the plugin project ``connector-host-<name>`` in ``directory``; returns the project directory.

    ``host`` says how its README installs connector-host (``host_source()``). ``ValueError`` for a name
    that cannot be a plugin name, ``FileExistsError`` when the project exists.
    """
    name = validate_name(name)
    target = Path(directory) / variables(name)["dist"]
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or pass another --dir")
    files = render(name, host)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
