"""The demo checkout page, served only with the embedded commercetools stand-in (``/demo/``).

The page stands in for commercetools Checkout: it loads each instance's enabler from ``/enablers/``,
applies a gift card first and pays the rest with a card, as Checkout does (two sessions on one cart),
then shows the Payments and their transactions, with capture / refund / cancel buttons for the merchant.

Its server side does only what Checkout or a merchant's back end would do, over HTTP:

* ``POST /demo/api/checkout``: a cart and one session per enabled instance, created in the stand-in
  (its ``/_emulator/`` set-up hooks), and ``/operations/payment-components`` asked with a Merchant
  Center JWT. The page never holds a credential.
* ``GET /demo/api/carts/{id}``: the cart and its Payments, as commercetools records them (reads only).
* ``POST /demo/api/payment-intents/{paymentId}``: the host's own ``/operations/payment-intents``,
  called with a token of the stand-in's Checkout client. Capture, refund, cancel, and the gift card's
  rollback when the card after it fails, all go through the host's standard endpoint.

Nothing here exists in a deployment with a real commercetools project (``create_app`` mounts it only
when ``commercetools.embedded`` is true).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from aiohttp import web

from host.errors import ApiError, InvalidFieldError
from host.handlers.common import Body, read_model
from host.handlers.enablers import urls
from host.keys import CT, DEMO_BASE_URL, DEPLOYMENT, EMULATOR_URL, HTTP, ROUTER

_STATIC = files(__package__)
_PAGES = {"": ("index.html", "text/html"), "checkout.js": ("checkout.js", "text/javascript"),
          "demo.css": ("demo.css", "text/css")}
#: The demo cart: 2 x 12.50 + 34.50 = 59.50 EUR.
CART = {"currency": "EUR", "lineItems": [
    {"name": "Ceramic espresso cup", "sku": "CUP-ESP", "price": {"centAmount": 1250}, "quantity": 2},
    {"name": "Single-origin coffee beans, 1 kg", "sku": "BEANS-1KG", "price": {"centAmount": 3450}, "quantity": 1},
]}
ACTIONS = ("capturePayment", "refundPayment", "cancelPayment", "reversePayment")


async def _call(app: web.Application, method: str, url: str, *, body: Any = None,
                token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with app[HTTP].request(method, url, json=body, headers=headers) as resp:
        data = await resp.json(content_type=None)
        if resp.status >= 400:
            message = data.get("message") if isinstance(data, dict) else None
            raise ApiError(message or f"{method} {url} answered {resp.status}", code="DemoUpstream",
                           status=resp.status if resp.status < 500 else 502)
        return data


async def _checkout_token(app: web.Application) -> str:
    pk = app[DEPLOYMENT].config.commercetools.projectKey
    data = await _call(app, "POST", f"{app[EMULATOR_URL]}/_emulator/tokens",
                       body={"client_id": "checkout", "scopes": [f"manage_checkout_payment_intents:{pk}"]})
    return str(data["access_token"])


async def page(request: web.Request) -> web.Response:
    name, ctype = _PAGES[request.match_info.get("name", "")]
    return web.Response(body=(_STATIC / name).read_bytes(), content_type=ctype, charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo/")


async def checkout(request: web.Request) -> web.Response:
    """A new cart, a session per enabled instance, and what payment-components says about each."""
    app = request.app
    base, emulator = app[DEMO_BASE_URL], app[EMULATOR_URL]
    cart = await _call(app, "POST", f"{emulator}/_emulator/carts", body=CART)
    jwt = (await _call(app, "POST", f"{emulator}/jwt/token", body={"sub": "demo-merchant"}))["token"]
    integrations = []
    for bound in app[ROUTER].enabled:
        session = await _call(app, "POST", f"{emulator}/_emulator/sessions", body={"cartId": cart["id"], "metadata": {
            "processorUrl": base, "paymentInterface": bound.payment_interface,
            "merchantReturnUrl": f"{base}/demo/"}})
        components = await _call(app, "GET", f"{base}/operations/payment-components?paymentInterface="
                                 f"{bound.payment_interface}", token=jwt)
        enabler = urls(app, bound)
        integrations.append({"instance": bound.id, "paymentInterface": bound.payment_interface,
                             "kind": bound.provider.kind, "sessionId": session["id"],
                             "enabler": enabler["url"] if enabler else None,
                             "components": [c["type"] for c in components.get("components", [])],
                             "dropins": [d["type"] for d in components.get("dropins", [])]})
    return web.json_response({"processorUrl": base, "cart": await _summary(app, cart["id"]),
                              "integrations": integrations})


def _money(money: dict[str, Any]) -> dict[str, Any]:
    return {k: money[k] for k in ("centAmount", "currencyCode", "fractionDigits") if k in money}


async def _summary(app: web.Application, cart_id: str) -> dict[str, Any]:
    ct = app[CT]
    cart = (await ct.get_cart(cart_id)).raw
    payments = []
    for ref in (cart.get("paymentInfo") or {}).get("payments") or []:
        payment = (await ct.get_payment(ref["id"])).raw
        info = payment.get("paymentMethodInfo") or {}
        payments.append({
            "id": payment["id"], "paymentInterface": info.get("paymentInterface"), "method": info.get("method"),
            "amountPlanned": _money(payment["amountPlanned"]), "interfaceId": payment.get("interfaceId"),
            "transactions": [{"type": t["type"], "state": t["state"], "amount": _money(t["amount"]),
                              "interactionId": t.get("interactionId")} for t in payment.get("transactions", [])]})
    total = (cart.get("taxedPrice") or {}).get("totalGross") or cart["totalPrice"]
    lines = [{"name": (line.get("name") or {}).get("en", "Item"), "quantity": line["quantity"],
              "total": _money(line["totalPrice"])} for line in cart.get("lineItems", [])]
    return {"id": cart["id"], "total": _money(total), "lineItems": lines, "payments": payments}


async def cart(request: web.Request) -> web.Response:
    return web.json_response(await _summary(request.app, request.match_info["cartId"]))


class DemoAmount(Body):
    centAmount: int
    currencyCode: str


class DemoIntent(Body):
    action: str
    amount: DemoAmount | None = None


async def payment_intent(request: web.Request) -> web.Response:
    """What Checkout's Payment Intents API does: the host's standard endpoint, with Checkout's token."""
    app = request.app
    body = await read_model(request, DemoIntent)
    if body.action not in ACTIONS:
        raise InvalidFieldError("action", f"The value {body.action} is not valid for field action.",
                                invalidValue=body.action, allowedValues=list(ACTIONS))
    action: dict[str, Any] = {"action": body.action}
    if body.amount is not None:
        action["amount"] = body.amount.model_dump()
    url = f"{app[DEMO_BASE_URL]}/operations/payment-intents/{request.match_info['paymentId']}"
    token = await _checkout_token(app)
    async with app[HTTP].post(url, json={"actions": [action]}, headers={"Authorization": f"Bearer {token}"}) as resp:
        data = await resp.json(content_type=None)
        return web.json_response(data, status=resp.status)


def setup(app: web.Application, base_url: str) -> None:
    """Mount the demo; ``create_app`` calls this only with the embedded commercetools stand-in."""
    app[DEMO_BASE_URL] = base_url.rstrip("/")
    app.router.add_get("/demo", to_page)
    app.router.add_get("/demo/", page)
    app.router.add_get("/demo/{name:checkout\\.js|demo\\.css}", page)
    app.router.add_post("/demo/api/checkout", checkout)
    app.router.add_get("/demo/api/carts/{cartId}", cart)
    app.router.add_post("/demo/api/payment-intents/{paymentId}", payment_intent)

