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
PSP call; a replay of an attempt whose outcome is unknown calls the PSP again with the same key. If the
outcome cannot be written within the commercetools budget, an approval is answered ``received``: it is
done at the PSP and the reconciler records it.
"""

from __future__ import annotations

from dataclasses import dataclass

from host import metrics
from host.commercetools.client import CommercetoolsClient
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update, build_actions
from host.commercetools.versioned import retry_on_conflict
from host.errors import ApiError, NotSupportedError, ReservationMissingError
from host.flows import durable
from host.flows.rules import OPERATION, TX_TYPE, Modification, plan
from host.models import ModificationRequest, ModificationResult, Money, Operation, Outcome, PaymentView, TxState
from host.providers import Capabilities, GiftCardProvider, PaymentProvider, Provider
from host.routing import Bound, Router


def instance_of(key: str) -> str:
    """The instance an attempt key belongs to (``<instance>:<operation>:<attempt>``)."""
    return key.split(":", 1)[0]


_OUTCOME = {TxState.SUCCESS: Outcome.APPROVED, TxState.PENDING: Outcome.RECEIVED, TxState.FAILURE: Outcome.REJECTED}


@dataclass(frozen=True, slots=True)
class Reserved:
    """A reserved attempt: the Payment as written, the operation and amount it reserves, its key."""

    payment: PaymentView
    operation: Operation
    amount: Money
    key: str
    outcome: Outcome | None = None      # set when the attempt was already decided (a replay)


async def reserve(ct: CommercetoolsClient, payment: PaymentView, command: Modification, key: str,
                  caps: Capabilities) -> Reserved:
    """Step 2: check the limits and write the reservation ``key`` with the version read (re-read and
    re-checked on a 409). An attempt already recorded under ``key`` is answered, not reserved again."""

    async def attempt(n: int) -> Reserved:
        current = payment if n == 0 else await ct.get_payment(payment.id)
        recorded = current.transaction(key)
        if recorded is not None:
            return Reserved(current, OPERATION[recorded.type], recorded.amount, key, _OUTCOME.get(recorded.state))
        try:
            operation, amount = plan(current, command, caps)
        except ApiError:
            metrics.reservation(instance_of(key), command.requested.value, "refused")
            raise
        draft = TxDraft(TX_TYPE[operation], TxState.INITIAL, amount, interface_id=key)
        written = await ct.update_payment(payment.id, current.version, build_actions(current, PaymentUpdate([draft])))
        if written.transaction(key) is None:
            raise ReservationMissingError(f"commercetools did not keep the reservation {key}.")
        metrics.reservation(instance_of(key), operation.value, "written")
        return Reserved(written, operation, amount, key)

    return await retry_on_conflict(attempt, what="reservation")


async def settle(ct: CommercetoolsClient, reserved: Reserved, result: ModificationResult) -> PaymentView:
    """Step 4: the outcome on the reservation (and a provider's extra transactions beside it)."""
    tx_type, key = TX_TYPE[reserved.operation], reserved.key
    drafts = [TxDraft(tx_type, result.outcome.state, reserved.amount, result.psp_reference, key, settles=True)]
    drafts += [TxDraft(t.type, t.state, t.amount or reserved.amount, t.interaction_id or result.psp_reference,
                       f"{key}:{t.type.value}") for t in result.transactions]
    return await apply_update(ct, reserved.payment.id, PaymentUpdate(drafts, psp_reference=result.psp_reference),
                              payment=reserved.payment)


async def refuse(ct: CommercetoolsClient, reserved: Reserved) -> PaymentView:
    """The PSP definitely refused (or was never asked): the reservation is ``Failure`` and frees its amount."""
    draft = TxDraft(TX_TYPE[reserved.operation], TxState.FAILURE, reserved.amount, interface_id=reserved.key,
                    settles=True)
    return await apply_update(ct, reserved.payment.id, PaymentUpdate([draft]))


async def modify(ct: CommercetoolsClient, router: Router, payment_id: str, command: Modification,
                 attempt: str) -> Outcome:
    """Run ``command`` on the Payment; ``attempt`` identifies this attempt (stable for a replay)."""
    payment = await ct.get_payment(payment_id)
    bound = router.for_interface(payment.payment_interface, None)
    key = f"{bound.id}:{command.requested.value}:{attempt}"
    reserved = await reserve(ct, payment, command, key, bound.provider.instance_capabilities)
    if reserved.outcome is not None:
        return reserved.outcome
    request = ModificationRequest(operation=reserved.operation, payment=reserved.payment, amount=reserved.amount,
                                  idempotency_key=key, merchant_reference=command.merchant_reference)
    try:
        result = await _call(bound, command.requested, request)
    except ApiError as exc:
        metrics.reservation(bound.id, reserved.operation.value, "failure" if exc.status < 500 else "unknown")
        if exc.status < 500:
            await durable.record(lambda: refuse(ct, reserved), budget=ct.settings.timeout,
                                 what=f"the refusal of {key}")
        # else the outcome is unknown (timeout, 5xx): the reservation stays Initial and keeps the amount
        # blocked; a retry with the same Idempotency-Key repeats the PSP call with the same PSP key
        raise
    recorded = await durable.record(lambda: settle(ct, reserved, result), budget=ct.settings.timeout,
                                    what=f"the outcome of {key}")
    metrics.reservation(bound.id, reserved.operation.value,
                        "unknown" if recorded is None else result.outcome.state.value.lower())
    if recorded is None and result.outcome == Outcome.APPROVED:
        return Outcome.RECEIVED   # done at the PSP, not yet in commercetools: the reconciler records it
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
