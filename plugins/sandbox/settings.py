"""Settings of the ``sandbox`` provider, as an operator writes them in connector.yaml::

    instances:
      sandbox-card:
        plugin: sandbox
        paymentInterface: sandbox-card
        methods: [card, invoice, purchaseorder, customtestmethod]
        settings:
          mode: async              # sync | async | offsite
          webhookSecret: ${SANDBOX_WEBHOOK_SECRET}
          webhookDelay: 0.5        # seconds before an async modification's webhook is sent
          latency: 0.2             # seconds added to every PSP call
          errorRate: 0.05          # probability of a 502 SandboxError per PSP call
          timeoutRate: 0.01        # probability of a 504 SandboxTimeout (after ``timeout`` seconds)
          lostRate: 0.01           # probability that the PSP acts and its answer is lost (a late 504)
          timeout: 5
          seed: 42                 # reproducible fault injection
          clientKey: sandbox-client-key
          environment: TEST
          books: commercetools     # where the simulated PSP keeps its records: commercetools | memory

Every key is optional. Keys are camelCase; unknown keys are refused.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from host import ProviderSettings

#: The default webhook / hosted-link secret. It is public (it is in this file), so it only suits the
#: sandbox on a developer machine; set ``webhookSecret`` for any shared deployment.
DEV_WEBHOOK_SECRET = "sandbox-dev-webhook-secret-not-for-production"  # noqa: S105 - documented dev default


class SandboxSettings(ProviderSettings):
    """The ``settings:`` block of a ``plugin: sandbox`` instance."""

    model_config = ConfigDict(alias_generator=to_camel)

    mode: Literal["sync", "async", "offsite"] = Field(
        "sync", description="sync: modifications approved at once; async: 'received', then a signed "
                            "webhook; offsite: authorization on a hosted payment page")
    webhook_secret: SecretStr = Field(SecretStr(DEV_WEBHOOK_SECRET),
                                      description="HMAC key of webhooks and hosted-page links")
    webhook_delay: float = Field(0.5, ge=0, description="seconds before an async webhook is sent")
    latency: float = Field(0.0, ge=0, description="seconds added to every PSP call")
    error_rate: float = Field(0.0, ge=0, le=1, description="probability that a PSP call fails (502)")
    timeout_rate: float = Field(0.0, ge=0, le=1, description="probability that a PSP call times out (504)")
    lost_rate: float = Field(0.0, ge=0, le=1, description="probability that a PSP call is done and its answer "
                                                          "lost (504 after the fact)")
    timeout: float = Field(5.0, ge=0, description="seconds an injected timeout waits before failing")
    seed: int | None = Field(None, description="seed of the fault injection, for reproducible runs")
    client_key: str = Field("sandbox-client-key", description="public key given to the enabler")
    environment: str = Field("TEST", description="environment name given to the enabler")
    books: Literal["commercetools", "memory"] = Field(
        "commercetools", description="where the simulated PSP keeps what it did: commercetools (the instance's "
                                     "store, shared by replicas and restarts) or memory (this process only)")

    # Field validators, not a model validator: a model validator's error would quote the whole
    # settings block, secret included, in the start-up message.
    @field_validator("timeout_rate")
    @classmethod
    def _rates_fit(cls, value: float, info: ValidationInfo) -> float:
        if value + info.data.get("error_rate", 0.0) > 1:
            raise ValueError("errorRate + timeoutRate must not exceed 1")
        return value

    @field_validator("lost_rate")
    @classmethod
    def _all_rates_fit(cls, value: float, info: ValidationInfo) -> float:
        if value + info.data.get("error_rate", 0.0) + info.data.get("timeout_rate", 0.0) > 1:
            raise ValueError("errorRate + timeoutRate + lostRate must not exceed 1")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_set(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("webhookSecret must not be empty")
        return value
