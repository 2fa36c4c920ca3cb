"""The sandbox card PSP: a ``PaymentProvider`` that needs no account anywhere.

Wire-compatible with the payment template's mock (CONTRACT.md §5.1): the enabler sends
``{"paymentMethod": {"type": ...}, "paymentOutcome": "Authorized"|"Rejected"}`` and the outcome is what it
asked for. Three modes (``settings.mode``):

* ``sync``: authorization and every modification are answered at once (approved).
* ``async``: authorization is synchronous; capture / cancel / refund answer ``received`` and a signed
  webhook (``plugins.sandbox.webhooks``) settles them after ``webhookDelay`` seconds.
* ``offsite``: authorization happens on a hosted payment page (``plugins.sandbox.hosted``).

Every simulated PSP call goes through the fault injector (latency, errors, timeouts, lost answers;
``faults``). What the PSP did is written in its books (``plugins.sandbox.books``) before it answers, under
a reference derived from the idempotency key, like a real PSP's records: a call repeated with the same
key, on any replica or after a restart, answers the first result and schedules no second webhook, and
``reconcile`` answers from them. The books are the instance's ``context.store`` (commercetools), or this
process's memory with ``books: memory``; the host itself stays stateless.

Stored cards (``vault.py``): with ``request.store_method`` an authorized card is vaulted and its opaque token
returned as ``PaymentResult.saved``; a payment with ``request.stored_method`` is refused (Authorization
Failure) unless the vault holds that token for that customer; ``detach`` retires the token. As in the
template, the stored card's outcome is the body's (its enabler asks for the security code, 737 passes), and a
recurring charge is authorized.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any, ClassVar

from pydantic import BaseModel

from host import (
    Capabilities,
    CaptureMethod,
    CreatePaymentRequest,
    EnablerAssets,
    ModificationRequest,
    ModificationResult,
    Outcome,
    PaymentProvider,
    PaymentResult,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ReconcileRequest,
    ReconcileResult,
    Route,
    SessionInfo,
    StatusCheck,
    StoredMethod,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
)
from plugins.sandbox import vault
from plugins.sandbox.body import METHODS, PaymentBody, parse_body
from plugins.sandbox.books import Books, money_json, reference, tx_json, tx_of
from plugins.sandbox.faults import FaultInjector
from plugins.sandbox.hosted import HostedPages, transactions_for
from plugins.sandbox.reconcile import answer, entry_reference
from plugins.sandbox.settings import SandboxSettings
from plugins.sandbox.signing import SIGNATURE_HEADER, TOKEN_TTL_SECONDS, HostedToken, make_token, verify
from plugins.sandbox.webhooks import WebhookSender, build_event, parse_event

logger = logging.getLogger(__name__)

_ENABLER = files(__package__) / "enabler"
#: The sandbox enabler's script bodies; ``common.js`` is shared with the gift-card sandbox.
ENABLER_SOURCES = (_ENABLER / "common.js", _ENABLER / "card.js")
_MODIFICATIONS: dict[str, TxType] = {
    "capture": TxType.CHARGE,
    "cancel": TxType.CANCEL_AUTHORIZATION,
    "refund": TxType.REFUND,
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


class SandboxProvider(PaymentProvider[SandboxSettings]):
    """``plugin: sandbox``. See the module docstring and ``SandboxSettings``."""

    Settings: ClassVar[type[ProviderSettings]] = SandboxSettings
    payment_body: ClassVar[type[BaseModel] | None] = PaymentBody
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset(METHODS), webhooks=True, async_modifications=True, stored_payment_methods=True)

    def __init__(self, settings: SandboxSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.options = settings
        self.clock = time.time
        self._secret = settings.webhook_secret.get_secret_value()
        self.faults = FaultInjector(name="Sandbox PSP", latency=settings.latency,
                                    error_rate=settings.error_rate, timeout_rate=settings.timeout_rate,
                                    lost_rate=settings.lost_rate, timeout=settings.timeout, seed=settings.seed)
        self._webhooks = WebhookSender(lambda: self.context.http, context.webhook_url, self._secret,
                                       settings.webhook_delay)
        self._hosted = HostedPages(self._secret, lambda: self.clock(), self._decide)
        # context.store is the host's from start-up on: read it at each call
        self.books = Books(None if settings.books == "memory" else lambda: self.context.store)

    async def shutdown(self) -> None:
        await self._webhooks.close()

    @property
    def pending_webhooks(self) -> int:
        """Webhooks scheduled and not yet delivered (or given up)."""
        return self._webhooks.pending

    async def public_config(self, session: SessionInfo) -> Mapping[str, Any]:
        # storedPaymentMethodsConfig is the host's: the instance's setting and the cart's customer
        return {"clientKey": self.options.client_key, "environment": self.options.environment,
                "paymentMethods": sorted(self.context.methods)}

    def enabler(self) -> EnablerAssets:
        """The template-compatible card / invoice / purchase-order enabler (``enabler/card.js``)."""
        return EnablerAssets(sources=ENABLER_SOURCES)

    async def status(self) -> StatusCheck:
        details = {"mode": self.options.mode, "paymentMethods": sorted(self.context.methods)}
        try:
            if await self.faults.call("status"):
                await self.faults.lose("status")
        except ProviderError as exc:
            return StatusCheck("Sandbox Payment API", "DOWN", message=exc.message, details=details)
        return StatusCheck("Sandbox Payment API", "UP", details=details)

    def routes(self) -> Sequence[Route]:
        return self._hosted.routes() if self.options.mode == "offsite" else ()

    def payment_method(self, body: Mapping[str, Any]) -> str | None:
        """Validates the whole body here, before the host creates a Payment, and returns its type."""
        return self._parse(body).payment_method.type

    def _parse(self, body: Mapping[str, Any], recurring: bool = False) -> PaymentBody:
        method = body.get("paymentMethod")
        stored = isinstance(method, Mapping) and method.get("storedPaymentMethodId") is not None
        # a stored card is paid here, not on the hosted page: its outcome is in the body
        return parse_body(body, outcome_required=self.options.mode != "offsite" or stored, recurring=recurring)

    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        body = self._parse(request.body, request.recurring)
        lost = await self.faults.call("create_payment")
        ref = reference("authorization", request.idempotency_key)
        entry: dict[str, Any] = {"kind": "authorization", "key": request.idempotency_key,
                                 "paymentId": request.payment.id, "at": self.clock()}
        stored = request.stored_method
        if self.options.mode == "offsite" and not body.recurring and stored is None:  # a shopper to send
            result = self._offsite(request, ref)
            entry["hosted"] = {"expiresAt": self.clock() + TOKEN_TTL_SECONDS,
                               "captureMethod": request.capture_method.value,
                               "amount": money_json(request.amount)}
        else:
            authorized = body.authorized and (stored is None or await vault.usable(self.books, stored))
            result = PaymentResult(psp_reference=ref, transactions=self._authorize(request, authorized, ref))
            if authorized and request.store_method and request.customer_id and stored is None:
                saved = await vault.store(self.books, ref, request.customer_id, body.payment_method.card,
                                          request.payment.id, self.clock())
                entry["saved"] = vault.saved_json(saved)
        entry.update(transactions=[tx_json(t) for t in result.transactions], response=dict(result.response))
        kept, _ = await self.books.enter(ref, entry)
        if lost:
            await self.faults.lose("create_payment")
        logger.debug("sandbox %s: payment %s %s (%s)", self.context.instance_id, request.payment.id,
                     "redirected" if kept["response"] else body.payment_outcome, ref)
        return PaymentResult(psp_reference=ref, transactions=tuple(tx_of(t) for t in kept["transactions"]),
                             response=kept["response"], saved=vault.saved_of(kept.get("saved")))

    async def detach(self, method: StoredMethod) -> None:
        """Retire the token in the vault: it never pays again."""
        await vault.detach(self.books, method)

    @staticmethod
    def _authorize(request: CreatePaymentRequest, authorized: bool,
                   reference: str) -> tuple[TransactionResult, ...]:
        state = TxState.SUCCESS if authorized else TxState.FAILURE
        txs = [TransactionResult(TxType.AUTHORIZATION, state, request.amount, reference)]
        if authorized and request.capture_method == CaptureMethod.AUTOMATIC:
            charge = TransactionResult(TxType.CHARGE, TxState.SUCCESS, request.amount, f"{reference}:charge")
            txs.append(charge)
        return tuple(txs)

    def _offsite(self, request: CreatePaymentRequest, reference: str) -> PaymentResult:
        token = make_token(self._secret, HostedToken(
            payment_id=request.payment.id, psp_reference=reference, amount=request.amount,
            capture_method=request.capture_method, merchant_return_url=request.session.merchant_return_url,
            expires_at=int(self.clock()) + TOKEN_TTL_SECONDS))
        url = f"{self.context.base_url}/plugins/{self.context.instance_id}/hosted/{token}"
        initial = TransactionResult(TxType.AUTHORIZATION, TxState.INITIAL, request.amount, reference)
        return PaymentResult(psp_reference=reference, transactions=(initial,), response={"redirectUrl": url})

    async def _decide(self, token: HostedToken, authorized: bool) -> tuple[TransactionResult, ...]:
        """The shopper decided on the hosted page: the PSP books it (the first decision stands)."""
        decided = await self.books.decide(token.psp_reference, authorized)
        return transactions_for(token, authorized if decided is None else decided)

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, "capture")

    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, "cancel")

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, "refund")

    async def _modify(self, request: ModificationRequest, kind: str) -> ModificationResult:
        lost = await self.faults.call(kind)
        tx_type = _MODIFICATIONS[kind]
        ref = reference(kind, request.idempotency_key)
        received = self.options.mode == "async"
        now = self.clock()
        entry = {"kind": kind, "key": request.idempotency_key, "paymentId": request.payment.id, "at": now,
                 "type": tx_type.value, "amount": money_json(request.amount),
                 "outcome": (Outcome.RECEIVED if received else Outcome.APPROVED).value,
                 "dueAt": now + (self.options.webhook_delay if received else 0)}
        kept, new = await self.books.enter(ref, entry)
        if new and received:
            self._webhooks.schedule(build_event(kind, tx_type, request.payment.id, ref, request.amount))
        if lost:
            await self.faults.lose(kind)
        result = ModificationResult(Outcome(kept["outcome"]), ref)
        logger.debug("sandbox %s: %s of %s on payment %s %s (%s)", self.context.instance_id, kind,
                     request.amount, request.payment.id, result.outcome.value, ref)
        return result

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        """What the books say about the attempt (a read; no fault injection, so one pass settles what the
        faults left). Found by the idempotency key the host called with, else by the PSP reference."""
        ref = entry_reference(request)
        entry = await self.books.find(ref) if ref else None
        if entry is None or entry.get("paymentId") != request.payment.id:
            return ReconcileResult.not_found()
        return answer(entry, request.transaction.type, self.clock())

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        verify(self._secret, _header(request.headers, SIGNATURE_HEADER), request.body, now=self.clock())
        return WebhookResult(events=(parse_event(request.body),))
