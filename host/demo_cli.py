"""``connector-host demo-session`` and ``demo-tokens``: conveniences for the embedded commercetools stand-in.

Both find the running host and its stand-in the way ``serve`` placed them: from the same connector.yaml
read with the same environment (``PORT``, ``CT_EMULATOR_PORT``... in the shipped one). When nothing answers
there, the error says which variables to export so that this shell agrees with the one running the host.
Return and processor URLs are built from the host's real address (``server.publicUrl``, else its port).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import aiohttp

from host.config import Deployment
from host.errors import ConnectorError
from host.ports import EMULATOR, HOST, Listener, reads_env

_TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=3)


def _emulator_url(deployment: Deployment, override: str | None) -> str:
    if override:
        return override.rstrip("/")
    ct = deployment.config.commercetools
    if not ct.embedded:
        raise ConnectorError(f"this command needs the embedded commercetools stand-in (commercetools.embedded: "
                             f"true in {deployment.source}), or --emulator URL")
    return f"http://{ct.emulator.host}:{ct.emulator.port}"


def host_url(deployment: Deployment) -> str:
    """How a browser or this machine reaches the host: ``server.publicUrl``, else its port on loopback."""
    from host.app import public_url

    return public_url(deployment.config.server)


def _export_hint(deployment: Deployment, *listeners: Listener) -> str:
    names = [f"{lst.env}=<its port>" for lst in listeners if reads_env(deployment.source, lst.env)]
    ways = f"export {' '.join(names)} here (as in the shell that runs it), or " if names else ""
    return f"Is the host running (`make run`)? If it runs with other ports, {ways}"


class _Emulator:
    """The stand-in's demo endpoints, with errors that say what to do."""

    def __init__(self, deployment: Deployment, url: str, overridden: bool) -> None:
        self.deployment, self.url, self.overridden = deployment, url, overridden

    async def post(self, http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
        url = f"{self.url}{path}"
        try:
            async with http.post(url, json=body) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            where = "--emulator" if self.overridden else \
                f"{EMULATOR.setting} of {self.deployment.source}"
            hint = "pass the URL it listens on" if self.overridden else \
                _export_hint(self.deployment, HOST, EMULATOR) + "pass --emulator URL"
            raise ConnectorError(f"cannot reach the commercetools stand-in at {self.url} ({where}): "
                                 f"{type(exc).__name__}. {hint}") from None
        if resp.status >= 400:
            raise ConnectorError(f"{url} answered {resp.status}: {data}")
        return data


async def _host_answers(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(f"{url}/health") as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _session(args: argparse.Namespace, deployment: Deployment, emulator: _Emulator,
                   host: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
        cart = await emulator.post(http, "/_emulator/carts", {
            "currency": args.currency,
            "lineItems": [{"name": "Demo item", "price": {"centAmount": args.amount}, "quantity": 1}]})
        metadata: dict[str, Any] = {"processorUrl": host, "merchantReturnUrl": args.return_url or f"{host}/health"}
        if args.interface:
            metadata["paymentInterface"] = args.interface
        session = await emulator.post(http, "/_emulator/sessions", {"cartId": cart["id"], "metadata": metadata})
        if not args.host_url and not await _host_answers(http, host):
            print(f"connector-host: warning: no connector-host answers at {host} ({HOST.setting} of "
                  f"{deployment.source}), which this session names as its processorUrl. "
                  f"{_export_hint(deployment, HOST)}pass --host-url URL", file=sys.stderr)
        return cart, session


def cmd_demo_session(args: argparse.Namespace, deployment: Deployment) -> int:
    emulator = _Emulator(deployment, _emulator_url(deployment, args.emulator), bool(args.emulator))
    host = (args.host_url or host_url(deployment)).rstrip("/")
    cart, session = asyncio.run(_session(args, deployment, emulator, host))
    if args.json:
        print(json.dumps({"sessionId": session["id"], "cartId": cart["id"]}))
        return 0
    if args.id:
        print(session["id"])
        return 0
    print(f"cart    {cart['id']}  ({args.amount} {args.currency})\nsession {session['id']}\n")
    print(f"export SESSION={session['id']}")
    print(f"curl -s {host}/operations/config -H \"X-Session-Id: $SESSION\"")
    print(f"curl -s -X POST {host}/payments -H \"X-Session-Id: $SESSION\" -H 'Content-Type: application/json' "
          "-d '{\"paymentMethod\":{\"type\":\"card\"},\"paymentOutcome\":\"Authorized\"}'")
    return 0


async def _tokens(deployment: Deployment, emulator: _Emulator) -> tuple[str, str]:
    pk = deployment.config.commercetools.projectKey
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
        token = await emulator.post(http, "/_emulator/tokens", {
            "client_id": "checkout", "scopes": [f"manage_checkout_payment_intents:{pk}",
                                                f"manage_checkout_transactions:{pk}"]})
        jwt_token = await emulator.post(http, "/jwt/token", {"sub": "demo-merchant"})
    return str(token["access_token"]), str(jwt_token["token"])


def cmd_demo_tokens(args: argparse.Namespace, deployment: Deployment) -> int:
    emulator = _Emulator(deployment, _emulator_url(deployment, args.emulator), bool(args.emulator))
    oauth, jwt_token = asyncio.run(_tokens(deployment, emulator))
    if args.json:
        print(json.dumps({"oauth": oauth, "jwt": jwt_token}))
        return 0
    print(f"export CT_TOKEN={oauth}   # for /operations/payment-intents and /transactions")
    print(f"export MC_JWT={jwt_token}   # Merchant Center JWT, for /operations/status and payment-components")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
                load: Callable[[argparse.Namespace], Deployment]) -> None:
    """``demo-session`` and ``demo-tokens`` under the CLI's sub-commands; ``load`` reads connector.yaml."""
    demo = with_config(sub.add_parser("demo-session", help="embedded stand-in: create a cart and a session"))
    demo.add_argument("--interface", default=None, help="paymentInterface for the session (e.g. mock)")
    demo.add_argument("--amount", type=int, default=5950, help="cart total in minor units")
    demo.add_argument("--currency", default="EUR")
    demo.add_argument("--return-url", default=None, help="merchantReturnUrl (default: the host's /health)")
    demo.add_argument("--host-url", default=None, help="the host's URL (default from connector.yaml: "
                                                       "server.publicUrl, else http://127.0.0.1:{server.port})")
    demo.add_argument("--emulator", default=None, help="the stand-in's URL (default from connector.yaml)")
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--id", action="store_true", help="print only the session id")
    demo.set_defaults(func=lambda args: cmd_demo_session(args, load(args)))
    tokens = with_config(sub.add_parser("demo-tokens", help="embedded stand-in: an OAuth token and an MC JWT"))
    tokens.add_argument("--emulator", default=None, help="the stand-in's URL (default from connector.yaml)")
    tokens.add_argument("--json", action="store_true")
    tokens.set_defaults(func=lambda args: cmd_demo_tokens(args, load(args)))
