"""The Stripe provider passes the provider contract suite, through the host, against localstripe.

This is the whole flow of issue 5 as Checkout drives it: ``POST /payments`` creates the PaymentIntent,
the shopper's browser confirms it (Stripe.js, here the SDK), Stripe's signed webhook records the outcome,
then capture, partial refunds, cancel and reverse go through ``/operations/payment-intents``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
import pytest
import stripe

from host import Capabilities, Money, TxType
from host.testing import HostClient, ProviderContract
from plugins.stripe import StripeProvider


class TestStripeContract(ProviderContract):
    plugin = "stripe"
    method = "payment"
    payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "payment", "id": "pm_card_visa"}}
    refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "payment", "id": 42}}
    api_base = ""
    keys: Any = None

    @pytest.fixture(autouse=True)
    def _on_localstripe(self, localstripe: str, build: Any) -> None:
        self.api_base = localstripe
        self.keys = build

    @property
    def capabilities(self) -> Capabilities:
        """The instance's (``multicapture`` off, as localstripe captures a PaymentIntent once)."""
        return dataclasses.replace(StripeProvider.capabilities, multiple_capture=False)

    def instance_settings(self) -> Mapping[str, Any]:
        return {"secretKey": self.keys.SECRET_KEY, "publishableKey": self.keys.PUBLISHABLE_KEY,
                "webhookSecret": self.keys.WEBHOOK_SECRET, "apiBase": self.api_base,
                "paymentMethodTypes": ["card"]}   # localstripe refuses automatic_payment_methods

    def sign_webhook(self, body: bytes) -> dict[str, str]:
        return {"Stripe-Signature": self.keys.sign(body)}

    def _stripe_event(self, event_type: str, obj: dict[str, Any]) -> bytes:
        return json.dumps({"id": f"evt_{time.time_ns()}", "object": "event", "api_version": "2025-12-15.clover",
                           "livemode": False, "created": int(time.time()), "type": event_type,
                           "data": {"object": obj}}).encode()

    def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes:
        return self._stripe_event("charge.captured", {
            "id": psp_reference, "object": "charge", "amount": amount.cent_amount,
            "amount_captured": amount.cent_amount, "currency": amount.currency.lower(),
            "metadata": {"ct_payment_id": payment_id}})

    async def complete_authorization(self, host: HostClient, payment_id: str, response: Mapping[str, Any]) -> None:
        """Confirm as Stripe.js would, then deliver Stripe's webhook about it."""
        pi_id = host.payment(payment_id)["interfaceId"]
        async with aiohttp.ClientSession() as http:
            browser = stripe.StripeClient(self.keys.SECRET_KEY, base_addresses={"api": self.api_base},
                                          http_client=stripe.AIOHTTPClient(session=http), max_network_retries=0)
            pi = await browser.v1.payment_intents.confirm_async(pi_id)
        kind = "payment_intent.succeeded" if pi.status == "succeeded" else "payment_intent.amount_capturable_updated"
        body = self._stripe_event(kind, pi.to_dict())
        assert (await host.post_webhook(self.instance_id, body, self.sign_webhook(body))).status == 200


async def test_a_refused_body_leaves_no_payment_behind(connector_host: Any, localstripe: str, build: Any) -> None:
    host = await connector_host(f"""\
stripe-eu:
  plugin: stripe
  paymentInterface: stripe-eu
  settings: {{secretKey: {build.SECRET_KEY}, publishableKey: {build.PUBLISHABLE_KEY},
             webhookSecret: {build.WEBHOOK_SECRET}, apiBase: "{localstripe}", paymentMethodTypes: [card]}}
""")
    resp = await host.pay(host.session("stripe-eu"), {"paymentMethod": {"type": "payment", "id": 42}})
    assert resp.status == 400
    assert host.ct.emulator.payments() == []
