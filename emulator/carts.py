"""Carts: create, read, and the ``addPayment``/``removePayment``/``setShippingAddress``/``setShippingMethod``
update actions (shipping: ``emulator.shipping``).

Totals follow commercetools: ``totalPrice`` is the sum of the line totals in the cart currency
with ISO fraction digits, plus the shipping price once a shipping method is set. With the
emulator-specific draft field ``taxRate`` (0.19 = 19 %) the cart also gets ``taxedPrice``: tax is
computed per line, rounded half-even, on net prices (or taken out of gross prices when
``taxIncludedInPrice`` is true); shipping is taxed at the same rate (``shippingInfo.taxedPrice``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import shipping
from .clock import new_id
from .errors import (
    invalid_field,
    not_found,
    referenced_not_found,
)
from .fields import (
    JsonObject,
    as_object,
    opt_bool,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    path_of,
    read_json,
    req_int,
    req_object,
    req_str,
)
from .money import add_tax, cent_money, check_currency, net_of_gross
from .routing import Route, emulator_of
from .store import CARTS, PAYMENTS
from .updates import versioned_update

if TYPE_CHECKING:
    from .core import Emulator

_READ = ("manage_orders", "view_orders")
_WRITE = ("manage_orders",)


def _unit_cents(item: JsonObject, money_key: str, currency: str, path: str) -> int:
    """Unit price of a line draft: flat ``centAmount`` or ``{money_key: {centAmount}}``."""
    if "centAmount" in item:
        cents = req_int(item, "centAmount", path)
    else:
        money = req_object(item, money_key, path)
        money = opt_object(money, "value", path_of(path, money_key)) or money
        where = path_of(path, money_key)
        code = opt_str(money, "currencyCode", where)
        if code is not None and code != currency:
            raise invalid_field("currencyCode", code, f"The line currency must be {currency}.")
        cents = req_int(money, "centAmount", where)
    if cents < 0:
        raise invalid_field("centAmount", cents)
    return cents


def _line(item_value: Any, path: str, currency: str, money_key: str) -> JsonObject:
    item = as_object(item_value, path)
    name: Any = item.get("name") or "Item"
    if not isinstance(name, str | dict):
        raise invalid_field("name", name)
    quantity = opt_int(item, "quantity", path)
    quantity = 1 if quantity is None else quantity
    if quantity < 1:
        raise invalid_field("quantity", quantity)
    unit = _unit_cents(item, money_key, currency, path)
    line: JsonObject = {
        "id": new_id(),
        "name": {"en": name} if isinstance(name, str) else name,
        "quantity": quantity,
        "totalPrice": cent_money(currency, unit * quantity),
    }
    if money_key == "price":
        line["productId"] = opt_str(item, "productId", path) or new_id()
        line["variant"] = {"id": 1, **({"sku": item["sku"]} if "sku" in item else {})}
        line["price"] = {"id": new_id(), "value": cent_money(currency, unit)}
        line["lineItemMode"] = "Standard"
        line["priceMode"] = "Platform"
    else:
        line["money"] = cent_money(currency, unit)
        line["slug"] = opt_str(item, "slug", path) or line["id"]
    return line


def _apply_tax(cart: JsonObject, rate: float, included: bool) -> None:
    currency = cart["totalPrice"]["currencyCode"]
    net_sum = gross_sum = 0
    info: JsonObject | None = cart.get("shippingInfo")
    taxable: list[tuple[JsonObject, JsonObject]] = [(x, x["totalPrice"]) for x in cart["lineItems"]
                                                    + cart["customLineItems"]]
    if info is not None:
        taxable.append((info, info["price"]))
    for line, money in taxable:
        total = money["centAmount"]
        if included:
            net, gross = net_of_gross(total, rate), total
        else:
            net, gross = total, total + add_tax(total, rate)
        line["taxRate"] = {"name": "Standard", "amount": rate, "includedInPrice": included}
        line["taxedPrice"] = _taxed(currency, net, gross)
        net_sum, gross_sum = net_sum + net, gross_sum + gross
    cart["taxedPrice"] = _taxed(currency, net_sum, gross_sum)
    cart["taxedPrice"]["taxPortions"] = [
        {"rate": rate, "amount": cent_money(currency, gross_sum - net_sum), "name": "Standard"}
    ]


def _taxed(currency: str, net: int, gross: int) -> JsonObject:
    return {
        "totalNet": cent_money(currency, net),
        "totalGross": cent_money(currency, gross),
        "totalTax": cent_money(currency, gross - net),
    }


def create_cart(emu: Emulator, draft: JsonObject) -> JsonObject:
    """Validate a CartDraft, store the cart and return it."""
    currency = check_currency(req_str(draft, "currency"), "currency")
    rate = opt_number(draft, "taxRate")
    if rate is not None and not 0 <= rate <= 1:
        raise invalid_field("taxRate", rate)
    lines = [
        _line(item, path_of("lineItems", str(i)), currency, "price")
        for i, item in enumerate(opt_list(draft, "lineItems") or [])
    ]
    custom = [
        _line(item, path_of("customLineItems", str(i)), currency, "money")
        for i, item in enumerate(opt_list(draft, "customLineItems") or [])
    ]
    now = emu.timestamp()
    cart: JsonObject = {"id": new_id(), "version": 1, "createdAt": now, "lastModifiedAt": now}
    for key in ("customerId", "anonymousId", "customerEmail", "country", "key"):
        value = opt_str(draft, key)
        if value is not None:
            cart[key] = value
    cart |= {
        "cartState": "Active",
        "lineItems": lines,
        "customLineItems": custom,
        "totalPrice": cent_money(currency, sum(x["totalPrice"]["centAmount"] for x in lines + custom)),
        "taxMode": "Platform" if rate is not None else "Disabled",
        "origin": "Customer",
    }
    if rate is not None:
        _apply_tax(cart, rate, opt_bool(draft, "taxIncludedInPrice") or False)
    emu.store.put(CARTS, cart["id"], cart)
    return cart


def _payment_ref(emu: Emulator, action: JsonObject) -> str:
    ref = req_object(action, "payment", "actions")
    payment_id = req_str(ref, "id", "actions -> payment")
    if emu.store.get(PAYMENTS, payment_id) is None:
        raise referenced_not_found("payment", payment_id)
    return payment_id


def _add_payment(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    payment_id = _payment_ref(emu, action)
    payments = cart.setdefault("paymentInfo", {"payments": []})["payments"]
    if all(p["id"] != payment_id for p in payments):
        payments.append({"typeId": "payment", "id": payment_id})


def _remove_payment(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    payment_id = _payment_ref(emu, action)
    info = cart.get("paymentInfo", {"payments": []})
    info["payments"] = [p for p in info["payments"] if p["id"] != payment_id]
    if not info["payments"]:
        cart.pop("paymentInfo", None)


def _retotal(cart: JsonObject) -> None:
    """``totalPrice`` (lines + shipping) and, for a taxed cart, ``taxedPrice`` again after a change."""
    currency = cart["totalPrice"]["currencyCode"]
    lines = sum(x["totalPrice"]["centAmount"] for x in cart["lineItems"] + cart["customLineItems"])
    shipping = cart.get("shippingInfo")
    cart["totalPrice"] = cent_money(currency, lines + (shipping["price"]["centAmount"] if shipping else 0))
    rated = next((x["taxRate"] for x in cart["lineItems"] + cart["customLineItems"] if "taxRate" in x), None)
    if rated is not None:
        _apply_tax(cart, rated["amount"], rated["includedInPrice"])


def _set_shipping_address(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    shipping.set_shipping_address(emu, cart, action)
    _retotal(cart)


def _set_shipping_method(emu: Emulator, cart: JsonObject, action: JsonObject) -> None:
    shipping.set_shipping_method(emu, cart, action)
    _retotal(cart)


_ACTIONS = {"addPayment": _add_payment, "removePayment": _remove_payment,
            "setShippingAddress": _set_shipping_address, "setShippingMethod": _set_shipping_method}


def update_cart(emu: Emulator, cart_id: str, body: JsonObject) -> JsonObject:
    """Apply ``{"version", "actions"}`` to a cart: all actions or none, version + 1."""
    return versioned_update(emu, CARTS, cart_id, body, _ACTIONS, "carts")


async def post_cart(request: web.Request) -> web.Response:
    """``POST /{projectKey}/carts``."""
    cart = create_cart(emulator_of(request), await read_json(request))
    return web.json_response(cart, status=201)


async def get_cart(request: web.Request) -> web.Response:
    """``GET /{projectKey}/carts/{id}``."""
    cart_id = request.match_info["id"]
    cart = emulator_of(request).store.get(CARTS, cart_id)
    if cart is None:
        raise not_found(cart_id)
    return web.json_response(cart)


async def post_cart_update(request: web.Request) -> web.Response:
    """``POST /{projectKey}/carts/{id}``."""
    body = await read_json(request)
    return web.json_response(update_cart(emulator_of(request), request.match_info["id"], body))


ROUTES = [
    Route("POST", "/{projectKey}/carts", post_cart, _WRITE),
    Route("GET", "/{projectKey}/carts/{id}", get_cart, _READ),
    Route("POST", "/{projectKey}/carts/{id}", post_cart_update, _WRITE),
]
