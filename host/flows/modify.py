"""Capture, refund, cancel, reverse (``POST /operations/payment-intents/{id}``), the Payment's version the lock.

1. **Read** the Payment; its ``paymentInterface`` picks the instance.
2. **Check and reserve** in one versioned write: the limits are checked on the Payment as read (captures
   and refunds in flight count as done), then a reservation is added — a transaction of the operation's
   type, ``Initial``, whose ``interfaceId`` is the attempt key — with the version read. Two replicas
   racing for the same amount both write with that version: one gets 409, re-reads, checks again and is
   refused if the limit is now reached. The write must contain the reservation, or nothing was reserved.
3. **Call** the provider with the attempt key as its idempotency key.
4. **Settle** the reservation with the outcome (``Success``/``Pending``/``Failure`` + the PSP reference).

An ``Idempotency-Key`` makes the attempt key stable: a replay answers the recorded outcome without a
PSP call; a replay of an attempt whose outcome is unknown calls the PSP again with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass

from host.commercetools.client import CommercetoolsClient
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update, build_actions
from host.commercetools.versioned import retry_on_conflict
from host.errors import ApiError, NotSupportedError, ReservationMissingError
from host.flows.rules import OPERATION, TX_TYPE, Modification, plan
from host.models import ModificationRequest, ModificationResult, Money, Operation, Outcome, PaymentView, TxState
from host.providers import GiftCardProvider, PaymentProvider, Provider
from host.routing import Bound, Router

_OUTCOME = {TxState.SUCCESS: Outcome.APPROVED, TxState.PENDING: Outcome.RECEIVED, TxState.FAILURE: Outcome.REJECTED}


@dataclass(frozen=True, slots=True)
class _Reserved:
    payment: PaymentView
    operation: Operation
    amount: Money
    outcome: Outcome | None = None      # set when the attempt was already decided (a replay)


async def modify(ct: CommercetoolsClient, router: Router, payment_id: str, command: Modification,
                 attempt: str) -> Outcome:
    """Run ``command`` on the Payment; ``attempt`` identifies this attempt (stable for a replay)."""
    payment = await ct.get_payment(payment_id)
    bound = router.for_interface(payment.payment_interface, None)
    key = f"{bound.id}:{command.requested.value}:{attempt}"

    async def reserve(n: int) -> _Reserved:
        current = payment if n == 0 else await ct.get_payment(payment_id)
        recorded = current.transaction(key)
        if recorded is not None:
            operation = OPERATION[recorded.type]
            return _Reserved(current, operation, recorded.amount, _OUTCOME.get(recorded.state))
        operation, amount = plan(current, command, bound.provider.capabilities)
        draft = TxDraft(TX_TYPE[operation], TxState.INITIAL, amount, interface_id=key)
        written = await ct.update_payment(payment_id, current.version,
                                          build_actions(current, PaymentUpdate([draft])))
        if written.transaction(key) is None:
            raise ReservationMissingError(f"commercetools did not keep the reservation {key}.")
        return _Reserved(written, operation, amount)

    reserved = await retry_on_conflict(reserve)
    if reserved.outcome is not None:
        return reserved.outcome
    tx_type = TX_TYPE[reserved.operation]
    request = ModificationRequest(operation=reserved.operation, payment=reserved.payment, amount=reserved.amount,
                                  idempotency_key=key, merchant_reference=command.merchant_reference)
    try:
        result = await _call(bound, command.requested, request)
    except ApiError as exc:
        if exc.status < 500:   # the PSP definitely refused: free the reserved amount
            await apply_update(ct, payment_id, PaymentUpdate([TxDraft(tx_type, TxState.FAILURE, reserved.amount,
                                                                      interface_id=key, settles=True)]))
        # else the outcome is unknown (timeout, 5xx): the reservation stays Initial and keeps the amount
        # blocked; a retry with the same Idempotency-Key repeats the PSP call with the same PSP key
        raise
    drafts = [TxDraft(tx_type, result.outcome.state, reserved.amount, result.psp_reference, key, settles=True)]
    drafts += [TxDraft(t.type, t.state, t.amount or reserved.amount, t.interaction_id or result.psp_reference,
                       f"{key}:{t.type.value}") for t in result.transactions]
    await apply_update(ct, payment_id, PaymentUpdate(drafts, psp_reference=result.psp_reference),
                       payment=reserved.payment)
    return result.outcome


async def _call(bound: Bound[Provider], requested: Operation, request: ModificationRequest) -> ModificationResult:
    provider = bound.provider
    if isinstance(provider, GiftCardProvider):
        if request.operation != Operation.REFUND:
            raise NotSupportedError(f"Gift-card payments do not support {request.operation.value}.")
        return await provider.refund(request)
    assert isinstance(provider, PaymentProvider)
    if requested == Operation.REVERSE:
        return await provider.reverse(request)
    method = {Operation.CAPTURE: provider.capture, Operation.CANCEL: provider.cancel,
              Operation.REFUND: provider.refund}[request.operation]
    return await method(request)
