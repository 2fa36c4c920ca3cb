"""The benchmark scenarios and the connector.yaml each one runs the host with.

A scenario is one request, sent again and again by the load generator: the stub is stateless, so the same
session id, Payment id or webhook body is as good as a fresh one every time. Ids carry the instance's
``paymentInterface`` (see ``bench.stub``), which is how a scenario targets one of many instances.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stub import PROJECT_KEY
from plugins.sandbox import SIGNATURE_HEADER, sign
from plugins.sandbox.settings import DEV_WEBHOOK_SECRET

BEARER = "bench-checkout-token"
CAPTURE_CENTS = 100


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    mode: str                               # the sandbox instances' settings.mode
    expected_upstream: float                # calls per request, as tests/host/test_upstream_calls.py counts
    expect: str = ""                        # in the answer of a correct server (checked once before the load)

    def request(self, instance: int) -> Request:
        """The request against instance ``mock-{instance}``; built just before a run (webhooks are dated)."""
        iface = f"mock-{instance}"
        body: dict[str, Any]
        if self.name == "payments":
            body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
            return Request("POST", "/payments", _json_headers({"X-Session-Id": f"{iface}__session"}),
                           json.dumps(body).encode())
        if self.name == "capture":
            body = {"actions": [{"action": "capturePayment",
                                 "amount": {"centAmount": CAPTURE_CENTS, "currencyCode": "EUR"}}]}
            return Request("POST", f"/operations/payment-intents/{iface}__bench",
                           _json_headers({"Authorization": f"Bearer {BEARER}"}), json.dumps(body).encode())
        if self.name == "webhook":
            event = {"id": "bench-event", "type": "capture", "paymentId": f"{iface}__bench",
                     "pspReference": "sandbox-capture-bench", "transactionType": "Charge", "state": "Success",
                     "amount": {"centAmount": CAPTURE_CENTS, "currencyCode": "EUR"}}
            raw = json.dumps(event, separators=(",", ":")).encode()
            signature = sign(DEV_WEBHOOK_SECRET, raw, int(time.time()))
            return Request("POST", f"/webhooks/i{instance}", _json_headers({SIGNATURE_HEADER: signature}), raw)
        if self.name == "config":
            return Request("GET", "/operations/config", {"X-Session-Id": f"{iface}__session"})
        raise ValueError(f"unknown scenario {self.name}")


def _json_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/json", **headers}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("payments", "POST /payments (sandbox, authorize)", "sync", 5, '"paymentReference"'),
    Scenario("capture", "POST /operations/payment-intents/{id} (capture)", "sync", 3, '"approved"'),
    Scenario("webhook", "POST /webhooks/{instance} (signed sandbox event)", "async", 2),
    Scenario("config", "GET /operations/config", "sync", 1, '"clientKey"'),
)
BY_NAME = {s.name: s for s in SCENARIOS}


def connector_yaml(upstream: str, port: int, instances: int, mode: str) -> str:
    """A production-shaped connector.yaml (JSON logs at INFO) with ``instances`` sandbox instances. The sandbox
    PSP keeps its books in memory (``books: memory``): a constant-time PSP, so the runs measure the host."""
    lines = [
        "commercetools:",
        "  embedded: false",
        f"  projectKey: {PROJECT_KEY}",
        "  clientId: connector",
        "  clientSecret: connector-secret",
        f"  authUrl: {upstream}",
        f"  apiUrl: {upstream}",
        f"  sessionUrl: {upstream}/",
        f"  jwksUrl: {upstream}/.well-known/jwks.json",
        f"  jwtIssuer: {upstream}/mc",
        "server:",
        "  host: 127.0.0.1",
        f"  port: {port}",
        f"  publicUrl: http://127.0.0.1:{port}",
        "reconciler:",
        "  interval: 0      # the stub answers no payment queries; a pass would only log that",
        "instances:",
    ]
    for i in range(instances):
        lines.append(f"  i{i}: {{plugin: sandbox, paymentInterface: mock-{i}, "
                     f"settings: {{mode: {mode}, books: memory}}}}")
    return "\n".join(lines) + "\n"


def write_config(directory: Path, upstream: str, port: int, instances: int, mode: str) -> Path:
    path = directory / f"connector-{instances}-{mode}.yaml"
    path.write_text(connector_yaml(upstream, port, instances, mode), encoding="utf-8")
    return path
