"""Errors of connector-host, in one tree.

    ConnectorError
    ├── ConfigError              bad connector.yaml or environment (start-up, never a traceback)
    ├── PluginError              discovery / registration / API-version problems (start-up)
    └── ApiError                 anything that reaches an HTTP client, rendered as the contract's envelope
        ├── AuthError            401, the auth envelope (CONTRACT.md §4.2)
        ├── InvalidJsonError     400 InvalidJsonInput
        ├── RequiredFieldError   400 RequiredField
        ├── InvalidFieldError    400 InvalidField
        ├── InvalidOperationError 400 InvalidOperation
        ├── InternalConstraintViolatedError 400 a stored payment method that is not the customer's, or stored twice
        ├── NotSupportedError    400 InvalidOperation: the selected provider does not offer this
        ├── ResourceNotFoundError 404 ResourceNotFound
        ├── ConcurrentModificationError 409 ConcurrentModification
        │   └── AmbiguousEventError     a PSP event could settle several reservations (retried later)
        ├── PaymentInProgressError 409  an undecided attempt already covers what is asked for
        ├── RefundAboveChargeError 409  a PSP event reports refunds above the Payment's charges (flagged, retried)
        ├── ReservationMissingError 500 an outcome whose reservation is not on the Payment (never guessed)
        ├── UpstreamError        a commercetools answer we pass on (its status and code)
        ├── ProviderError        a PSP failure a plugin reports (its status, its code)
        ├── WebhookSignatureError 401, the webhook's signature did not verify
        └── GiftCardError        the gift-card shape {"status": {"state", "errors"}} (CONTRACT.md §5.6)

Plugins raise ``ProviderError``, ``WebhookSignatureError``, ``GiftCardError``, ``InvalidFieldError`` and
friends; the host's error middleware turns every ``ApiError`` into JSON in one place.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """Base of every error raised on purpose by connector-host."""


class ConfigError(ConnectorError):
    """connector.yaml (or the environment it reads) cannot be used.

    ``str()`` is the operator-facing message: ``connector.yaml:14 instances.x.settings.y: field required``.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None, fix: str | None = None) -> None:
        self.file, self.line, self.path, self.fix, self.reason = file, line, path, fix, message
        where = ""
        if file:
            where = f"{file}:{line}" if line else file
        location = " ".join(x for x in (where, path) if x)
        text = f"{location}: {message}" if location else message
        if fix:
            text += f" ({fix})"
        super().__init__(text)


class PluginError(ConnectorError):
    """A plugin cannot be loaded or registered."""


class ApiError(ConnectorError):
    """An error answered to an HTTP client with the contract's envelope (CONTRACT.md §4)."""

    status: int = 500
    code: str = "General"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields: dict[str, Any] = fields

    def error_object(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "statusCode": self.status, "errors": [self.error_object()]}


class AuthError(ApiError):
    """401 with ``error``/``error_description`` (CONTRACT.md §4.2). There is no 403 anywhere."""

    status = 401
    code = "invalid_token"

    def __init__(self, message: str, *, code: str = "invalid_token", **fields: Any) -> None:
        super().__init__(message, code=code, **fields)

    def body(self) -> dict[str, Any]:
        return {**super().body(), "error": self.code, "error_description": self.message}


class InvalidJsonError(ApiError):
    status, code = 400, "InvalidJsonInput"

    def __init__(self, message: str = "Request body does not contain valid JSON.", **fields: Any) -> None:
        super().__init__(message, **fields)


class RequiredFieldError(ApiError):
    status, code = 400, "RequiredField"

    def __init__(self, field: str, message: str | None = None) -> None:
        super().__init__(message or f"A value is required for field {field}.", field=field)


class InvalidFieldError(ApiError):
    status, code = 400, "InvalidField"

    def __init__(self, field: str, message: str, **fields: Any) -> None:
        super().__init__(message, field=field, **fields)


class InvalidOperationError(ApiError):
    status, code = 400, "InvalidOperation"


class InternalConstraintViolatedError(ApiError):
    """400 InternalConstraintViolated, as the templates answer for a stored payment method that does not belong
    to the cart's customer, or a token stored twice (CONTRACT.md §5.7)."""

    status, code = 400, "InternalConstraintViolated"


class NotSupportedError(InvalidOperationError):
    """The selected instance's provider does not offer the requested operation."""


class ResourceNotFoundError(ApiError):
    status, code = 404, "ResourceNotFound"


class ConcurrentModificationError(ApiError):
    status, code = 409, "ConcurrentModification"


class AmbiguousEventError(ConcurrentModificationError):
    """A PSP event matches several undecided reservations of the same type and amount. Nothing is written;
    the 409 makes the PSP deliver it again, by when the host's own outcome writes have named them."""


class RefundAboveChargeError(ApiError):
    """409: a PSP event reports a refund that would take the Payment's refunds above its Success charges.
    That refund is not recorded (the rest of the event is); the PSP delivers it again, and it is recorded
    once the charge it refunds is (events out of order). Flagged in the log, a metric and the Payment's
    ``paymentStatus.interfaceText`` (``host.flows.events``)."""

    status, code = 409, "InvalidOperation"


class PaymentInProgressError(ApiError):
    """409: an attempt that is not decided yet (a PSP call under way) already covers the amount asked for.
    Not a ``ConcurrentModificationError``: retrying at once cannot help."""

    status, code = 409, "ConcurrentModification"


class ReservationMissingError(ApiError):
    """An outcome to record whose reservation is not on the Payment. The host never records an unreserved
    outcome; the attempt stays for reconciliation."""

    status, code = 500, "ReservationMissing"


class UpstreamError(ApiError):
    """commercetools answered with an error that we pass on to the client."""


class ProviderError(ApiError):
    """The PSP failed or refused. Plugins raise it with the PSP's own code and a fitting status."""

    status, code = 502, "ProviderError"


class WebhookSignatureError(AuthError):
    """A webhook whose signature, timestamp or shape does not verify. Nothing is written."""

    def __init__(self, message: str = "Webhook signature is not valid") -> None:
        super().__init__(message)


class GiftCardError(ApiError):
    """Gift-card failures answered as ``{"status": {"state": S, "errors": [{"code": S, "message": m}]}}``."""

    status = 400

    def __init__(self, state: str, message: str, *, status: int | None = None, **fields: Any) -> None:
        super().__init__(message, code=state, status=status if status is not None else
                         (404 if state == "NotFound" else 400), **fields)
        self.state = state

    def body(self) -> dict[str, Any]:
        return {"status": {"state": self.state, "errors": [{"code": self.state, "message": self.message,
                                                            **self.fields}]}}
