"""The ``sandbox`` plugin: a card-style sandbox PSP for demos, development and tests.

Registered as ``plugin: sandbox``. See ``plugins.sandbox.provider`` for the behaviour and
``plugins.sandbox.settings`` for the connector.yaml settings. ``sign`` builds a valid
``Sandbox-Signature`` header, so tests (and the host's test kit) can send signed webhooks.
"""

from __future__ import annotations

from host import Registry, hookimpl
from plugins.sandbox.provider import SandboxProvider
from plugins.sandbox.settings import SandboxSettings
from plugins.sandbox.signing import SIGNATURE_HEADER, sign

__all__ = ["SIGNATURE_HEADER", "SandboxProvider", "SandboxSettings", "register_providers", "sign"]


@hookimpl
def register_providers(registry: Registry) -> None:
    """Register the sandbox card provider as ``sandbox``."""
    registry.register("sandbox", SandboxProvider)
