"""The image and deploy/compose.yaml: build, start three replicas behind HAProxy, pay and capture through it.

Skipped only where Docker is absent: no ``docker`` client, no engine answering it (a client alone is
absent), or no ``docker compose``. test_topology.py runs the same topology without Docker everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from processes import ROOT, Emulator, call, free_port

COMPOSE = ROOT / "deploy" / "compose.yaml"


def _docker_absent() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client"
    try:
        engine = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "the docker client got no answer from an engine within 30 s"
    if engine.returncode != 0 or not engine.stdout.strip():
        first = (engine.stderr.strip().splitlines() or ["no server version"])[0]
        return f"a docker client but no engine: {first}"
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30,
                             check=False)
    if compose.returncode != 0:
        return "the docker engine runs but `docker compose` is missing"
    return None


ABSENT = _docker_absent()
pytestmark = pytest.mark.skipif(ABSENT is not None, reason=f"Docker is absent: {ABSENT}")


@pytest.fixture
def stack() -> Iterator[tuple[str, str]]:
    lb_port, ct_port = free_port(), free_port()
    project = f"connector-host-test-{lb_port}"
    env = {"LB_PORT": str(lb_port), "CT_PORT": str(ct_port)}
    compose = ["docker", "compose", "-f", str(COMPOSE), "-p", project]
    full_env = {**os.environ, **env}
    up = subprocess.run([*compose, "up", "--build", "--detach", "--wait"], cwd=ROOT, env=full_env,
                        capture_output=True, text=True, timeout=900, check=False)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield f"http://127.0.0.1:{lb_port}", f"http://127.0.0.1:{ct_port}"
    finally:
        subprocess.run([*compose, "down", "--volumes", "--timeout", "30"], cwd=ROOT, env=full_env,
                       capture_output=True, timeout=300, check=False)


def test_the_image_serves_a_payment_through_the_load_balancer(stack: tuple[str, str]) -> None:
    lb, ct = stack
    deadline = time.monotonic() + 60
    while call("GET", f"{lb}/ready")[0] != 200:      # HAProxy's first checks of the replicas
        assert time.monotonic() < deadline, "the load balancer never answered /ready with 200"
        time.sleep(0.5)
    emulator = Emulator(ct)
    session = emulator.session(lb)
    status, body = call("POST", f"{lb}/payments", {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"},
                        {"X-Session-Id": session})
    assert status == 200, body
    capture = {"actions": [{"action": "capturePayment", "amount": {"centAmount": 5950, "currencyCode": "EUR"}}]}
    status, body = call("POST", f"{lb}/operations/payment-intents/{body['paymentReference']}", capture,
                        {"Authorization": f"Bearer {emulator.token()}"})
    assert (status, body) == (200, {"outcome": "approved"})
