"""``/openapi.json`` (issue 13, "no machine-readable description of the API"): served, valid OpenAPI 3.1,
built from the request models, and in step with the routes the app really serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from openapi_pydantic import OpenAPI

from host import openapi
from host.handlers.intents import IntentBody
from host.testing import HostClient
from plugins.sandbox.body import PaymentBody

#: every built-in plugin, the example third-party one, and a disabled instance
INSTANCES = """\
sandbox: {plugin: sandbox, paymentInterface: mock}
giftcards: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
stripe-eu:
  plugin: stripe
  paymentInterface: stripe-eu
  settings: {secretKey: sk_test_x, publishableKey: pk_test_x, webhookSecret: whsec_x, apiBase: "http://127.0.0.1:9"}
bank:
  plugin: bank_transfer
  paymentInterface: bank
  settings: {iban: DE89 3704 0044 0532 0130 00, bic: COBADEFFXXX, accountHolder: Shop,
             webhookSecret: sixteen-chars-secret}
off: {plugin: sandbox, paymentInterface: off, enabled: false}
"""


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES)


async def _doc(host: HostClient) -> dict[str, Any]:
    resp = await host.client.get("/openapi.json")
    assert resp.status == 200
    doc: dict[str, Any] = await resp.json()
    return doc


async def test_the_document_is_served_and_is_openapi_3_1(host: HostClient) -> None:
    doc = await _doc(host)
    assert doc["openapi"] == "3.1.0"
    OpenAPI.model_validate(doc)
    assert doc == await _doc(host)


async def test_every_route_has_an_operation_and_every_operation_a_route(host: HostClient) -> None:
    doc = await _doc(host)
    routes, operations = openapi.route_table(host.app), openapi.operation_table(doc)
    assert routes - operations == set(), "routes without a documented operation"
    assert operations - routes == set(), "documented operations without a route"
    assert ("GET", "/plugins/bank/instructions/{token}") in operations           # a plugin route
    assert ("GET", "/config-element/{paymentComponent}") in operations           # a shared session route
    assert doc["paths"]["/webhooks/{instance}"]["post"]["parameters"][0]["schema"]["enum"] == \
        ["sandbox", "giftcards", "stripe-eu", "bank"]


def test_the_check_catches_a_route_added_without_an_operation() -> None:
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/enablers/{instance}/{filename}", handler)
    doc: dict[str, Any] = {"paths": {"/gone": {"get": {}}}}
    assert openapi.route_table(app) - openapi.operation_table(doc) == {("GET", "/enablers/{instance}/{filename}")}
    assert openapi.operation_table(doc) - openapi.route_table(app) == {("GET", "/gone")}
    openapi.document(app, "get", "/enablers/{instance}/{filename}", {"responses": {"200": {"description": "a file"}}})
    assert app[openapi.OPENAPI_EXTRA] == {("GET", "/enablers/{instance}/{filename}"): {
        "responses": {"200": {"description": "a file"}}}}


async def test_request_schemas_are_the_models_that_validate_the_requests(host: HostClient) -> None:
    doc = await _doc(host)
    schemas = doc["components"]["schemas"]
    ref = "#/components/schemas/{model}"
    intent = IntentBody.model_json_schema(ref_template=ref)
    assert schemas["IntentBody"] == {k: v for k, v in intent.items() if k != "$defs"}
    body = doc["paths"]["/operations/payment-intents/{paymentId}"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/IntentBody"}
    payments = doc["paths"]["/payments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert payments["type"] == "object"   # stripe and bank_transfer have no model: any object
    assert schemas["PaymentBody"] == {k: v for k, v in PaymentBody.model_json_schema(ref_template=ref).items()
                                      if k != "$defs"}


async def test_a_deployment_of_sandboxes_documents_their_payment_body(
        connector_host: Callable[..., Awaitable[HostClient]]) -> None:
    host = await connector_host("a: {plugin: sandbox, paymentInterface: a}\n"
                                "b: {plugin: sandbox, paymentInterface: b}\n")
    doc = await _doc(host)
    payments = doc["paths"]["/payments"]["post"]
    assert payments["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaymentBody"}
    assert payments["responses"]["200"]["links"]["refundOrCapture"]["operationId"] == "paymentIntent"
