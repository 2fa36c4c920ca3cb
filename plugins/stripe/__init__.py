"""The built-in Stripe plugin: ``plugin: stripe`` in connector.yaml (see docs/plugins/stripe.md).

PaymentIntents for card-style payments (Payment Element and Express Checkout), capture, cancel and
refund with Stripe idempotency keys, signed webhooks mapped to transactions whose interaction ids
match the synchronous results, and reconciliation of attempts whose outcome was lost (read-only).
"""

from __future__ import annotations

from host import Registry, hookimpl
from plugins.stripe.provider import StripeProvider
from plugins.stripe.settings import StripeSettings

__all__ = ["StripeProvider", "StripeSettings", "register_providers"]


@hookimpl
def register_providers(registry: Registry) -> None:
    """Register ``StripeProvider`` as ``stripe``."""
    registry.register("stripe", StripeProvider)
