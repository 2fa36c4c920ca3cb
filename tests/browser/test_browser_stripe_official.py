"""An enabler shaped like the OFFICIAL Stripe one pays through the host (issue 17, item 5).

The script below makes the official enabler's calls in its order (STRIPE.md §1.2, ENABLERS.md §3), from a page
on another origin, with the lower-case ``x-session-id`` header it sends: ``GET /config-element/{type}`` and
``GET /operations/config`` in parallel, ``Stripe(publishableKey)``, ``elements({mode, amount, currency,
appearance})``, then on submit ``elements.submit()``, **``GET /payments``**, ``stripe.confirmPayment({clientSecret,
redirect: "if_required", confirmParams: {return_url}})`` and ``POST /confirmPayments/{paymentReference}``.
``window.Stripe`` is the stand-in of ``test_browser_stripe.py``: its ``confirmPayment`` confirms the
PaymentIntent on localstripe, as Stripe's servers would.
"""

from __future__ import annotations

import time
from typing import Any

from browser_live import PROJECT, Live, transactions
from playwright.sync_api import Page, expect
from test_browser_stripe import FAKE_STRIPE

#: The processor calls as the official enabler makes them: lower-case x-session-id, a throw on a non-2xx.
PROCESSOR = """
window.processor = (processorUrl, sessionId) => {
  const headers = { "Content-Type": "application/json", "x-session-id": sessionId };
  return async (method, path, body) => {
    const response = await fetch(`${processorUrl}/${path}`, { method, headers,
                                                             body: body && JSON.stringify(body) });
    if (!response.ok) throw new Error(`${method} /${path}: ${response.status}`);
    return response.json();
  };
};
"""

OFFICIAL_SHAPED = """
window.officialShaped = async function (processorUrl, sessionId, paymentElementType) {
  const call = window.processor(processorUrl, sessionId);
  const [element, config] = await Promise.all([call("GET", `config-element/${paymentElementType}`),
                                               call("GET", "operations/config")]);
  const stripe = Stripe(config.publishableKey);
  const layout = JSON.parse(element.layout);
  const elements = stripe.elements({ mode: element.paymentMode, amount: element.cartInfo.amount,
    currency: element.cartInfo.currency.toLowerCase(), captureMethod: element.captureMethod,
    appearance: element.appearance ? JSON.parse(element.appearance) : {} });
  const paymentElement = elements.create("payment", { layout });
  paymentElement.mount("#one");
  return {
    async submit() {
      try {
        await elements.submit();
        const created = await call("GET", "payments");
        const returnUrl = new URL(created.merchantReturnUrl);
        returnUrl.searchParams.set("cartId", created.cartId);
        returnUrl.searchParams.set("paymentReference", created.paymentReference);
        const { error, paymentIntent } = await stripe.confirmPayment({ clientSecret: created.clientSecret, elements,
          redirect: "if_required", confirmParams: { return_url: returnUrl.toString() } });
        if (error) throw error;
        await call("POST", `confirmPayments/${created.paymentReference}`, { paymentIntent: paymentIntent.id });
        window.__events.push({ type: "complete", isSuccess: true, paymentReference: created.paymentReference,
                               paymentIntent: paymentIntent.id });
      } catch (error) {
        window.__events.push({ type: "error", message: String(error.message || error) });
      }
    },
  };
};
"""


def _session(live: Live, cart: str) -> str:
    metadata = {"processorUrl": live.url, "paymentInterface": "stripe-eu",
                "merchantReturnUrl": f"{live.other}/thank-you"}
    return str(live.call("POST", f"{live.emulator}/_emulator/sessions", {"cartId": cart, "metadata": metadata})["id"])


def _pay(page: Page, live: Live, element_type: str) -> tuple[str, dict[str, Any]]:
    page.add_init_script(FAKE_STRIPE % {"shim": f"{live.other}/stripe/confirm", "card": "pm_card_visa"})
    page.add_init_script(PROCESSOR + OFFICIAL_SHAPED)
    cart = live.cart(4990)
    session = _session(live, cart)
    page.goto(f"{live.other}/harness.html")
    page.evaluate("([url, session, type]) => window.officialShaped(url, session, type)"
                  ".then((dropin) => { window.dropin = dropin; })", [live.url, session, element_type])
    expect(page.locator("#one")).to_have_text("Stripe Payment Element (test double)")
    page.evaluate("window.dropin.submit()")
    page.wait_for_function("window.__events.length > 0")
    [event] = page.evaluate("window.__events")
    return cart, event


