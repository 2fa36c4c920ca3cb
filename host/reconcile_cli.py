"""``connector-host reconcile [--dry-run]``: one reconciliation pass, printing what it settled.

It runs beside the serving hosts (any number of them), against the same commercetools: its writes are
versioned like theirs, so it never settles anything twice. With the embedded stand-in it talks to the
running host's emulator (``commercetools.emulator``), which holds the data.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from host.config import ConnectorConfig, Deployment

if TYPE_CHECKING:   # the flows (and prometheus_client with them) load when the command runs, not with the CLI
    from host.flows.reconcile import Settled


def offline(deployment: Deployment) -> Deployment:
    """The deployment as a tool beside the running host sees it: no emulator of its own (it uses the one the
    host serves) and no in-process reconciler."""
    config: ConnectorConfig = deployment.config
    ct = config.commercetools
    if ct.embedded:
        url = f"http://{ct.emulator.host}:{ct.emulator.port}"
        ct = ct.model_copy(update={"embedded": False, "authUrl": url, "apiUrl": url, "sessionUrl": f"{url}/",
                                   "jwksUrl": f"{url}/.well-known/jwks.json"})
    reconciler = config.reconciler.model_copy(update={"interval": 0})
    return Deployment(config.model_copy(update={"commercetools": ct, "reconciler": reconciler}),
                      deployment.instances, deployment.plugins, deployment.source)


async def run_pass(deployment: Deployment, *, dry_run: bool, horizon: float | None) -> list[Settled]:
    from aiohttp import web

    from host.app import create_app
    from host.flows.reconcile import reconcile_once
    from host.keys import CT, ROUTER

    deployment = offline(deployment)
    settings = deployment.config.reconciler
    runner = web.AppRunner(create_app(deployment))
    await runner.setup()
    try:
        return await reconcile_once(runner.app[CT], runner.app[ROUTER],
                                    horizon=settings.horizon if horizon is None else horizon,
                                    batch=settings.batch, dry_run=dry_run)
    finally:
        await runner.cleanup()


def cmd_reconcile(args: argparse.Namespace, deployment: Deployment) -> int:
    results = asyncio.run(run_pass(deployment, dry_run=args.dry_run, horizon=args.horizon))
    for settled in results:
        print(settled.line(args.dry_run))
    done = sum(1 for s in results if s.after is not None)
    print(f"{'would settle' if args.dry_run else 'settled'} {done}, left {len(results) - done} "
          f"undecided transaction(s)", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = sub.add_parser("reconcile", help="settle payment attempts whose outcome is unknown, once")
    parser.add_argument("--dry-run", action="store_true", help="ask the PSPs and print, write nothing")
    parser.add_argument("--horizon", type=float, default=None,
                        help="seconds an attempt may stay undecided (default: reconciler.horizon)")
    return parser
