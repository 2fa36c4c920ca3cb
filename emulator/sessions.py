"""Checkout Sessions: ``POST /{projectKey}/sessions`` and ``GET /{projectKey}/sessions/{id}``.

The create body names the cart as ``cart.cartRef.id``; the read shape exposes it as
``activeCart.cartRef.id`` (the asymmetry is the real API's). A session reads ``ACTIVE`` until
``expiryAt`` (``session_ttl`` after creation) or until :meth:`Emulator.expire_session`, then
``EXPIRED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .clock import iso, new_id, parse_iso
from .errors import not_found, referenced_not_found
from .fields import JsonObject, opt_object, read_json, req_object, req_str
from .routing import Route, emulator_of
from .store import CARTS, SESSIONS

if TYPE_CHECKING:
    from .core import Emulator


def create_session(emu: Emulator, cart_id: str, metadata: dict[str, Any] | None = None) -> JsonObject:
    """Store an ACTIVE session for an existing cart and return its read shape."""
    if emu.store.get(CARTS, cart_id) is None:
        raise referenced_not_found("cart", cart_id)
    now = emu.now()
    session: JsonObject = {
        "id": new_id(),
        "version": 1,
        "createdAt": iso(now),
        "lastModifiedAt": iso(now),
        "expiryAt": iso(now + emu.config.session_ttl),
        "state": "ACTIVE",
        "activeCart": {"cartRef": {"id": cart_id}},
        "metadata": dict(metadata or {}),
    }
    emu.store.put(SESSIONS, session["id"], session)
    return session


def read_session(emu: Emulator, session_id: str) -> JsonObject | None:
    """The session as the API shows it now (EXPIRED once past ``expiryAt``), or None."""
    session = emu.store.get(SESSIONS, session_id)
    if session is None:
        return None
    if session["state"] == "ACTIVE" and parse_iso(session["expiryAt"]) <= emu.now():
        return {**session, "state": "EXPIRED"}
    return session


def expire_session(emu: Emulator, session_id: str) -> None:
    """End a session now (404 ResourceNotFound if there is none)."""
    stored = emu.store.get(SESSIONS, session_id)
    if stored is None:
        raise not_found(session_id)
    now = emu.timestamp()
    emu.store.put(
        SESSIONS,
        session_id,
        {
            **stored,
            "version": stored["version"] + 1,
            "state": "EXPIRED",
            "expiryAt": min(stored["expiryAt"], now),
            "lastModifiedAt": now,
        },
    )


def session_from_draft(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Create a session from a SessionDraft ``{"cart": {"cartRef": {"id"}}, "metadata"?}``."""
    cart_ref = req_object(req_object(draft, "cart"), "cartRef", "cart")
    cart_id = req_str(cart_ref, "id", "cart -> cartRef")
    metadata = opt_object(draft, "metadata")
    return create_session(emu, cart_id, metadata)


async def post_session(request: web.Request) -> web.Response:
    """``POST /{projectKey}/sessions``."""
    session = session_from_draft(emulator_of(request), await read_json(request))
    return web.json_response(session, status=201)


async def get_session(request: web.Request) -> web.Response:
    """``GET /{projectKey}/sessions/{id}``."""
    session_id = request.match_info["id"]
    session = read_session(emulator_of(request), session_id)
    if session is None:
        raise not_found(session_id)
    return web.json_response(session)


ROUTES = [
    Route("POST", "/{projectKey}/sessions", post_session, ("manage_sessions",)),
    Route("GET", "/{projectKey}/sessions/{id}", get_session, ("view_sessions", "manage_sessions")),
]
