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

import importlib.util
import keyword
import re
import sys
from pathlib import Path
from string import Template

from host._version import HOST_API_VERSION, __version__
from host.plugins import BUILTINS

TEMPLATES = Path(__file__).resolve().parent / "templates" / "plugin"
#: Names a plugin package must not take: the host's own top-level packages and its test tree.
RESERVED = frozenset({"host", "plugins", "emulator", "tests", "test", "conftest", "connector_host"})
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
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


def variables(name: str) -> dict[str, str]:
    """What the templates are filled with."""
    major = int(HOST_API_VERSION.split(".")[0])
    return {
        "name": name,
        "dist": f"connector-host-{name.replace('_', '-')}",
        "cls": "".join(part.capitalize() for part in name.split("_")),
        "title": " ".join(part.capitalize() for part in name.split("_")),
        "interface": name.replace("_", "-"),
        "env": name.upper(),
        "host_version": __version__,
        "host_api": f">={major}.0,<{major + 1}",
    }


def render(name: str) -> dict[Path, str]:
    """The files of a new plugin project, by path relative to the project directory."""
    values = variables(name)
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


def scaffold(name: str, directory: Path) -> Path:
    """Create the plugin project ``connector-host-<name>`` in ``directory``; returns the project directory.

    ``ValueError`` for a name that cannot be a plugin name, ``FileExistsError`` when the project exists.
    """
    name = validate_name(name)
    target = Path(directory) / variables(name)["dist"]
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or pass another --dir")
    files = render(name)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
