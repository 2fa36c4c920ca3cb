"""Zones, shipping methods, and the cart's shipping (``setShippingAddress``, ``setShippingMethod``).

As commercetools (docs.commercetools.com/api/projects/zones, .../shippingMethods, .../carts):

* a Zone is a list of ``locations`` (``country``, optional ``state``); a ShippingMethod has ``zoneRates``, each
  a zone with ``shippingRates`` (one ``price`` per currency, optional ``freeAbove``);
* ``GET /shipping-methods/matching-cart?cartId=`` lists the active methods with a rate for the cart's currency
  in a zone holding the cart's shipping address, each with only that zone rate and that rate, marked
  ``isMatching``; a cart without a shipping address is a 400 ``InvalidOperation``;
* ``setShippingMethod`` sets ``shippingInfo`` from the matching rate (free once the line items reach
  ``freeAbove``), or removes it when no method is given; a method that does not match the cart is a 400
  ``ShippingMethodDoesNotMatchCart``. The cart's ``totalPrice`` (and ``taxedPrice``) then include the price.

Simplifications: no tiers, no predicates, no tax categories of its own (the draft's ``taxCategory`` is stored;
a taxed cart taxes shipping at the cart's own rate, see ``emulator.carts``), no queries but matching-cart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .clock import new_id
from .errors import CtError, invalid_field, invalid_operation, not_found, referenced_not_found
from .fields import (
    JsonObject,
    as_object,
    opt_bool,
    opt_list,
    opt_str,
    path_of,
    read_json,
    req_list,
    req_object,
    req_str,
)
from .money import parse_money
from .routing import Route, emulator_of
from .store import CARTS, SHIPPING_METHODS, ZONES

if TYPE_CHECKING:
    from .core import Emulator

_READ = ("manage_shipping_methods", "view_shipping_methods")
_WRITE = ("manage_shipping_methods",)


def _resource(emu: Emulator, draft: JsonObject) -> JsonObject:
    now = emu.timestamp()
    doc: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now}
    key = opt_str(draft, "key")
    if key is not None:
        doc["key"] = key
    return doc


def create_zone(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a ZoneDraft and store the Zone."""
    zone = _resource(emu, draft) | {"name": req_str(draft, "name"), "locations": []}
    for i, value in enumerate(opt_list(draft, "locations") or []):
        where = path_of("locations", str(i))
        location = as_object(value, where)
        entry = {"country": req_str(location, "country", where)}
        state = opt_str(location, "state", where)
        if state is not None:
            entry["state"] = state
        zone["locations"].append(entry)
    emu.store.put(ZONES, zone["id"], zone)
    return zone


