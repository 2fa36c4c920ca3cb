"""Bank transfer (prepayment): the shopper transfers the amount with a reference; the bank's signed
notification settles the payment.

* ``POST /payments`` with ``{"paymentMethod": {"type": "banktransfer"}}`` records the Authorization as
  **Pending** (its interaction id, and the Payment's interfaceId, is the RF reference) and answers the
  transfer details: ``transferReference``, ``iban``, ``bic``, ``accountHolder``, ``amount``, ``dueDate`` and
  ``instructionsUrl`` (a page showing them and whether the money has arrived).
* The bank's ``transfer.received`` notification makes the Authorization Success and records a Charge of
  what arrived (``bank_transfer.notifications``). Money that arrived is charged, so there is no capture:
  the provider supports only ``captureMethod: automatic``, which is therefore its instances' default.
* A refund is a transfer back that the merchant makes: it answers ``received`` (Refund Pending) with the
  reference to put on it, and the bank's ``transfer.sent`` notification makes it Success.
* Nothing to cancel: an unpaid order is closed by the merchant's order process, not by the bank.
* ``reconcile``, for an attempt whose answer the host never recorded: see ``BankTransferProvider.reconcile``.

The provider keeps no state and calls no API: the reference is derived from the Payment id, and the host
records every transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from bank_transfer.notifications import METHOD, parse, to_result
from bank_transfer.page import InstructionsPage
from bank_transfer.reference import creditor_reference, grouped, refund_reference
from bank_transfer.settings import BankTransferSettings
from bank_transfer.signing import make_token, read_token, verify
from host import (
    Capabilities,
    CaptureMethod,
    CreatePaymentRequest,
    EnablerAssets,
    InvalidFieldError,
    ModificationRequest,
    ModificationResult,
    NotSupportedError,
    Outcome,
    PaymentProvider,
    PaymentResult,
    ProviderContext,
    ProviderSettings,
    ReconcileRequest,
    ReconcileResult,
    RequiredFieldError,
    Route,
    SessionInfo,
    StatusCheck,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
)

#: Days a page link stays valid after the due date (for the shopper who checks late).
LINK_GRACE_DAYS = 30


class _Method(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    type: Literal["banktransfer"]


class PaymentBody(BaseModel):
    """``POST /payments``: only the method; the amount always comes from the cart."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    paymentMethod: _Method
    recurring: StrictBool = False


def parse_body(body: Mapping[str, Any]) -> PaymentBody:
    try:
        parsed = PaymentBody.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        if error["type"] == "missing":
            raise RequiredFieldError(path) from None
        raise InvalidFieldError(path, f"The value {error.get('input')!r} is not valid for field {path}.",
                                invalidValue=error.get("input"), allowedValues=[METHOD]) from None
    if parsed.recurring:
        raise NotSupportedError("A bank transfer is made by the shopper; it cannot be merchant-initiated.")
    return parsed


