"""The demo checkout page in Chromium: what a shopper and a merchant see, and what commercetools records."""

from __future__ import annotations

import pytest
from browser_live import Live, open_demo, payment_box, transaction_row, transactions
from playwright.sync_api import Page, expect

DECLINED_CARD = "4000 0000 0000 0002"


def apply_gift_card(page: Page, code: str) -> None:
    page.get_by_label("Gift card number").fill(code)
    page.get_by_role("button", name="Apply gift card").click()


def choose(page: Page, label: str) -> None:
    page.get_by_role("radio", name=label).check()
    expect(page.get_by_role("button", name="Pay", exact=True)).to_be_enabled()   # its component is mounted


def fill_card(page: Page, number: str) -> None:
    component = page.locator("#component")
    component.get_by_label("Card number").fill(number)
    component.get_by_label("Expiry date").fill("12/39")
    component.get_by_label("Security code").fill("123")


def test_gift_card_first_then_card_for_the_rest_then_capture_and_refund(page: Page, live: Live) -> None:
    cart = open_demo(page, live)
    apply_gift_card(page, "GC-SPLIT")
    expect(page.locator("#giftcard-result")).to_have_text("Balance 20.00 EUR: 20.00 EUR will be paid by gift card.")
    expect(page.locator("#rest")).to_have_text("39.50 EUR")
    choose(page, "Card (sandbox)")
    fill_card(page, "4111 1111 1111 1111")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.locator("#outcome-title")).to_have_text("Thank you for your order")
    expect(transaction_row(page, "giftcard", "Charge Success 20.00 EUR")).to_be_visible()
    expect(transaction_row(page, "card", "Authorization Success 39.50 EUR")).to_be_visible()
    recorded = {p["paymentMethodInfo"]["method"]: p for p in live.payments_of(cart)}
    assert transactions(recorded["giftcard"]) == [("Charge", "Success", 2000)]
    assert transactions(recorded["card"]) == [("Authorization", "Success", 3950)]
    assert recorded["card"]["paymentMethodInfo"]["paymentInterface"] == "mock"

    # the merchant captures, then refunds part of the card payment... all of it, with the page's buttons
    payment_box(page, "card").get_by_role("button", name="Capture 39.50 EUR").click()
    expect(page.locator("#merchant-result")).to_have_text("capturePayment: approved")
    expect(transaction_row(page, "card", "Charge Success 39.50 EUR")).to_be_visible()
    payment_box(page, "card").get_by_role("button", name="Refund 39.50 EUR").click()
    expect(page.locator("#merchant-result")).to_have_text("refundPayment: approved")
    expect(transaction_row(page, "card", "Refund Success 39.50 EUR")).to_be_visible()
    card = {p["paymentMethodInfo"]["method"]: p for p in live.payments_of(cart)}["card"]
    assert transactions(card) == [("Authorization", "Success", 3950), ("Charge", "Success", 3950),
                                  ("Refund", "Success", 3950)]


def test_declined_card_after_a_redeemed_gift_card_rolls_the_gift_card_back(page: Page, live: Live) -> None:
    cart = open_demo(page, live)
    apply_gift_card(page, "GC-ROLLBACK")
    expect(page.locator("#rest")).to_have_text("49.50 EUR")
    choose(page, "Card (sandbox)")
    fill_card(page, DECLINED_CARD)
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.locator("#outcome-title")).to_have_text("Payment failed")
    expect(page.locator("#outcome-text")).to_have_text(
        "The payment was declined. The gift card was refunded 10.00 EUR.")
    expect(transaction_row(page, "giftcard", "Refund Success 10.00 EUR")).to_be_visible()
    recorded = {p["paymentMethodInfo"]["method"]: p for p in live.payments_of(cart)}
    assert transactions(recorded["giftcard"]) == [("Charge", "Success", 1000), ("Refund", "Success", 1000)]
    assert transactions(recorded["card"]) == [("Authorization", "Failure", 4950)]
    # the card has its balance back
    apply_gift_card(page, "GC-ROLLBACK")
    expect(page.locator("#giftcard-result")).to_have_text("Balance 10.00 EUR: 10.00 EUR will be paid by gift card.")


def test_invoice_is_authorized_for_the_whole_cart(page: Page, live: Live) -> None:
    cart = open_demo(page, live)
    choose(page, "Invoice (sandbox)")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#outcome-title")).to_have_text("Thank you for your order")
    expect(transaction_row(page, "invoice", "Authorization Success 59.50 EUR")).to_be_visible()
    [payment] = live.payments_of(cart)
    assert payment["paymentMethodInfo"]["method"] == "invoice"
    assert transactions(payment) == [("Authorization", "Success", 5950)]


def test_invalid_card_shows_the_fields_to_fix_and_pays_nothing(page: Page, live: Live) -> None:
    cart = open_demo(page, live)
    choose(page, "Card (sandbox)")
    page.locator("#component").get_by_label("Card number").fill("4111 1111 1111 1112")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#component")).to_contain_text("Enter a valid card number.")
    expect(page.locator("#component")).to_contain_text("Enter the expiry date as MM/YY.")
    assert live.payments_of(cart) == []


@pytest.mark.parametrize(("code", "message"), [
    ("GIFT-EXPIRED", "This gift card has expired."),
    ("NO-SUCH-CARD", "The gift card number you entered is invalid. Please try again."),
    ("GIFT-EMPTY", "This gift card has no balance left."),
    ("GIFT-USD", "This gift card cannot be used for the currency of your order."),
])
def test_unusable_gift_card_says_why_and_leaves_the_total(page: Page, live: Live, code: str, message: str) -> None:
    cart = open_demo(page, live)
    apply_gift_card(page, code)
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.locator("#rest")).to_have_text("59.50 EUR")
    expect(page.locator("#gift-amount")).to_have_text("\N{EN DASH}")  # no gift card amount
    assert live.payments_of(cart) == []
