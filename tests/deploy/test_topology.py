"""The deploy/ topology without Docker: three ``connector-host serve`` replicas on deploy/connector.yaml,
the emulator as its own commercetools process, and HAProxy on deploy/haproxy.cfg in front of them.

It proves that the shipped files run as a whole: requests land on every replica, a payment authorized
through one replica is captured through another after the first was killed (commercetools is the only
state), and the load balancer takes the dead replica out without losing a request.
"""

from __future__ import annotations

import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import ROOT, Emulator, Service, Services, call, free_port, metric

HAPROXY = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
AUTHORIZE = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}


@dataclass(frozen=True)
class Replica:
    service: Service
    port: int
    metrics: str

    def served(self, route: str) -> float:
        return metric(self.metrics, "connector_host_requests_total", route=route, status="200")


def test_three_replicas_behind_haproxy_survive_losing_one(services: Services, emulator: Emulator) -> None:
    if HAPROXY is None:
        pytest.fail("HAProxy is not installed: `make test` installs it (apt-get install haproxy); this test "
                    "runs the deploy/ topology, so it is not skipped")
    lb_port = free_port()
    lb = f"http://127.0.0.1:{lb_port}"
    replicas: list[Replica] = []
    for n in (1, 2, 3):
        port, metrics_port = free_port(), free_port()
        env = {**emulator.env(), "HOST": "127.0.0.1", "PORT": str(port), "METRICS_PORT": str(metrics_port),
               "PUBLIC_URL": lb, "WORKERS": "1", "SANDBOX_WEBHOOK_SECRET": "topology-test-secret"}
        service = services.serve(f"host{n}", ROOT / "deploy" / "connector.yaml", env)
        replicas.append(Replica(service, port, f"http://127.0.0.1:{metrics_port}/metrics"))
    for replica in replicas:
        replica.service.wait_http(f"http://127.0.0.1:{replica.port}/ready")
    balancer = services.start("haproxy", [HAPROXY, "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], {
        "LB_BIND": f"127.0.0.1:{lb_port}",
        **{f"HOST{n}": f"127.0.0.1:{r.port}" for n, r in enumerate(replicas, start=1)}})
    balancer.wait_http(f"{lb}/health")

    # round robin: the enabler's requests land on every replica
    session = emulator.session(lb)
    for _ in range(6):
        assert call("GET", f"{lb}/operations/config", headers={"X-Session-Id": session})[0] == 200
    served = [r.served("/operations/config") for r in replicas]
    assert sum(served) == 6 and sum(1 for s in served if s) == 3, served

    status, body = call("POST", f"{lb}/payments", AUTHORIZE, {"X-Session-Id": session})
    assert status == 200, body
    payment_id = body["paymentReference"]

    # the replica that authorized dies without a chance to finish anything
    (authorizer,) = [r for r in replicas if r.served("/payments")]
    authorizer.service.stop(signal.SIGKILL)

    # the flow goes on through the others: the capture reads the Payment from commercetools
    token = emulator.token()
    capture = {"actions": [{"action": "capturePayment", "amount": {"centAmount": 5950, "currencyCode": "EUR"}}]}
    status, body = call("POST", f"{lb}/operations/payment-intents/{payment_id}", capture,
                        {"Authorization": f"Bearer {token}"})
    assert (status, body) == (200, {"outcome": "approved"})
    for _ in range(6):       # connections refused by the dead replica are retried on a live one
        assert call("GET", f"{lb}/operations/config", headers={"X-Session-Id": session})[0] == 200

    transactions = {(t["type"], t["state"], t["amount"]["centAmount"])
                    for t in emulator.payment(payment_id)["transactions"]}
    assert transactions == {("Authorization", "Success", 5950), ("Charge", "Success", 5950)}

