"""The sandbox PSP's webhooks: building, delivering (async mode) and parsing them.

The body of a webhook (JSON, signed as described in ``plugins.sandbox.signing``)::

    {"id": "<event uuid>", "type": "capture"|"cancel"|"refund", "paymentId": "<commercetools id>",
     "pspReference": "<modification reference>", "transactionType": "Charge"|"CancelAuthorization"|"Refund",
     "state": "Success", "amount": {"centAmount": 1000, "currencyCode": "EUR"}}

Delivery is fire-and-forget like a real PSP's: each webhook is an asyncio task that waits ``webhookDelay``,
then POSTs to the instance's webhook URL, retrying a connection error or a 5xx answer twice. Failures are
logged, never raised. ``close()`` (called from the provider's ``shutdown``) cancels what is still pending.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from host import (
    ApiError,
    InvalidFieldError,
    Money,
    PaymentEvent,
    TransactionResult,
    TxState,
    TxType,
)
from plugins.sandbox.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

_ATTEMPTS = 3
_RETRY_DELAY = 0.5  # seconds before the first retry; doubled for the next
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


def build_event(kind: str, tx_type: TxType, payment_id: str, psp_reference: str, amount: Money) -> bytes:
    """The raw JSON body of one webhook."""
    event = {
        "id": str(uuid.uuid4()), "type": kind, "paymentId": payment_id, "pspReference": psp_reference,
        "transactionType": tx_type.value, "state": TxState.SUCCESS.value, "amount": amount.to_json(),
    }
    return json.dumps(event, separators=(",", ":")).encode()


class _Amount(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    cent_amount: StrictInt = Field(alias="centAmount", ge=0)
    currency_code: str = Field(alias="currencyCode", pattern=r"^[A-Z]{3}$")


class WebhookEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    type: str
    payment_id: str = Field(alias="paymentId", min_length=1)
    psp_reference: str = Field(alias="pspReference", min_length=1)
    transaction_type: TxType = Field(alias="transactionType")
    state: TxState
    amount: _Amount


def parse_event(body: bytes) -> PaymentEvent:
    """A verified webhook body as one ``PaymentEvent``; 400 when it is not a sandbox event."""
    try:
        event = WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            raise ApiError("Request body does not contain valid JSON.", code="InvalidJsonInput",
                           status=400) from None
        path = ".".join(str(part) for part in error["loc"]) or "body"
        raise InvalidFieldError(path, f"Webhook field {path} is not valid: {error['msg']}.") from None
    amount = Money(event.amount.cent_amount, event.amount.currency_code)
    transaction = TransactionResult(event.transaction_type, event.state, amount, event.psp_reference)
    return PaymentEvent(transactions=(transaction,), payment_id=event.payment_id, psp_reference=None)


class WebhookSender:
    """Schedules signed webhook deliveries to ``url`` on the host's shared client session.

    ``http`` is called at send time: the host creates its session only when it starts.
    """

    def __init__(self, http: Callable[[], aiohttp.ClientSession], url: str, secret: str,
                 delay: float) -> None:
        self._http = http
        self._url = url
        self._secret = secret
        self._delay = delay
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def schedule(self, body: bytes) -> None:
        task = asyncio.create_task(self._deliver(body), name="sandbox-webhook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, body: bytes) -> None:
        await asyncio.sleep(self._delay)
        for attempt in range(1, _ATTEMPTS + 1):
            outcome = await self._post(body)
            if outcome is None:
                return
            if attempt < _ATTEMPTS:
                await asyncio.sleep(_RETRY_DELAY * 2 ** (attempt - 1))
            else:
                logger.warning("sandbox webhook to %s not delivered after %d attempts: %s",
                               self._url, _ATTEMPTS, outcome)

    async def _post(self, body: bytes) -> str | None:
        """POST once; ``None`` when done (2xx, or a 4xx that a retry would not change), else the reason."""
        signature = sign(self._secret, body, int(time.time()))
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        try:
            async with self._http().post(self._url, data=body, headers=headers,
                                       timeout=_REQUEST_TIMEOUT) as resp:
                if resp.status < 300:
                    return None
                if resp.status < 500:
                    logger.warning("sandbox webhook to %s refused with HTTP %d", self._url, resp.status)
                    return None
                return f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    async def close(self) -> None:
        """Cancel the deliveries still pending and wait for them to finish."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __repr__(self) -> str:  # never show the secret
        return f"WebhookSender(url={self._url!r}, pending={self.pending})"
