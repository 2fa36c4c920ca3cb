"""A constant-time commercetools stub for the benchmarks: ``python -m bench.stub --port P``.

It answers the routes the host and the baseline call with canned but valid JSON and keeps no state, so
every answer costs the same however long a run lasts. What a stateful server would look up is carried in
the ids instead: the part of a session or Payment id before its last ``__`` is the ``paymentInterface``
(``mock-7__session`` → ``mock-7``), so one stub serves any number of instances.

- ``GET /{pk}/sessions/{id}``: ACTIVE, ``activeCart.cartRef.id``, ``metadata.paymentInterface``.
- ``GET /{pk}/carts/{id}``: 59.50 EUR, no payments, version 1; ``POST`` echoes it with version + 1.
- ``POST /{pk}/payments``: the draft (with its transactions) as a Payment with a fresh id
  (``<interface>__n<hex>``), version 1.
- ``GET /{pk}/payments/{id}``: an Authorization Success of 100.00 EUR (a new Payment: none), so a small
  capture passes the limits every time.
- ``POST /{pk}/payments/{id}``: that Payment with the update's actions applied and version + 1.
- ``POST /oauth/token``, ``POST /oauth/introspect``: a token of ``manage_project:{pk}``, far from expiry.
- ``GET /_stats``: requests per ``METHOD /route/template`` since start.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

PROJECT_KEY = "bench"
#: ids carry the paymentInterface before it (``mock-7__session``); ids are [A-Za-z0-9_-] only
SEP = "__"
NOW = "2026-01-01T00:00:00.000Z"
AUTHORIZED = 10_000
_STATS: web.AppKey[Counter[str]] = web.AppKey("stats")
_PK = web.AppKey("project_key", str)


def money(cent_amount: int) -> dict[str, Any]:
    return {"type": "centPrecision", "currencyCode": "EUR", "centAmount": cent_amount, "fractionDigits": 2}


def interface_of(resource_id: str) -> str:
    return resource_id.rpartition(SEP)[0] or "mock-0"


def session(session_id: str) -> dict[str, Any]:
    iface = interface_of(session_id)
    return {"id": session_id, "version": 1, "createdAt": NOW, "lastModifiedAt": NOW,
            "expiryAt": "2099-01-01T00:00:00.000Z", "state": "ACTIVE",
            "activeCart": {"cartRef": {"id": f"{iface}{SEP}cart"}},
            "metadata": {"paymentInterface": iface, "processorUrl": "http://127.0.0.1"}}


def cart(cart_id: str, version: int = 1, payments: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"id": cart_id, "version": version, "createdAt": NOW, "lastModifiedAt": NOW, "cartState": "Active",
            "anonymousId": "bench-anonymous", "lineItems": [], "customLineItems": [],
            "totalPrice": money(5950), "taxMode": "Disabled",
            "paymentInfo": {"payments": payments or []}}


def payment(payment_id: str, version: int = 1) -> dict[str, Any]:
    """The Payment behind ``payment_id``: new ones (``__n`` ids) have no transactions yet."""
    new = payment_id.rpartition(SEP)[2].startswith("n")
    txs = [] if new else [{"id": "tx-authorization", "timestamp": NOW, "type": "Authorization",
                           "amount": money(AUTHORIZED), "interactionId": "sandbox-authorization",
                           "state": "Success"}]
    return {"id": payment_id, "version": version, "createdAt": NOW, "lastModifiedAt": NOW,
            "amountPlanned": money(5950 if new else AUTHORIZED),
            "paymentMethodInfo": {"paymentInterface": interface_of(payment_id), "method": "card"},
            "paymentStatus": {}, "transactions": txs, "interfaceInteractions": [],
            **({} if new else {"interfaceId": "sandbox-authorization"})}


def apply_actions(found: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The update actions the host sends, applied the way commercetools would (unknown ids ignored)."""
    txs: list[dict[str, Any]] = found["transactions"]
    by_id = {t["id"]: t for t in txs}
    for action in actions:
        name = action.get("action")
        tx = by_id.get(action.get("transactionId", ""))
        if name == "addTransaction":
            added = {"id": str(uuid.uuid4()), **action["transaction"]}
            txs.append(added)
            by_id[added["id"]] = added
        elif name == "setInterfaceId":
            found["interfaceId"] = action["interfaceId"]
        elif name == "setMethodInfoMethod":
            found["paymentMethodInfo"]["method"] = action["method"]
        elif name == "setMethodInfoInterface":
            found["paymentMethodInfo"]["paymentInterface"] = action["interface"]
        elif tx is not None and name == "changeTransactionState":
            tx["state"] = action["state"]
        elif tx is not None and name == "changeTransactionInteractionId":
            tx["interactionId"] = action["interactionId"]
        elif tx is not None and name == "setTransactionInterfaceId":
            tx["interfaceId"] = action["interfaceId"]
    return found


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


