"""A stored payment method made as a shopper makes one: a sandbox card payment with ``storePaymentMethod``."""

from __future__ import annotations

from host.testing import HostShortcuts


async def sandbox_card(host: HostShortcuts, customer: str, interface: str = "mock") -> str:
    """Pay a new cart of ``customer`` with a sandbox card the shopper stores; the stored method's id (the
    instance must enable ``storedPaymentMethods``)."""
    session = host.session(interface, cart=host.cart(100, customer_id=customer))
    body = {"paymentMethod": {"type": "card", "storePaymentMethod": True,
                              "card": {"endDigits": "1111", "brand": "visa", "expiryMonth": 1, "expiryYear": 2038}},
            "paymentOutcome": "Authorized"}
    resp = await host.pay(session, body)
    assert resp.status == 200, await resp.text()
    listed = await host.request("GET", "/stored-payment-methods", headers={"X-Session-Id": session})
    methods = (await listed.json())["storedPaymentMethods"]
    assert methods, "the sandbox stored nothing"
    return str(methods[0]["id"])
