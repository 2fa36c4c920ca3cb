"""``GET /openapi.json``: an OpenAPI 3.1 document of every operation this host serves.

Request schemas are the pydantic models that validate the requests (``IntentBody``, ``TransactionBody``,
``BalanceBody``, ``RedeemBody``, each instance's ``PaymentProvider.payment_body``); response schemas are the
models of ``host.responses``. pydantic writes the JSON Schemas (``models_json_schema``), openapi-pydantic
checks the document's own shape. The document follows the deployment: ``/payments`` accepts any instance's
body, ``/webhooks/{instance}`` names the instances, and each instance's plugin routes are listed.

Routes added outside the standard set (enabler assets, say) are described with ``document(app, method,
path, operation)`` while the app is built; a static directory is the path ``{prefix}/{filename}``.
``route_table`` and ``operation_table`` are what tests/host/test_openapi.py compares: a route without an
operation, or an operation without a route, fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from openapi_pydantic import OpenAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from host import responses as r
from host._version import __version__
from host.commercetools.client import ID_PATTERN
from host.handlers.giftcards import BalanceBody, RedeemBody
from host.handlers.intents import IntentBody
from host.handlers.operations import TransactionBody
from host.jsonio import json_response
from host.keys import ENABLERS, OPENAPI_DOC, OPENAPI_EXTRA, ROUTER
from host.providers import PaymentProvider

_REF = "#/components/schemas/{model}"
_SECURITY = {
    "session": {"type": "apiKey", "in": "header", "name": "X-Session-Id",
                "description": "A commercetools Checkout session id (CONTRACT.md §3.1)."},
    "oauth2": {"type": "http", "scheme": "bearer",
               "description": "A commercetools OAuth token, checked by introspection (CONTRACT.md §3.2)."},
    "merchantCenter": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "A Merchant Center forward-to JWT (CONTRACT.md §3.3)."},
}
_STATIC_MODELS: tuple[type[BaseModel], ...] = (
    IntentBody, TransactionBody, BalanceBody, RedeemBody, r.ErrorEnvelope, r.AuthErrorEnvelope,
    r.GiftCardErrorBody, r.Health, r.PaymentResponse, r.Outcome, r.TransactionResponse, r.BalanceResponse,
    r.RedeemResponse, r.StatusResponse, r.PaymentComponents, r.PublicConfig, r.Ready, r.StoredPaymentMethods)
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                    "description": "The same key and body answer the first response (422 for another body)",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
_PAYMENT_LINK = {"refundOrCapture": {"operationId": "paymentIntent",
                                     "parameters": {"paymentId": "$response.body#/paymentReference"}}}


def document(app: web.Application, method: str, path: str, operation: Mapping[str, Any]) -> None:
    """Describe a route registered outside the standard set (call it where the route is added)."""
    app.setdefault(OPENAPI_EXTRA, {})[(method.upper(), path)] = dict(operation)


def route_table(app: web.Application) -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of every route the app serves; HEAD goes with GET."""
    table = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "OPTIONS"):
            continue
        path = resource.canonical
        if isinstance(resource, web.StaticResource):
            path = f"{path}/{{filename}}"
        table.add((route.method, _PARAM.sub(r"{\1}", path)))
    return table


