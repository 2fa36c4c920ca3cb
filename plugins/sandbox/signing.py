"""Signatures of the sandbox PSP: webhook signatures and hosted-payment-page tokens.

Both use HMAC-SHA256 keyed with the instance's ``webhookSecret``, each over its own message shape, so a
value of one kind can never be replayed as the other.

Webhook signature, sent in the ``Sandbox-Signature`` header and checked over the **raw** body bytes::

    Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, b"<t>." + raw_body)>

A signature older or newer than ``TOLERANCE_SECONDS`` is refused (replay window).

Hosted-page token, a URL-safe, signed (not encrypted) and expiring blob::

    base64url(JSON payload) "." base64url(HMAC-SHA256(secret, b"sandbox-hosted-token." + payload part))

The payload carries the Payment id, PSP reference, amount, capture method, the merchant return URL and
the expiry (``e``, unix seconds). Nothing in it is secret: it is what the shopper's browser already knows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from host import CaptureMethod, InvalidFieldError, Money, WebhookSignatureError

SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
TOKEN_TTL_SECONDS = 30 * 60

_TOKEN_CONTEXT = b"sandbox-hosted-token."
_B64URL = re.compile(r"^[A-Za-z0-9_-]+\Z")
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Sandbox-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, f'{timestamp}.'.encode() + body).hex()}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError(f"Malformed {SIGNATURE_HEADER} header")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and _HEX64.match(value):
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError(f"Malformed {SIGNATURE_HEADER} header")
    return timestamp, signatures


def verify(secret: str, header: str | None, body: bytes, *, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise ``WebhookSignatureError`` unless ``header`` signs ``body`` with ``secret``, in time."""
    if not header:
        raise WebhookSignatureError(f"Missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    if abs(now - timestamp) > tolerance:
        raise WebhookSignatureError("Webhook timestamp is outside the tolerance window")
    expected = _digest(secret, f"{timestamp}.".encode() + body).hex().encode()
    if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures):
        raise WebhookSignatureError()


@dataclass(frozen=True, slots=True)
class HostedToken:
    """What a hosted-page link carries: enough to record the shopper's decision without a lookup."""

    payment_id: str
    psp_reference: str
    amount: Money
    capture_method: CaptureMethod
    merchant_return_url: str | None
    expires_at: int


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: str, token: HostedToken) -> str:
    """Serialise and sign ``token``."""
    payload = {
        "p": token.payment_id, "r": token.psp_reference, "a": token.amount.cent_amount,
        "c": token.amount.currency, "f": token.amount.fraction_digits, "m": token.capture_method.value,
        "u": token.merchant_return_url, "e": token.expires_at,
    }
    payload_part = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{payload_part}.{_b64encode(_digest(secret, _TOKEN_CONTEXT + payload_part.encode()))}"


def _malformed() -> InvalidFieldError:
    return InvalidFieldError("token", "The payment link is malformed.")


def read_token(secret: str, value: str, *, now: float) -> HostedToken:
    """Verify and decode a token: 400 when malformed, 401 when the signature is wrong or it expired."""
    payload_part, sep, signature_part = value.partition(".")
    if not sep or not _B64URL.match(payload_part) or not _B64URL.match(signature_part):
        raise _malformed()
    expected = _b64encode(_digest(secret, _TOKEN_CONTEXT + payload_part.encode()))
    if not hmac.compare_digest(expected.encode(), signature_part.encode()):
        raise WebhookSignatureError("The payment link is not valid.")
    try:
        data = json.loads(_b64decode(payload_part))
        token = HostedToken(
            payment_id=str(data["p"]), psp_reference=str(data["r"]),
            amount=Money(int(data["a"]), str(data["c"]), int(data["f"])),
            capture_method=CaptureMethod(data["m"]),
            merchant_return_url=str(data["u"]) if data.get("u") else None,
            expires_at=int(data["e"]),
        )
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError):
        raise _malformed() from None
    if now > token.expires_at:
        raise WebhookSignatureError("The payment link has expired.")
    return token
