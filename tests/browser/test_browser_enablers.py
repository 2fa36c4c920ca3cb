"""The sandbox enablers on a merchant page of another origin (``harness.html``), against the real host.

Every call from that page is cross-origin, so each one is preflighted; the enablers are loaded as ES
modules (and once as the UMD script) from the host.
"""

from __future__ import annotations

import re
from typing import Any

from browser_live import Live, transactions
from playwright.sync_api import Page, expect

MOUNT_CARD = """async ([url, processorUrl, sessionId, selector]) => {
  const enabler = await harness.enabler(url, { processorUrl, sessionId });
  const builder = await enabler.createComponentBuilder("card");
  const component = builder.build({ showPayButton: true });
  component.mount(selector);
  (window.components ||= {})[selector] = component;
  return builder.componentHasSubmit;
}"""


def open_harness(page: Page, live: Live) -> None:
    page.goto(f"{live.other}/harness.html")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def fill_card(page: Page, selector: str, number: str) -> None:
    form = page.locator(selector)
    form.get_by_label("Card number").fill(number)
    form.get_by_label("Expiry date").fill("01/38")
    form.get_by_label("Security code").fill("737")


def events(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__events"))


def test_card_payment_from_another_origin_is_preflighted_and_recorded(page: Page, live: Live) -> None:
    cart = live.cart(2500)
    session = live.session(cart, "mock")
    live.access.lines.clear()
    open_harness(page, live)
    assert page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, session, "#one"]) is True
    fill_card(page, "#one", "5555 5555 5555 4444")
    page.locator("#one").get_by_role("button", name="Pay").click()

    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: [0-9a-f-]{36}$"))
    [payment] = live.payments_of(cart)
    assert page.locator("#status").inner_text() == f"Paid: {payment['id']}"
    assert transactions(payment) == [("Authorization", "Success", 2500)]
    assert page.evaluate("window.components['#one'].getState()") == {
        "card": {"endDigits": "4444", "brand": "mastercard", "expiryDate": "01/38"}}
    # the browser asked before each cross-origin call, and the host said yes
    for path in ("/operations/config", "/payments"):
        assert f"OPTIONS {path} 204" in live.access.lines, path


def test_umd_script_sets_connector_enabler(page: Page, live: Live) -> None:
    open_harness(page, live)
    url = f"{live.url}/enablers/giftcards/connector-enabler.umd.js"
    assert page.evaluate("(url) => harness.script(url)", url) == "function"
    page.evaluate("""async () => {
      const enabler = new window.Connector.Enabler({ processorUrl: "http://127.0.0.1:9", sessionId: "s",
                                                    locale: "de" });
      (await enabler.createGiftCardBuilder()).build({}).mount("#one");
    }""")
    expect(page.locator("#one").get_by_label("Geschenkkartennummer")).to_be_visible()


def test_declined_card_is_not_a_success_and_is_recorded_as_a_failure(page: Page, live: Live) -> None:
    cart = live.cart(1200)
    open_harness(page, live)
    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, live.session(cart, "mock"), "#one"])
    fill_card(page, "#one", "4000 0000 0000 0002")
    page.locator("#one").get_by_role("button", name="Pay").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^Declined: "))
    [payment] = live.payments_of(cart)
    assert transactions(payment) == [("Authorization", "Failure", 1200)]
    assert events(page) == [{"type": "complete", "isSuccess": False, "paymentReference": payment["id"]}]


def test_processor_url_with_a_trailing_slash_works_for_card_and_gift_card(page: Page, live: Live) -> None:
    cart = live.cart(3000)
    slash = f"{live.url}/"
    live.access.lines.clear()
    open_harness(page, live)
    page.evaluate("""async ([url, processorUrl, sessionId]) => {
      const enabler = await harness.enabler(url, { processorUrl, sessionId });
      const gift = (await enabler.createGiftCardBuilder()).build({});
      gift.mount("#two");
      window.gift = gift;
    }""", [live.enabler("giftcards"), slash, live.session(cart, "mock-giftcard-provider", slash)])
    page.locator("#two").get_by_label("Gift card number").fill("GC-SLASH")
    assert page.evaluate("window.gift.balance()")["amount"] == {"centAmount": 1500, "currencyCode": "EUR"}
    page.evaluate("window.gift.submit({amount: {centAmount: 1500, currencyCode: 'EUR'}})")
    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: "))

    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), slash, live.session(cart, "mock", slash), "#one"])
    fill_card(page, "#one", "4111 1111 1111 1111")
    page.locator("#one").get_by_role("button", name="Pay").click()
    page.wait_for_function("window.__events.length === 2")
    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: "))
    assert [e["isSuccess"] for e in events(page)] == [True, True]
    recorded = {p["paymentMethodInfo"]["method"]: transactions(p) for p in live.payments_of(cart)}
    assert recorded == {"giftcard": [("Charge", "Success", 1500)], "card": [("Authorization", "Success", 1500)]}
    assert not any("//" in line.split(" ")[1] for line in live.access.lines)


