"""``POST /webhooks/{instance}``, a plugin's shared webhook path, and the extra routes plugins declare.

A webhook's raw bytes go to the instance's provider, which verifies and translates them; the host then
records each event with ``host.flows.events`` (the consolidating update), so a redelivery writes nothing.
A Payment of another instance is never touched. Unknown Payments are acknowledged (logged), so the PSP
stops retrying.

A provider class may declare ``webhook_path`` (Stripe: ``/stripe/webhooks``, the official connector's):
one route for all its instances. Each instance verifies the raw bytes with its own secret, in
connector.yaml order; the first that verifies handles the delivery, and when none does the answer is the
last refusal (401). Two such instances whose ``webhook_identity()`` is equal (the same signing secret)
stop start-up: a delivery could not be told apart.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from host import metrics
from host.errors import ConfigError, InvalidJsonError, ResourceNotFoundError, WebhookSignatureError
from host.flows.create import amount_to_pay
from host.flows.events import record_event
from host.handlers.common import MAX_JSON_DEPTH, too_deep
from host.handlers.plugin_routes import CartAccess
from host.instrument import probing_webhook
from host.jsonio import json_response
from host.keys import CT, ROUTER, SESSION_AUTH
from host.models import Money, PaymentEvent, PaymentView, SessionInfo, WebhookRequest, WebhookResult
from host.providers import Provider, Route
from host.routing import Bound


async def _raw(request: web.Request) -> WebhookRequest:
    raw = await request.read()
    if too_deep(raw):   # no PSP nests that deep; a plugin's JSON parser would recurse once per level
        raise InvalidJsonError(f"Request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.")
    return WebhookRequest(body=raw, headers=dict(request.headers), query=dict(request.query),
                          content_type=request.content_type)


async def webhook(request: web.Request) -> web.StreamResponse:
    bound = request.app[ROUTER].for_id(request.match_info["instance"])
    result = await bound.provider.parse_webhook(await _raw(request))
    return await _record(request, bound, result)


def _shared_webhook(instances: list[Bound[Provider]]) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        delivery = await _raw(request)
        refused: WebhookSignatureError | None = None
        for bound in instances:
            probing = probing_webhook.set(True)
            try:
                result = await bound.provider.parse_webhook(delivery)
            except WebhookSignatureError as exc:
                refused = exc
                continue
            finally:
                probing_webhook.reset(probing)
            return await _record(request, bound, result)
        for bound in instances:   # every instance refused it: a failed verification for each
            metrics.webhook_verification_failed(bound.id)
        raise refused or WebhookSignatureError()

    return handle


async def _record(request: web.Request, bound: Bound[Provider], result: WebhookResult) -> web.StreamResponse:
    ct = request.app[CT]
    for event in result.events:
        await record_event(ct, bound, event)
    if result.body is None:
        return web.Response(status=result.status)
    if isinstance(result.body, str):
        return web.Response(status=result.status, text=result.body)
    return json_response(dict(result.body), status=result.status)


class _RouteContext(CartAccess):
    """``host.RouteContext`` for one request to a plugin route."""

    def __init__(self, request: web.Request, bound: Bound[Provider], session: SessionInfo | None) -> None:
        self.request, self.bound, self.session = request, bound, session
        self.instance_id = bound.id
        self._ct = request.app[CT]

    async def amount_to_pay(self) -> Money:
        if self.session is None:
            raise RuntimeError("amount_to_pay() needs a route with auth='session'")
        cart = await self._ct.get_cart(self.session.cart_id)
        return await amount_to_pay(self._ct, cart, self.session.gift_card_planned_amount)

    async def customer_id(self) -> str | None:
        if self.session is None:
            raise RuntimeError("customer_id() needs a route with auth='session'")
        return (await self._ct.get_cart(self.session.cart_id)).customer_id

    async def get_payment(self, payment_id: str) -> PaymentView:
        payment = await self._ct.get_payment(payment_id)
        if payment.payment_interface != self.bound.payment_interface:
            raise ResourceNotFoundError(f"The Resource with ID {payment_id} was not found.")
        return payment

    async def record(self, event: PaymentEvent) -> PaymentView:
        payment = await record_event(self._ct, self.bound, event)
        if payment is None:
            raise ResourceNotFoundError(f"The Resource with ID {event.payment_id} was not found.")
        return payment


async def _not_too_deep(request: web.Request) -> None:
    """A plugin route's body checked before the plugin parses it (its JSON parser would recurse once per level:
    a RecursionError, a 500). Read once: the plugin gets it from aiohttp's cache."""
    if request.can_read_body and too_deep(await request.read()):
        raise InvalidJsonError(f"Request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.")


def plugin_handler(route: Route, instance_id: str | None) -> Any:
    """Wrap a plugin route: fixed instance (``/plugins/{id}/...``) or chosen by the session."""

    async def handle(request: web.Request) -> web.StreamResponse:
        router = request.app[ROUTER]
        session = None
        if route.auth == "session":
            session = await request.app[SESSION_AUTH].authenticate(request)
            bound = router.for_id(instance_id) if instance_id else router.for_interface(
                session.payment_interface, None)
            if instance_id and session.payment_interface and session.payment_interface != bound.payment_interface:
                raise ResourceNotFoundError("This session belongs to another payment integration.")
        else:
            bound = router.for_id(instance_id or "")
        await _not_too_deep(request)
        return await route.handler(_RouteContext(request, bound, session))

    return handle


def setup(app: web.Application, bound_instances: list[Bound[Provider]]) -> None:
    app.router.add_post("/webhooks/{instance}", webhook)
    by_path: dict[str, list[Bound[Provider]]] = {}
    for bound in bound_instances:
        if bound.provider.webhook_path:
            by_path.setdefault(bound.provider.webhook_path, []).append(bound)
    for path, instances in by_path.items():
        _check_identities(path, instances)
        app.router.add_post(path, _shared_webhook(instances))
    shared: dict[tuple[str, str], dict[str, Route]] = {}
    for bound in bound_instances:
        for route in bound.provider.routes():
            app.router.add_route(route.method, f"/plugins/{bound.id}{route.path}", plugin_handler(route, bound.id))
            if route.auth == "session":
                shared.setdefault((route.method, route.path), {})[bound.id] = route
    for (method, path), by_instance in shared.items():
        # one mount for every instance declaring it; the session's paymentInterface picks the instance
        app.router.add_route(method, path, _dispatch_shared(method, by_instance))


def _check_identities(path: str, instances: list[Bound[Provider]]) -> None:
    seen: dict[str, str] = {}
    for bound in instances:
        identity = bound.provider.webhook_identity()
        if identity is None:
            continue
        if identity in seen:
            raise ConfigError(f"instances {seen[identity]!r} and {bound.id!r} have the same webhook signing "
                              f"secret, so a delivery to {path} could belong to either",
                              path=f"instances.{bound.id}.settings",
                              fix=f"give each its own endpoint and secret, or use /webhooks/{bound.id}")
        seen[identity] = bound.id


def _dispatch_shared(method: str, by_instance: dict[str, Route]) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        session = await request.app[SESSION_AUTH].authenticate(request)
        bound = request.app[ROUTER].for_interface(session.payment_interface, None)
        route = by_instance.get(bound.id)
        if route is None:
            raise ResourceNotFoundError(f"Route {method}:{request.path} is not offered by "
                                        f"'{bound.payment_interface}'.")
        await _not_too_deep(request)
        return await route.handler(_RouteContext(request, bound, session))

    return handle
