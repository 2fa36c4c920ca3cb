"""localstripe for the tests: started once per session, out of process (``localstripe_launcher.py``).

``tests/conftest.py`` turns ``running()`` into the session fixture ``localstripe_port``, shared by the
Stripe plugin tests and the browser tests.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().parent / "localstripe_launcher.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    """One JSON request to localstripe on ``port``; its HTTP status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@contextlib.contextmanager
def running(log: Path) -> Iterator[int]:
    """A localstripe process on a free loopback port (its output goes to ``log``); yields the port."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(LAUNCHER), str(port)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"localstripe exited with {proc.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if request(port, "GET", "/js.stripe.com/v3/") == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"localstripe did not start within 20 s: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
