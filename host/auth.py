"""Checkout's three authentication schemes, exactly as CONTRACT.md §3. Every failure is a 401.

- ``SessionAuth``: ``X-Session-Id`` read from the Session API with our own token; ACTIVE with a cart. A
  missing header, a header that cannot be a session id, and a session that is not active each have their
  own message; a Session API that cannot be asked (5xx, unreachable) is 503, never "not active".
- ``OAuth2Auth``: bearer token introspected (RFC 7662); scope suffixes stripped; any-of authorities.
  A result is cached no longer than min(token expiry, 30 s).
- ``JwtAuth``: Merchant Center forward-to JWT; key by ``kid`` from the JWKS (cached, refetched on an unknown
  ``kid`` at most every few seconds), algorithm pinned to the key type, exact ``iss``, project-key claim.
  A token of any shape (a header that is not an object, a ``kid`` that is not a string) is a 401.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from aiohttp import web

from host.commercetools.client import CommercetoolsClient, valid_id
from host.errors import ApiError, AuthError, UpstreamError
from host.logs import correlation_id, sane_correlation_id
from host.models import Money, SessionInfo

logger = logging.getLogger(__name__)

PAYMENT_INTENT_AUTHORITIES = ("manage_project", "manage_checkout_payment_intents")
TRANSACTION_AUTHORITIES = ("manage_project", "manage_checkout_transactions")
_INTROSPECTION_TTL = 30.0
_CACHE_SIZE = 10_000


def session_info(session_id: str, session: Mapping[str, Any]) -> SessionInfo:
    meta = session.get("metadata") or {}
    planned = meta.get("giftCardPlannedAmount")
    cart_id = ((session.get("activeCart") or {}).get("cartRef") or {}).get("id")
    return SessionInfo(
        session_id=session_id, cart_id=str(cart_id),
        allowed_payment_methods=tuple(meta.get("allowedPaymentMethods") or ()),
        payment_interface=meta.get("paymentInterface"), processor_url=meta.get("processorUrl"),
        checkout_transaction_item_id=meta.get("checkoutTransactionItemId"),
        merchant_return_url=meta.get("merchantReturnUrl"), future_order_number=meta.get("futureOrderNumber"),
        gift_card_planned_amount=Money.from_ct(planned) if isinstance(planned, Mapping) and "centAmount" in planned
        else None,
        correlation_id=sane_correlation_id(meta.get("correlationId")))


class SessionAuth:
    def __init__(self, client: CommercetoolsClient) -> None:
        self.client = client

    async def authenticate(self, request: web.Request, session_id: str | None = None) -> SessionInfo:
        session_id = session_id or request.headers.get("X-Session-Id")
        if not session_id:
            raise AuthError("This endpoint requires the X-Session-Id header.", code="access_denied",
                            header="X-Session-Id")
        if not valid_id(session_id):
            raise AuthError("The X-Session-Id header is not a session id (1 to 256 letters, digits, '-' or '_').",
                            code="invalid_request", header="X-Session-Id")
        try:
            session = await self.client.get_session(session_id)
        except UpstreamError as exc:
            if exc.status >= 500:
                raise   # commercetools could not be asked: 503, the session may well be active
            logger.info("session %s rejected: %s", session_id[:8], exc.code)
            raise AuthError("Session is not active") from None
        except ApiError as exc:
            logger.info("session %s rejected: %s", session_id[:8], exc.code)
            raise AuthError("Session is not active") from None
        if not isinstance(session, dict) or session.get("state") != "ACTIVE" \
                or not valid_id(((session.get("activeCart") or {}).get("cartRef") or {}).get("id")):
            raise AuthError("Session is not active")
        info = session_info(session_id, session)
        if info.correlation_id:
            correlation_id.set(info.correlation_id)
        return info


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if header is None:
        raise AuthError("This endpoint requires the authorization header.", code="access_denied")
    parts = header.split(" ")
    if len(parts) != 2 or parts[0] != "Bearer":
        raise AuthError("Authorization header must have the format 'Bearer <token>'", code="invalid_request")
    return parts[1]


@dataclass(frozen=True)
class OAuthPrincipal:
    client_id: str | None
    authorities: frozenset[str]
    scope: str


class OAuth2Auth:
    def __init__(self, client: CommercetoolsClient) -> None:
        self.client = client
        self._cache: OrderedDict[str, tuple[float, OAuthPrincipal]] = OrderedDict()

    async def authenticate(self, request: web.Request, required: tuple[str, ...]) -> OAuthPrincipal:
        token = bearer_token(request)
        principal = await self._principal(token)
        if not principal.authorities & set(required):
            raise AuthError("Not authorized", validAuthorities=list(required))
        return principal

    async def _principal(self, token: str) -> OAuthPrincipal:
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached and cached[0] > now:
            return cached[1]
        status, body = await self.client.introspect(token)   # unreachable: UpstreamError 503
        body = body if isinstance(body, dict) else {}
        if status == 401:
            raise AuthError(str(body.get("message") or body.get("error_description") or "invalid_token"),
                            code=str(body.get("error") or "invalid_token"))
        if status > 299:
            raise ApiError("Failed to authorize request.")
        if not body.get("active"):
            raise AuthError("invalid_token")
        scope = body.get("scope")
        if not scope:
            raise AuthError("Token has no scopes.")
        authorities = frozenset(s.split(":", 1)[0] for s in str(scope).split())
        principal = OAuthPrincipal(body.get("client_id"), authorities, str(scope))
        ttl = _INTROSPECTION_TTL
        if isinstance(body.get("exp"), int | float):
            ttl = min(ttl, float(body["exp"]) - time.time())
        if ttl > 0:
            self._cache[token] = (now + ttl, principal)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return principal


_ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


class JwtAuth:
    def __init__(self, http: aiohttp.ClientSession, jwks_url: str, issuer: str, project_key: str,
                 refetch_interval: float = 5.0, timeout: float = 5.0) -> None:
        self.http, self.jwks_url, self.issuer, self.project_key = http, jwks_url, issuer, project_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -1e9
        self._refetch_interval = refetch_interval
        self._lock = asyncio.Lock()
        self._unreachable = False   # the last JWKS fetch failed: a token cannot be checked, which is no 401

    async def _key(self, kid: str) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self._refetch_interval:
                await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self._unreachable = True
        try:
            async with self.http.get(self.jwks_url, timeout=self._timeout) as resp:
                resp.raise_for_status()
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError, RecursionError) as exc:
            logger.warning("JWKS fetch from %s failed: %s", self.jwks_url, type(exc).__name__)
            return
        finally:
            self._fetched_at = time.monotonic()   # the interval runs from the answer (or the time-out)
        self._unreachable = False
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in data.get("keys", []) if isinstance(data, dict) else []:
            try:
                key = jwt.PyJWK(jwk)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue
            if jwk.get("kid") and key.algorithm_name in _ALLOWED_ALGORITHMS:
                keys[str(jwk["kid"])] = key
        self._keys = keys

    async def authenticate(self, request: web.Request) -> str:
        """Verify the Merchant Center JWT; returns its subject."""
        token = bearer_token(request)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:   # not three parts, not base64, not a JSON object, a kid that is no string...
            raise AuthError("jwt malformed") from None
        kid = header.get("kid")
        key = await self._key(kid) if isinstance(kid, str) and 0 < len(kid) <= 256 else None
        if key is None:
            if self._unreachable:
                raise UpstreamError("The Merchant Center keys (JWKS) cannot be fetched; try again later.",
                                    code="ServiceUnavailable", status=503)
            raise AuthError("secret or public key must be provided")
        try:
            claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name],
                                options={"verify_aud": False, "require": ["exp"]}, leeway=0)
        except jwt.ExpiredSignatureError:
            raise AuthError("jwt expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("jwt not active") from None
        except jwt.InvalidSignatureError:
            raise AuthError("invalid signature") from None
        except jwt.InvalidAlgorithmError:
            raise AuthError("invalid algorithm") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"jwt {exc.claim} required") from None
        except jwt.PyJWTError:
            raise AuthError("jwt malformed") from None
        if claims.get("iss") != self.issuer:
            raise AuthError("Issuer in the token does not match the expected issuer.")
        if claims.get(f"{self.issuer}/claims/project_key") != self.project_key:
            raise AuthError("Project key does not match.")
        return str(claims.get("sub", ""))
