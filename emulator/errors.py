"""Errors the emulator answers with, in the commercetools HTTP API shapes.

Every failure a handler can produce is a :class:`CtError`; the error middleware in
``emulator.app`` turns it into the JSON body commercetools would send::

    CtError                      {"statusCode", "message", "errors": [{"code", "message", ...}]}
     └── OAuthError              + "error", "error_description" (auth service and 401/403 shapes)

The helpers below build the errors commercetools documents, with their exact codes and fields.
"""

from __future__ import annotations

import json
from typing import Any


class CtError(Exception):
    """A commercetools API error: one HTTP status, one entry in ``errors``."""

    def __init__(self, status: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> dict[str, Any]:
        """The response body, as commercetools emits it."""
        return {
            "statusCode": self.status,
            "message": self.message,
            "errors": [{"code": self.code, "message": self.message, **self.fields}],
        }


class OAuthError(CtError):
    """An error of the auth service (or an auth failure of the API): adds the OAuth keys."""

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"] = self.code
        body["error_description"] = self.message
        return body


def invalid_json(detail: str | None = None) -> CtError:
    """400 ``InvalidJsonInput``: unparsable body, wrong types, missing required values."""
    fields: dict[str, Any] = {}
    if detail:
        fields["detailedErrorMessage"] = detail
    return CtError(400, "InvalidJsonInput", "Request body does not contain valid JSON.", **fields)


def missing(path: str) -> CtError:
    """400 for a required value that is absent (commercetools reports it as invalid JSON)."""
    return invalid_json(f"{path}: Missing required value")


def invalid_field(field: str, value: Any, message: str | None = None) -> CtError:
    """400 ``InvalidField`` for a well-typed value that is not acceptable."""
    msg = message or f"The value {_quote(value)} is not valid for field '{field}'."
    return CtError(400, "InvalidField", msg, field=field, invalidValue=value)


def invalid_input(message: str) -> CtError:
    """400 ``InvalidInput``: a malformed parameter or an unknown update action."""
    return CtError(400, "InvalidInput", message)


def invalid_operation(message: str) -> CtError:
    """400 ``InvalidOperation``: a well-formed request that the resource's state forbids."""
    return CtError(400, "InvalidOperation", message)


def duplicate_field(field: str, value: Any) -> CtError:
    """400 ``DuplicateField`` for a value that must be unique."""
    return CtError(
        400,
        "DuplicateField",
        f"A duplicate value '{json.dumps(value)}' exists for field '{field}'.",
        field=field,
        duplicateValue=value,
    )


def not_found(resource_id: str) -> CtError:
    """404 ``ResourceNotFound``."""
    return CtError(404, "ResourceNotFound", f"The Resource with ID '{resource_id}' was not found.")


def referenced_not_found(type_id: str, resource_id: str) -> CtError:
    """400 ``ReferencedResourceNotFound`` for a reference to a missing resource."""
    return CtError(
        400,
        "ReferencedResourceNotFound",
        f"The referenced object of type '{type_id}' with identifier '{resource_id}' was not "
        "found. It either doesn't exist, or it can't be accessed from this endpoint.",
        typeId=type_id,
        id=resource_id,
    )


def concurrent_modification(resource_id: str, expected: int, current: int) -> CtError:
    """409 ``ConcurrentModification``, carrying the version the client should retry with."""
    return CtError(
        409,
        "ConcurrentModification",
        f"Object {resource_id} has a different version than expected. "
        f"Expected: {expected} - Actual: {current}.",
        currentVersion=current,
    )


# Codes used for statuses that fault injection (or an unexpected failure) answers with.
_STATUS_CODES = {
    400: ("InvalidInput", "Invalid input."),
    401: ("invalid_token", "invalid_token"),
    403: ("insufficient_scope", "Insufficient scope."),
    404: ("ResourceNotFound", "The Resource was not found."),
    409: ("ConcurrentModification", "The resource was modified concurrently."),
    500: ("General", "Internal Server Error."),
    502: ("BadGateway", "Bad Gateway."),
    503: ("ServiceUnavailable", "Service Unavailable."),
    504: ("GatewayTimeout", "Gateway Timeout."),
}


def for_status(status: int) -> CtError:
    """A commercetools-shaped error for an arbitrary HTTP status (fault injection)."""
    code, message = _STATUS_CODES.get(status, ("General", f"HTTP {status}."))
    if status in (401, 403):
        return OAuthError(status, code, message)
    return CtError(status, code, message)


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
