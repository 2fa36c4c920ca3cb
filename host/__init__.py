"""connector-host: the public API for plugin authors.

A plugin imports only from ``host`` (this module) and, in its tests, ``host.testing``::

    from host import PaymentProvider, Capabilities, hookimpl

    class MyProvider(PaymentProvider): ...

    @hookimpl
    def register_providers(registry):
        registry.register("my_psp", MyProvider)

Everything else under ``host`` is private and may change without notice.
"""

from __future__ import annotations

from host._version import HOST_API_VERSION, __version__
from host.customers import Customers, CustomerView, CustomField, MemoryCustomers
from host.enablers import EnablerAssets
from host.errors import (
    ApiError,
    ConcurrentModificationError,
    ConfigError,
    GiftCardError,
    InvalidFieldError,
    InvalidOperationError,
    NotSupportedError,
    PluginError,
    ProviderError,
    RequiredFieldError,
    ResourceNotFoundError,
    WebhookSignatureError,
)
from host.hookspecs import hookimpl
from host.models import (
    BalanceResult,
    CaptureMethod,
    CartLine,
    CartSummary,
    CreatePaymentRequest,
    GiftCardState,
    ModificationRequest,
    ModificationResult,
    Money,
    Operation,
    Outcome,
    PaymentEvent,
    PaymentResult,
    PaymentView,
    ReconcileRequest,
    ReconcileResult,
    RedeemRequest,
    RedeemResult,
    SessionInfo,
    ShippingOption,
    StatusCheck,
    Transaction,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
    fraction_digits,
)
from host.payment_methods import DisplayOptions, SavedMethod, StoredMethod
from host.providers import (
    Capabilities,
    GiftCardProvider,
    NoSettings,
    PaymentProvider,
    ProviderContext,
    ProviderSettings,
    Registry,
    Route,
    RouteContext,
)
from host.store import MemoryStore, Store, Stored

__all__ = [
    "HOST_API_VERSION",
    "ApiError",
    "BalanceResult",
    "Capabilities",
    "CaptureMethod",
    "CartLine",
    "CartSummary",
    "ConcurrentModificationError",
    "ConfigError",
    "CreatePaymentRequest",
    "CustomField",
    "CustomerView",
    "Customers",
    "DisplayOptions",
    "EnablerAssets",
    "GiftCardError",
    "GiftCardProvider",
    "GiftCardState",
    "InvalidFieldError",
    "InvalidOperationError",
    "MemoryCustomers",
    "MemoryStore",
    "ModificationRequest",
    "ModificationResult",
    "Money",
    "NoSettings",
    "NotSupportedError",
    "Operation",
    "Outcome",
    "PaymentEvent",
    "PaymentProvider",
    "PaymentResult",
    "PaymentView",
    "PluginError",
    "ProviderContext",
    "ProviderError",
    "ProviderSettings",
    "ReconcileRequest",
    "ReconcileResult",
    "RedeemRequest",
    "RedeemResult",
    "Registry",
    "RequiredFieldError",
    "ResourceNotFoundError",
    "Route",
    "RouteContext",
    "SavedMethod",
    "SessionInfo",
    "ShippingOption",
    "StatusCheck",
    "Store",
    "Stored",
    "StoredMethod",
    "Transaction",
    "TransactionResult",
    "TxState",
    "TxType",
    "WebhookRequest",
    "WebhookResult",
    "WebhookSignatureError",
    "__version__",
    "fraction_digits",
    "hookimpl",
]
