"""``connector-host``: serve, check, plugins, reconcile, and conveniences for the embedded commercetools stand-in.

Configuration problems are printed as one line (``connector.yaml:14 instances.x...: ...``) and exit 2;
never a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from host import reconcile_cli
from host._version import HOST_API_VERSION, __version__
from host.config import Deployment, default_config_path, load_config
from host.demo_cli import add_parsers as add_demo_parsers
from host.errors import ConnectorError
from host.plugins import BLOCK_ENV, Plugins


def _load(args: argparse.Namespace) -> Deployment:
    """connector.yaml, validated; a broken installed plugin that it does not use is a warning, one line each."""
    deployment = load_config(Path(args.config) if args.config else default_config_path())
    for broken in deployment.plugins.broken:   # the ones it uses stopped load_config already
        print(f"connector-host: warning: {broken.problem} ({deployment.source} does not use it; {broken.hint})",
              file=sys.stderr)
    return deployment


def cmd_serve(args: argparse.Namespace) -> int:
    from host.logs import setup_logging
    from host.workers import serve

    deployment = _load(args)
    server = deployment.config.server
    updates: dict[str, Any] = {}
    if args.host:
        updates["host"] = args.host
    if args.port is not None:
        updates["port"] = args.port
    if updates:
        deployment = Deployment(deployment.config.model_copy(update={"server": server.model_copy(update=updates)}),
                                deployment.instances, deployment.plugins, deployment.source)
        server = deployment.config.server
    setup_logging(server.logFormat, args.log_level)
    return serve(deployment, workers=args.workers, log_level=args.log_level)


def cmd_check(args: argparse.Namespace) -> int:
    deployment = _load(args)
    rows = [("INSTANCE", "PLUGIN", "DISTRIBUTION", "PAYMENT INTERFACE", "METHODS", "CAPTURE", "ENABLED")]
    for inst in deployment.instances.values():
        rows.append((inst.id, inst.entry.name, f"{inst.entry.plugin.distribution} {inst.entry.plugin.version}",
                     inst.payment_interface, ",".join(sorted(inst.methods)), inst.capture_method.value,
                     "yes" if inst.enabled else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\n{deployment.source}: OK, {len(deployment.instances)} instance(s)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    plugins = Plugins.discover()
    print(f"connector-host {__version__}, host API {HOST_API_VERSION}")
    rows: list[tuple[str, str]] = []
    for info in plugins.plugins.values():
        names = ", ".join(sorted(e.name for e in plugins.providers.values() if e.plugin.name == info.name))
        kind = "built-in" if info.builtin else "installed"
        rows.append((info.name, f"{info.distribution} {info.version} ({kind}): {names or '-'}"))
    rows += [(b.name, f"{b.distribution} {b.version}: BROKEN: {b.problem}") for b in plugins.broken]
    rows += [(name, "blocked by $CONNECTOR_HOST_BLOCK_PLUGINS") for name in plugins.blocked]
    for name, text in sorted(rows):
        print(f"{name:<20} {text}")
    if plugins.broken:
        names = ",".join(sorted({b.name for b in plugins.broken}))
        print(f"\nA connector.yaml that uses none of the broken ones works; {BLOCK_ENV}={names} keeps them from "
              f"loading.")
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from host.scaffold import host_source, scaffold

    host = host_source()
    try:
        created = scaffold(args.name, Path(args.dir), host)
    except (ValueError, FileExistsError) as exc:
        raise ConnectorError(str(exc)) from None
    steps = [f"cd {shlex.quote(str(created))}", "python -m venv .venv && . .venv/bin/activate",
             *([f"pip install {host}"] if host else []), "pip install -e '.[test]' && pytest"]
    print(f"created {created}\nnext, in a new virtual environment (its README.md says the same):")
    print("\n".join(f"  {step}" for step in steps))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connector-host", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"connector-host {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", help="connector.yaml (default: $CONNECTOR_CONFIG, then ./connector.yaml)")
        return p

    serve = with_config(sub.add_parser("serve", help="run the host"))
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument("--workers", type=int, help="processes serving the port; 0: one per usable core (default: "
                       "server.workers; always 1 with commercetools.embedded)")
    serve.set_defaults(func=cmd_serve)
    with_config(sub.add_parser("check", help="validate connector.yaml and print the routing table")).set_defaults(
        func=cmd_check)
    sub.add_parser("plugins", help="list discovered plugins").set_defaults(func=cmd_plugins)
    new = sub.add_parser("new-plugin", help="scaffold an installable plugin distribution")
    new.add_argument("name", help="the plugin's name, lower_snake (it becomes `plugin:` in connector.yaml)")
    new.add_argument("--dir", default=".", help="where to create connector-host-<name>/ (default: here)")
    new.set_defaults(func=cmd_new_plugin)
    add_demo_parsers(sub, with_config, _load)
    with_config(reconcile_cli.add_parser(sub)).set_defaults(
        func=lambda args: reconcile_cli.cmd_reconcile(args, _load(args)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ConnectorError as exc:
        print(f"connector-host: {exc}", file=sys.stderr)
        return 2
    except aiohttp.ClientError as exc:
        print(f"connector-host: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
