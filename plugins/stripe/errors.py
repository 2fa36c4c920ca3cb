"""Stripe SDK errors → the host's ``ProviderError``, with every key-shaped string redacted.

Messages come from ``e.error.message`` (Stripe's own text), never ``str(e)``, which prefixes
``Request req_...:``. Stripe masks keys in its messages (``sk_test_****1234``); we drop even that.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn

import stripe

from host import ProviderError

_KEYS = re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9*]+|\bwhsec_[A-Za-z0-9*]+")


def redact(text: str) -> str:
    """``text`` with anything shaped like a Stripe key or signing secret replaced."""
    return _KEYS.sub("[redacted]", text)


def stripe_code(exc: stripe.StripeError) -> str | None:
    """Stripe's error code (``card_declined``, ``resource_missing``...), if it gave one."""
    return (exc.error.code if exc.error is not None else None) or exc.code


def stripe_message(exc: stripe.StripeError) -> str:
    message = (exc.error.message if exc.error is not None else None) or exc.user_message
    return redact(str(message)) if message else type(exc).__name__


def provider_error(exc: stripe.StripeError) -> ProviderError:
    """Stripe's status and code; 502 when Stripe could not be reached or failed (5xx) after retries, and when
    Stripe refused *our* key (401/403): that is this deployment's fault, not the caller's credentials."""
    status = exc.http_status if exc.http_status is not None and exc.http_status < 500 else 502
    if status in (401, 403):
        return ProviderError(f"Stripe refused this instance's credentials: {stripe_message(exc)}",
                             code="StripeAuthenticationError", status=502)
    if isinstance(exc, stripe.APIConnectionError):
        return ProviderError("Stripe could not be reached.", code="StripeConnectionError", status=status)
    return ProviderError(stripe_message(exc), code=stripe_code(exc) or "StripeError", status=status)


def fail(log: logging.Logger, exc: stripe.StripeError, action: str, subject: str) -> NoReturn:
    """Log ``exc`` (status, code, message and Stripe's request id; never a key) and raise its
    ``ProviderError``."""
    error = provider_error(exc)
    log.warning("Stripe %s of %s failed: %s %s %s (request %s)", action, subject, exc.http_status,
                error.code, error.message, exc.request_id)
    raise error from None
