"""The Stripe provider: one PaymentIntent per commercetools Payment.

Interaction ids (the key the host consolidates transactions on) are the same in synchronous results and
in webhooks (``events.py``), so a modification and its webhook never count twice:

* authorization, cancel: the PaymentIntent id (``pi_...``);
* capture: the Charge id (``ch_...``, the PaymentIntent's ``latest_charge``); a further capture of a
  multicapture PaymentIntent ``{ch_...}:{amount captured so far}`` (``events.capture_reference``);
* refund: the Refund id (``re_...``), one per refund, so partial refunds never collapse;
* a modification Stripe refused: ``{pi}:{operation}:failed:{idempotency key}``, unique per attempt.

Every mutating call carries ``request.idempotency_key`` as Stripe's ``Idempotency-Key``: the SDK's own
retries and a retried host request reuse it (Stripe replays the first answer), a new attempt has a new one.
PaymentIntents and Refunds also carry it as ``metadata.ct_attempt_key``, for ``reconcile`` (``reconcile.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import TYPE_CHECKING, Any, ClassVar, cast

import aiohttp
import stripe

from host import (
    Capabilities,
    CaptureMethod,
    CreatePaymentRequest,
    EnablerAssets,
    InvalidOperationError,
    ModificationRequest,
    ModificationResult,
    Outcome,
    PaymentProvider,
    PaymentResult,
    ProviderContext,
    ProviderSettings,
    ReconcileRequest,
    ReconcileResult,
    Route,
    SavedMethod,
    SessionInfo,
    StatusCheck,
    StoredMethod,
    TransactionResult,
    TxState,
    TxType,
    WebhookRequest,
    WebhookResult,
    __version__,
)
from plugins.stripe.body import parse_body, payment_method_type
from plugins.stripe.confirm import confirm_route
from plugins.stripe.customers import StripeCustomers, customer_session_route
from plugins.stripe.errors import fail, redact, stripe_code, stripe_message
from plugins.stripe.events import REFUND_STATES, capture_reference
from plugins.stripe.express import express_routes
from plugins.stripe.reconcile import ATTEMPT_KEY, reconcile
from plugins.stripe.routes import billing_details, element_routes
from plugins.stripe.saved import pay_stored, saved_method
from plugins.stripe.settings import StripeSettings
from plugins.stripe.webhooks import parse_webhook

if TYPE_CHECKING:
    from stripe import RequestOptions
    from stripe.params import PaymentIntentCreateParams, RefundCreateParams

METHODS = ("payment", "expressCheckout")
STATUS_CHECK = "Stripe Status check"
#: Stripe's ``appInfo`` (the official connector names itself and its partner id; we are no Stripe partner).
APP_NAME = "connector-host"
APP_URL = "https://pypi.org/project/connector-host/"
#: From this API version on Stripe refuses ``payment_method_types`` on create and takes
#: ``allowed_payment_method_types`` (2026-07-29.dahlia added it, 2026-09-30.endive removed the old one).
_ALLOWED_TYPES_SINCE = "2026-07-29"
_CAPTURING = (TxState.SUCCESS, TxState.PENDING, TxState.INITIAL)

class StripeProvider(PaymentProvider[StripeSettings]):
    """A ``connector.yaml`` instance with ``plugin: stripe``."""

    Settings: ClassVar[type[ProviderSettings]] = StripeSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset(METHODS), partial_capture=True, multiple_capture=True, refund=True,
        partial_refund=True, multiple_refund=True, cancel=True, webhooks=True, async_modifications=True,
        stored_payment_methods=True, payment_by_get=True)
    host_api: ClassVar[str] = ">=1.3,<2"
    #: The official connector's endpoint; each instance verifies with its own ``webhookSecret``.
    webhook_path: ClassVar[str | None] = "/stripe/webhooks"

    def __init__(self, settings: StripeSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.config = settings
        self.log = context.logger
        self._session: aiohttp.ClientSession | None = None
        self._client: stripe.StripeClient | None = None
        self._known_customers: StripeCustomers | None = None

    # -- life cycle ---------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Build this instance's own client: its key, its pinned version, its keep-alive session."""
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._client = stripe.StripeClient(
            self.config.secret_key.get_secret_value(),
            stripe_version=self.config.api_version,
            max_network_retries=self.config.max_network_retries,
            http_client=stripe.AIOHTTPClient(session=self._session, timeout=timeout),
            base_addresses={"api": self.config.api_base} if self.config.api_base else None,
        )
        self._known_customers = StripeCustomers(self._client, self.context, self.log)
        # Stripe's app info is global in the Python SDK; every instance names the same application
        stripe.set_app_info(APP_NAME, version=__version__, url=APP_URL)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None

    @property
    def instance_capabilities(self) -> Capabilities:
        """Several captures of one PaymentIntent only with ``multicapture: true`` (Stripe's multicapture)."""
        return dataclasses.replace(self.capabilities, multiple_capture=self.config.multicapture)

    def webhook_identity(self) -> str:
        return hashlib.sha256(self.config.webhook_secret.get_secret_value().encode()).hexdigest()

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            raise RuntimeError("StripeProvider.startup() has not run")
        return self._client

    @property
    def customers(self) -> StripeCustomers:
        """The Stripe Customers of commercetools customers (``customers.py``)."""
        if self._known_customers is None:
            raise RuntimeError("StripeProvider.startup() has not run")
        return self._known_customers

    # -- enabler-facing -----------------------------------------------------------------------------

    def payment_method(self, body: Mapping[str, Any]) -> str | None:
        """``paymentMethod.type`` when it names one of our components, else the instance's default.

        The body is validated here, before the host creates the Payment, so a refused body writes nothing.
        """
        parse_body(body)
        requested = payment_method_type(body)
        if requested in METHODS:
            return requested
        enabled = self.context.methods
        return "payment" if "payment" in enabled else min(enabled, default="payment")

    def payment_components(self, methods: frozenset[str]) -> Mapping[str, list[dict[str, Any]]]:
        """The official shape: the Payment Element is the embedded drop-in (no components); Express Checkout
        is CK's express ``dropin`` (docs/plugins/stripe.md, "Payment components")."""
        return {
            "dropins": [{"type": "embedded"}] if "payment" in methods else [],
            "components": [],
            "express": [{"type": "dropin"}] if "expressCheckout" in methods else [],
        }

    async def public_config(self, session: SessionInfo) -> Mapping[str, Any]:
        key = self.config.publishable_key
        return {"clientKey": key, "environment": self.config.publishable_mode, "publishableKey": key}

    def routes(self) -> Sequence[Route]:
        return (*element_routes(self.config, self.context), *express_routes(self.config, self.context),
                confirm_route(self._retrieve, self._saved),
                customer_session_route(self.config, lambda: self.customers, self.log))

    def enabler(self) -> EnablerAssets:
        """The Payment Element / Express Checkout enabler (``enabler/stripe.js``; Stripe.js from Stripe)."""
        return EnablerAssets(sources=(files(__package__) / "enabler" / "stripe.js",))

    async def _retrieve(self, pi_id: str) -> dict[str, Any]:
        pi = await self.client.v1.payment_intents.retrieve_async(pi_id, {"expand": ["payment_method"]})
        result: dict[str, Any] = pi.to_dict()
        return result

    async def _saved(self, pi: Mapping[str, Any]) -> SavedMethod | None:
        return await saved_method(self.client, pi, self.log)

    async def status(self) -> StatusCheck:
        details: dict[str, Any] = {"mode": self.config.mode, "apiVersion": self.config.api_version}
        try:
            balance = await self.client.v1.balance.retrieve_async(options={"max_network_retries": 0})
        except stripe.StripeError as exc:
            return StatusCheck(STATUS_CHECK, "DOWN", stripe_message(exc),
                               {**details, "httpStatus": exc.http_status, "code": stripe_code(exc)})
        except Exception as exc:
            return StatusCheck(STATUS_CHECK, "DOWN", f"{type(exc).__name__}: {redact(str(exc))}", details)
        return StatusCheck(STATUS_CHECK, "UP", None, {**details, "livemode": bool(balance.livemode)})

    # -- payments -----------------------------------------------------------------------------------

    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        """Create the PaymentIntent. Confirmed by the browser with Stripe.js, except when it pays with a stored
        method: then it is confirmed here, with the shopper (``/payments``) or without (a recurring charge)."""
        if request.stored_method is not None:
            return await pay_stored(self.client, request, self._intent_params(request), self.log)
        body = parse_body(request.body)
        params = self._intent_params(request)
        if body.payment_method_id:
            params["payment_method"] = body.payment_method_id
        if body.payment_method_options:
            params["payment_method_options"] = body.payment_method_options
        self._request_multicapture(params, request.capture_method)
        if request.store_method and request.customer_id:
            # Stripe attaches the method to the Customer once the browser confirmed; the confirmation route or
            # the webhook then hands it to the host to store (``saved.py``)
            params["customer"] = await self.customers.of(request.customer_id)
            params["setup_future_usage"] = self.config.setup_future_usage
        elif request.customer_id:
            # the shopper's Stripe Customer when there is one, so the Payment Element offers its saved methods
            known = await self.customers.known(request.customer_id)
            if known is not None:
                params["customer"] = known
        options = self._options(request.idempotency_key)
        try:
            pi = await self.client.v1.payment_intents.create_async(
                cast("PaymentIntentCreateParams", params), options)
        except stripe.StripeError as exc:
            fail(self.log, exc, "create", request.payment.id)
        self._note_replay(pi, "create", pi.id)
        return_url = request.session.merchant_return_url or self.config.merchant_return_url
        response: dict[str, Any] = {"clientSecret": pi.client_secret, "sClientSecret": pi.client_secret,
                                    "merchantReturnUrl": return_url, "cartId": request.session.cart_id}
        if self.config.collect_billing_address != "auto":
            response["billingAddress"] = billing_details(request)
        return PaymentResult(
            psp_reference=pi.id,
            transactions=(TransactionResult(TxType.AUTHORIZATION, TxState.INITIAL, interaction_id=pi.id),),
            response=response,
        )

    def _intent_params(self, request: CreatePaymentRequest) -> dict[str, Any]:
        """What every PaymentIntent of this instance is created with."""
        metadata = {"ct_payment_id": request.payment.id, "cart_id": request.session.cart_id,
                    ATTEMPT_KEY: request.idempotency_key}
        if self.config.project_key:
            metadata["ct_project_key"] = self.config.project_key
        if request.customer_id:
            metadata["ct_customer_id"] = request.customer_id
        # Built untyped: the SDK's TypedDicts describe its own pin (2026-10-28.endive), not ours.
        types_param = ("allowed_payment_method_types" if self.config.api_version[:10] >= _ALLOWED_TYPES_SINCE
                       else "payment_method_types")
        params: dict[str, Any] = {
            "amount": request.amount.cent_amount,
            "currency": request.amount.currency.lower(),
            "capture_method": "manual" if request.capture_method == CaptureMethod.MANUAL else "automatic",
            "metadata": metadata,
        }
        if self.config.payment_method_types:
            params[types_param] = list(self.config.payment_method_types)
        else:
            params["automatic_payment_methods"] = {"enabled": True}
        if self.config.statement_descriptor:
            params["statement_descriptor_suffix"] = self.config.statement_descriptor
        return params

    async def detach(self, method: StoredMethod) -> None:
        """Detach the PaymentMethod from its Stripe Customer (it can never be charged again)."""
        try:
            await self.client.v1.payment_methods.detach_async(method.token)
        except stripe.StripeError as exc:
            fail(self.log, exc, "detach", method.id)

    def _request_multicapture(self, params: dict[str, Any], capture_method: CaptureMethod) -> None:
        """``payment_method_options.card.request_multicapture`` for a manual capture with ``multicapture``."""
        if self.config.multicapture and capture_method == CaptureMethod.MANUAL:
            options = params.setdefault("payment_method_options", {})
            options["card"] = {"request_multicapture": "if_available", **(options.get("card") or {})}

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        """Capture ``request.amount``. With ``multicapture``, every capture that leaves part of the
        authorization (the Payment's captures, this one's reservation included) sends ``final_capture: false``
        so that Stripe keeps the rest capturable — when Stripe made multicapture available for the card
        (``payment_method_details.card.multicapture.status``, read first, as the official connector does)."""
        pi_id = self._intent(request)
        params: dict[str, Any] = {"amount_to_capture": request.amount.cent_amount}
        payment = request.payment
        if self.config.multicapture and payment.total(TxType.CHARGE, _CAPTURING) < \
                payment.total(TxType.AUTHORIZATION) and await self._multicapture_available(pi_id):
            params["final_capture"] = False
        try:
            pi = await self.client.v1.payment_intents.capture_async(
                pi_id, cast("Any", params), self._options(request.idempotency_key))
        except stripe.StripeError as exc:
            return self._refused(exc, "capture", pi_id, request)
        self._note_replay(pi, "capture", pi_id)
        outcome = Outcome.APPROVED if pi.status in ("succeeded", "requires_capture") else Outcome.RECEIVED
        charge = pi.latest_charge     # an id, or a Charge when expanded (localstripe always expands)
        charge_id = charge if isinstance(charge, str) else charge.id if charge is not None else None
        if charge_id is None:
            return ModificationResult(outcome, pi_id)
        seen = pi.to_dict()
        expanded = seen.get("latest_charge")
        captured = seen.get("amount_received") or (expanded.get("amount_captured")
                                                   if isinstance(expanded, dict) else None)
        return ModificationResult(outcome, capture_reference(charge_id, int(captured or 0),
                                                             request.amount.cent_amount))

    async def _multicapture_available(self, pi_id: str) -> bool:
        try:
            pi = await self.client.v1.payment_intents.retrieve_async(pi_id, {"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            fail(self.log, exc, "retrieve", pi_id)
        charge = pi.to_dict().get("latest_charge")
        details = charge.get("payment_method_details") if isinstance(charge, dict) else None
        card = details.get("card") if isinstance(details, dict) else None
        multicapture = card.get("multicapture") if isinstance(card, dict) else None
        return isinstance(multicapture, dict) and multicapture.get("status") == "available"

    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        pi_id = self._intent(request)
        try:
            pi = await self.client.v1.payment_intents.cancel_async(
                pi_id, None, self._options(request.idempotency_key))
        except stripe.StripeError as exc:
            return self._refused(exc, "cancel", pi_id, request)
        self._note_replay(pi, "cancel", pi_id)
        return ModificationResult(Outcome.APPROVED if pi.status == "canceled" else Outcome.RECEIVED, pi_id)

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        pi_id = self._intent(request)
        metadata = {"ct_payment_id": request.payment.id, ATTEMPT_KEY: request.idempotency_key}
        if request.merchant_reference:
            metadata["ct_merchant_reference"] = request.merchant_reference
        params: RefundCreateParams = {"payment_intent": pi_id, "amount": request.amount.cent_amount,
                                      "metadata": metadata}
        try:
            refund = await self.client.v1.refunds.create_async(params, self._options(request.idempotency_key))
        except stripe.StripeError as exc:
            return self._refused(exc, "refund", pi_id, request)
        self._note_replay(refund, "refund", pi_id)
        state = REFUND_STATES.get(str(refund.status), TxState.PENDING)
        outcome = {TxState.SUCCESS: Outcome.APPROVED,
                   TxState.FAILURE: Outcome.REJECTED}.get(state, Outcome.RECEIVED)
        return ModificationResult(outcome, refund.id)

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        """What Stripe did with an attempt whose outcome was never recorded (``reconcile.py``); read-only."""
        return await reconcile(self.client, request, self.log)

    # -- webhooks -----------------------------------------------------------------------------------

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify ``Stripe-Signature`` over the raw bytes, then map the event (``webhooks.py``)."""
        return await parse_webhook(self.client, self.config, request, self.log)

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _options(idempotency_key: str) -> RequestOptions:
        return {"idempotency_key": idempotency_key}

    @staticmethod
    def _intent(request: ModificationRequest) -> str:
        pi_id = request.payment.interface_id
        if not pi_id or not pi_id.startswith("pi_"):
            raise InvalidOperationError(
                f"Payment {request.payment.id} has no Stripe PaymentIntent (interfaceId).")
        return pi_id

    def _note_replay(self, obj: stripe.StripeObject, action: str, pi_id: str) -> None:
        response = obj.last_response
        if response is not None and response.headers.get("Idempotent-Replayed") == "true":
            self.log.info("Stripe %s of %s replayed (idempotency key reused)", action, pi_id)

    def _refused(self, exc: stripe.StripeError, action: str, pi_id: str,
                 request: ModificationRequest) -> ModificationResult:
        """Stripe judged and refused (card or request error): ``rejected``. Anything else raises."""
        if isinstance(exc, stripe.CardError | stripe.InvalidRequestError):
            self.log.info("Stripe refused %s of %s: %s %s (request %s)", action, pi_id, exc.http_status,
                          stripe_code(exc), exc.request_id)
            return ModificationResult(Outcome.REJECTED, f"{pi_id}:{action}:failed:{request.idempotency_key}")
        fail(self.log, exc, action, pi_id)