def operation_table(doc: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


class _Builder:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.bodies = [b.provider.payment_body for b in app[ROUTER].enabled if isinstance(b.provider, PaymentProvider)]
        models = {*_STATIC_MODELS, *(m for m in self.bodies if m is not None)}
        keys, schemas = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                           ref_template=_REF)
        self.refs = {model: ref for (model, _), ref in keys.items()}
        self.schemas = schemas.get("$defs", {})
        self.paths: dict[str, dict[str, Any]] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        return dict(self.refs[model])

    def add(self, method: str, path: str, operation: dict[str, Any]) -> None:
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PARAM.findall(path) if name not in {p["name"] for p in operation.get("parameters", [])}]
        if params:
            operation["parameters"] = [*operation.get("parameters", []), *params]
        self.paths.setdefault(path, {})[method.lower()] = operation

    def op(self, op_id: str, summary: str, ok: tuple[str, dict[str, Any]], *, auth: str | None = None,
           body: dict[str, Any] | None = None, upstream: bool = True, client_errors: dict[str, Any] | None = None,
           links: dict[str, Any] | None = None, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        status, schema = ok
        responses: dict[str, Any] = {status: {"description": "Success", "content": _json(schema)}}
        if links:
            responses[status]["links"] = links
        responses["4XX"] = {"description": "The request cannot be served (CONTRACT.md §4)",
                            "content": _json(client_errors or self.ref(r.ErrorEnvelope))}
        if auth:
            responses["401"] = {"description": "Authentication failed", "content": _json(self.ref(r.AuthErrorEnvelope))}
        if upstream:
            for code in ("502", "503", "504"):
                responses[code] = {"description": "commercetools or the PSP failed",
                                   "content": _json(self.ref(r.ErrorEnvelope))}
        operation: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
        if auth:
            operation["security"] = [{auth: []}]
        if body is not None:
            operation["requestBody"] = {"required": True, "content": _json(body)}
        if parameters:
            operation["parameters"] = parameters
        return operation

    def payment_body(self) -> dict[str, Any]:
        schemas: list[dict[str, Any]] = []
        for model in self.bodies:
            schema = self.ref(model) if model is not None else {"type": "object"}
            if schema not in schemas:
                schemas.append(schema)
        if not schemas or {"type": "object"} in schemas:
            return {"type": "object", "description": "The provider's own body (its plugin validates it)."}
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}

    def standard(self) -> None:
        ref, op, add = self.ref, self.op, self.add
        add("GET", "/health", op("health", "Liveness", ("200", ref(r.Health)), upstream=False))
        ready = op("ready", "Readiness: commercetools reachable, every instance started", ("200", ref(r.Ready)),
                   upstream=False)
        ready["responses"]["503"] = {"description": "Not ready (reasons)", "content": _json(ref(r.Ready))}
        add("GET", "/ready", ready)
        add("GET", "/openapi.json", op("openapi", "This document", ("200", {"type": "object"}), upstream=False))
        add("GET", "/operations/config", op("config", "The session's instance's public configuration",
                                            ("200", ref(r.PublicConfig)), auth="session"))
        add("GET", "/operations/status", op("status", "Health of commercetools and every instance",
                                            ("200", ref(r.StatusResponse)), auth="merchantCenter"))
        add("GET", "/operations/payment-components", op(
            "paymentComponents", "Payment components of the enabled instances", ("200", ref(r.PaymentComponents)),
            auth="merchantCenter", parameters=[{"name": "paymentInterface", "in": "query", "required": False,
                                                "schema": {"type": "string"}}]))
        add("POST", "/operations/payment-intents/{paymentId}", op(
            "paymentIntent", "Capture, refund, cancel or reverse a Payment", ("200", ref(r.Outcome)), auth="oauth2",
            body=ref(IntentBody), parameters=[
                {"name": "paymentId", "in": "path", "required": True, "schema": {"type": "string",
                                                                                 "pattern": ID_PATTERN}},
                _IDEMPOTENCY_KEY]))
        add("POST", "/operations/transactions", op(
            "transaction", "Pay a cart with a stored payment method", ("201", ref(r.TransactionResponse)),
            auth="oauth2", body=ref(TransactionBody), parameters=[_IDEMPOTENCY_KEY],
            links={"refundOrCapture": {"operationId": "paymentIntent",
                                       "parameters": {"paymentId": "$response.body#/paymentId"}}}))
        pay = op("createPayment", "Create and authorize a Payment for the session's cart",
                 ("200", ref(r.PaymentResponse)), auth="session", body=self.payment_body(), links=_PAYMENT_LINK,
                 parameters=[_IDEMPOTENCY_KEY])
        pay["responses"]["202"] = {"description": "The PSP answered; its outcome is not in commercetools yet "
                                                  "(the reconciler records it): outcome pending",
                                   "content": _json(ref(r.PaymentResponse))}
        add("POST", "/payments", pay)
        by_get = op("createPaymentByGet", "POST /payments with an empty body, for the official Stripe enabler; "
                    "405 for an instance whose plugin does not offer it", ("200", ref(r.PaymentResponse)),
                    auth="session", links=_PAYMENT_LINK, parameters=[_IDEMPOTENCY_KEY])
        by_get["responses"]["202"] = pay["responses"]["202"]
        add("GET", "/payments", by_get)
        add("GET", "/stored-payment-methods", op(
            "storedPaymentMethods", "The session customer's stored payment methods (display data, never a token)",
            ("200", ref(r.StoredPaymentMethods)), auth="session"))
        remove = op("deleteStoredPaymentMethod", "Delete one of the session customer's stored payment methods",
                    ("200", {}), auth="session")
        remove["responses"]["200"] = {"description": "Deleted (an empty body)"}
        add("DELETE", "/stored-payment-methods/{id}", remove)
        gift = ref(r.GiftCardErrorBody)
        add("POST", "/balance", op("balance", "A gift card's balance", ("200", ref(r.BalanceResponse)),
                                   auth="session", body=ref(BalanceBody), client_errors=gift))
        redeem = op("redeem", "Redeem a gift card", ("200", ref(r.RedeemResponse)), auth="session",
                    body=ref(RedeemBody), client_errors={"anyOf": [gift, ref(r.ErrorEnvelope)]}, links=_PAYMENT_LINK,
                    parameters=[_IDEMPOTENCY_KEY])
        redeem["responses"]["202"] = {"description": "Redeemed at the provider, not in commercetools yet: result "
                                                     "Initial", "content": _json(ref(r.RedeemResponse))}
        add("POST", "/redeem", redeem)

    def plugins(self) -> None:
        instances = [b.id for b in self.app[ROUTER].enabled]
        webhook = self.op("webhook", "A PSP notification, verified by the instance's plugin",
                          ("2XX", {}), body={}, parameters=[{"name": "instance", "in": "path", "required": True,
                                                             "schema": {"type": "string", "enum": instances}}])
        webhook["requestBody"]["content"] = {"*/*": {"schema": {}}}
        webhook["responses"]["2XX"]["content"] = {"*/*": {"schema": {}}}
        self.add("POST", "/webhooks/{instance}", webhook)
        shared: dict[str, list[str]] = {}
        for bound in self.app[ROUTER].enabled:
            if bound.provider.webhook_path:
                shared.setdefault(bound.provider.webhook_path, []).append(bound.id)
        for path, ids in shared.items():
            one = self.op("webhook", f"A PSP notification for one of {', '.join(ids)}: the instance whose signing "
                          "secret verifies it handles it", ("2XX", {}), body={})
            one["operationId"] = f"webhook{path.replace('/', '_')}"
            one["requestBody"]["content"] = {"*/*": {"schema": {}}}
            one["responses"]["2XX"]["content"] = {"*/*": {"schema": {}}}
            self.add("POST", path, one)
        for bound in self.app[ROUTER].enabled:
            for route in bound.provider.routes():
                at_root = route.auth == "session" or route.at_root
                for path in (f"/plugins/{bound.id}{route.path}", *((route.path,) if at_root else ())):
                    operation: dict[str, Any] = {
                        "summary": f"{route.name or route.path} (plugin {bound.plugin}, instance {bound.id})",
                        "responses": {"default": {"description": "As the plugin answers"}}}
                    if route.auth == "session":
                        operation["security"] = [{"session": []}]
                        operation["responses"]["401"] = {"description": "Authentication failed",
                                                         "content": _json(self.ref(r.AuthErrorEnvelope))}
                    self.add(route.method, path, operation)

    def enablers(self) -> None:
        bundles = self.app.get(ENABLERS) or {}
        if not bundles:
            return
        self.add("GET", "/enablers/{instance}/{name}", {
            "operationId": "enablerAsset", "summary": "An instance's enabler (docs/enablers.md): "
            "connector-enabler.es.js, connector-enabler.umd.js, or their content-hashed names",
            "parameters": [
                {"name": "instance", "in": "path", "required": True, "schema": {"type": "string",
                                                                                "enum": sorted(bundles)}},
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The script", "content": {"text/javascript": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified (If-None-Match)"},
                "404": {"description": "No such file", "content": _json(self.ref(r.ErrorEnvelope))}}})

    def build(self) -> dict[str, Any]:
        self.standard()
        self.plugins()
        self.enablers()
        for (method, path), operation in self.app.get(OPENAPI_EXTRA, {}).items():
            self.add(method, path, dict(operation))
        doc = {"openapi": "3.1.0",
               "info": {"title": "connector-host", "version": __version__,
                        "description": "commercetools Checkout payment connectors behind one host."},
               "paths": self.paths,
               "components": {"schemas": self.schemas, "securitySchemes": _SECURITY}}
        OpenAPI.model_validate(doc)   # the document's own shape; the schemas are pydantic's, served as written
        return doc


def _json(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def build(app: web.Application) -> dict[str, Any]:
    """The document for ``app`` (its deployment decides the instances, bodies and plugin routes)."""
    return _Builder(app).build()


async def openapi_json(request: web.Request) -> web.Response:
    cached = request.app[OPENAPI_DOC]
    if not cached:   # the deployment does not change while the app runs
        cached.update(build(request.app))
    return json_response(cached)


def setup(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi_json)
    app[OPENAPI_DOC] = {}