async def get_session(request: web.Request) -> web.Response:
    return _json(session(request.match_info["id"]))


async def get_cart(request: web.Request) -> web.Response:
    return _json(cart(request.match_info["id"]))


async def update_cart(request: web.Request) -> web.Response:
    body = await request.json()
    refs = [a["payment"] for a in body.get("actions", []) if a.get("action") == "addPayment"]
    return _json(cart(request.match_info["id"], int(body["version"]) + 1, refs))


async def create_payment(request: web.Request) -> web.Response:
    draft = await request.json()
    iface = (draft.get("paymentMethodInfo") or {}).get("paymentInterface") or "mock-0"
    created = payment(f"{iface}{SEP}n{uuid.uuid4().hex}")
    created["amountPlanned"] = {"type": "centPrecision", "fractionDigits": 2, **draft["amountPlanned"]}
    created["paymentMethodInfo"] = dict(draft.get("paymentMethodInfo") or {})
    for key in ("key", "anonymousId", "customer", "checkoutTransactionItemId"):
        if key in draft:
            created[key] = draft[key]
    created["transactions"] = [{"id": f"tx-{i}", **t} for i, t in enumerate(draft.get("transactions") or [])]
    return _json(created, 201)


async def get_payment(request: web.Request) -> web.Response:
    return _json(payment(request.match_info["id"]))


async def update_payment(request: web.Request) -> web.Response:
    body = await request.json()
    found = payment(request.match_info["id"], int(body["version"]) + 1)
    return _json(apply_actions(found, body.get("actions", [])))


async def token(request: web.Request) -> web.Response:
    return _json({"access_token": "bench-token", "token_type": "Bearer", "expires_in": 172_800,
                  "scope": f"manage_project:{request.app[_PK]}"})


async def introspect(request: web.Request) -> web.Response:
    await request.post()
    return _json({"active": True, "scope": f"manage_project:{request.app[_PK]}", "client_id": "checkout",
                  "exp": int(time.time()) + 86_400})


async def stats(request: web.Request) -> web.Response:
    counts: Counter[str] = request.app[_STATS]
    return _json(counts)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is not None and resource.canonical != "/_stats":
        request.app[_STATS][f"{request.method} {resource.canonical}"] += 1
    return await handler(request)


def create_stub_app(project_key: str) -> web.Application:
    app = web.Application(middlewares=[count])
    app[_STATS] = Counter()
    app[_PK] = project_key
    app.router.add_post("/oauth/token", token)
    app.router.add_post("/oauth/introspect", introspect)
    app.router.add_get("/{projectKey}/sessions/{id}", get_session)
    app.router.add_get("/{projectKey}/carts/{id}", get_cart)
    app.router.add_post("/{projectKey}/carts/{id}", update_cart)
    app.router.add_post("/{projectKey}/payments", create_payment)
    app.router.add_get("/{projectKey}/payments/{id}", get_payment)
    app.router.add_post("/{projectKey}/payments/{id}", update_payment)
    app.router.add_get("/_stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project-key", default=PROJECT_KEY)
    args = parser.parse_args()
    web.run_app(create_stub_app(args.project_key), host="127.0.0.1", port=args.port, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
