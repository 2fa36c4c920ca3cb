"""Typed values that pass between the host and a provider.

A provider never sees commercetools update actions: it receives requests built from the Payment and the
cart (``PaymentView``, ``CreatePaymentRequest``, ``ModificationRequest``...) and returns results
(``PaymentResult``, ``ModificationResult``, ``PaymentEvent``...) that the host records with its
consolidating update (CONTRACT.md §5.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from host.payment_methods import SavedMethod, StoredMethod

# ISO 4217 currencies whose minor unit is not 2 digits. Everything else has 2.
_FRACTION_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def fraction_digits(currency: str) -> int:
    """The ISO 4217 minor-unit digits of ``currency`` (2 unless listed otherwise)."""
    return _FRACTION_DIGITS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of its currency, as commercetools writes it (``centAmount``)."""

    cent_amount: int
    currency: str
    fraction_digits: int = -1

    def __post_init__(self) -> None:
        if self.fraction_digits < 0:
            object.__setattr__(self, "fraction_digits", fraction_digits(self.currency))

    @classmethod
    def from_ct(cls, data: Mapping[str, Any]) -> Money:
        currency = str(data["currencyCode"])
        return cls(int(data["centAmount"]), currency, int(data.get("fractionDigits", fraction_digits(currency))))

    def to_ct(self) -> dict[str, Any]:
        return {"type": "centPrecision", "currencyCode": self.currency, "centAmount": self.cent_amount,
                "fractionDigits": self.fraction_digits}

    def to_json(self) -> dict[str, Any]:
        """The short shape used in API responses: ``{"centAmount", "currencyCode"}``."""
        return {"centAmount": self.cent_amount, "currencyCode": self.currency}

    def __str__(self) -> str:
        return f"{self.cent_amount} {self.currency}"


class TxType(StrEnum):
    AUTHORIZATION = "Authorization"
    CANCEL_AUTHORIZATION = "CancelAuthorization"
    CHARGE = "Charge"
    CHARGEBACK = "Chargeback"
    REFUND = "Refund"


class TxState(StrEnum):
    INITIAL = "Initial"
    PENDING = "Pending"
    SUCCESS = "Success"
    FAILURE = "Failure"


class Outcome(StrEnum):
    """What a modification answers (CONTRACT.md §5.2): lowercase on the wire."""

    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"

    @property
    def state(self) -> TxState:
        return {Outcome.APPROVED: TxState.SUCCESS, Outcome.RECEIVED: TxState.PENDING}.get(self, TxState.FAILURE)


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"   # authorize and capture in one step
    MANUAL = "manual"         # authorize now, capture later


