"""What the standard endpoints answer, as pydantic models: the response side of ``/openapi.json``.

The handlers build their answers as plain JSON; these models describe them (CONTRACT.md §4-§6), and the
schemathesis run in the suite checks every response against them. Extra keys are allowed where the
contract lets a provider add its own (``/payments``, ``/operations/config``, error objects).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorObject(_Open):
    code: str
    message: str


class ErrorEnvelope(BaseModel):
    """Every error (CONTRACT.md §4.1); ``errors[*]`` may carry more fields (``field``, ``invalidValue``...)."""

    message: str
    statusCode: int
    errors: list[ErrorObject]


class AuthErrorEnvelope(ErrorEnvelope):
    """401 (CONTRACT.md §4.2)."""

    error: str
    error_description: str


class GiftCardErrorStatus(BaseModel):
    state: str
    errors: list[ErrorObject]


class GiftCardErrorBody(BaseModel):
    """``/balance`` and ``/redeem`` failures in the gift-card shape (CONTRACT.md §5.6)."""

    status: GiftCardErrorStatus


class Amount(BaseModel):
    centAmount: int
    currencyCode: str


class Health(BaseModel):
    status: Literal["ok"]


class Ready(_Open):
    """``GET /ready``: 200 ready, 503 not ready, the same shape (``host.health``)."""

    status: Literal["ready", "not ready"]
    reasons: list[str]
    commercetools: dict[str, Any]
    instances: dict[str, str]


class PaymentResponse(_Open):
    """``POST /payments``: the Payment id, plus whatever public fields the provider adds."""

    paymentReference: str


class Brand(BaseModel):
    key: str


class DisplayOptions(BaseModel):
    """What a shopper sees of a stored payment method."""

    model_config = ConfigDict(extra="forbid")

    endDigits: str | None = None
    brand: Brand | None = None
    expiryMonth: int | None = None
    expiryYear: int | None = None
    logoUrl: str | None = None


class StoredPaymentMethod(BaseModel):
    """One stored payment method (CONTRACT.md §5.7) without its token: no other key is allowed."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: str | None
    isDefault: bool
    createdAt: str | None
    displayOptions: DisplayOptions


class StoredPaymentMethods(BaseModel):
    """``GET /stored-payment-methods``."""

    storedPaymentMethods: list[StoredPaymentMethod]


class Outcome(BaseModel):
    outcome: Literal["approved", "received", "rejected"]


class TransactionStatus(BaseModel):
    state: Literal["Completed", "Failed", "Pending"]
    errors: list[ErrorObject]


class TransactionResponse(BaseModel):
    transactionStatus: TransactionStatus
    paymentId: str


class BalanceStatus(BaseModel):
    state: Literal["Valid"]


class BalanceResponse(BaseModel):
    status: BalanceStatus
    amount: Amount


class RedeemResponse(BaseModel):
    result: Literal["Success", "Failure", "Initial"]   # Initial: redeemed, not yet recorded (202)
    paymentReference: str
    redemptionId: str | None


class Check(BaseModel):
    name: str
    status: Literal["UP", "DOWN"]
    message: str | None = None
    details: Any = None


class StatusResponse(BaseModel):
    status: Literal["OK", "Partially Available", "Unavailable"]
    timestamp: str
    version: str
    metadata: dict[str, Any]
    checks: list[Check]


class Component(_Open):
    type: str


class PaymentComponents(BaseModel):
    dropins: list[Component]
    components: list[Component]
    express: list[Component]


class PublicConfig(_Open):
    """``GET /operations/config``: the selected instance's public configuration."""