def test_expired_session_reports_an_error_instead_of_a_form(page: Page, live: Live) -> None:
    cart = live.cart()
    session = live.session(cart, "mock")
    live.expire(session)
    open_harness(page, live)
    refused = page.evaluate("""async ([url, processorUrl, sessionId]) => {
      const enabler = await harness.enabler(url, { processorUrl, sessionId });
      try { await enabler.createComponentBuilder("card"); return null; } catch (e) { return e.message; }
    }""", [live.enabler("sandbox"), live.url, session])
    assert refused == "Session is not active"
    expect(page.locator("#status")).to_have_text("Error: Session is not active")
    assert events(page) == [{"type": "error", "message": "Session is not active", "status": 401}]
    assert live.payments_of(cart) == []


def test_a_401_from_the_processor_on_payment_is_an_error_not_a_success(page: Page, live: Live) -> None:
    cart = live.cart()
    session = live.session(cart, "mock")
    open_harness(page, live)
    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, session, "#one"])
    fill_card(page, "#one", "4111 1111 1111 1111")
    live.expire(session)                                   # the session ends while the shopper types
    page.locator("#one").get_by_role("button", name="Pay").click()
    expect(page.locator("#status")).to_have_text("Error: Session is not active")
    assert events(page) == [{"type": "error", "message": "Session is not active", "status": 401}]
    assert live.payments_of(cart) == []


def test_two_card_components_on_one_page_keep_their_own_fields(page: Page, live: Live) -> None:
    cart = live.cart(800)
    session = live.session(cart, "mock")
    open_harness(page, live)
    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, session, "#one"])
    page.evaluate(MOUNT_CARD, [live.enabler("sandbox"), live.url, session, "#two"])
    ids = page.evaluate("[...document.querySelectorAll('input')].map((i) => i.id)")
    assert len(ids) == 8 and len(set(ids)) == 8
    fill_card(page, "#two", "3419 259502 37632")
    page.locator("#one").get_by_role("button", name="Pay").click()        # the empty one: nothing is sent
    expect(page.locator("#one").get_by_text("Enter a valid card number.")).to_be_visible()
    expect(page.locator("#two").get_by_text("Enter a valid card number.")).to_be_hidden()
    page.locator("#two").get_by_role("button", name="Pay").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^Paid: "))
    [payment] = live.payments_of(cart)
    assert transactions(payment) == [("Authorization", "Success", 800)]
    page.evaluate("window.components['#one'].unmount()")
    expect(page.locator("#one input")).to_have_count(0)


def test_a_third_party_plugins_enabler_shows_the_bank_transfer_details(page: Page, live: Live) -> None:
    cart = live.cart(4200)
    open_harness(page, live)
    page.evaluate("""async ([url, processorUrl, sessionId]) => {
      const enabler = await harness.enabler(url, { processorUrl, sessionId });
      const component = (await enabler.createComponentBuilder("banktransfer")).build({});
      component.mount("#one");
      await component.submit();
    }""", [live.enabler("transfer"), live.url, live.session(cart, "bank-transfer")])
    [payment] = live.payments_of(cart)
    expect(page.locator("#status")).to_have_text(f"Paid: {payment['id']}")
    details = page.locator("#one dl")
    expect(details).to_contain_text("DE89 3704 0044 0532 0130 00")
    expect(details).to_contain_text("42.00 EUR")
    reference = details.locator("dd").nth(4).inner_text()
    assert reference.startswith("RF") and reference.replace(" ", "") == payment["interfaceId"]
    assert transactions(payment) == [("Authorization", "Pending", 4200)]
