"""The ``POST /payments`` body the Stripe enabler sends, validated::

    {"paymentMethodOptions"?: {"card": {...}, ...},      # merged into the PaymentIntent, per method
     "paymentMethod"?: {"type"?: "payment"|"expressCheckout", "id"?: "pm_..."}}

``paymentMethod.id`` is a PaymentMethod created in the browser (or a Stripe test id such as
``pm_card_visa``): it is set on the PaymentIntent at creation, the browser still confirms. The capture
method is the instance's decision, so a ``capture_method`` inside ``paymentMethodOptions`` is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from host import InvalidFieldError

_PM_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,200}\Z")
_METHOD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
#: Keys of ``paymentMethodOptions.<method>`` that only the instance configuration may set.
_RESERVED_OPTIONS = frozenset({"capture_method"})


@dataclass(frozen=True)
class PaymentBody:
    payment_method_id: str | None = None
    payment_method_options: dict[str, dict[str, Any]] = field(default_factory=dict)


def payment_method_type(body: Mapping[str, Any]) -> str | None:
    """``paymentMethod.type`` when it is a string."""
    method = body.get("paymentMethod")
    if isinstance(method, Mapping) and isinstance(method.get("type"), str):
        return str(method["type"])
    return None


def parse_body(body: Mapping[str, Any]) -> PaymentBody:
    """Validate the enabler's body; a wrong shape is a 400 ``InvalidField`` naming the path."""
    pm_id: str | None = None
    method = body.get("paymentMethod")
    if method is not None:
        if not isinstance(method, Mapping):
            raise InvalidFieldError("paymentMethod", "paymentMethod must be an object.", invalidValue=method)
        raw = method.get("id")
        if raw is not None:
            if not isinstance(raw, str) or not _PM_ID.match(raw):
                raise InvalidFieldError("paymentMethod.id", "paymentMethod.id must be a Stripe "
                                        "PaymentMethod id (pm_...).", invalidValue=raw)
            pm_id = raw

    options: dict[str, dict[str, Any]] = {}
    raw_options = body.get("paymentMethodOptions")
    if raw_options is not None:
        if not isinstance(raw_options, Mapping):
            raise InvalidFieldError("paymentMethodOptions", "paymentMethodOptions must be an object of "
                                    "per-method objects.", invalidValue=raw_options)
        for name, value in raw_options.items():
            path = f"paymentMethodOptions.{name}"
            if not isinstance(name, str) or not _METHOD_KEY.match(name):
                raise InvalidFieldError(path, f"{name!r} is not a Stripe payment method type.",
                                        invalidValue=name)
            if not isinstance(value, Mapping):
                raise InvalidFieldError(path, f"{path} must be an object.", invalidValue=value)
            options[name] = {k: v for k, v in value.items() if k not in _RESERVED_OPTIONS}
    return PaymentBody(pm_id, options)
