"""The Stripe enabler in the demo page, with the Stripe plugin on localstripe.

js.stripe.com cannot be reached from here, so the page gets a stand-in ``window.Stripe`` before it loads
(the enabler then does not fetch Stripe.js). The stand-in's ``confirmPayment`` does what Stripe's servers
do when Stripe.js confirms: through the second origin, it attaches a test card to the PaymentIntent and
confirms it on localstripe. Everything else is real: the plugin's routes, the PaymentIntent, the
``confirmPayments`` check against Stripe, and what commercetools records.
"""

from __future__ import annotations

import pytest
from browser_live import Live, open_demo, transaction_row, transactions
from playwright.sync_api import Page, expect

FAKE_STRIPE = """
window.__stripe = { calls: [] };
window.Stripe = function (publishableKey) {
  const calls = window.__stripe.calls;
  calls.push(["Stripe", publishableKey]);
  return {
    elements(options) {
      calls.push(["elements", options]);
      return {
        create(type, options) {
          calls.push(["create", type]);
          return {
            mount(selector) {
              document.querySelector(selector).innerHTML =
                '<div class="stripe-double">Stripe Payment Element (test double)</div>';
            },
            on() {},
            destroy() { document.querySelectorAll(".stripe-double").forEach((e) => e.remove()); },
          };
        },
        async submit() { calls.push(["submit"]); return {}; },
      };
    },
    async confirmPayment({ clientSecret, redirect, confirmParams }) {
      calls.push(["confirmPayment", redirect, confirmParams.return_url]);
      const response = await fetch("%(shim)s", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ paymentIntent: clientSecret.split("_secret_")[0], paymentMethod: "%(card)s" }) });
      const pi = await response.json();
      if (!response.ok || pi.status === "requires_payment_method") {
        return { error: { type: "card_error", message: "Your card was declined." } };
      }
      return { paymentIntent: { id: pi.id, status: pi.status } };
    },
  };
};
window.Stripe.version = "clover";
"""


def pay_with_stripe(page: Page, live: Live, card: str) -> str:
    page.add_init_script(FAKE_STRIPE % {"shim": f"{live.other}/stripe/confirm", "card": card})
    cart = open_demo(page, live)
    page.get_by_role("radio", name="Card (Stripe Payment Element)").check()
    expect(page.locator("#component")).to_have_text("Stripe Payment Element (test double)")
    expect(page.get_by_role("button", name="Pay", exact=True)).to_be_enabled()
    page.get_by_role("button", name="Pay", exact=True).click()
    return cart


def test_stripe_payment_element_authorizes_and_the_merchant_captures(page: Page, live: Live) -> None:
    cart = pay_with_stripe(page, live, "pm_card_visa")
    expect(page.locator("#outcome-title")).to_have_text("Thank you for your order")
    # the Payment names what the shopper paid with (Stripe's payment method type), not the component
    expect(transaction_row(page, "card", "Authorization Success 59.50 EUR")).to_be_visible()
    [payment] = live.payments_of(cart)
    assert payment["paymentMethodInfo"] == {"paymentInterface": "stripe-eu", "method": "card"}
    assert payment["interfaceId"].startswith("pi_")
    assert transactions(payment) == [("Authorization", "Success", 5950)]
    calls = page.evaluate("window.__stripe.calls")
    assert calls[0] == ["Stripe", "pk_test_browserPUBLIC"]
    assert calls[1] == ["elements", {"mode": "payment", "amount": 5950, "currency": "eur", "captureMethod": "manual",
                                     "appearance": {}, "paymentMethodTypes": ["card"]}]
    assert [c[0] for c in calls[2:]] == ["create", "submit", "confirmPayment"]
    assert calls[4][1] == "if_required" and f"paymentReference={payment['id']}" in calls[4][2]

    page.locator(".payment[data-method='card']").get_by_role("button", name="Capture 59.50 EUR").click()
    expect(page.locator("#merchant-result")).to_have_text("capturePayment: approved")
    expect(transaction_row(page, "card", "Charge Success 59.50 EUR")).to_be_visible()


@pytest.mark.parametrize("card", ["pm_card_chargeCustomerFail"])
def test_stripe_decline_is_not_a_success(page: Page, live: Live, card: str) -> None:
    cart = pay_with_stripe(page, live, card)
    expect(page.locator("#outcome-title")).to_have_text("Payment failed")
    expect(page.locator("#outcome-text")).to_have_text("The payment was declined.")
    [payment] = live.payments_of(cart)
    # nothing confirmed it: the Authorization waits for Stripe's payment_failed webhook
    assert transactions(payment) == [("Authorization", "Initial", 5950)]