class BankTransferProvider(PaymentProvider[BankTransferSettings]):
    """``plugin: bank_transfer``. See the module docstring and ``BankTransferSettings``."""

    Settings: ClassVar[type[ProviderSettings]] = BankTransferSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({METHOD}), capture=False, partial_capture=False, multiple_capture=False,
        cancel=False, refund=True, partial_refund=True, multiple_refund=True, webhooks=True,
        async_modifications=True, capture_methods=frozenset({CaptureMethod.AUTOMATIC}))
    host_api: ClassVar[str] = ">=1.0,<2"

    def __init__(self, settings: BankTransferSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.options = settings
        self._secret = settings.webhook_secret.get_secret_value()
        self._page = InstructionsPage(lambda token, now: read_token(self._secret, token, now))
        self.clock = time.time

    def routes(self) -> Sequence[Route]:
        return self._page.routes()

    async def status(self) -> StatusCheck:
        # There is no PSP to reach: the account is checked when the settings are loaded.
        return StatusCheck("Bank transfer", "UP", details={"bic": self.options.bic, "dueDays": self.options.due_days})

    async def public_config(self, session: SessionInfo) -> Mapping[str, Any]:
        return {"accountHolder": self.options.account_holder, "iban": grouped(self.options.iban),
                "bic": self.options.bic, "dueDays": self.options.due_days}

    def enabler(self) -> EnablerAssets:
        """The browser side (``enabler/banktransfer.js``): asks for the transfer details and shows them."""
        return EnablerAssets(sources=(files(__package__) / "enabler" / "banktransfer.js",))

    def payment_method(self, body: Mapping[str, Any]) -> str | None:
        """Validates the whole body before the host creates a Payment."""
        return parse_body(body).paymentMethod.type

    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        parse_body(request.body)
        reference = creditor_reference(request.payment.id)
        now = self.clock()
        due = datetime.fromtimestamp(now, UTC).date() + timedelta(days=self.options.due_days)
        token = make_token(self._secret, {
            "p": request.payment.id, "r": reference, "h": self.options.account_holder, "i": self.options.iban,
            "b": self.options.bic, "d": due.isoformat(),
            "e": int(now) + (self.options.due_days + LINK_GRACE_DAYS) * 86400})
        self.context.logger.info("bank transfer %s: payment %s awaits %s with reference %s",
                                 self.context.instance_id, request.payment.id, request.amount, reference)
        return PaymentResult(
            psp_reference=reference,
            transactions=(TransactionResult(TxType.AUTHORIZATION, TxState.PENDING, request.amount, reference),),
            method=METHOD,
            response={"transferReference": grouped(reference), "iban": grouped(self.options.iban),
                      "bic": self.options.bic, "accountHolder": self.options.account_holder,
                      "amount": request.amount.to_json(), "dueDate": due.isoformat(),
                      "instructionsUrl": f"{request.return_url}/instructions/{token}"})

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        raise NotSupportedError("Money that arrives by bank transfer is charged already; there is nothing to capture.")

    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        raise NotSupportedError("A bank transfer cannot be cancelled; refund what has arrived.")

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        reference = request.payment.interface_id or creditor_reference(request.payment.id)
        outgoing = refund_reference(reference, request.idempotency_key)
        self.context.logger.info("bank transfer %s: refund %s of payment %s to be sent with reference %s",
                                 self.context.instance_id, request.amount, request.payment.id, outgoing)
        return ModificationResult(Outcome.RECEIVED, outgoing)

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        """What became of an attempt whose outcome the host never recorded (the host died, or its write of
        the outcome failed), asked by the reconciler once the attempt is older than its horizon.

        There is no bank API to ask, and nothing to ask it: creating a payment or a refund only hands out a
        reference, which is derived from the Payment and the idempotency key. So:

        * an attempt still ``Initial`` handed out nothing (its answer never reached the shopper or the
          merchant), so no money can arrive for it: not found, and the host marks it Failure;
        * a ``Pending`` one waits for the bank's notification, which is the only thing that settles it: it
          is still Pending, with the reference it was given (the host then leaves it as it is).

        Read-only, as every ``reconcile`` must be: the host records the answer.
        """
        tx = request.transaction
        if tx.state != TxState.PENDING:
            return ReconcileResult.not_found()
        reference = request.payment.interface_id or creditor_reference(request.payment.id)
        if tx.type == TxType.AUTHORIZATION:
            return ReconcileResult(True, (TransactionResult(tx.type, tx.state, tx.amount, reference),), reference)
        if tx.type == TxType.REFUND and request.idempotency_key:
            outgoing = refund_reference(reference, request.idempotency_key)
            return ReconcileResult(True, (TransactionResult(tx.type, tx.state, tx.amount, outgoing),), outgoing)
        return ReconcileResult.not_found()

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        verify(self._secret, request.headers, request.body, self.clock())
        return to_result(parse(request.body))
