"""The auth service: client-credentials tokens, RFC 7662 introspection, bearer checks for the API.

* ``POST /oauth/token`` — Basic auth of a configured client, ``grant_type=client_credentials``,
  optional ``scope`` (a subset of the client's; ``manage_project:{pk}`` covers every scope of
  that project). Bad credentials → 401 ``invalid_client``.
* ``POST /oauth/introspect`` — Basic auth of a client holding ``introspect_oauth_tokens:{pk}``
  or ``manage_project:{pk}``; ``{"active": false}`` for unknown or expired tokens.
* API routes: no/unknown/expired bearer token → 401 ``invalid_token``; a token without any of
  the route's scopes → 403 ``insufficient_scope``, as commercetools answers.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from .config import ClientCredentials
from .errors import OAuthError, not_found
from .routing import Route, emulator_of
from .store import TOKENS

if TYPE_CHECKING:
    from .core import Emulator


def _invalid_client() -> OAuthError:
    return OAuthError(
        401,
        "invalid_client",
        "Please provide valid client credentials using HTTP Basic Authentication.",
    )


def _covers(granted: list[str], scope: str) -> bool:
    """Whether ``granted`` includes ``scope`` (``name:pk``), directly or via manage_project."""
    _, _, project = scope.partition(":")
    return scope in granted or (bool(project) and f"manage_project:{project}" in granted)


def issue(emu: Emulator, client: ClientCredentials, scopes: list[str] | None = None) -> dict[str, Any]:
    """Issue a token for ``client`` (all its scopes by default): the token endpoint's answer."""
    if scopes:
        unknown = [s for s in scopes if not _covers(client.scopes, s)]
        if unknown:
            raise OAuthError(400, "invalid_scope", f"Invalid scope: {' '.join(unknown)}")
    granted = list(dict.fromkeys(scopes or client.scopes))
    token = secrets.token_urlsafe(32)
    ttl = emu.config.token_ttl
    expires = emu.now() + ttl
    emu.store.put(TOKENS, token, {"clientId": client.client_id, "scope": granted, "exp": expires})
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(granted),
    }


def active_token(emu: Emulator, token: str) -> dict[str, Any] | None:
    """The token's record if it was issued here and has not expired."""
    record = emu.store.get(TOKENS, token) if token else None
    if record is None or record["exp"] <= emu.now():
        return None
    return record


def basic_client(emu: Emulator, request: web.Request) -> ClientCredentials:
    """The client authenticated by the request's Basic credentials, else 401 invalid_client."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    client_id, sep, secret = decoded.partition(":")
    client = emu.config.client(client_id)
    if not sep or client is None:
        raise _invalid_client()
    if not secrets.compare_digest(client.client_secret.encode(), secret.encode()):
        raise _invalid_client()
    return client


async def _form(request: web.Request) -> dict[str, str]:
    """Form fields from the query string and an urlencoded body (the auth service takes both)."""
    fields = dict(request.query.items())
    if request.content_type in ("application/x-www-form-urlencoded", "application/octet-stream"):
        raw = await request.read()
        fields.update(parse_qsl(raw.decode("utf-8", errors="replace")))
    return fields


async def token_endpoint(request: web.Request) -> web.Response:
    """``POST /oauth/token``."""
    emu = emulator_of(request)
    client = basic_client(emu, request)
    form = await _form(request)
    grant = form.get("grant_type")
    if grant is None:
        raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type.")
    if grant != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}.")
    scopes = form.get("scope", "").split()
    return web.json_response(issue(emu, client, scopes))


async def introspect_endpoint(request: web.Request) -> web.Response:
    """``POST /oauth/introspect``."""
    emu = emulator_of(request)
    client = basic_client(emu, request)
    pk = emu.config.project_key
    if not _covers(client.scopes, f"introspect_oauth_tokens:{pk}"):
        raise OAuthError(
            401,
            "insufficient_scope",
            f"The client needs the scope introspect_oauth_tokens:{pk} to introspect tokens.",
        )
    form = await _form(request)
    record = active_token(emu, form.get("token", ""))
    if record is None:
        return web.json_response({"active": False})
    return web.json_response(
        {
            "active": True,
            "scope": " ".join(record["scope"]),
            "exp": int(record["exp"]),
            "client_id": record["clientId"],
        }
    )


def authorize(emu: Emulator, request: web.Request, scopes: tuple[str, ...]) -> None:
    """Require a live bearer token holding one of ``scopes`` for the path's project."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OAuthError(
            401,
            "invalid_token",
            "This endpoint requires an access token. You can get one from the authorization server.",
        )
    record = active_token(emu, token.strip())
    if record is None:
        raise OAuthError(401, "invalid_token", "invalid_token")
    pk = request.match_info.get("projectKey", emu.config.project_key)
    if not any(_covers(record["scope"], f"{s}:{pk}") for s in scopes):
        wanted = ", ".join(f"{s}:{pk}" for s in scopes)
        raise OAuthError(
            403,
            "insufficient_scope",
            f"Insufficient scope. One of the following scopes is missing: {wanted}",
        )
    if pk != emu.config.project_key:
        raise not_found(pk)


ROUTES = [
    Route("POST", "/oauth/token", token_endpoint),
    Route("POST", "/oauth/introspect", introspect_endpoint),
]
