"""The sandbox PSP's answer to ``reconcile``: which entry of its books an attempt is, and what it says.

The host asks by the attempt's idempotency key (the reservation's ``interfaceId``), or, for a transaction
it did not reserve, by the PSP reference it recorded. The reference of an entry is derived from the key and
the kind of operation (``books.reference``), and the kind follows from the transaction's type: an
Authorization (and the Charge of an automatic capture beside it, keyed ``<key>:Charge``) is the
authorization's entry, any other Charge a capture, a Refund a refund, a CancelAuthorization a cancel.

What an entry says:

- an authorization: its transactions as answered; on the hosted page, the shopper's decision once booked,
  ``Initial`` while the link is valid and undecided, ``Failure`` once it has expired undecided;
- a modification: ``Success`` when it was approved, or (async mode) once its webhook was due, else
  ``Pending``: the PSP did it whether or not its webhook arrived.
"""

from __future__ import annotations

from typing import Any

from host import CaptureMethod, ReconcileRequest, ReconcileResult, TransactionResult, TxState, TxType
from plugins.sandbox.books import money_of, reference, tx_of

_KIND = {TxType.CHARGE: "capture", TxType.REFUND: "refund", TxType.CANCEL_AUTHORIZATION: "cancel"}
_CREATES = ("create", "transaction")   # the operations of an attempt key that authorize


def entry_reference(request: ReconcileRequest) -> str | None:
    """The reference of the books' entry for the attempt, or None when it cannot be the sandbox's."""
    tx_type = request.transaction.type
    key = request.idempotency_key
    if key:
        if tx_type == TxType.AUTHORIZATION or (tx_type == TxType.CHARGE and request.operation in _CREATES):
            return reference("authorization", key.removesuffix(f":{TxType.CHARGE.value}"))
        kind = _KIND.get(tx_type)
        return reference(kind, key) if kind else None
    ref = request.psp_reference or ""
    return ref.removesuffix(":charge") if ref.startswith("sandbox-") else None


def _authorization(entry: dict[str, Any], now: float) -> tuple[TransactionResult, ...]:
    hosted = entry.get("hosted")
    if not hosted:
        return tuple(tx_of(t) for t in entry["transactions"])
    decision = entry.get("decision")
    ref = entry["transactions"][0]["interactionId"]
    amount = money_of(hosted["amount"])
    if decision is None:
        state = TxState.INITIAL if now < hosted["expiresAt"] else TxState.FAILURE
        return (TransactionResult(TxType.AUTHORIZATION, state, amount, ref),)
    txs = [TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS if decision else TxState.FAILURE, amount, ref)]
    if decision and hosted["captureMethod"] == CaptureMethod.AUTOMATIC.value:
        txs.append(TransactionResult(TxType.CHARGE, TxState.SUCCESS, amount, f"{ref}:charge"))
    return tuple(txs)


def answer(entry: dict[str, Any], tx_type: TxType, now: float) -> ReconcileResult:
    """What ``entry`` says about a transaction of ``tx_type``: that transaction first."""
    if entry["kind"] == "authorization":
        txs = _authorization(entry, now)
        ref = txs[0].interaction_id
        if tx_type == TxType.CHARGE:   # the Charge of an automatic capture, asked about on its own
            txs = tuple(t for t in txs if t.type == TxType.CHARGE)
        return ReconcileResult(True, txs, ref) if txs else ReconcileResult.not_found()
    if entry["type"] != tx_type.value:
        return ReconcileResult.not_found()
    done = entry["outcome"] == "approved" or now >= entry["dueAt"]
    ref = reference(entry["kind"], entry["key"])
    tx = TransactionResult(tx_type, TxState.SUCCESS if done else TxState.PENDING, money_of(entry["amount"]), ref)
    return ReconcileResult(True, (tx,), ref)
