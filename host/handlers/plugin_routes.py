"""What plugin routes get beyond ``host.handlers.webhooks``' mounting (host API 1.3).

* ``CartAccess``: the ``RouteContext`` methods for the session's cart (``cart``, ``shipping_methods``,
  ``set_shipping_address``, ``set_shipping_method``), commercetools writes made by the host
  (``host.flows.shipping``).
* ``setup_public``: a route with ``auth="none"`` and ``at_root=True`` is also mounted at its plain path, served
  by the one enabled instance that declares it; when several do, the plain path answers 400 naming theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from host.commercetools.client import CommercetoolsClient
from host.errors import InvalidOperationError
from host.flows import shipping
from host.models import CartSummary, SessionInfo, ShippingOption
from host.providers import Provider, Route
from host.routing import Bound


class CartAccess:
    """The session's cart for a plugin route (mixed into the host's ``RouteContext``)."""

    request: web.Request
    session: SessionInfo | None
    _ct: CommercetoolsClient

    def _cart_id(self) -> str:
        if self.session is None:
            raise RuntimeError("the session's cart needs a route with auth='session'")
        return self.session.cart_id

    async def cart(self) -> CartSummary:
        return shipping.summary(await self._ct.get_cart(self._cart_id()))

    async def shipping_methods(self) -> tuple[ShippingOption, ...]:
        return await shipping.options(self._ct, self._cart_id())

    async def set_shipping_address(self, address: Mapping[str, Any]) -> CartSummary:
        return await shipping.change(self._ct, self._cart_id(), shipping.address_action(address))

    async def set_shipping_method(self, method_id: str | None) -> CartSummary:
        return await shipping.change(self._ct, self._cart_id(), shipping.method_action(method_id))


def setup_public(app: web.Application, bound_instances: list[Bound[Provider]]) -> None:
    from host.handlers.webhooks import plugin_handler

    public: dict[tuple[str, str], dict[str, Route]] = {}
    for bound in bound_instances:
        for route in bound.provider.routes():
            if route.auth == "none" and route.at_root:
                public.setdefault((route.method, route.path), {})[bound.id] = route
    for (method, path), by_instance in public.items():
        if len(by_instance) == 1:
            [(instance_id, route)] = by_instance.items()
            app.router.add_route(method, path, plugin_handler(route, instance_id))
        else:
            app.router.add_route(method, path, _ambiguous(path, sorted(by_instance)))


def _ambiguous(path: str, instances: list[str]) -> Any:
    where = ", ".join(f"/plugins/{i}{path}" for i in instances)

    async def handle(request: web.Request) -> web.StreamResponse:
        raise InvalidOperationError(f"Several payment integrations serve {path}; use the one of yours: {where}.")

    return handle
