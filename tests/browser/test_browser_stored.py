"""The sandbox enabler's stored cards in the browser, against the real host: a card stored with
``storePaymentDetails``, listed by a later checkout of the same customer, paid with its security code (737,
as the template's stored card), and removed with ``remove()``."""

from __future__ import annotations

import re
from typing import Any

from browser_live import Live, transactions
from playwright.sync_api import Page, expect
from test_browser_enablers import MOUNT_CARD, events, fill_card, open_harness

MOUNT_STORED = """async ([url, processorUrl, sessionId, selector]) => {
  const enabler = await harness.enabler(url, { processorUrl, sessionId });
  const { storedPaymentMethods } = await enabler.getStoredPaymentMethods({ allowedMethodTypes: ["card"] });
  const builder = await enabler.createStoredPaymentMethodBuilder("card");
  const component = builder.build({ id: storedPaymentMethods[0].id, showPayButton: true });
  component.mount(selector);
  window.stored = component;
  return storedPaymentMethods;
}"""


def store_a_card(page: Page, live: Live, customer: str) -> dict[str, Any]:
    """A checkout of ``customer`` whose shopper pays by card and ticks "store it"; the stored method."""
    cart = live.cart(1000, customer)
    open_harness(page, live)
    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, live.session(cart, "mock"), "#one"])
    page.evaluate("window.components['#one'].enabler.setStorePaymentDetails(true)")
    fill_card(page, "#one", "5555 5555 5555 4444")
    page.locator("#one").get_by_role("button", name="Pay").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: "))
    [method] = live.payment_methods_of(customer)
    return method


def test_a_stored_card_is_listed_without_its_token_and_pays_with_its_security_code(page: Page, live: Live) -> None:
    method = store_a_card(page, live, "browser-cust-1")
    assert method["token"]["value"].startswith("sandbox-tok-")

    cart = live.cart(2200, "browser-cust-1")
    open_harness(page, live)
    listed = page.evaluate(MOUNT_STORED, [live.enabler("sandbox"), live.url, live.session(cart, "mock"), "#two"])
    assert listed == [{"id": method["id"], "type": "card", "isDefault": False, "createdAt": method["createdAt"],
                       "displayOptions": {"endDigits": "4444", "brand": {"key": "mastercard"}, "expiryMonth": 1,
                                          "expiryYear": 2038}}]
    expect(page.locator("#two")).to_contain_text("mastercard •••• 4444")
    page.locator("#two").get_by_label("Security code").fill("123")          # not the stored card's code
    page.locator("#two").get_by_role("button", name="Pay").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^Declined: "))
    page.locator("#two").get_by_label("Security code").fill("737")
    page.locator("#two").get_by_role("button", name="Pay").click()
    page.wait_for_function("window.__events.length === 2")
    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: "))
    declined, paid = live.payments_of(cart)
    assert transactions(declined) == [("Authorization", "Failure", 2200)]
    assert transactions(paid) == [("Authorization", "Success", 2200)]
    assert [e["isSuccess"] for e in events(page)] == [False, True]


def test_remove_deletes_the_stored_card(page: Page, live: Live) -> None:
    method = store_a_card(page, live, "browser-cust-2")
    cart = live.cart(900, "browser-cust-2")
    open_harness(page, live)
    page.evaluate(MOUNT_STORED, [live.enabler("sandbox"), live.url, live.session(cart, "mock"), "#two"])
    live.access.lines.clear()
    assert page.evaluate("window.stored.remove()") is True
    assert f"DELETE /stored-payment-methods/{method['id']} 200" in live.access.lines
    assert live.payment_methods_of("browser-cust-2") == []
    expect(page.locator("#two input")).to_have_count(0)
    assert live.payments_of(cart) == []
