"""Provider base classes: what a plugin implements.

A plugin registers provider *classes* (see ``host.hookspecs``); the host creates one object per
``connector.yaml`` instance, passing the instance's validated ``Settings`` and a ``ProviderContext``.
The host calls the selected object directly (``await provider.capture(request)``): routing picks exactly
one instance. Methods are abstract where every provider must answer, so a class missing one fails at
start-up, not mid-payment.

A provider owns its PSP only. It returns results; the host records them in commercetools.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Protocol

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from host.customers import Customers, MemoryCustomers
from host.enablers import EnablerAssets
from host.errors import NotSupportedError
from host.models import (
    BalanceResult,
    CaptureMethod,
    CartSummary,
    CreatePaymentRequest,
    ModificationRequest,
    ModificationResult,
    Money,
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
    WebhookRequest,
    WebhookResult,
)
from host.payment_methods import StoredMethod
from host.store import MemoryStore, Store


class ProviderSettings(BaseModel):
    """Base of every provider's ``Settings``: unknown keys are refused, secrets are ``SecretStr``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class NoSettings(ProviderSettings):
    """For providers that take no settings."""


S = TypeVar("S", bound=ProviderSettings, default=ProviderSettings)


@dataclass(frozen=True)
class Capabilities:
    """What a provider class can do. The host refuses what is not declared, with a clear 400."""

    methods: frozenset[str]                      # payment methods it can serve (e.g. {"card"})
    capture: bool = True                         # separate capture after authorization
    partial_capture: bool = True
    multiple_capture: bool = True
    refund: bool = True
    partial_refund: bool = True
    multiple_refund: bool = True
    cancel: bool = True
    webhooks: bool = False                       # implements parse_webhook
    async_modifications: bool = False            # may answer "received" and settle by webhook
    capture_methods: frozenset[CaptureMethod] = frozenset(CaptureMethod)
    # pays with a stored method's token (``CreatePaymentRequest.stored_method``) and may store one
    # (``PaymentResult.saved``): an instance may then enable ``storedPaymentMethods`` (host API 1.2)
    stored_payment_methods: bool = False
    # ``GET /payments`` creates a payment as ``POST /payments`` with an empty body does (the official Stripe
    # enabler's call); without it that route is a 405 for the instance (host API 1.3)
    payment_by_get: bool = False


class ProviderContext:
    """Given to a provider when it is created. ``http`` is the host's shared keep-alive client session;
    it exists from ``startup()`` on (the host creates it once the event loop runs). ``store`` is a
    versioned key-value store for the provider's own state (``host.Store``): on a running host it is kept
    in commercetools, shared by every replica, from ``startup()`` on; until then (and in unit tests that
    build a context themselves) a ``MemoryStore``. ``customers`` reads commercetools Customers and keeps a
    value in a custom field on them (``host.Customers``, host API 1.3); in unit tests a ``MemoryCustomers``."""

    def __init__(self, *, instance_id: str, payment_interface: str, methods: frozenset[str],
                 capture_method: CaptureMethod, base_url: str, logger: logging.Logger,
                 http: aiohttp.ClientSession | None = None, store: Store | None = None,
                 customers: Customers | None = None) -> None:
        self.instance_id = instance_id
        self.payment_interface = payment_interface
        self.methods = methods
        self.capture_method = capture_method
        self.base_url = base_url.rstrip("/")   # this host's public base URL
        self.logger = logger
        self._http = http
        self.store: Store = store if store is not None else MemoryStore()
        self.customers: Customers = customers if customers is not None else MemoryCustomers()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("the HTTP session exists once the host has started (use it from startup() on)")
        return self._http

    @http.setter
    def http(self, session: aiohttp.ClientSession) -> None:
        self._http = session

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/{self.instance_id}"


