"""Structured creditor references (ISO 11649, "RF references") and IBANs: the ISO 7064 mod-97 checks.

A Payment's reference is derived from its commercetools id, so the provider keeps no state: the shopper puts
``RF06 4623 1156 2205 2399`` on the transfer, the bank reports it back in the remittance information, and the
host finds the Payment by its ``interfaceId`` (the reference). The check digits catch a mistyped reference.
"""

from __future__ import annotations

import hashlib
import re

_BODY_LENGTH = 16
#: our references (16 digits after the check digits), with a refund's suffix when there is one
_IN_TEXT = re.compile(rf"(RF\d{{2}}\d{{{_BODY_LENGTH}}})(?:-([0-9A-F]{{8}})(?![0-9A-Z]))?")
_ALPHANUMERIC = re.compile(r"^[0-9A-Z]+\Z")


def _numeric(text: str) -> int:
    """ISO 7064: letters become two digits (A=10 ... Z=35)."""
    return int("".join(str(int(c, 36)) for c in text))


def mod97_valid(code: str) -> bool:
    """The mod-97 check of an IBAN or RF reference (the first four characters moved to the end)."""
    return len(code) > 4 and bool(_ALPHANUMERIC.match(code)) and _numeric(code[4:] + code[:4]) % 97 == 1


def creditor_reference(payment_id: str) -> str:
    """The RF reference of a Payment: 16 digits of SHA-256(payment id) and the check digits.

    Digits only: nothing to confuse when typing it (O and 0, I and 1), and 10^16 values make a clash
    between two open payments as good as impossible.
    """
    number = int.from_bytes(hashlib.sha256(payment_id.encode()).digest()[:8], "big") % 10**_BODY_LENGTH
    body = f"{number:0{_BODY_LENGTH}d}"
    return f"RF{98 - _numeric(body + 'RF00') % 97:02d}{body}"


def refund_reference(reference: str, idempotency_key: str) -> str:
    """The reference an outgoing refund transfer carries: the payment's RF reference and a short suffix,
    unique per refund (derived from the host's idempotency key, so a retried call gives the same one)."""
    return f"{reference}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()}"


def grouped(code: str) -> str:
    """``RF18539007547034`` as printed for people: ``RF18 5390 0754 7034``."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def find_reference(remittance: str) -> tuple[str, str | None] | None:
    """Our RF reference in a transfer's remittance text, and the refund suffix if there is one.

    Shoppers type references with spaces and in lower case; both are forgiven. A reference whose check
    digits fail is skipped (a typo must not settle someone else's payment).
    """
    text = re.sub(r"\s+", "", remittance.upper())
    for match in _IN_TEXT.finditer(text):
        if mod97_valid(match.group(1)):
            return match.group(1), match.group(2)
    return None
