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
from typing import Literal, Self

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from host import ProviderSettings

#: The Stripe API version every request is pinned to (the official connector's default).
DEFAULT_API_VERSION = "2025-12-15.clover"

_SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_\S+$")
_PUBLISHABLE_KEY = re.compile(r"^pk_(test|live)_\S+$")
_DESCRIPTOR_FORBIDDEN = re.compile(r"[<>\\'\"*]")


class StripeSettings(ProviderSettings):
    """The ``settings:`` block of a ``plugin: stripe`` instance."""

    model_config = ConfigDict(alias_generator=to_camel)

    secret_key: SecretStr = Field(description="secret (sk_) or restricted (rk_) API key of the account")
    publishable_key: str = Field(description="publishable key (pk_) given to the enabler")
    webhook_secret: SecretStr = Field(description="signing secret (whsec_) of this instance's endpoint")
    api_base: str | None = Field(None, description="API base URL; None = Stripe (tests: localstripe)")
    api_version: str = Field(DEFAULT_API_VERSION, min_length=1, description="pinned Stripe-Version")
    payment_method_types: list[str] = Field(default_factory=lambda: ["card"], min_length=1,
                                            description="payment_method_types of every PaymentIntent")
    appearance_payment: str | None = Field(None, description="Payment Element appearance (JSON text)")
    appearance_express_checkout: str | None = Field(None, description="Express Checkout appearance (JSON)")
    statement_descriptor: str | None = Field(None, min_length=1, max_length=22,
                                             description="dynamic suffix on the card statement")
    webhook_tolerance: int = Field(300, gt=0, description="seconds a webhook signature stays valid")
    max_network_retries: int = Field(2, ge=0, le=10, description="SDK retries on network errors, 409, 5xx")
    request_timeout: float = Field(30.0, gt=0, description="seconds per Stripe HTTP request")
    project_key: str | None = Field(None, description="commercetools project key, copied to PI metadata")
    merchant_return_url: str | None = Field(None, description="fallback when the session names none")
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

    @field_validator("appearance_payment", "appearance_express_checkout")
    @classmethod
    def _json_text(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                json.loads(value)
            except ValueError as exc:
                raise ValueError(f"must be JSON text: {exc}") from None
        return value

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
