"""The sandbox card provider passes the provider contract suite, in sync mode and in async mode."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from host import Money, TxType
from host.testing import ProviderContract
from plugins.sandbox import SIGNATURE_HEADER, sign

SECRET = "contract-webhook-secret"


class TestSandboxContract(ProviderContract):
    plugin = "sandbox"
    settings: ClassVar[dict[str, Any]] = {"mode": "sync", "webhookSecret": SECRET}
    method = "card"
    payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}
    refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Maybe"}

    def sign_webhook(self, body: bytes) -> dict[str, str]:
        return {SIGNATURE_HEADER: sign(SECRET, body, int(time.time()))}

    def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes:
        kind = {TxType.CHARGE: "capture", TxType.REFUND: "refund", TxType.CANCEL_AUTHORIZATION: "cancel"}[tx_type]
        return json.dumps({"id": f"evt-{psp_reference}", "type": kind, "paymentId": payment_id,
                           "pspReference": psp_reference, "transactionType": tx_type.value, "state": "Success",
                           "amount": amount.to_json()}).encode()


class TestSandboxAsyncContract(TestSandboxContract):
    """Async mode: modifications answer ``received`` and the sandbox's own signed webhook settles them."""

    settings: ClassVar[dict[str, Any]] = {"mode": "async", "webhookSecret": SECRET, "webhookDelay": 0.01}
