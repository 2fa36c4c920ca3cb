"""Real processes on loopback for the deployment tests: ``connector-host serve``, ``python -m emulator``,
HAProxy. Each process logs to its own file; every wait is bounded and fails with that log, never with a
bare timeout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_KEY = "demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def call(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None,
         timeout: float = 10) -> tuple[int, Any]:
    """One HTTP request on a new connection; (status, JSON body or text)."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def metric(url: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` at a ``/metrics`` URL whose labels include ``labels``."""
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, number = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(number)
    return total


@dataclass
class Service:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 60, status: int = 200) -> None:
        """Until ``url`` answers ``status``; fails with the log if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, f"{self.name} exited ({self.popen.returncode}):\n{self.output()[-3000:]}"
            try:
                last = call("GET", url, timeout=2)[0]
                if last == status:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {url} did not answer {status} (last: {last}):\n{self.output()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


@dataclass
class Services:
    directory: Path
    started: list[Service] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> Service:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT)
        service = Service(name, popen, log)
        self.started.append(service)
        return service

    def serve(self, name: str, config: str | Path, env: Mapping[str, str], *args: str) -> Service:
        return self.start(name, [str(BIN / "connector-host"), "serve", "--config", str(config), *args], env)


@dataclass(frozen=True)
class Emulator:
    url: str
    service: Service | None = None       # None: run by someone else (docker compose)

    def env(self) -> dict[str, str]:
        """The CTP_* variables a host needs to use this emulator as its commercetools."""
        return {"CTP_PROJECT_KEY": PROJECT_KEY, "CTP_CLIENT_ID": "connector", "CTP_CLIENT_SECRET": "connector-secret",
                "CTP_AUTH_URL": self.url, "CTP_API_URL": self.url, "CTP_SESSION_URL": self.url + "/",
                "CTP_JWKS_URL": f"{self.url}/.well-known/jwks.json", "CTP_JWT_ISSUER": f"{self.url}/mc"}

    def session(self, host_url: str, amount: int = 5950) -> str:
        """A cart of ``amount`` EUR and a Checkout session for the card sandbox; returns the session id."""
        status, cart = call("POST", f"{self.url}/_emulator/carts", {
            "currency": "EUR", "lineItems": [{"name": "Item", "price": {"centAmount": amount}, "quantity": 1}]})
        assert status == 201 or status == 200, cart
        status, session = call("POST", f"{self.url}/_emulator/sessions", {
            "cartId": cart["id"], "metadata": {"processorUrl": host_url, "paymentInterface": "mock"}})
        assert status in (200, 201), session
        return str(session["id"])

    def token(self, client_id: str = "checkout") -> str:
        status, body = call("POST", f"{self.url}/_emulator/tokens", {"client_id": client_id})
        assert status in (200, 201), body
        return str(body["access_token"])

    def payment(self, payment_id: str) -> dict[str, Any]:
        status, body = call("GET", f"{self.url}/{PROJECT_KEY}/payments/{payment_id}",
                            headers={"Authorization": f"Bearer {self.token('connector')}"})
        assert status == 200, body
        return dict(body)
