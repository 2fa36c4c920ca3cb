"""schemathesis hooks for the fuzz run (tests/fuzz/test_schemathesis.py): credentials per operation, from the
embedded commercetools stand-in, and a count of the requests sent.

Loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``; ``FUZZ_EMULATOR`` is the stand-in's URL, ``FUZZ_COUNT``
the file the count is written to when the run ends.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

import schemathesis

EMULATOR = os.environ["FUZZ_EMULATOR"]
PROJECT_KEY = os.environ.get("FUZZ_PROJECT_KEY", "demo")
_count = [0]
_lock = threading.Lock()
_tokens: dict[str, str] = {}


def _post(path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(f"{EMULATOR}{path}", data=json.dumps(body).encode(),  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:   # noqa: S310 - the stand-in on loopback
        return json.loads(resp.read())


def _session(interface: str, amount: int = 5950) -> str:
    """A fresh cart and Checkout session: every case may pay, none finds the cart paid by another."""
    cart = _post("/_emulator/carts", {"currency": "EUR", "lineItems": [
        {"name": "Fuzz item", "price": {"centAmount": amount}, "quantity": 1}]})
    return str(_post("/_emulator/sessions", {"cartId": cart["id"], "metadata": {"paymentInterface": interface}})["id"])


def _token(kind: str) -> str:
    with _lock:
        if kind not in _tokens:
            if kind == "oauth2":
                _tokens[kind] = _post("/_emulator/tokens", {"client_id": "checkout", "scopes": [
                    f"manage_checkout_payment_intents:{PROJECT_KEY}",
                    f"manage_checkout_transactions:{PROJECT_KEY}"]})["access_token"]
            else:
                _tokens[kind] = _post("/jwt/token", {"sub": "fuzz"})["token"]
        return _tokens[kind]


@schemathesis.auth(refresh_interval=None)
class Credentials:
    """What Checkout, the enabler and the Merchant Center would send, chosen by the operation's security."""

    def get(self, case: Any, context: Any) -> tuple[str, str] | None:
        security = [name for requirement in context.operation.definition.raw.get("security", [])
                    for name in requirement]
        path = context.operation.path
        if "session" in security:
            interface = "mock-giftcard-provider" if path in ("/balance", "/redeem") else "mock"
            return "X-Session-Id", _session(interface)
        if "oauth2" in security:
            return "Authorization", f"Bearer {_token('oauth2')}"
        if "merchantCenter" in security:
            return "Authorization", f"Bearer {_token('jwt')}"
        return None

    def set(self, case: Any, data: tuple[str, str] | None, context: Any) -> None:
        if data is not None:
            case.headers = {**(case.headers or {}), data[0]: data[1]}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    with _lock:
        _count[0] += 1


@atexit.register
def _write_count() -> None:
    path = os.environ.get("FUZZ_COUNT")
    if path:
        Path(path).write_text(str(_count[0]), encoding="utf-8")
