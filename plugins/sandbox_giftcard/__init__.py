"""The ``sandbox_giftcard`` plugin: a gift-card sandbox provider with configurable cards.

Registered as ``plugin: sandbox_giftcard``. See ``plugins.sandbox_giftcard.settings`` for the
connector.yaml settings (the cards are written there as YAML) and ``plugins.sandbox_giftcard.provider``
for the behaviour.
"""

from __future__ import annotations

from host import Registry, hookimpl
from plugins.sandbox_giftcard.provider import SandboxGiftCardProvider
from plugins.sandbox_giftcard.settings import CardSpec, GiftCardSettings

__all__ = ["CardSpec", "GiftCardSettings", "SandboxGiftCardProvider", "register_providers"]


@hookimpl
def register_providers(registry: Registry) -> None:
    """Register the sandbox gift-card provider as ``sandbox_giftcard``."""
    registry.register("sandbox_giftcard", SandboxGiftCardProvider)
