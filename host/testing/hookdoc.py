"""docs/hooks.md, generated from the hook specifications in ``host.hookspecs``.

    python -m host.testing.hookdoc            # print the Markdown
    python -m host.testing.hookdoc --write    # rewrite docs/hooks.md
    python -m host.testing.hookdoc --check    # exit 1 when docs/hooks.md is stale or a spec is undocumented

A hook spec is documented when its docstring has a description, a ``:param name:`` for every parameter and
a ``:return:``. ``tests/host/test_hookspecs.py`` runs the same checks, and checks that every hook has a test
named after it.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from host import hookspecs as _hookspecs

PROJECT = "connector_host"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
_FIELD = re.compile(r"^:(param (?P<param>\w+)|return):\s*(?P<text>.*)$")


def specs(module: ModuleType = _hookspecs) -> list[Callable[..., Any]]:
    """The hook specifications of ``module``: its functions carrying pluggy's ``connector_host`` spec marker."""
    found = [obj for _, obj in inspect.getmembers(module, inspect.isfunction)
             if hasattr(obj, f"{PROJECT}_spec") and obj.__module__ == module.__name__]
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def _annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def signature(func: Callable[..., Any]) -> str:
    """``name(param: type, ...) -> type`` as written in the source (annotations are not evaluated)."""
    sig = inspect.signature(func)
    params = ", ".join(f"{name}: {_annotation(p.annotation)}" if p.annotation is not p.empty else name
                       for name, p in sig.parameters.items())
    returns = f" -> {_annotation(sig.return_annotation)}" if sig.return_annotation is not sig.empty else ""
    return f"{func.__name__}({params}){returns}"


def parse_docstring(func: Callable[..., Any]) -> tuple[str, dict[str, str], str | None]:
    """``(description, {param: text}, return text)`` of a reST-field docstring."""
    doc = inspect.getdoc(func) or ""
    description: list[str] = []
    params: dict[str, str] = {}
    returns: str | None = None
    current: tuple[str, str] | None = None
    for line in doc.splitlines():
        match = _FIELD.match(line.strip())
        if match:
            current = ("param", match["param"]) if match["param"] else ("return", "")
            if match["param"]:
                params[match["param"]] = match["text"]
            else:
                returns = match["text"]
        elif current is not None and line.strip():
            if current[0] == "param":
                params[current[1]] += " " + line.strip()
            else:
                returns = f"{returns} {line.strip()}"
        elif current is None:
            description.append(line)
    return "\n".join(description).strip(), params, returns


def problems(func: Callable[..., Any]) -> list[str]:
    """What is missing from the documentation of one hook spec (empty when it is complete)."""
    description, params, returns = parse_docstring(func)
    name = func.__name__
    found = []
    if not description:
        found.append(f"{name}: the docstring has no description")
    for param in inspect.signature(func).parameters:
        if not params.get(param):
            found.append(f"{name}: no ':param {param}:' in the docstring")
    for param in params:
        if param not in inspect.signature(func).parameters:
            found.append(f"{name}: ':param {param}:' documents a parameter it does not have")
    if not returns:
        found.append(f"{name}: no ':return:' in the docstring")
    return found


def _options(func: Callable[..., Any]) -> str:
    opts: dict[str, Any] = getattr(func, f"{PROJECT}_spec")
    flags = [k for k in ("firstresult", "historic") if opts.get(k)]
    return f"Called with pluggy options: {', '.join(flags)}." if flags else \
        "Every implementation is called; results are collected in a list (pluggy's default)."


def render(module: ModuleType = _hookspecs) -> str:
    """The Markdown of docs/hooks.md."""
    out = [
        "# Hook reference",
        "",
        "<!-- Generated from host/hookspecs.py by `python -m host.testing.hookdoc --write`. Do not edit: "
        "tests/host/test_hookspecs.py fails when this file and the code disagree. -->",
        "",
        "A plugin is a module that implements some of these hooks with the `host.hookimpl` marker (pluggy "
        f"project `{PROJECT}`) and is named by an entry point in the `{PROJECT}` group. Hook implementations "
        "are plain functions (`def`, not `async def`): the host calls them during start-up, before the event "
        "loop runs. Requests never go through hooks; the host calls the selected provider object directly "
        "(see [writing-plugins.md](writing-plugins.md)).",
        "",
        "| hook | called |",
        "|---|---|",
    ]
    items = specs(module)
    for func in items:
        first = parse_docstring(func)[0].split("\n\n")[0].replace("\n", " ")
        out.append(f"| [`{func.__name__}`](#{func.__name__}) | {first} |")
    for func in items:
        description, params, returns = parse_docstring(func)
        out += ["", f"## {func.__name__}", "", "```python", "@hookimpl", f"def {signature(func)}:", "```", "",
                description, "", "| parameter | type | meaning |", "|---|---|---|"]
        for name, param in inspect.signature(func).parameters.items():
            out.append(f"| `{name}` | `{_annotation(param.annotation)}` | {params.get(name, '')} |")
        out += ["", f"**Returns:** {returns or ''}", "", _options(func)]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host.testing.hookdoc", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"rewrite {DOC_PATH.name}")
    group.add_argument("--check", action="store_true", help=f"fail when {DOC_PATH.name} is stale")
    parser.add_argument("--path", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    found = [p for func in specs() for p in problems(func)]
    if found:
        print("undocumented hook specs:\n  " + "\n  ".join(found), file=sys.stderr)
        return 1
    text = render()
    if args.write:
        args.path.write_text(text, encoding="utf-8")
    elif args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is stale: run python -m host.testing.hookdoc --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
