"""Typed app state and the route table that every resource module contributes to.

Each module exposes ``ROUTES``: ``Route(method, path, handler, scopes)``. ``scopes`` names the
OAuth scopes (without the ``:projectKey`` suffix) of which a bearer token must hold at least
one; ``None`` means the route needs no bearer token (auth service, JWKS, ``/_emulator``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .core import Emulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator")
SCOPES_KEY: web.AppKey[dict[str, tuple[str, ...]]] = web.AppKey("emulator_scopes")


@dataclass(frozen=True)
class Route:
    """One endpoint: ``scopes`` lists the scopes that each grant access (any of them)."""

    method: str
    path: str
    handler: Handler
    scopes: tuple[str, ...] | None = None


def emulator_of(request: web.Request) -> Emulator:
    """The emulator serving this request."""
    return request.app[EMULATOR_KEY]


def route_key(method: str, template: str) -> str:
    """The name a route is counted under in the stats: ``"POST /{projectKey}/payments/{id}"``."""
    return f"{method} {template}"