def create_shipping_method(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a ShippingMethodDraft and store the ShippingMethod."""
    tax = req_object(draft, "taxCategory")
    method = _resource(emu, draft) | {
        "name": req_str(draft, "name"),
        "taxCategory": {"typeId": "tax-category", "id": req_str(tax, "id", "taxCategory")},
        "zoneRates": [],
        "isDefault": bool(opt_bool(draft, "isDefault")),
        "active": opt_bool(draft, "active") is not False,
    }
    localized = draft.get("localizedName")
    if localized is not None:
        method["localizedName"] = as_object(localized, "localizedName")
    for i, value in enumerate(req_list(draft, "zoneRates")):
        where = path_of("zoneRates", str(i))
        zone_rate = as_object(value, where)
        zone_id = req_str(req_object(zone_rate, "zone", where), "id", path_of(where, "zone"))
        if emu.store.get(ZONES, zone_id) is None:
            raise referenced_not_found("zone", zone_id)
        rates = []
        for j, rate_value in enumerate(req_list(zone_rate, "shippingRates", where)):
            rate_where = path_of(where, "shippingRates", str(j))
            rate = as_object(rate_value, rate_where)
            entry: JsonObject = {"price": parse_money(rate.get("price"), path_of(rate_where, "price")), "tiers": []}
            if rate.get("freeAbove") is not None:
                entry["freeAbove"] = parse_money(rate["freeAbove"], path_of(rate_where, "freeAbove"))
            rates.append(entry)
        method["zoneRates"].append({"zone": {"typeId": "zone", "id": zone_id}, "shippingRates": rates})
    emu.store.put(SHIPPING_METHODS, method["id"], method)
    return method


def _in_zone(zone: JsonObject | None, address: JsonObject) -> bool:
    return zone is not None and any(
        loc["country"] == address.get("country") and loc.get("state") in (None, address.get("state"))
        for loc in zone["locations"])


def _matching(emu: Emulator, cart: JsonObject, method: JsonObject) -> JsonObject | None:
    """``method`` reduced to its zone rate and rate for ``cart`` (``isMatching``), or None."""
    address = cart.get("shippingAddress") or {}
    currency = cart["totalPrice"]["currencyCode"]
    if not method.get("active", True):
        return None
    for zone_rate in method["zoneRates"]:
        if not _in_zone(emu.store.get(ZONES, zone_rate["zone"]["id"]), address):
            continue
        for rate in zone_rate["shippingRates"]:
            if rate["price"]["currencyCode"] == currency:
                return method | {"zoneRates": [{"zone": zone_rate["zone"],
                                                "shippingRates": [rate | {"isMatching": True}]}]}
    return None


def _require_address(cart: JsonObject) -> None:
    if not (cart.get("shippingAddress") or {}).get("country"):
        raise invalid_operation(f"The cart with ID '{cart['id']}' does not have a shipping address set.")


def matching_cart(emu: Emulator, cart_id: str) -> JsonObject:
    """``GET /shipping-methods/matching-cart?cartId=``: a paged query answer."""
    cart = emu.store.get(CARTS, cart_id)
    if cart is None:
        raise not_found(cart_id)
    _require_address(cart)
    results = [m for m in (_matching(emu, cart, m) for m in emu.store.all(SHIPPING_METHODS)) if m is not None]
    return {"limit": 20, "offset": 0, "count": len(results), "total": len(results), "results": results}


def _lines_total(cart: JsonObject) -> int:
    return sum(int(x["totalPrice"]["centAmount"]) for x in cart["lineItems"] + cart["customLineItems"])


def shipping_info(emu: Emulator, cart: JsonObject, method_id: str) -> JsonObject:
    """The ``shippingInfo`` the cart gets with method ``method_id`` (400 when it does not match the cart)."""
    method = emu.store.get(SHIPPING_METHODS, method_id)
    if method is None:
        raise referenced_not_found("shipping-method", method_id)
    _require_address(cart)
    matched = _matching(emu, cart, method)
    if matched is None:
        raise CtError(400, "ShippingMethodDoesNotMatchCart", f"The shipping method with ID '{method_id}' is not "
                      f"allowed for the cart with ID '{cart['id']}'.")
    rate = matched["zoneRates"][0]["shippingRates"][0]
    price = dict(rate["price"])
    free = rate.get("freeAbove")
    if free is not None and _lines_total(cart) >= free["centAmount"]:
        price["centAmount"] = 0
    return {"shippingMethodName": method["name"], "price": price, "shippingRate": rate,
            "taxCategory": method["taxCategory"], "shippingMethod": {"typeId": "shipping-method", "id": method_id},
            "shippingMethodState": "MatchesCart"}


def set_shipping_address(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    """``setShippingAddress``: set (``country`` required) or, without ``address``, unset; a shipping method no
    longer matching the new address is kept, marked ``DoesNotMatchCart`` (as commercetools does)."""
    value = action.get("address")
    if value is None:
        cart.pop("shippingAddress", None)
    else:
        address = as_object(value, "address")
        country = req_str(address, "country", "address")
        if len(country) != 2 or not country.isupper():
            raise invalid_field("country", country)
        cart["shippingAddress"] = dict(address)
    info = cart.get("shippingInfo")
    if info is not None:
        method = emu.store.get(SHIPPING_METHODS, info["shippingMethod"]["id"])
        matches = method is not None and "shippingAddress" in cart and _matching(emu, cart, method) is not None
        info["shippingMethodState"] = "MatchesCart" if matches else "DoesNotMatchCart"


def set_shipping_method(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    """``setShippingMethod``: with a ``shippingMethod`` (by id), its ``shippingInfo``; without one, none."""
    ref: Any = action.get("shippingMethod")
    if ref is None:
        cart.pop("shippingInfo", None)
        cart.pop("shippingMode", None)
        return
    method_id = req_str(as_object(ref, "shippingMethod"), "id", "shippingMethod")
    cart["shippingInfo"] = shipping_info(emu, cart, method_id)
    cart["shippingMode"] = "Single"


async def post_zone(request: web.Request) -> web.Response:
    """``POST /{projectKey}/zones``."""
    return web.json_response(create_zone(emulator_of(request), await read_json(request)), status=201)


async def post_shipping_method(request: web.Request) -> web.Response:
    """``POST /{projectKey}/shipping-methods``."""
    return web.json_response(create_shipping_method(emulator_of(request), await read_json(request)), status=201)


async def get_matching_cart(request: web.Request) -> web.Response:
    """``GET /{projectKey}/shipping-methods/matching-cart?cartId=``."""
    cart_id = request.query.get("cartId")
    if not cart_id:
        raise CtError(400, "InvalidInput", "Missing required query parameter 'cartId'.")
    return web.json_response(matching_cart(emulator_of(request), cart_id))


async def get_shipping_method(request: web.Request) -> web.Response:
    """``GET /{projectKey}/shipping-methods/{id}``."""
    method_id = request.match_info["id"]
    method = emulator_of(request).store.get(SHIPPING_METHODS, method_id)
    if method is None:
        raise not_found(method_id)
    return web.json_response(method)


ROUTES = [
    Route("POST", "/{projectKey}/zones", post_zone, _WRITE),
    Route("POST", "/{projectKey}/shipping-methods", post_shipping_method, _WRITE),
    Route("GET", "/{projectKey}/shipping-methods/matching-cart", get_matching_cart, _READ),
    Route("GET", "/{projectKey}/shipping-methods/{id}", get_shipping_method, _READ),
]
