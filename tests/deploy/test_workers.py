"""``connector-host serve --workers N``: N processes on one port, one /metrics, graceful SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from processes import Emulator, Service, Services, call, free_port, metric

from host.config import load_config
from host.errors import ConnectorError
from host.supervisor import claim_port
from host.testing import discovered_plugins
from host.workers import worker_count

ROOT = Path(__file__).resolve().parents[2]


def _config(directory: Path, *, latency: float = 0.0) -> Path:
    path = directory / "connector.yaml"
    path.write_text(
        "commercetools: {embedded: false}\n"
        "server: {host: 127.0.0.1, port: '${PORT}', metricsPort: '${METRICS_PORT}', logFormat: json,"
        " shutdownTimeout: 20}\n"
        f"instances:\n  sandbox: {{plugin: sandbox, paymentInterface: mock, settings: {{latency: {latency}}}}}\n",
        encoding="utf-8")
    return path


def _workers(supervisor: Service) -> set[int]:
    """The worker processes of a supervisor (its spawned children, not multiprocessing's resource tracker)."""
    pid = supervisor.popen.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()}


def _until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _start(services: Services, emulator: Emulator, tmp_path: Path, *, latency: float = 0.0,
           workers: int = 2) -> tuple[Service, str, str]:
    port, metrics_port = free_port(), free_port()
    env = {**emulator.env(), "PORT": str(port), "METRICS_PORT": str(metrics_port)}
    supervisor = services.serve("host", _config(tmp_path, latency=latency), env, "--workers", str(workers))
    base = f"http://127.0.0.1:{port}"
    supervisor.wait_http(f"{base}/ready")
    _until(lambda: f"{workers} workers serving" in supervisor.output(), "the workers did not all start")
    return supervisor, base, f"http://127.0.0.1:{metrics_port}/metrics"


def test_workers_share_one_port_and_one_metrics_endpoint(services: Services, emulator: Emulator,
                                                         tmp_path: Path) -> None:
    _, base, metrics_url = _start(services, emulator, tmp_path)
    session = emulator.session(base)
    for _ in range(20):              # a new connection each: the kernel spreads them over the workers
        assert call("GET", f"{base}/operations/config", headers={"X-Session-Id": session})[0] == 200

    # one /metrics adds up every worker's requests
    assert metric(metrics_url, "connector_host_requests_total", route="/operations/config",
                  instance_id="sandbox", status="200") == 20
    # each worker fetched its own commercetools token when it served its first request: both served
    assert metric(metrics_url, "connector_host_commercetools_requests_total", route="/oauth/token") == 2


def test_sigterm_lets_the_request_in_flight_finish(services: Services, emulator: Emulator, tmp_path: Path) -> None:
    supervisor, base, metrics_url = _start(services, emulator, tmp_path, latency=2.0)
    session = emulator.session(base)
    answer: list[tuple[int, Any]] = []
    payment = threading.Thread(target=lambda: answer.append(call(
        "POST", f"{base}/payments", {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"},
        {"X-Session-Id": session}, timeout=30)))
    payment.start()
    _until(lambda: metric(metrics_url, "connector_host_requests_in_progress") == 1, "the payment never started")

    supervisor.popen.send_signal(signal.SIGTERM)
    payment.join(timeout=30)
    assert answer and answer[0][0] == 200 and "paymentReference" in answer[0][1]
    assert supervisor.popen.wait(timeout=30) == 0
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=2):
        pass
    log = supervisor.output()
    assert log.count("stopping: no new connections") == 2             # each worker drained
    assert "Traceback" not in log and '"level": "ERROR"' not in log


def test_a_worker_that_dies_is_replaced(services: Services, emulator: Emulator, tmp_path: Path) -> None:
    supervisor, base, _ = _start(services, emulator, tmp_path)
    first = _workers(supervisor)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    _until(lambda: len(_workers(supervisor)) == 2 and victim not in _workers(supervisor),
           "no new worker replaced the one that died")
    supervisor.wait_http(f"{base}/ready")
    session = emulator.session(base)
    assert all(call("GET", f"{base}/operations/config", headers={"X-Session-Id": session})[0] == 200
               for _ in range(6))
    assert f"exited with code -{int(signal.SIGKILL)}: starting a new one" in supervisor.output()


def test_the_embedded_stand_in_is_served_by_one_process(caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTOR_EMBEDDED", raising=False)
    deployment = load_config(ROOT / "connector.yaml", discovered_plugins())
    assert deployment.config.commercetools.embedded
    with caplog.at_level(logging.INFO, logger="host.workers"):
        assert worker_count(deployment, 4) == 1
    assert "serving with 1 worker, not 4" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="host.workers"):
        assert worker_count(deployment, None) == 1
    assert caplog.text == ""          # nobody asked for workers: `make run` says nothing about them


def test_a_busy_port_is_refused_before_any_worker_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConnectorError, match=f"cannot listen on 127.0.0.1:{port}"):
            claim_port("127.0.0.1", port)
    assert claim_port("127.0.0.1", 0) > 0


def test_workers_stop_when_their_supervisor_is_killed(services: Services, emulator: Emulator, tmp_path: Path) -> None:
    """SIGKILL leaves the supervisor no time to stop its workers: they notice and stop on their own, so no
    orphan keeps the port and the requests of a replica that is gone."""
    supervisor, _, _ = _start(services, emulator, tmp_path)
    workers = _workers(supervisor)
    assert len(workers) == 2
    os.kill(supervisor.popen.pid, signal.SIGKILL)

    def gone(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
        except FileNotFoundError:
            return True

    _until(lambda: all(gone(pid) for pid in workers), "workers outlived their supervisor")
