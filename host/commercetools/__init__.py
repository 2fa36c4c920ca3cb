"""The host's commercetools side: HTTP client, payment consolidation, amount to pay."""

from __future__ import annotations

from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings

__all__ = ["CommercetoolsClient", "CommercetoolsSettings"]
