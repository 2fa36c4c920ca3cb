"""Versions: the distribution's, and the plugin API's (plugins declare a range of the latter)."""

from __future__ import annotations

__version__ = "0.1.0"
#: Bumped in its major part when a change to the public plugin API (``host.__all__``) breaks plugins.
HOST_API_VERSION = "1.3"   # 1.1: Provider.reconcile, ProviderContext.store; 1.2: stored payment methods;
# 1.3: GET /payments (Capabilities.payment_by_get), cart addresses on CreatePaymentRequest, RouteContext cart
# writes and customer_id, ProviderContext.customers, PaymentEvent.paid_with,
# Provider.webhook_path/webhook_identity/instance_capabilities