class RouteContext(Protocol):
    """What a plugin route handler receives. Recording goes through the host, never to commercetools."""

    request: web.Request
    instance_id: str
    session: SessionInfo | None          # set when the route uses session auth

    async def amount_to_pay(self) -> Money:
        """The cart's open amount (CONTRACT.md §5.0); needs session auth."""

    async def get_payment(self, payment_id: str) -> PaymentView:
        """A Payment of this instance; 404 for another instance's Payment."""

    async def customer_id(self) -> str | None:
        """The session cart's ``customerId``; None for a guest cart (host API 1.3); needs session auth."""

    async def record(self, event: PaymentEvent) -> PaymentView:
        """Record transactions with the consolidating update (idempotent)."""

    # host API 1.3: the session's cart, for express checkouts (session auth; ``host.flows.shipping``)
    async def cart(self) -> CartSummary:
        """The session's cart: amount to pay, lines, shipping address and method."""

    async def shipping_methods(self) -> tuple[ShippingOption, ...]:
        """The shipping methods that ship to the cart's address, at their price for the cart."""

    async def set_shipping_address(self, address: Mapping[str, Any]) -> CartSummary:
        """Set the cart's shipping address (commercetools ``Address`` fields, ``country`` required; 400
        otherwise). 409 while a payment on the cart is paid or in progress."""

    async def set_shipping_method(self, method_id: str | None) -> CartSummary:
        """Set the cart's shipping method (None: remove it); 400 when it does not ship there, 409 as above."""


