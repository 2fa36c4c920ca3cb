"""The ``POST /payments`` body of the sandbox, wire-compatible with the payment template's mock::

    {"paymentMethod": {"type": "card"|"invoice"|"purchaseorder"|"customtestmethod",
                       "poNumber"?: str, "invoiceMemo"?: str,
                       "storedPaymentMethodId"?: str,     # pay with a stored card (the host looks it up)
                       "storePaymentMethod"?: bool,       # store this card once authorized
                       "card"?: {"endDigits"?, "brand"?, "expiryMonth"?, "expiryYear"?}},  # what to show of it
     "paymentOutcome": "Authorized"|"Rejected"}     # not needed in offsite mode: the hosted page asks

``card`` is display data only (the sandbox enabler sends it with ``storePaymentMethod``): at most the last 4
digits, never a card number, which is refused.

Validation errors become the host's errors (CONTRACT.md §4.3): a missing field is ``RequiredField`` with
the property name, a value outside an enum or of the wrong type is ``InvalidField`` with the dotted path,
``invalidValue`` and (for enums) ``allowedValues``. Unknown extra fields are ignored, as the template does.

A merchant-initiated (recurring) payment from ``POST /operations/transactions`` (``request.recurring``; the
host also still builds the host API 1.1 body ``{"paymentMethod": {"type", "token", "storedPaymentMethodId"},
"recurring": true}``): no shopper chose an outcome, so it is authorized, and a purchase order needs no
``poNumber`` again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from host import ApiError, InvalidFieldError, RequiredFieldError

METHODS = ("card", "invoice", "purchaseorder", "customtestmethod")
OUTCOMES = ("Authorized", "Rejected")
_ALLOWED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("paymentMethod", "type"): METHODS,
    ("paymentOutcome",): OUTCOMES,
}


class CardDisplay(BaseModel):
    """What the shopper will see of a stored card: never enough to pay with."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)

    end_digits: str | None = Field(None, alias="endDigits", pattern=r"^[0-9]{1,4}$")
    brand: str | None = Field(None, max_length=32, pattern=r"^[a-z_]+$")
    expiry_month: int | None = Field(None, alias="expiryMonth", ge=1, le=12)
    expiry_year: int | None = Field(None, alias="expiryYear", ge=2000, le=2100)


class PaymentMethodBody(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)

    type: Literal["card", "invoice", "purchaseorder", "customtestmethod"]
    po_number: str | None = Field(None, alias="poNumber")
    invoice_memo: str | None = Field(None, alias="invoiceMemo")
    stored_payment_method_id: str | None = Field(None, alias="storedPaymentMethodId")
    store_payment_method: StrictBool = Field(False, alias="storePaymentMethod")
    card: CardDisplay | None = None


class PaymentBody(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)

    payment_method: PaymentMethodBody = Field(alias="paymentMethod")
    payment_outcome: Literal["Authorized", "Rejected"] | None = Field(None, alias="paymentOutcome")
    recurring: StrictBool = False

    @property
    def authorized(self) -> bool:
        return self.payment_outcome == "Authorized"


def _to_api_error(exc: ValidationError) -> ApiError:
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    path = ".".join(loc)
    if error["type"] == "missing":
        return RequiredFieldError(loc[-1])
    value = error.get("input")
    allowed = _ALLOWED.get(loc)
    if allowed is not None and error["type"] == "literal_error":
        return InvalidFieldError(path, f"The value {value} is not valid for field {path}.",
                                 invalidValue=value, allowedValues=list(allowed))
    return InvalidFieldError(path, f"The value {value!r} is not valid for field {path}: {error['msg']}.",
                             invalidValue=value)


def parse_body(body: Mapping[str, Any], *, outcome_required: bool = True, recurring: bool = False) -> PaymentBody:
    """Validate a ``POST /payments`` body or raise the host's 400 error for the first problem.

    ``outcome_required=False`` (``mode: offsite``): the shopper chooses the outcome on the hosted page, so
    the body need not carry ``paymentOutcome``. ``recurring``: a merchant-initiated charge, authorized.
    """
    data = dict(body)
    if recurring:
        data["recurring"] = True
    if data.get("recurring") is True:
        data.setdefault("paymentOutcome", "Authorized")
    try:
        parsed = PaymentBody.model_validate(data)
    except ValidationError as exc:
        raise _to_api_error(exc) from None
    if parsed.payment_outcome is None and outcome_required:
        raise RequiredFieldError("paymentOutcome")
    if (parsed.payment_method.type == "purchaseorder" and not parsed.payment_method.po_number
            and not parsed.recurring):
        raise RequiredFieldError("poNumber")
    return parsed
