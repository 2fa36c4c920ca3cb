"""A local stand-in for the commercetools services the connector host calls.

OAuth (token + introspection), Sessions, Carts, Payments, Payment Methods, Custom Objects, Customers,
Types and a Merchant Center JWKS, served by one aiohttp app over real HTTP with the shapes, status codes
and error bodies of the commercetools HTTP API. It never imports ``host/``.

    app = create_emulator_app(EmulatorConfig())
    emulator = app[EMULATOR_KEY]
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 1000, "quantity": 2}])

Emulator-only test hooks live under ``/_emulator/`` (see ``emulator.hooks``).
"""

from __future__ import annotations

from .app import create_emulator_app
from .config import ClientCredentials, EmulatorConfig
from .core import Emulator
from .mc_jwt import mint_mc_jwt
from .routing import EMULATOR_KEY

__all__ = [
    "EMULATOR_KEY",
    "ClientCredentials",
    "Emulator",
    "EmulatorConfig",
    "create_emulator_app",
    "mint_mc_jwt",
]