RouteHandler = Callable[[RouteContext], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """An extra route a provider needs (a PSP's redirect return, an element config endpoint).

    Every route is mounted at ``/plugins/{instance}{path}`` for each enabled instance. A route with
    ``auth="session"`` is also mounted once at ``{path}``, where the session's paymentInterface picks the
    instance (several instances may declare the same path). A route with ``auth="none"`` and ``at_root=True``
    is also mounted at ``{path}`` (host API 1.3): served by the one enabled instance that declares it; when
    several do, ``{path}`` answers 400 naming their ``/plugins/{instance}{path}``. ``auth`` is ``"session"``
    (X-Session-Id) or ``"none"`` (the handler authenticates the request itself, e.g. with a signature).
    """

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    handler: RouteHandler
    auth: Literal["session", "none"] = "session"
    name: str | None = None
    at_root: bool = False    # auth="none" only: also at ``{path}`` (a path a PSP's or vendor's client fixes)


class Provider(abc.ABC, Generic[S]):
    """Common base. Subclass ``PaymentProvider[MySettings]`` or ``GiftCardProvider[MySettings]``, not this;
    ``self.settings`` is then typed as ``MySettings`` (set ``Settings = MySettings`` too: the host validates
    connector.yaml with it)."""

    kind: ClassVar[Literal["payment", "giftcard"]]
    Settings: ClassVar[type[ProviderSettings]] = NoSettings
    capabilities: ClassVar[Capabilities]
    #: The host API range this provider is written for, as a PEP 440 specifier.
    host_api: ClassVar[str] = ">=1.0,<2"
    #: A webhook path shared by every instance of this class besides ``/webhooks/{instance}`` (the PSP's
    #: official connector's, e.g. ``/stripe/webhooks``): a delivery there goes to each instance's
    #: ``parse_webhook`` in turn and the first that verifies it handles it (host API 1.3).
    webhook_path: ClassVar[str | None] = None

    def __init__(self, settings: S, context: ProviderContext) -> None:
        expected = type(self).Settings
        if not isinstance(settings, expected):
            raise TypeError(f"{type(self).__name__} needs {expected.__name__}, got {type(settings).__name__}")
        self.settings: S = settings
        self.context = context

    async def startup(self) -> None:
        """Called once when the host starts, after the HTTP session exists."""

    async def shutdown(self) -> None:
        """Called once when the host stops."""

    async def public_config(self, session: SessionInfo) -> Mapping[str, Any]:
        """``GET /operations/config``: public, non-secret configuration for the enabler."""
        return {}

    @abc.abstractmethod
    async def status(self) -> StatusCheck:
        """One cheap check that the PSP is reachable with our credentials (``/operations/status``)."""

    def routes(self) -> Sequence[Route]:
        """Extra HTTP routes of this provider."""
        return ()

    def enabler(self) -> EnablerAssets | None:
        """The browser side of this provider, served at ``/enablers/{instance}/`` (docs/enablers.md).

        Called once per instance when the application is built. ``None`` (the default): no enabler.
        """
        return None

    def payment_components(self, methods: frozenset[str]) -> Mapping[str, list[dict[str, Any]]]:
        """``/operations/payment-components`` entries for the enabled ``methods``.

        Returns any of the keys ``dropins``, ``components``, ``express``; by default every method is a
        component. The host merges the answers of all enabled instances.
        """
        return {"components": [{"type": m} for m in sorted(methods)]}

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        """What became of an attempt whose outcome the host does not know (the host died at the PSP, or the
        write of the outcome failed): ask the PSP by ``request.idempotency_key`` (the key the PSP was
        called with) or ``request.psp_reference``. Return ``ReconcileResult.not_found()`` when the PSP has
        no record of it (the host then marks it Failure); raise ``ProviderError`` when the PSP cannot be
        asked now (the reconciler tries again later). Read-only: the host records the answer.

        Not implemented by default: the reconciler then leaves such attempts to the PSP's webhooks and
        reports them."""
        raise NotSupportedError("This payment integration cannot be asked what became of a payment attempt.")

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify (raise ``WebhookSignatureError``) and translate a PSP notification.

        Called for ``POST /webhooks/{instance}`` (and the class's ``webhook_path``). Must not write anywhere:
        the host records the events. Verify before anything else: at ``webhook_path`` a delivery for another
        instance reaches this one first, and must be refused with ``WebhookSignatureError`` untouched.
        """
        raise NotSupportedError("This payment integration does not accept webhooks.")

    def webhook_identity(self) -> str | None:
        """An opaque value (a digest of the signing secret, never the secret) equal for two instances that would
        verify the same deliveries. Two instances sharing ``webhook_path`` with the same identity stop
        start-up: which of them a delivery belongs to could not be told. None: no check (host API 1.3)."""
        return None

    @property
    def instance_capabilities(self) -> Capabilities:
        """What this instance can do: the class's ``capabilities`` unless its settings narrow them (a Stripe
        account without multicapture captures once). The host's payment rules read this (host API 1.3)."""
        return self.capabilities


class PaymentProvider(Provider[S]):
    """A card-style PSP: authorize, capture, cancel, refund, reverse, webhooks."""

    kind = "payment"
    #: The pydantic model of this provider's ``POST /payments`` body, for ``/openapi.json`` (the provider
    #: still validates the body itself, best with this model). ``None``: documented as any JSON object.
    payment_body: ClassVar[type[BaseModel] | None] = None

    def payment_method(self, body: Mapping[str, Any]) -> str | None:
        """Which payment method a ``POST /payments`` body asks for (``paymentMethod.type`` by default)."""
        method = body.get("paymentMethod")
        if isinstance(method, Mapping) and isinstance(method.get("type"), str):
            return str(method["type"])
        return None

    @abc.abstractmethod
    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        """Authorize ``request.amount`` (and charge it when ``capture_method`` is automatic)."""

    @abc.abstractmethod
    async def capture(self, request: ModificationRequest) -> ModificationResult:
        """Capture ``request.amount`` of the authorized amount."""

    @abc.abstractmethod
    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        """Release the authorization."""

    @abc.abstractmethod
    async def refund(self, request: ModificationRequest) -> ModificationResult:
        """Refund ``request.amount`` of the captured amount."""

    async def detach(self, method: StoredMethod) -> None:
        """The shopper deleted a stored method (``DELETE /stored-payment-methods/{id}``): the host has removed
        it from commercetools; remove the token at the PSP. By default nothing. A failure here is logged by
        the host, not answered: the shopper's list is already right, only the PSP keeps a token it will
        never be asked to charge."""

    async def reverse(self, request: ModificationRequest) -> ModificationResult:
        """Undo the payment. By default the host has already chosen: refund when charged, else cancel."""
        from host.models import Operation

        if request.operation == Operation.REFUND:
            return await self.refund(request)
        return await self.cancel(request)


class GiftCardProvider(Provider[S]):
    """A gift-card provider: balance, redeem, refund (roll back a redemption)."""

    kind = "giftcard"

    @abc.abstractmethod
    async def balance(self, code: str, currency: str) -> BalanceResult:
        """The card's balance, or its state (NotFound, Expired, ...) as in CONTRACT.md §5.6."""

    @abc.abstractmethod
    async def redeem(self, request: RedeemRequest) -> RedeemResult:
        """Take ``request.amount`` from the card; the host has checked it against the cart."""

    @abc.abstractmethod
    async def refund(self, request: ModificationRequest) -> ModificationResult:
        """Give ``request.amount`` of a redemption back to the card."""


ProviderClass = type[PaymentProvider[Any]] | type[GiftCardProvider[Any]]


@dataclass
class Registry:
    """Passed to the ``register_providers`` hook. ``register(name, cls)`` adds one provider class."""

    _add: Callable[[str, ProviderClass, str], None]
    _plugin: str = ""

    def register(self, name: str, provider: ProviderClass) -> None:
        """Register ``provider`` under ``name``: the value of ``plugin:`` in connector.yaml."""
        self._add(name, provider, self._plugin)
