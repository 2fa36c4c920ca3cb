"""The bank-transfer plugin through a real host: the contract suite, then what is particular to it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bank_transfer import SIGNATURE_HEADER, creditor_reference, sign
from bank_transfer.notifications import METHOD

from host import Money, PaymentView, ReconcileRequest, Transaction, TxState, TxType
from host.testing import ConfigError, HostClient, ProviderContract, discovered_plugins, load_instances

SECRET = "bank-notification-secret-0123456789"  # noqa: S105 - a test key
SETTINGS: dict[str, Any] = {"iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
                            "accountHolder": "ACME Shop GmbH", "webhookSecret": SECRET}
INSTANCE = f"transfer: {json.dumps({'plugin': 'bank_transfer', 'paymentInterface': 'bank-transfer', 'captureMethod': 'automatic', 'settings': SETTINGS})}"  # noqa: E501
MakeHost = Callable[..., Awaitable[HostClient]]


def notification(kind: str, remittance: str, cents: int, bank_id: str | None = None) -> bytes:
    return json.dumps({"id": f"ntf_{uuid.uuid4().hex[:8]}", "type": kind,
                       "bankTransactionId": bank_id or uuid.uuid4().hex[:16],
                       "amount": {"centAmount": cents, "currencyCode": "EUR"},
                       "remittanceInformation": remittance, "bookingDate": "2026-11-22"}).encode()


def signed(body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(SECRET, body, int(time.time()))}


class TestBankTransferContract(ProviderContract):
    plugin = "bank_transfer"
    settings: ClassVar[dict[str, Any]] = SETTINGS
    method = "banktransfer"
    payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "banktransfer"}}
    refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}}
    # creating a payment or a refund only hands out a reference: an answer that was lost counts for nothing
    reconcile_finds_lost_answers = False

    def sign_webhook(self, body: bytes) -> dict[str, str]:
        return signed(body)

    def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes:
        assert tx_type == TxType.CHARGE, "the bank reports money that arrived as a Charge"
        return notification("transfer.received", creditor_reference(payment_id), amount.cent_amount, psp_reference)

    async def complete_authorization(self, host: HostClient, payment_id: str, response: Mapping[str, Any]) -> None:
        """The shopper transfers the amount with the reference; the bank reports it."""
        body = notification("transfer.received", str(response["transferReference"]), self.amount)
        assert (await host.post_webhook(self.instance_id, body, signed(body))).status == 200

    async def settle(self, host: HostClient, payment_id: str, transaction: Mapping[str, Any]) -> None:
        """The merchant sends the refund with its reference; the bank reports the booked transfer."""
        body = notification("transfer.sent", str(transaction["interactionId"]),
                            int(transaction["amount"]["centAmount"]))
        assert (await host.post_webhook(self.instance_id, body, signed(body))).status == 200


@pytest.fixture
async def host(connector_host: MakeHost) -> HostClient:
    return await connector_host(INSTANCE)


async def _pay(host: HostClient, cents: int = 10000) -> tuple[str, dict[str, Any]]:
    resp = await host.pay(host.session("bank-transfer", amount=cents), {"paymentMethod": {"type": "banktransfer"}})
    body = await resp.json()
    assert resp.status == 200, body
    return str(body["paymentReference"]), body


def _txs(host: HostClient, pid: str) -> list[tuple[str, str, int]]:
    return [(t["type"], t["state"], t["amount"]["centAmount"]) for t in host.payment(pid)["transactions"]]


def test_the_plugin_is_found_through_its_entry_point() -> None:
    entry = discovered_plugins().providers["bank_transfer"]
    assert (entry.plugin.distribution, entry.plugin.builtin) == ("connector-host-bank-transfer", False)


async def test_payments_answers_the_transfer_details(host: HostClient) -> None:
    pid, body = await _pay(host)
    reference = creditor_reference(pid)
    assert body["transferReference"].replace(" ", "") == reference
    assert (body["iban"], body["bic"], body["accountHolder"]) == ("DE89 3704 0044 0532 0130 00", "COBADEFFXXX",
                                                                  "ACME Shop GmbH")
    assert body["amount"] == {"centAmount": 10000, "currencyCode": "EUR"}
    assert host.payment(pid)["interfaceId"] == reference
    assert _txs(host, pid) == [("Authorization", "Pending", 10000)]


async def test_a_transfer_with_a_sloppily_typed_reference_settles_the_payment(host: HostClient) -> None:
    pid, body = await _pay(host)
    remittance = f"order 1042 {body['transferReference'].lower()} thanks"
    sent = notification("transfer.received", remittance, 10000)
    resp = await host.post_webhook("transfer", sent, signed(sent))
    assert resp.status == 200 and await resp.json() == {"matched": True}
    assert _txs(host, pid) == [("Authorization", "Success", 10000), ("Charge", "Success", 10000)]


async def test_two_transfers_are_two_charges_and_an_unknown_reference_writes_nothing(host: HostClient) -> None:
    pid, body = await _pay(host)
    for cents in (6000, 4000):
        sent = notification("transfer.received", body["transferReference"], cents)
        assert (await host.post_webhook("transfer", sent, signed(sent))).status == 200
    assert _txs(host, pid) == [("Authorization", "Success", 10000), ("Charge", "Success", 6000),
                               ("Charge", "Success", 4000)]
    version = host.payment(pid)["version"]
    typo = body["transferReference"][:-1] + ("1" if body["transferReference"][-1] != "1" else "2")
    for remittance in ("no reference at all", typo):
        sent = notification("transfer.received", remittance, 100)
        resp = await host.post_webhook("transfer", sent, signed(sent))
        assert resp.status == 200 and await resp.json() == {"matched": False}
    assert host.payment(pid)["version"] == version


async def test_a_returned_refund_is_a_failed_refund(host: HostClient) -> None:
    pid, body = await _pay(host)
    sent = notification("transfer.received", body["transferReference"], 10000)
    await host.post_webhook("transfer", sent, signed(sent))
    resp = await host.intent(pid, {"action": "refundPayment", "amount": {"centAmount": 2500, "currencyCode": "EUR"}})
    assert await resp.json() == {"outcome": "received"}
    refund = next(t for t in host.payment(pid)["transactions"] if t["type"] == "Refund")
    returned = notification("transfer.returned", refund["interactionId"], 2500)
    assert (await host.post_webhook("transfer", returned, signed(returned))).status == 200
    assert _txs(host, pid)[-1] == ("Refund", "Failure", 2500)


def _undecided(host: HostClient, pid: str, type_: TxType, state: TxState) -> ReconcileRequest:
    """The reconciler's question about the Payment's ``type_`` transaction, as if it were still ``state``."""
    stored = host.payment(pid)
    raw = next(t for t in stored["transactions"] if t["type"] == type_.value)
    amount = Money(raw["amount"]["centAmount"], raw["amount"]["currencyCode"])
    tx = Transaction(raw["id"], type_, state, amount, raw.get("interactionId"), raw.get("interfaceId"))
    payment = PaymentView(pid, stored["version"], amount, "bank-transfer", stored.get("interfaceId"), METHOD, (tx,))
    return ReconcileRequest(payment, tx, str(tx.interface_id).split(":")[1], tx.interface_id,
                            tx.interaction_id or payment.interface_id)


async def test_reconcile_says_what_waits_for_the_bank_and_what_never_reached_anyone(host: HostClient) -> None:
    provider = host.provider("transfer")
    pid, body = await _pay(host)
    waiting = await provider.reconcile(_undecided(host, pid, TxType.AUTHORIZATION, TxState.PENDING))
    assert [(t.type, t.state, t.interaction_id) for t in waiting.transactions] == [
        (TxType.AUTHORIZATION, TxState.PENDING, creditor_reference(pid))]
    lost = await provider.reconcile(_undecided(host, pid, TxType.AUTHORIZATION, TxState.INITIAL))
    assert not lost.found      # the shopper never got the reference: the host marks it Failure
    sent = notification("transfer.received", body["transferReference"], 10000)
    await host.post_webhook("transfer", sent, signed(sent))
    await host.intent(pid, {"action": "refundPayment", "amount": {"centAmount": 2500, "currencyCode": "EUR"}})
    refund = next(t for t in host.payment(pid)["transactions"] if t["type"] == "Refund")
    sending = await provider.reconcile(_undecided(host, pid, TxType.REFUND, TxState.PENDING))
    assert [(t.state, t.interaction_id) for t in sending.transactions] == [(TxState.PENDING, refund["interactionId"])]


async def test_the_instructions_page_shows_the_details_and_the_state(host: HostClient) -> None:
    _, body = await _pay(host, 5950)
    path = body["instructionsUrl"].removeprefix(host.url)
    page = await (await host.client.get(path)).text()
    assert "59.50 EUR" in page and body["transferReference"] in page and "waiting for your transfer" in page
    sent = notification("transfer.received", body["transferReference"], 5950)
    await host.post_webhook("transfer", sent, signed(sent))
    assert "has arrived" in await (await host.client.get(path)).text()
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await host.client.get(forged)).status == 401


async def test_a_recurring_payment_is_refused(host: HostClient) -> None:
    resp = await host.pay(host.session("bank-transfer"), {"paymentMethod": {"type": "banktransfer"},
                                                          "recurring": True})
    assert resp.status == 400 and "merchant-initiated" in (await resp.json())["message"]


@pytest.mark.parametrize(("settings", "message"), [
    ({"iban": "DE89 3704 0044 0532 0130 01"}, "check digits are wrong"),
    ({"iban": "DE89 3704 0044 0532 0130"}, "has 22 characters"),
    ({"iban": "US12 3456 7890"}, "not a SEPA country"),
    ({"bic": "COBA-DE"}, "a BIC is 8 or 11 characters"),
    ({"webhookSecret": "short"}, "at least 16 characters"),
])
def test_bad_settings_stop_start_up_with_the_path(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    instance = {"plugin": "bank_transfer", "paymentInterface": "bank-transfer", "captureMethod": "automatic",
                "settings": {**SETTINGS, **settings}}
    with pytest.raises(ConfigError, match=message) as caught:
        load_instances(f"transfer: {json.dumps(instance)}", tmp_path)
    assert caught.value.path == f"instances.transfer.settings.{next(iter(settings))}"
    assert SECRET not in str(caught.value)


async def test_the_enabler_is_served_for_the_instance(host: HostClient) -> None:
    module = await host.client.get("/enablers/transfer/connector-enabler.es.js")
    assert module.status == 200 and module.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert 'createComponentBuilder(type)' in await module.text()
    script = await (await host.client.get("/enablers/transfer/connector-enabler.umd.js")).text()
    assert "root.Connector = { Enabler: __connector.Enabler }" in script
