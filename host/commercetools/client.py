"""An async commercetools client on one keep-alive aiohttp session.

- Client-credentials token, cached until shortly before expiry, refreshed once on a 401.
- Retries 502/503/504 and connection errors with exponential backoff and jitter (tenacity), inside a total
  time budget per call. A retried write is safe: updates carry the resource version (a replay gets 409
  and is re-read by the caller), and Payment creation carries a ``key`` (a replay finds the first one).
- ``X-Correlation-ID`` on every call and a ``User-Agent`` naming connector-host.
- Carts and Payments come back as typed views (``CartView``, ``PaymentView``); an update is never sent
  without actions.
- Errors become the host's typed errors: 404 ``ResourceNotFoundError``, 409 ``ConcurrentModificationError``
  (with ``currentVersion``), anything else ``UpstreamError`` with commercetools' status, code and errors list.
  An error body that is not JSON (a proxy's HTML page) is an error all the same; commercetools that cannot
  be reached (connection refused, DNS, timeout), for the token too, is ``UpstreamError`` 503.
- Ids that come from a client (session, cart, payment, payment method) are checked by ``segment`` (letters,
  digits, ``-``, ``_``; at most 256) and percent-encoded as one path segment: an id can never add a path,
  a query or a fragment to a call made with the host's token. An id of another shape cannot exist, so it is
  a ``ResourceNotFoundError`` without a call. Values in ``where`` predicates go through ``predicate``.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import orjson
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from host._version import __version__
from host.commercetools.views import CartView, cart_view, payment_view
from host.errors import ApiError, ConcurrentModificationError, ResourceNotFoundError, UpstreamError
from host.logs import correlation_id
from host.models import PaymentView

logger = logging.getLogger(__name__)

USER_AGENT = f"connector-host/{__version__} (+https://pypi.org/project/connector-host/)"
_RETRY_STATUSES = frozenset({502, 503, 504})
#: commercetools ids are UUIDs and keys are [A-Za-z0-9_-]{2,256}; nothing else can name a resource
ID_PATTERN = "^[A-Za-z0-9_-]{1,256}$"
_ID = re.compile("[A-Za-z0-9_-]{1,256}")


def valid_id(value: object) -> bool:
    """Whether ``value`` has the shape of a commercetools id or key."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def segment(value: str, what: str) -> str:
    """``value`` as one percent-encoded path segment; ``ResourceNotFoundError`` when no resource can have it."""
    if not valid_id(value):
        raise ResourceNotFoundError(f"The {what} was not found: an id is 1 to 256 letters, digits, '-' or '_'.")
    return quote(value, safe="")


def predicate(template: str, **values: str) -> str:
    """A ``where`` predicate with each ``{name}`` replaced by ``values[name]`` as an escaped string literal:
    ``predicate('interfaceId={ref}', ref=x)``. A value can never end the literal and add a condition."""
    return template.format(**{k: jsonlib.dumps(str(v), ensure_ascii=False) for k, v in values.items()})