def test_an_official_shaped_enabler_pays_with_get_payments_and_confirm_payments(page: Page, live: Live) -> None:
    started = time.monotonic()
    lines = len(live.access.lines)
    cart, event = _pay(page, live, "payment")
    assert event["type"] == "complete", event
    [payment] = live.payments_of(cart)
    assert event["paymentReference"] == payment["id"] and event["paymentIntent"] == payment["interfaceId"]
    # what the official connector writes: the amount from the cart, Authorization Success under the PI id
    assert payment["amountPlanned"]["centAmount"] == 4990
    assert transactions(payment) == [("Authorization", "Success", 4990)]
    assert payment["transactions"][0]["interactionId"] == payment["interfaceId"]
    assert payment["paymentMethodInfo"]["paymentInterface"] == "stripe-eu"
    calls = [line for line in live.access.lines[lines:] if not line.startswith("OPTIONS")]
    assert sorted(calls[:2]) == ["GET /config-element/payment 200", "GET /operations/config 200"]
    assert calls[2:] == ["GET /payments 200", f"POST /confirmPayments/{payment['id']} 200"]
    stripe_calls = page.evaluate("window.__stripe.calls")
    assert stripe_calls[1] == ["elements", {"mode": "payment", "amount": 4990, "currency": "eur",
                                            "captureMethod": "manual", "appearance": {}}]
    assert time.monotonic() - started < 20


def test_without_an_element_type_the_stock_enabler_still_gets_its_configuration(page: Page, live: Live) -> None:
    # the official enabler asks for /config-element/undefined when it was given no paymentElementType
    cart, event = _pay(page, live, "undefined")
    assert event["type"] == "complete", event
    assert transactions(live.payments_of(cart)[0]) == [("Authorization", "Success", 4990)]


OFFICIAL_EXPRESS = """
window.officialExpress = async function (processorUrl, sessionId) {
  const call = window.processor(processorUrl, sessionId);
  const total = (lineItems) => lineItems.reduce((sum, item) => sum + item.amount, 0);
  const stripe = Stripe((await call("GET", "operations/config")).publishableKey);
  // the wallet sheet: the shopper's address, then a rate (the enabler's shippingaddresschange / shippingratechange)
  const listed = await call("POST", "shipping-methods", { country: "DE", city: "Berlin", postalCode: "10115" });
  const chosen = await call("POST", "shipping-methods/update", { id: listed.shippingRates[1].id });
  // the element's confirm event
  const created = await call("GET", "payments");
  const { error, paymentIntent } = await stripe.confirmPayment({ clientSecret: created.clientSecret,
    redirect: "if_required", confirmParams: { return_url: created.merchantReturnUrl } });
  if (error) throw error;
  await call("POST", `confirmPayments/${created.paymentReference}`, { paymentIntent: paymentIntent.id });
  return { rates: listed.shippingRates, shown: total(chosen.lineItems), paymentReference: created.paymentReference };
};
"""


def _shipping_methods(live: Live, prices: dict[str, int]) -> dict[str, str]:
    """Shipping methods to Germany in the host's embedded commercetools (its API, with the host's client)."""
    token = live.call("POST", f"{live.emulator}/_emulator/tokens", {"client_id": "connector"})["access_token"]
    api = f"{live.emulator}/{PROJECT}"
    zone = live.call("POST", f"{api}/zones", {"name": "Germany", "locations": [{"country": "DE"}]}, token=token)
    return {name: str(live.call("POST", f"{api}/shipping-methods", {
        "name": name, "taxCategory": {"typeId": "tax-category", "id": "standard"},
        "zoneRates": [{"zone": {"typeId": "zone", "id": zone["id"]},
                       "shippingRates": [{"price": {"currencyCode": "EUR", "centAmount": cents}}]}]},
        token=token)["id"]) for name, cents in prices.items()}


def test_an_official_shaped_express_checkout_pays_the_total_with_the_chosen_shipping(page: Page, live: Live) -> None:
    methods = _shipping_methods(live, {"Standard": 490, "Express": 990})
    page.add_init_script(FAKE_STRIPE % {"shim": f"{live.other}/stripe/confirm", "card": "pm_card_visa"})
    page.add_init_script(PROCESSOR + OFFICIAL_EXPRESS)
    cart = live.cart(4990)
    page.goto(f"{live.other}/harness.html")
    result = page.evaluate("([url, session]) => window.officialExpress(url, session)",
                           [live.url, _session(live, cart)])
    assert [r["id"] for r in result["rates"]] == [methods["Standard"], methods["Express"]]
    assert result["shown"] == 4990 + 990
    [payment] = live.payments_of(cart)
    assert payment["id"] == result["paymentReference"]
    # the PaymentIntent, and so the authorization, is for the cart with the shipping the shopper chose
    assert transactions(payment) == [("Authorization", "Success", 5980)]
