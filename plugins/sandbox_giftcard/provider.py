"""The sandbox gift-card provider: a ``GiftCardProvider`` over a ledger in the instance's store.

Wire-compatible with the gift-card template (CONTRACT.md §5.6) through the host's ``/balance`` and
``/redeem``: balance answers Valid, NotFound, Expired, CurrencyNotMatch, ZeroBalance or GenericError;
redeem takes at most the remaining balance and answers a ``giftcard-redemption-<uuid>``; refund (and
reverse, which the host turns into a refund) gives a redemption back, never more than was taken.
Capture and cancel do not exist for gift cards (the host refuses them).

The ledger (``plugins.sandbox_giftcard.ledger``) is kept in ``context.store``, so every replica spends
from the same balance. Redeem and refund are idempotent by the host's ``idempotency_key`` on every
replica: the same key answers the first result again without touching the balance. ``reconcile`` answers
from the ledger. Fault injection (``latency``, ``errorRate``, ``lostRate``, ``seed``) applies to every
call: an injected error is a GenericError on balance, a Failure on redeem, a 502 on refund; a lost answer
is a 504 after the redemption or refund was made.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import ClassVar

from host import (
    BalanceResult,
    Capabilities,
    EnablerAssets,
    GiftCardProvider,
    GiftCardState,
    ModificationRequest,
    ModificationResult,
    Money,
    Outcome,
    PaymentView,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ReconcileRequest,
    ReconcileResult,
    RedeemRequest,
    RedeemResult,
    StatusCheck,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.sandbox.faults import FaultInjector
from plugins.sandbox.provider import ENABLER_SOURCES as SANDBOX_SOURCES
from plugins.sandbox_giftcard.ledger import MESSAGES, Ledger, Refused, redemption_id, refund_id
from plugins.sandbox_giftcard.settings import GiftCardSettings

logger = logging.getLogger(__name__)

#: The gift-card enabler: the sandbox's shared helpers, then ``enabler/giftcard.js``.
ENABLER_SOURCES = (SANDBOX_SOURCES[0], files(__package__) / "enabler" / "giftcard.js")


def _today() -> date:
    return datetime.now(UTC).date()


def redemption_id_of(payment: PaymentView) -> str | None:
    """The redemption a gift-card Payment holds: its interfaceId, else its Charge's interactionId."""
    if payment.interface_id:
        return payment.interface_id
    return next((tx.interaction_id for tx in payment.transactions
                 if tx.type == TxType.CHARGE and tx.state == TxState.SUCCESS and tx.interaction_id), None)


class SandboxGiftCardProvider(GiftCardProvider[GiftCardSettings]):
    """``plugin: sandbox_giftcard``. See the module docstring and ``GiftCardSettings``."""

    Settings: ClassVar[type[ProviderSettings]] = GiftCardSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"giftcard"}), capture=False, partial_capture=False, multiple_capture=False,
        cancel=False, refund=True, partial_refund=True, multiple_refund=True, webhooks=False)

    def __init__(self, settings: GiftCardSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.options = settings
        # context.store is the host's from start-up on: read it at each call
        self.ledger = Ledger(context.instance_id, settings.cards, settings.currency, _today,
                             lambda: self.context.store)
        self.faults = FaultInjector(name="Sandbox gift card API", latency=settings.latency,
                                    error_rate=settings.error_rate, lost_rate=settings.lost_rate,
                                    seed=settings.seed)

    def enabler(self) -> EnablerAssets:
        """The template-compatible gift-card enabler (``enabler/giftcard.js``)."""
        return EnablerAssets(sources=ENABLER_SOURCES)

    async def status(self) -> StatusCheck:
        details = {"cards": len(self.options.cards), "currency": self.options.currency}
        try:
            if await self.faults.call("status"):
                await self.faults.lose("status")
        except ProviderError as exc:
            return StatusCheck("Sandbox gift card API", "DOWN", message=exc.message, details=details)
        return StatusCheck("Sandbox gift card API", "UP", details=details)

    async def balance(self, code: str, currency: str) -> BalanceResult:
        try:
            if await self.faults.call("balance"):
                await self.faults.lose("balance")
        except ProviderError:
            return BalanceResult(GiftCardState.GENERIC_ERROR, message=MESSAGES[GiftCardState.GENERIC_ERROR])
        return await self.ledger.balance(code, currency)

    async def redeem(self, request: RedeemRequest) -> RedeemResult:
        try:
            lost = await self.faults.call("redeem")
        except ProviderError:  # nothing was taken: a retry with the same key may succeed
            return RedeemResult(TxState.FAILURE, "", message=MESSAGES[GiftCardState.GENERIC_ERROR])
        try:
            result = RedeemResult(TxState.SUCCESS, await self.ledger.redeem(request.code, request.amount,
                                                                            request.idempotency_key))
        except Refused as refused:
            result = RedeemResult(TxState.FAILURE, "", message=str(refused))
        if lost:
            await self.faults.lose("redeem")
        if result.state == TxState.SUCCESS:
            logger.info("sandbox gift card %s: redeemed %s for payment %s (%s)", self.context.instance_id,
                        request.amount, request.payment.id, result.redemption_id)
        else:
            logger.info("sandbox gift card %s: redeem of %s for payment %s failed: %s",
                        self.context.instance_id, request.amount, request.payment.id, result.message)
        return result

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        lost = await self.faults.call("refund")
        rid = redemption_id_of(request.payment)
        problem = None
        try:
            await self.ledger.refund(rid, request.amount, request.idempotency_key)
        except Refused as refused:
            problem = str(refused)
        if lost:
            await self.faults.lose("refund")
        outcome = Outcome.APPROVED if problem is None else Outcome.REJECTED
        logger.info("sandbox gift card %s: refund of %s on payment %s (redemption %s) %s%s",
                    self.context.instance_id, request.amount, request.payment.id, rid,
                    outcome.value, f": {problem}" if problem else "")
        return ModificationResult(outcome, refund_id(request.idempotency_key))

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        """What the ledger says of a redemption (a Charge) or a refund (a Refund): a read, without fault
        injection. Not found when the ledger has no record: the attempt took nothing."""
        tx = request.transaction
        if tx.type == TxType.CHARGE:
            key = request.idempotency_key
            taken = await self.ledger.taken(redemption_id(key) if key else request.psp_reference)
            if taken is None:
                return ReconcileResult.not_found()
            charge = TransactionResult(TxType.CHARGE, TxState.SUCCESS, taken.amount, taken.redemption_id)
            return ReconcileResult(True, (charge,), taken.redemption_id)
        if tx.type == TxType.REFUND and request.idempotency_key:
            taken = await self.ledger.taken(redemption_id_of(request.payment))
            fid = refund_id(request.idempotency_key)
            if taken is None or fid not in taken.refunds:
                return ReconcileResult.not_found()
            refund = TransactionResult(TxType.REFUND, TxState.SUCCESS,
                                       Money(taken.refunds[fid], taken.amount.currency), fid)
            return ReconcileResult(True, (refund,), fid)
        return ReconcileResult.not_found()
