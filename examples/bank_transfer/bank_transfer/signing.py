"""HMAC-SHA256 signatures: the bank's notifications and the links to the instructions page.

A notification carries ``Transfer-Signature: t=<unix seconds>,v1=<hex HMAC(secret, "<t>." + raw body)>``,
checked over the raw bytes and refused outside a five-minute window. A page link is
``base64url(JSON).base64url(HMAC(secret, "instructions." + payload))``: signed, not secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from host import InvalidFieldError, WebhookSignatureError

SIGNATURE_HEADER = "Transfer-Signature"
TOLERANCE_SECONDS = 300
_PAGE = b"instructions."


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Transfer-Signature`` value of ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, f'{timestamp}.'.encode() + body).hex()}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise ``WebhookSignatureError`` unless the headers sign ``body`` with ``secret``, in time."""
    header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    fields = dict(part.strip().partition("=")[::2] for part in header.split(",") if "=" in part)
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and signature):
        raise WebhookSignatureError(f"Missing or malformed {SIGNATURE_HEADER} header")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookSignatureError("Notification timestamp is outside the tolerance window")
    expected = _mac(secret, f"{timestamp}.".encode() + body).hex()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise WebhookSignatureError()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(secret: str, payload: Mapping[str, Any]) -> str:
    part = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{part}.{_b64(_mac(secret, _PAGE + part.encode()))}"


def read_token(secret: str, token: str, now: float) -> dict[str, Any]:
    """The payload of a page link: 400 when malformed, 401 when forged or expired."""
    part, _, signature = token.partition(".")
    if not hmac.compare_digest(_b64(_mac(secret, _PAGE + part.encode())).encode(), signature.encode()):
        raise WebhookSignatureError("The payment link is not valid.")
    try:
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidFieldError("token", "The payment link is malformed.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int) or now > payload["e"]:
        raise WebhookSignatureError("The payment link has expired.")
    return payload
