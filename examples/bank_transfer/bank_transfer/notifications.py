"""The bank's notifications about booked transfers, turned into transactions.

The bank (or the reconciliation service reading the merchant's account statements) POSTs one JSON
notification per booked transfer to ``/webhooks/{instance}``, signed as ``bank_transfer.signing`` says::

    {"id": "ntf_1", "type": "transfer.received" | "transfer.sent" | "transfer.returned",
     "bankTransactionId": "2026112200042", "amount": {"centAmount": 10000, "currencyCode": "EUR"},
     "remittanceInformation": "Order 1042 RF06 4623 1156 2205 2399", "bookingDate": "2026-11-22"}

* ``transfer.received``: a shopper's transfer. The Authorization becomes Success and a Charge of what
  arrived is recorded, its interaction id the bank's transaction id (two transfers are two Charges).
* ``transfer.sent``: a refund the merchant sent, remittance ``<RF reference>-<8 hex>``: the Refund is Success.
* ``transfer.returned``: that refund came back (closed account, wrong IBAN): the Refund is Failure.

A transfer whose remittance holds none of our references is acknowledged and recorded nowhere: the
merchant's accounting matches it by hand. Every interaction id comes from the notification, so a
notification delivered twice records nothing new.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from bank_transfer.reference import find_reference
from host import (
    InvalidFieldError,
    Money,
    PaymentEvent,
    TransactionResult,
    TxState,
    TxType,
    WebhookResult,
)

logger = logging.getLogger(__name__)
METHOD = "banktransfer"


class _Amount(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    centAmount: StrictInt = Field(gt=0)
    currencyCode: str = Field(pattern=r"^[A-Z]{3}$")


class Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    type: Literal["transfer.received", "transfer.sent", "transfer.returned"]
    bankTransactionId: str = Field(min_length=1, max_length=128)
    amount: _Amount
    remittanceInformation: str = Field(max_length=420)


def parse(body: bytes) -> Notification:
    """A verified body as a ``Notification``; 400 naming the field when it is not one."""
    try:
        return Notification.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"]) or "body"
        raise InvalidFieldError(path, f"Notification field {path} is not valid: {error['msg']}.") from None


def to_result(notification: Notification) -> WebhookResult:
    """The transactions a notification records (none when it is not about one of our payments)."""
    found = find_reference(notification.remittanceInformation)
    amount = Money(notification.amount.centAmount, notification.amount.currencyCode)
    if found is None or (notification.type != "transfer.received" and found[1] is None):
        logger.warning("bank notification %s (%s of %s) names none of our references; left for manual matching",
                       notification.id, notification.type, amount)
        return WebhookResult(body={"matched": False})
    reference, refund = found
    if notification.type == "transfer.received":
        transactions: tuple[TransactionResult, ...] = (
            TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, None, reference),
            TransactionResult(TxType.CHARGE, TxState.SUCCESS, amount, notification.bankTransactionId))
    else:
        state = TxState.SUCCESS if notification.type == "transfer.sent" else TxState.FAILURE
        transactions = (TransactionResult(TxType.REFUND, state, amount, f"{reference}-{refund}"),)
    event = PaymentEvent(transactions=transactions, psp_reference=reference, method=METHOD)
    return WebhookResult(events=(event,), body={"matched": True})
