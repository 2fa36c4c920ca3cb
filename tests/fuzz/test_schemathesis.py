"""schemathesis against a live host on the embedded default (issue 13): thousands of generated and
mutated requests to every documented operation, plus stateful runs along the document's links (create a
payment, then capture, refund, cancel or reverse it). Fails on any 5xx and on any response that does not
match ``/openapi.json``: its status, content type, headers or schema.

Bounded: ``FUZZ_EXAMPLES`` cases per operation and phase (default 150, about 3000 requests), one worker,
a fixed seed (``FUZZ_SEED`` to vary it), and a hard time limit. The schemathesis CLI runs in its own
process; the hooks in ``schemathesis_hooks.py`` give each case the credentials Checkout would send.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")
TIME_LIMIT = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)   # noqa: S310 - loopback
            return
        except OSError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the host did not start"
            time.sleep(0.1)


def test_schemathesis_finds_no_server_error_and_no_mismatch(tmp_path: Path, fuzz_report: dict[str, Any]) -> None:
    port, ct_port, metrics_port = _free_port(), _free_port(), _free_port()
    # every port free: another connector-host on this machine may hold the shipped defaults (9464 for /metrics)
    env = {**os.environ, "PORT": str(port), "CT_EMULATOR_PORT": str(ct_port), "METRICS_PORT": str(metrics_port),
           "CONNECTOR_EMBEDDED": "true",
           "CTP_PROJECT_KEY": "demo", "CTP_JWT_ISSUER": f"http://127.0.0.1:{ct_port}/mc", "LOG_FORMAT": "text",
           "CONNECTOR_HOST_BLOCK_PLUGINS": ""}
    env.pop("CONNECTOR_CONFIG", None)
    bin_dir = Path(sys.executable).parent
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([str(bin_dir / "connector-host"), "serve", "--config", str(ROOT / "connector.yaml")],
                                  cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", server, log)
        count = tmp_path / "count"
        started = time.monotonic()
        result = subprocess.run(
            [str(bin_dir / "st"), "run", f"http://127.0.0.1:{port}/openapi.json", "--checks", CHECKS,
             "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", os.environ.get("FUZZ_EXAMPLES", "150"),
             "--seed", os.environ.get("FUZZ_SEED", "20261203"), "--workers", "1", "--generation-database", "none",
             "--no-color", "--request-timeout", "20"],
            cwd=tmp_path, capture_output=True, text=True, timeout=TIME_LIMIT, check=False,
            env={**env, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(Path(__file__).parent),
                 "FUZZ_EMULATOR": f"http://127.0.0.1:{ct_port}", "FUZZ_COUNT": str(count)})
        seconds = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:] + "\n--- host log ---\n" + log.read_text()[-4000:]
    requests = int(count.read_text())
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases, output[-3000:]
    fuzz_report.update(requests=requests, seconds=seconds,
                       summary=f"{cases.group(1)} test cases, 0 server errors, 0 responses off the document")
    assert requests >= 1000, f"only {requests} requests were sent"
    assert "Internal server error" not in log.read_text()