def join_url(base: str, *parts: str) -> str:
    """Join without double slashes (the templates' default session URL ends in '/')."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


@dataclass(frozen=True)
class CommercetoolsSettings:
    project_key: str
    client_id: str
    client_secret: str
    auth_url: str
    api_url: str
    session_url: str
    timeout: float = 10.0          # total budget for one call, retries included
    max_attempts: int = 4


class _Retryable(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"commercetools answered {status}")
        self.status, self.body = status, body


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | aiohttp.ClientConnectionError | asyncio.TimeoutError)


class CallObserver(Protocol):
    """Told about every HTTP exchange with commercetools (``host.instrument`` counts and traces them)."""

    def started(self, method: str, route: str, headers: dict[str, str]) -> object:
        """Before the call; may add headers (``traceparent``). Returns what ``ended`` gets back."""

    def ended(self, token: object, status: int | None, error: BaseException | None) -> None:
        """After the answer (``status``) or the failure (``error``)."""


def route_of(path: str) -> str:
    """The route template of an API path relative to the project: ``payments/8f1c`` → ``/{projectKey}/payments/{id}``
    (``key=...`` → ``key={key}``; a custom object's two segments → ``{container}/{key}``)."""
    parts = path.split("?", 1)[0].split("/")
    out = ["", "{projectKey}", parts[0]]
    if parts[0] == "custom-objects":
        out += ["{container}", "{key}"][:len(parts) - 1]
    else:
        out += ["key={key}" if p.startswith("key=") else "{id}" for p in parts[1:]]
    return "/".join(out)


class CommercetoolsClient:
    def __init__(self, settings: CommercetoolsSettings, http: aiohttp.ClientSession,
                 observer: CallObserver | None = None) -> None:
        self.settings = settings
        self.http = http
        self.observer = observer
        self._token: str | None = None
        self._token_expiry = 0.0
        self._token_scope = ""
        self._token_lock = asyncio.Lock()
        self.api_base = join_url(settings.api_url, settings.project_key)
        self._basic = aiohttp.encode_basic_auth(settings.client_id, settings.client_secret)
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout)

    # -- token ------------------------------------------------------------------------------------

    async def token(self, *, refresh: bool = False) -> str:
        if not refresh and self._token and time.monotonic() < self._token_expiry:
            return self._token
        async with self._token_lock:
            if not refresh and self._token and time.monotonic() < self._token_expiry:
                return self._token
            data = await self._send("POST", join_url(self.settings.auth_url, "oauth/token"), "/oauth/token",
                                    auth=self._basic, form={"grant_type": "client_credentials"})
            if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
                raise UpstreamError("commercetools answered the token request without a token",
                                    code="ServiceUnavailable", status=502)
            expires_in = float(data.get("expires_in", 3600))
            self._token = data["access_token"]
            self._token_scope = str(data.get("scope", ""))
            self._token_expiry = time.monotonic() + max(expires_in - min(300.0, expires_in / 10), 1.0)
            return self._token

    async def token_scopes(self) -> list[str]:
        """The scopes of our own token, fetched fresh (``/operations/status``)."""
        await self.token(refresh=True)
        return self._token_scope.split()

    # -- HTTP -------------------------------------------------------------------------------------

    async def _send(self, method: str, url: str, route: str, *, json: Any = None,
                    form: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
                    auth: str | None = None, bearer: str | None = None) -> Any:
        headers = {"User-Agent": USER_AGENT, "X-Correlation-ID": correlation_id.get() or "connector-host"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        elif auth:
            headers["Authorization"] = auth
        client_timeout = self._timeout
        started = time.monotonic()
        try:
            # the first attempt is a plain call: tenacity's machinery (and the garbage it leaves) is only
            # paid for when something actually failed
            return await self._attempt(method, url, route, json, form, params, headers, client_timeout)
        except Exception as exc:
            if not _is_retryable(exc):
                raise
        remaining = self.settings.timeout - (time.monotonic() - started)
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(max(remaining, 0)) | stop_after_attempt(self.settings.max_attempts - 1),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0), retry=retry_if_exception(_is_retryable),
            reraise=True,
        ):
            with attempt:
                return await self._attempt(method, url, route, json, form, params, headers, client_timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, method: str, url: str, route: str, json: Any, form: Mapping[str, str] | None,
                       params: Mapping[str, str] | None, headers: dict[str, str],
                       client_timeout: aiohttp.ClientTimeout) -> Any:
        observer = self.observer
        seen = observer.started(method, route, headers) if observer is not None else None
        data: Any = form
        if json is not None:
            data = orjson.dumps(json)
            headers = {**headers, "Content-Type": "application/json"}
        try:
            async with self.http.request(method, url, data=data, params=params, headers=headers,
                                         timeout=client_timeout) as resp:
                raw = await resp.read()
        except BaseException as exc:
            if observer is not None:
                observer.ended(seen, None, exc)
            raise
        if observer is not None:
            observer.ended(seen, resp.status, None)
        body = _json_or_none(raw)
        if resp.status in _RETRY_STATUSES:
            raise _Retryable(resp.status, body)
        if resp.status >= 400:
            raise _error(resp.status, body, url)
        if body is None and raw.strip():
            logger.warning("commercetools answered %s on %s with a body that is not JSON", resp.status,
                           url.split("?")[0])
            raise UpstreamError("commercetools answered with a body that is not JSON", code="ServiceUnavailable",
                                status=502)
        return body

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: Mapping[str, str] | None = None, base: str | None = None) -> Any:
        """An authenticated API call; on a 401 the token is refreshed once and the call repeated."""
        url = join_url(base or self.api_base, path)
        route = route_of(path)
        try:
            return await self._call(method, url, route, json, params, refresh=False)
        except UpstreamError as exc:
            if exc.status != 401:
                raise
            return await self._call(method, url, route, json, params, refresh=True)

    async def _call(self, method: str, url: str, route: str, json: Any, params: Mapping[str, str] | None,
                    *, refresh: bool) -> Any:
        try:
            token = await self.token(refresh=refresh)
            return await self._send(method, url, route, json=json, params=params, bearer=token)
        except _Retryable as exc:
            raise UpstreamError("commercetools is not available, try again later", code="ServiceUnavailable",
                                status=503 if exc.status == 503 else 502) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise UpstreamError(f"commercetools cannot be reached: {type(exc).__name__}",
                                code="ServiceUnavailable", status=503) from None

    # -- resources --------------------------------------------------------------------------------

    async def get_session(self, session_id: str) -> Any:
        base = join_url(self.settings.session_url, self.settings.project_key)
        return await self.request("GET", f"sessions/{segment(session_id, 'session')}", base=base)

    async def get_cart(self, cart_id: str) -> CartView:
        return cart_view(await self.request("GET", f"carts/{segment(cart_id, 'cart')}"))

    async def update_cart(self, cart_id: str, version: int, actions: list[dict[str, Any]]) -> CartView:
        return cart_view(await self.request("POST", f"carts/{segment(cart_id, 'cart')}",
                                            json={"version": version, "actions": _nonempty(actions)}))

    async def matching_shipping_methods(self, cart_id: str) -> list[Any]:
        """The shipping methods that ship to the cart's shipping address, each with its one matching rate."""
        data = await self.request("GET", "shipping-methods/matching-cart", params={"cartId": cart_id})
        return list(data.get("results", []))

    async def get_payment(self, payment_id: str) -> PaymentView:
        return payment_view(await self.request("GET", f"payments/{segment(payment_id, 'payment')}"))

    async def get_payment_by_key(self, key: str) -> PaymentView | None:
        try:
            return payment_view(await self.request("GET", f"payments/key={segment(key, 'payment')}"))
        except ResourceNotFoundError:
            return None

    async def create_payment(self, draft: dict[str, Any]) -> tuple[PaymentView, bool]:
        """Create a Payment; returns it and whether this call created it. With a ``key`` in the draft, a
        create that finds the key taken (a retried call, or a replayed request) returns that Payment."""
        try:
            return payment_view(await self.request("POST", "payments", json=draft)), True
        except UpstreamError as exc:
            if exc.code == "DuplicateField" and draft.get("key"):
                return payment_view(await self.request(
                    "GET", f"payments/key={segment(str(draft['key']), 'payment')}")), False
            raise

    async def update_payment(self, payment_id: str, version: int, actions: list[dict[str, Any]]) -> PaymentView:
        return payment_view(await self.request("POST", f"payments/{segment(payment_id, 'payment')}",
                                               json={"version": version, "actions": _nonempty(actions)}))

    async def query_payments(self, where: str, limit: int = 20, *, offset: int = 0,
                             sort: str | None = None) -> list[PaymentView]:
        params = {"where": where, "limit": str(limit), **({"offset": str(offset)} if offset else {}),
                  **({"sort": sort} if sort else {})}
        data = await self.request("GET", "payments", params=params)
        return [payment_view(p) for p in data.get("results", [])]

    async def query_payment_methods(self, where: str, limit: int = 20, *, sort: str | None = None) -> list[Any]:
        params = {"where": where, "limit": str(limit), **({"sort": sort} if sort else {})}
        data = await self.request("GET", "payment-methods", params=params)
        return list(data.get("results", []))

    async def create_payment_method(self, draft: dict[str, Any]) -> Any:
        return await self.request("POST", "payment-methods", json=draft)

    async def delete_payment_method(self, method_id: str, version: int) -> Any:
        return await self.request("DELETE", f"payment-methods/{segment(method_id, 'payment method')}",
                                  params={"version": str(version)})

    async def get_customer(self, customer_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.request("GET", f"customers/{segment(customer_id, 'customer')}")
        return found

    async def update_customer(self, customer_id: str, version: int, actions: list[dict[str, Any]]) -> dict[str, Any]:
        written: dict[str, Any] = await self.request(
            "POST", f"customers/{segment(customer_id, 'customer')}",
            json={"version": version, "actions": _nonempty(actions)})
        return written

    async def get_type(self, *, type_id: str | None = None, key: str | None = None) -> dict[str, Any] | None:
        """A Type by id or key; None when there is none."""
        path = f"types/{segment(type_id, 'type')}" if type_id is not None else f"types/key={segment(key or '', 'type')}"
        try:
            found: dict[str, Any] = await self.request("GET", path)
        except ResourceNotFoundError:
            return None
        return found

    async def create_type(self, draft: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = await self.request("POST", "types", json=draft)
        return created

    async def get_custom_object(self, container: str, key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.request("GET", f"custom-objects/{quote(container)}/{quote(key)}")
        except ResourceNotFoundError:
            return None
        return found

    async def put_custom_object(self, container: str, key: str, value: Any, version: int | None) -> dict[str, Any]:
        """Create or replace; with ``version`` only if it is the stored one (0: only if absent)."""
        draft: dict[str, Any] = {"container": container, "key": key, "value": value}
        if version is not None:
            draft["version"] = version
        written: dict[str, Any] = await self.request("POST", "custom-objects", json=draft)
        return written

    async def query_custom_objects(self, container: str, where: str | None = None,
                                   limit: int = 100) -> list[dict[str, Any]]:
        params = {"limit": str(limit), **({"where": where} if where else {})}
        data = await self.request("GET", f"custom-objects/{quote(container)}", params=params)
        return list(data.get("results", []))

    async def delete_custom_object(self, container: str, key: str, version: int | None) -> None:
        """Delete; with ``version`` only if it is the stored one. A missing object is ``ResourceNotFoundError``."""
        await self.request("DELETE", f"custom-objects/{quote(container)}/{quote(key)}",
                           params={"version": str(version)} if version is not None else None)

    async def introspect(self, token: str) -> tuple[int, Any]:
        """RFC 7662 introspection with our client's Basic auth. Returns (status, body), the body ``None`` when
        it is not JSON: the caller maps it. Not reaching the auth service is ``UpstreamError`` 503."""
        url = join_url(self.settings.auth_url, "oauth/introspect")
        headers = {"User-Agent": USER_AGENT, "Authorization": self._basic}
        observer = self.observer
        seen = observer.started("POST", "/oauth/introspect", headers) if observer is not None else None
        try:
            async with self.http.post(url, data={"token": token}, headers=headers, timeout=self._timeout) as resp:
                raw = await resp.read()
            if observer is not None:
                observer.ended(seen, resp.status, None)
            return resp.status, _json_or_none(raw)
        except (TimeoutError, aiohttp.ClientError) as exc:
            if observer is not None:
                observer.ended(seen, None, exc)
            raise UpstreamError(f"commercetools cannot be reached: {type(exc).__name__}",
                                code="ServiceUnavailable", status=503) from None


def _json_or_none(raw: bytes) -> Any:
    """The JSON of an upstream body; ``None`` when it is empty or not JSON (the caller decides what that means)."""
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except (ValueError, RecursionError):   # orjson.JSONDecodeError is a ValueError
        return None


def _nonempty(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An update that must write is never sent without actions: commercetools would accept it without a
    version bump, and the caller would believe it had written (and locked) something."""
    if not actions:
        raise ValueError("an update without actions writes nothing; the caller must not send it")
    return actions


def _error(status: int, body: Any, url: str) -> ApiError:
    body = body if isinstance(body, dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(body.get("message") or first.get("message") or f"commercetools answered {status}")
    code = str(first.get("code") or body.get("error") or "General")
    if status == 404:
        return ResourceNotFoundError(message)
    if status == 409:
        return ConcurrentModificationError(message, currentVersion=first.get("currentVersion"))
    logger.warning("commercetools %s on %s: %s (%s)", status, url.split("?")[0], message, code)
    if status >= 500:   # commercetools failed, not the host: a 502, never the host's own 500
        return UpstreamError(f"commercetools failed ({status}); try again later", code="ServiceUnavailable",
                             status=502)
    extra = {k: v for k, v in first.items() if k not in ("code", "message")}
    return UpstreamError(message, code=code, status=status, **extra)