class Operation(StrEnum):
    CAPTURE = "capturePayment"
    REFUND = "refundPayment"
    CANCEL = "cancelPayment"
    REVERSE = "reversePayment"


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction as recorded on a commercetools Payment."""

    id: str
    type: TxType
    state: TxState
    amount: Money
    interaction_id: str | None = None
    interface_id: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentView:
    """What a provider may know about a commercetools Payment."""

    id: str
    version: int
    amount_planned: Money
    payment_interface: str | None
    interface_id: str | None
    method: str | None
    transactions: tuple[Transaction, ...] = ()
    cart_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    key: str | None = None
    created_at: str | None = None

    def total(self, type_: TxType, states: Sequence[TxState] = (TxState.SUCCESS,)) -> int:
        """Sum of the amounts of transactions of ``type_`` in any of ``states``."""
        return sum(t.amount.cent_amount for t in self.transactions if t.type == type_ and t.state in states)

    def has(self, type_: TxType, states: Sequence[TxState] = (TxState.SUCCESS,)) -> bool:
        return any(t.type == type_ and t.state in states for t in self.transactions)

    def transaction(self, interface_id: str) -> Transaction | None:
        """The transaction whose ``interfaceId`` is ``interface_id`` (the host's attempt key), if any."""
        return next((t for t in self.transactions if t.interface_id == interface_id), None)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The Checkout session principal (CONTRACT.md §3.1)."""

    session_id: str
    cart_id: str
    allowed_payment_methods: tuple[str, ...] = ()
    payment_interface: str | None = None
    processor_url: str | None = None
    checkout_transaction_item_id: str | None = None
    merchant_return_url: str | None = None
    future_order_number: str | None = None
    gift_card_planned_amount: Money | None = None
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """A transaction a provider reports. ``interaction_id`` is the PSP's reference for this one
    modification (unique per capture/refund, so partial operations never collapse)."""

    type: TxType
    state: TxState
    amount: Money | None = None          # None: the Payment's amountPlanned
    interaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class CreatePaymentRequest:
    """``POST /payments``: authorize (and with automatic capture, charge) the amount the host computed."""

    payment: PaymentView
    amount: Money
    method: str
    capture_method: CaptureMethod
    body: Mapping[str, Any]            # the enabler's request body, validated by the provider
    session: SessionInfo
    return_url: str                    # base URL of this instance's plugin routes (offsite returns)
    idempotency_key: str               # stable for this Payment: instance + Payment id
    # host API 1.2, stored payment methods (docs/writing-plugins.md); defaults keep older plugins working
    customer_id: str | None = None     # the cart's customer; None for a guest cart
    stored_method: StoredMethod | None = None   # pay with this stored method (its token), checked to be the
                                                # customer's own
    store_method: bool = False         # the shopper asked to store the method: return ``PaymentResult.saved``
    recurring: bool = False            # merchant-initiated (``/operations/transactions``): no shopper is there
    # host API 1.3: the cart's addresses as commercetools stores them (``Address``), None when unset
    billing_address: Mapping[str, Any] | None = None
    shipping_address: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What ``create_payment`` returns. ``response`` is merged into ``{"paymentReference": ...}``."""

    psp_reference: str | None
    transactions: tuple[TransactionResult, ...]
    response: Mapping[str, Any] = field(default_factory=dict)
    method: str | None = None
    saved: SavedMethod | None = None   # with ``store_method`` and a successful authorization: what to store


@dataclass(frozen=True, slots=True)
class ModificationRequest:
    """capture / cancel / refund (and reverse when a provider overrides it)."""

    operation: Operation
    payment: PaymentView
    amount: Money
    idempotency_key: str               # instance + operation + Payment id + attempt: stable across retries
    merchant_reference: str | None = None


@dataclass(frozen=True, slots=True)
class ModificationResult:
    outcome: Outcome
    psp_reference: str                 # unique per modification; becomes the transaction's interactionId
    transactions: tuple[TransactionResult, ...] = ()   # extra transactions besides the requested one


@dataclass(frozen=True, slots=True)
class CartLine:
    """One line of a cart as a shopper sees it: its name (English, else the first) and its total."""

    name: str
    total: Money


@dataclass(frozen=True, slots=True)
class ShippingOption:
    """A shipping method for the cart (host API 1.3): its id, name and price for this cart (the matching rate,
    zero once the cart reaches the rate's ``freeAbove``)."""

    id: str
    name: str
    price: Money


@dataclass(frozen=True, slots=True)
class CartSummary:
    """The session's cart for an enabler (host API 1.3): the amount to pay (``taxedPrice.totalGross``, else
    ``totalPrice``, shipping included), the lines, the shipping address and the shipping method set on it."""

    id: str
    total: Money
    lines: tuple[CartLine, ...]
    shipping_address: Mapping[str, Any] | None = None
    shipping: ShippingOption | None = None


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A PSP notification turned into transactions for one Payment.

    The host finds the Payment by ``payment_id`` (the commercetools id the PSP echoed back), else by
    ``psp_reference`` (the Payment's ``interfaceId``), records ``transactions`` through the consolidating
    update (so a redelivered event writes nothing) and sets ``interfaceId``/``method`` if they are unset.
    ``paid_with`` is what the shopper actually paid with as the PSP names it (``card``, ``klarna``...): it
    replaces ``paymentMethodInfo.method`` (the checkout component the Payment was created with).

    A Refund that would take the Payment's refunds above its Success charges is not recorded: the host
    flags it and answers the PSP 409 so that it delivers again (``host.flows.events``).
    """

    transactions: tuple[TransactionResult, ...]
    payment_id: str | None = None
    psp_reference: str | None = None
    method: str | None = None
    saved: SavedMethod | None = None   # the shopper asked to store the method and the PSP did: keep it
    paid_with: str | None = None       # host API 1.3: replaces paymentMethodInfo.method


@dataclass(frozen=True, slots=True)
class ReconcileRequest:
    """An attempt whose outcome the host does not know, for ``Provider.reconcile``.

    ``transaction`` is the undecided one (``Initial``: the host reserved it and may or may not have reached
    the PSP; ``Pending``: the PSP said it would tell later). ``idempotency_key`` is the key the PSP was
    called with (the reservation's ``interfaceId``; None for a transaction the host did not reserve).
    ``operation`` names the attempt: ``create``, ``redeem``, ``transaction`` (a recurring charge), or a
    payment-intents action (``capturePayment``...)."""

    payment: PaymentView
    transaction: Transaction
    operation: str
    idempotency_key: str | None
    psp_reference: str | None          # the transaction's interactionId, else the Payment's interfaceId


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """What the PSP says became of the attempt. ``transactions`` is what it did, the attempt's own
    transaction (of the reconciled type) first; ``found=False``: the PSP has no record of it."""

    found: bool
    transactions: tuple[TransactionResult, ...] = ()
    psp_reference: str | None = None

    @classmethod
    def not_found(cls) -> ReconcileResult:
        return cls(False)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The raw webhook as received: verify the signature over ``body`` (bytes), never a re-serialisation."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class WebhookResult:
    events: tuple[PaymentEvent, ...] = ()
    status: int = 200
    body: str | Mapping[str, Any] | None = None   # None: an empty 200


@dataclass(frozen=True, slots=True)
class StatusCheck:
    name: str
    status: Literal["UP", "DOWN"]
    message: str | None = None
    details: Mapping[str, Any] | None = None


class GiftCardState(StrEnum):
    VALID = "Valid"
    NOT_FOUND = "NotFound"
    EXPIRED = "Expired"
    CURRENCY_NOT_MATCH = "CurrencyNotMatch"
    ZERO_BALANCE = "ZeroBalance"
    GENERIC_ERROR = "GenericError"


@dataclass(frozen=True, slots=True)
class BalanceResult:
    state: GiftCardState
    amount: Money | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RedeemRequest:
    payment: PaymentView
    code: str
    amount: Money
    session: SessionInfo
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RedeemResult:
    state: TxState                      # Success or Failure
    redemption_id: str
    message: str | None = None
