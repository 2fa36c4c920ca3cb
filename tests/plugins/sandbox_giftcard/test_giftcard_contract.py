"""The sandbox gift-card provider passes the gift-card contract suite."""

from __future__ import annotations

from typing import Any, ClassVar

from host.testing import GiftCardContract


class TestSandboxGiftCardContract(GiftCardContract):
    plugin = "sandbox_giftcard"
    settings: ClassVar[dict[str, Any]] = {"cards": {"CONTRACT-100": {"balance": 10000, "currency": "EUR"}}}
    giftcard_code = "CONTRACT-100"
