"""The baseline: bare aiohttp handlers making the host's upstream calls. ``python -m bench.baseline``.

The ceiling of this stack. Each handler makes the same calls, in the same order, as the host does for
the operation (``tests/host/test_upstream_calls.py``), on one ``aiohttp.ClientSession`` with the host's
settings (``TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30)``, a total timeout per
call, the host's headers); it parses every answer as JSON and answers JSON. It checks nothing, computes
nothing and logs nothing: whatever the host spends beyond this is the cost of being the host.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from bench.stub import PROJECT_KEY

_HTTP = web.AppKey("http", aiohttp.ClientSession)
_UPSTREAM = web.AppKey("upstream", str)
_TOKEN = web.AppKey("token", list[str])
_INTROSPECTED = web.AppKey("introspected", set[str])
_TIMEOUT = aiohttp.ClientTimeout(total=10)
_HEADERS = {"User-Agent": "connector-host-baseline/1", "X-Correlation-ID": "baseline"}


async def _call(app: web.Application, method: str, path: str, body: Any = None) -> Any:
    headers = {**_HEADERS, "Authorization": f"Bearer {app[_TOKEN][0]}"}
    async with app[_HTTP].request(method, f"{app[_UPSTREAM]}/{PROJECT_KEY}/{path}", json=body, headers=headers,
                                  timeout=_TIMEOUT) as resp:
        return await resp.json(content_type=None)


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector) as http:
        app[_HTTP] = http
        async with http.post(f"{app[_UPSTREAM]}/oauth/token", data={"grant_type": "client_credentials"},
                             timeout=_TIMEOUT) as resp:
            app[_TOKEN] = [str((await resp.json(content_type=None))["access_token"])]
        yield


async def create_payment(request: web.Request) -> web.Response:
    app = request.app
    await request.json()
    session = await _call(app, "GET", f"sessions/{request.headers['X-Session-Id']}")
    cart = await _call(app, "GET", f"carts/{session['activeCart']['cartRef']['id']}")
    draft = {"key": f"ch-{uuid.uuid4().hex}", "amountPlanned": cart["totalPrice"],
             "paymentMethodInfo": {"paymentInterface": session["metadata"]["paymentInterface"], "method": "card"}}
    payment = await _call(app, "POST", "payments", draft)
    await _call(app, "POST", f"carts/{cart['id']}", {"version": cart["version"], "actions": [
        {"action": "addPayment", "payment": {"typeId": "payment", "id": payment["id"]}}]})
    reference = f"sandbox-{uuid.uuid4()}"
    await _call(app, "POST", f"payments/{payment['id']}", {"version": payment["version"], "actions": [
        {"action": "setInterfaceId", "interfaceId": reference},
        {"action": "addTransaction", "transaction": {"type": "Authorization", "amount": cart["totalPrice"],
                                                     "state": "Success", "interactionId": reference}}]})
    return web.json_response({"paymentReference": payment["id"]})


async def _introspect(app: web.Application, token: str) -> None:
    if token in app[_INTROSPECTED]:
        return
    async with app[_HTTP].post(f"{app[_UPSTREAM]}/oauth/introspect", data={"token": token},
                               timeout=_TIMEOUT) as resp:
        await resp.json(content_type=None)
    app[_INTROSPECTED].add(token)


async def capture(request: web.Request) -> web.Response:
    app = request.app
    await _introspect(app, request.headers.get("Authorization", "").removeprefix("Bearer "))
    action = (await request.json())["actions"][0]
    payment_id = request.match_info["paymentId"]
    payment = await _call(app, "GET", f"payments/{payment_id}")
    key = uuid.uuid4().hex
    reserved = await _call(app, "POST", f"payments/{payment_id}", {"version": payment["version"], "actions": [
        {"action": "addTransaction", "transaction": {"type": "Charge", "amount": action["amount"],
                                                     "state": "Initial", "interfaceId": key}}]})
    await _call(app, "POST", f"payments/{payment_id}", {"version": reserved["version"], "actions": [
        {"action": "changeTransactionState", "transactionId": reserved["transactions"][-1]["id"],
         "state": "Success"}]})
    return web.json_response({"outcome": "approved"})


async def webhook(request: web.Request) -> web.Response:
    event = json.loads(await request.read())
    payment = await _call(request.app, "GET", f"payments/{event['paymentId']}")
    await _call(request.app, "POST", f"payments/{payment['id']}", {"version": payment["version"], "actions": [
        {"action": "addTransaction", "transaction": {"type": event["transactionType"], "amount": event["amount"],
                                                     "state": event["state"],
                                                     "interactionId": event["pspReference"]}}]})
    return web.Response(status=200)


async def config(request: web.Request) -> web.Response:
    await _call(request.app, "GET", f"sessions/{request.headers['X-Session-Id']}")
    return web.json_response({"clientKey": "sandbox-client-key", "environment": "TEST"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_baseline_app(upstream: str) -> web.Application:
    app = web.Application()
    app[_UPSTREAM] = upstream.rstrip("/")
    app[_INTROSPECTED] = set()
    app.cleanup_ctx.append(_http_ctx)
    app.router.add_get("/health", health)
    app.router.add_post("/payments", create_payment)
    app.router.add_post("/operations/payment-intents/{paymentId}", capture)
    app.router.add_post("/webhooks/{instance}", webhook)
    app.router.add_get("/operations/config", config)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL of the stub (bench.stub)")
    args = parser.parse_args()
    web.run_app(create_baseline_app(args.upstream), host="127.0.0.1", port=args.port, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
