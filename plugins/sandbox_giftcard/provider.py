"""The sandbox gift-card provider: a ``GiftCardProvider`` over an in-memory ledger.

Wire-compatible with the gift-card template (CONTRACT.md §5.6) through the host's ``/balance`` and
``/redeem``: balance answers Valid, NotFound, Expired, CurrencyNotMatch, ZeroBalance or GenericError;
redeem takes at most the remaining balance and answers a fresh ``giftcard-redemption-<uuid>``; refund
(and reverse, which the host turns into a refund) gives a redemption back, never more than was taken.
Capture and cancel do not exist for gift cards (the host refuses them).

Redeem and refund are idempotent by the host's ``idempotency_key``: the same key answers the first
result again without touching the balance. Fault injection (``latency``, ``errorRate``, ``seed``) applies
to every call: an injected error is a GenericError on balance, a Failure on redeem, a 502 on refund.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import ClassVar, TypeVar

from host import (
    BalanceResult,
    Capabilities,
    EnablerAssets,
    GiftCardProvider,
    GiftCardState,
    ModificationRequest,
    ModificationResult,
    Outcome,
    PaymentView,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    RedeemRequest,
    RedeemResult,
    StatusCheck,
    TxState,
    TxType,
)
from plugins.sandbox.faults import FaultInjector
from plugins.sandbox.provider import ENABLER_SOURCES as SANDBOX_SOURCES
from plugins.sandbox_giftcard.ledger import MESSAGES, Ledger
from plugins.sandbox_giftcard.settings import GiftCardSettings

logger = logging.getLogger(__name__)

V = TypeVar("V")
#: How many results are remembered for idempotent retries (oldest forgotten first).
IDEMPOTENCY_MEMORY = 1_024
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
        self.ledger = Ledger(settings.cards, settings.currency, _today)
        self.faults = FaultInjector(name="Sandbox gift card API", latency=settings.latency,
                                    error_rate=settings.error_rate, seed=settings.seed)
        self._redeemed: OrderedDict[str, RedeemResult] = OrderedDict()
        self._refunded: OrderedDict[str, ModificationResult] = OrderedDict()

    def enabler(self) -> EnablerAssets:
        """The template-compatible gift-card enabler (``enabler/giftcard.js``)."""
        return EnablerAssets(sources=ENABLER_SOURCES)

    async def status(self) -> StatusCheck:
        details = {"cards": len(self.options.cards), "currency": self.options.currency}
        try:
            await self.faults.call("status")
        except ProviderError as exc:
            return StatusCheck("Sandbox gift card API", "DOWN", message=exc.message, details=details)
        return StatusCheck("Sandbox gift card API", "UP", details=details)

    async def balance(self, code: str, currency: str) -> BalanceResult:
        try:
            await self.faults.call("balance")
        except ProviderError:
            return BalanceResult(GiftCardState.GENERIC_ERROR, message=MESSAGES[GiftCardState.GENERIC_ERROR])
        return self.ledger.balance(code, currency)

    async def redeem(self, request: RedeemRequest) -> RedeemResult:
        try:
            await self.faults.call("redeem")
        except ProviderError:  # not remembered: a retry with the same key may succeed
            return RedeemResult(TxState.FAILURE, "", message=MESSAGES[GiftCardState.GENERIC_ERROR])
        cached = self._redeemed.get(request.idempotency_key)
        if cached is not None:
            return cached
        result = self.ledger.redeem(request.code, request.amount)
        _remember(self._redeemed, request.idempotency_key, result)
        if result.state == TxState.SUCCESS:
            logger.info("sandbox gift card %s: redeemed %s for payment %s (%s)", self.context.instance_id,
                        request.amount, request.payment.id, result.redemption_id)
        else:
            logger.info("sandbox gift card %s: redeem of %s for payment %s failed: %s",
                        self.context.instance_id, request.amount, request.payment.id, result.message)
        return result

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        await self.faults.call("refund")
        cached = self._refunded.get(request.idempotency_key)
        if cached is not None:
            return cached
        redemption_id = redemption_id_of(request.payment)
        problem = self.ledger.refund(redemption_id, request.amount)
        outcome = Outcome.APPROVED if problem is None else Outcome.REJECTED
        result = ModificationResult(outcome, f"giftcard-refund-{uuid.uuid4()}")
        _remember(self._refunded, request.idempotency_key, result)
        logger.info("sandbox gift card %s: refund of %s on payment %s (redemption %s) %s%s",
                    self.context.instance_id, request.amount, request.payment.id, redemption_id,
                    outcome.value, f": {problem}" if problem else "")
        return result


def _remember(memory: OrderedDict[str, V], key: str, value: V) -> None:
    memory[key] = value
    while len(memory) > IDEMPOTENCY_MEMORY:
        memory.popitem(last=False)
