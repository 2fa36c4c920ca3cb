"""Settings of the ``stripe`` provider, as an operator writes them in connector.yaml::

    instances:
      stripe-eu:
        plugin: stripe
        paymentInterface: stripe-eu
        methods: [payment, expressCheckout]
        captureMethod: manual
        settings:
          secretKey: ${STRIPE_EU_SECRET_KEY}          # sk_test_... / sk_live_... / rk_...
          publishableKey: pk_test_...
          webhookSecret: ${STRIPE_EU_WEBHOOK_SECRET}  # whsec_..., one per instance (one per endpoint)
          statementDescriptor: ACME EU                # sent as statement_descriptor_suffix

Keys are camelCase; unknown keys are refused. Validation messages never echo a secret.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from host import ProviderSettings

#: The Stripe API version every request is pinned to (the official connector's default).
DEFAULT_API_VERSION = "2025-12-15.clover"
#: The official connector's default ``STRIPE_LAYOUT``.
DEFAULT_LAYOUT = '{"type":"tabs","defaultCollapsed":false}'

_SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_\S+\Z")
_PUBLISHABLE_KEY = re.compile(r"^pk_(test|live)_\S+\Z")
_DESCRIPTOR_FORBIDDEN = re.compile(r"[<>\\'\"*]")
_ORIGIN = re.compile(r"^https?://[^/\s]+/?\Z")


class StripeSettings(ProviderSettings):
    """The ``settings:`` block of a ``plugin: stripe`` instance."""

    model_config = ConfigDict(alias_generator=to_camel)

    secret_key: SecretStr = Field(description="secret (sk_) or restricted (rk_) API key of the account")
    publishable_key: str = Field(description="publishable key (pk_) given to the enabler")
    webhook_secret: SecretStr = Field(description="signing secret (whsec_) of this instance's endpoint")
    api_base: str | None = Field(None, description="API base URL; None = Stripe (tests: localstripe)")
    api_version: str = Field(DEFAULT_API_VERSION, min_length=1, description="pinned Stripe-Version")
    payment_method_types: list[str] | None = Field(
        None, min_length=1, description="allow list of Stripe payment method types; None = automatic payment "
                                        "methods (those enabled in the Dashboard)")
    saved_payment_methods_config: dict[str, Any] = Field(
        default_factory=dict, description="Payment Element features of /customer/session's Customer Session; "
                                          "its payment_method_save_usage is the setup_future_usage")
    appearance_payment: str | None = Field(None, description="Payment Element appearance (JSON text)")
    appearance_express_checkout: str | None = Field(None, description="Express Checkout appearance (JSON)")
    statement_descriptor: str | None = Field(None, min_length=1, max_length=22,
                                             description="dynamic suffix on the card statement")
    webhook_tolerance: int = Field(300, gt=0, description="seconds a webhook signature stays valid")
    max_network_retries: int = Field(2, ge=0, le=10, description="SDK retries on network errors, 409, 5xx")
    request_timeout: float = Field(30.0, gt=0, description="seconds per Stripe HTTP request")
    project_key: str | None = Field(None, description="commercetools project key, copied to PI metadata")
    merchant_return_url: str | None = Field(None, description="fallback when the session names none")
    # the official enabler's element options (config-element) and its routes (routes.py)
    layout: str = Field(DEFAULT_LAYOUT, description="Payment Element layout (JSON text), as STRIPE_LAYOUT")
    collect_billing_address: Literal["auto", "never", "if_required"] = Field(
        "auto", description="as STRIPE_COLLECT_BILLING_ADDRESS; not auto: /payments answers billingAddress")
    apple_pay_well_known: str | None = Field(None, min_length=1, description="body of GET /applePayConfig "
                                             "(Apple's domain association file), as STRIPE_APPLE_PAY_WELL_KNOWN")
    allowed_origins: list[str] = Field(default_factory=list, description="origins POST /express-config "
                                       "answers (CK's ALLOWED_ORIGINS); empty: every origin is refused")
    multicapture: bool = Field(False, description="manual-capture PaymentIntents ask Stripe for multicapture "
                               "(request_multicapture: if_available) and may be captured in several parts")

    @field_validator("secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr) -> SecretStr:
        if not _SECRET_KEY.match(value.get_secret_value()):
            raise ValueError("must be a Stripe secret key (sk_test_..., sk_live_...) or restricted key "
                             "(rk_...)")
        return value

    @field_validator("publishable_key")
    @classmethod
    def _publishable_key_shape(cls, value: str) -> str:
        if not _PUBLISHABLE_KEY.match(value):
            raise ValueError("must be a Stripe publishable key (pk_test_... or pk_live_...)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("whsec_"):
            raise ValueError("must be the endpoint's signing secret (whsec_...), not its id")
        return value

    @field_validator("appearance_payment", "appearance_express_checkout", "layout")
    @classmethod
    def _json_text(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                json.loads(value)
            except ValueError as exc:
                raise ValueError(f"must be JSON text: {exc}") from None
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
        return [o.rstrip("/") for o in value]

    @field_validator("saved_payment_methods_config")
    @classmethod
    def _features(cls, value: dict[str, Any]) -> dict[str, Any]:
        usage = value.get("payment_method_save_usage")
        if usage is not None and usage not in ("off_session", "on_session"):
            raise ValueError("payment_method_save_usage must be off_session or on_session")
        return value

    @property
    def setup_future_usage(self) -> str:
        """What a PaymentIntent the shopper asked to store carries (recurring charges need ``off_session``)."""
        return str(self.saved_payment_methods_config.get("payment_method_save_usage") or "off_session")

    @field_validator("statement_descriptor")
    @classmethod
    def _descriptor(cls, value: str | None) -> str | None:
        if value is not None:
            if not value.isascii() or _DESCRIPTOR_FORBIDDEN.search(value):
                raise ValueError("must be Latin characters without < > \\ ' \" *")
            if not re.search(r"[A-Za-z]", value):
                raise ValueError("must contain at least one letter")
        return value

    @field_validator("api_base")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL")
            return value.rstrip("/")
        return value

    @model_validator(mode="after")
    def _same_mode(self) -> Self:
        if self.mode != self.publishable_mode:
            raise ValueError(f"secretKey is a {self.mode} key but publishableKey is a "
                             f"{self.publishable_mode} key")
        return self

    @property
    def mode(self) -> Literal["test", "live"]:
        """``test`` or ``live``, from the secret key."""
        return "live" if "_live_" in self.secret_key.get_secret_value()[:8] else "test"

    @property
    def publishable_mode(self) -> Literal["test", "live"]:
        return "live" if self.publishable_key.startswith("pk_live_") else "test"
