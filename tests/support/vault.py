"""``vault``: a small card PSP for the host's stored-payment-method tests, registered in-process.

It tokenises like a real PSP: ``{"paymentMethod": {"type": "card", "card": {"last4", "brand", "expMonth",
"expYear"}, "storePaymentMethod": true}, "paymentOutcome": "Authorized"}`` authorizes and returns a fresh
opaque token (``vault-tok-...``) with display data. It remembers what the host handed it (``calls``, the
tokens it was asked to charge, ``detached``) and can hold a payment at the PSP (``hold``) or answer a
token the host already has (``repeat_token``), so the tests can see every rule from the outside.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, ClassVar

from host import (
    Capabilities,
    CreatePaymentRequest,
    DisplayOptions,
    ModificationRequest,
    ModificationResult,
    Outcome,
    PaymentEvent,
    PaymentProvider,
    PaymentResult,
    SavedMethod,
    StatusCheck,
    StoredMethod,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from host.testing import plugins_with


class Vault(PaymentProvider):
    capabilities = Capabilities(methods=frozenset({"card", "invoice"}), webhooks=True, stored_payment_methods=True)
    #: every instance's requests and detaches, in order (the host makes one provider object per instance)
    calls: ClassVar[list[CreatePaymentRequest]] = []
    detached: ClassVar[list[StoredMethod]] = []
    hold: ClassVar[asyncio.Event | None] = None        # set: create_payment waits for it...
    held: ClassVar[asyncio.Event] = asyncio.Event()    # ...after setting this
    repeat_token: ClassVar[str | None] = None          # set: the token every new method gets
    detach_sees: ClassVar[Any] = None                  # called in detach (to look at commercetools then)

    @classmethod
    def reset(cls) -> None:
        cls.calls, cls.detached, cls.hold, cls.repeat_token, cls.detach_sees = [], [], None, None, None
        cls.held = asyncio.Event()

    async def status(self) -> StatusCheck:
        return StatusCheck("vault", "UP")

    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        type(self).calls.append(request)
        if type(self).hold is not None:
            type(self).held.set()
            await type(self).hold.wait()
        body: Mapping[str, Any] = request.body.get("paymentMethod") or {}
        outcome = "Authorized" if request.recurring else request.body.get("paymentOutcome")
        authorized = outcome == "Authorized"
        reference = f"vault-{request.payment.id}"
        # "Later": the PSP decides later (its webhook tells), as after a redirect or 3-D Secure
        state = TxState.SUCCESS if authorized else TxState.INITIAL if outcome == "Later" else TxState.FAILURE
        saved = None
        if request.store_method and authorized:
            card = body.get("card") or {}
            saved = SavedMethod(token=type(self).repeat_token or f"vault-tok-{uuid.uuid4().hex}", method="card",
                                display=DisplayOptions(end_digits=card.get("last4"), brand=card.get("brand"),
                                                       expiry_month=card.get("expMonth"),
                                                       expiry_year=card.get("expYear")))
        return PaymentResult(reference, (TransactionResult(TxType.AUTHORIZATION, state, request.amount, reference),),
                             saved=saved)

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        return ModificationResult(Outcome.APPROVED, f"cap-{request.idempotency_key}")

    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        return ModificationResult(Outcome.APPROVED, f"can-{request.idempotency_key}")

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        return ModificationResult(Outcome.APPROVED, f"ref-{request.idempotency_key}")

    async def detach(self, method: StoredMethod) -> None:
        if type(self).detach_sees is not None:
            await type(self).detach_sees(method)
        type(self).detached.append(method)

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """``{"paymentId", "state", "token"?}``: the PSP decided later and (with a token) stored the method."""
        data = json.loads(request.body)
        reference = f"vault-{data['paymentId']}"
        tx = TransactionResult(TxType.AUTHORIZATION, TxState(data["state"]), None, reference)
        saved = SavedMethod(token=data["token"], method="card", display=DisplayOptions(end_digits="0005",
                                                                                         brand="amex")) \
            if data.get("token") else None
        return WebhookResult(events=(PaymentEvent((tx,), payment_id=data["paymentId"], psp_reference=reference,
                                                  saved=saved),))


@hookimpl
def register_providers(registry: Any) -> None:
    registry.register("vault", Vault)


def vault_plugins() -> Any:
    """The installed plugins plus ``vault``, for ``connector_host(..., plugins=vault_plugins())``."""
    return plugins_with({"vault": SimpleNamespace(register_providers=register_providers)})
