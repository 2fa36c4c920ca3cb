"""``ProviderContract``: the contract suite for ``PaymentProvider`` classes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from host.models import CaptureMethod, Outcome, TxState, TxType
from host.testing.contract._checks import (  # noqa: F401
    _OPERATIONS,
    _WATCHED,
    MakeHost,
    _assert_envelope,
    _json,
    _Stepped,
    _total,
    _transactions,
    _Watch,
)
from host.testing.contract._payment_reconcile import _ProviderReconcile
from host.testing.harness import HostClient


class ProviderContract(_ProviderReconcile):
    """The contract of a ``PaymentProvider``. Set ``plugin``, ``settings``, ``method``, ``payment_body`` (a
    ``POST /payments`` body that authorizes), ``refused_body`` (one the provider refuses), and for webhook
    providers implement ``sign_webhook`` and ``webhook_event``."""

    #: The payment method ``payment_body`` pays with.
    method: ClassVar[str]
    #: A ``POST /payments`` body that the provider authorizes.
    payment_body: ClassVar[Mapping[str, Any]]
    #: A ``POST /payments`` body that the provider refuses with a 4xx (``None``: that test is skipped).
    refused_body: ClassVar[Mapping[str, Any] | None] = None

    async def complete_authorization(self, host: HostClient, payment_id: str, response: Mapping[str, Any]) -> None:
        """Finish an authorization that ``POST /payments`` left Initial or Pending, as the shopper or the PSP
        would (submit the offsite page, deliver the PSP's notification). ``response`` is the enabler's answer."""

    async def settle(self, host: HostClient, payment_id: str, transaction: Mapping[str, Any]) -> None:
        """Settle a modification that answered ``received`` (its transaction is Pending). By default waits up
        to ``settle_timeout`` for the PSP's own notification; override it to deliver one."""
        deadline = time.monotonic() + self.settle_timeout
        while time.monotonic() < deadline:
            current = [t for t in _transactions(host.payment(payment_id)) if t["id"] == transaction["id"]]
            if current and current[0]["state"] != TxState.PENDING.value:
                return
            await asyncio.sleep(0.02)

    async def webhook_payment(self, host: HostClient) -> str:
        resp, body = await self.pay(host)
        assert resp.status == 200, body
        return str(body["paymentReference"])

    # -- steps -------------------------------------------------------------------------------------

    async def pay(self, host: HostClient, body: Mapping[str, Any] | None = None,
                  amount: int | None = None) -> tuple[Any, Any]:
        """``POST /payments`` for a new cart; the response and its JSON."""
        resp = await host.pay(self.session(host, amount), self.payment_body if body is None else body)
        return resp, await _json(resp)

    async def authorize(self, host: HostClient) -> str:
        """A Payment whose Authorization is Success (``complete_authorization`` finishes what needs it)."""
        resp, body = await self.pay(host)
        assert resp.status == 200, f"POST /payments with payment_body: {resp.status} {body}"
        pid = str(body["paymentReference"])
        await self.complete_authorization(host, pid, body)
        auth = _transactions(host.payment(pid), TxType.AUTHORIZATION)
        assert any(t["state"] == TxState.SUCCESS.value for t in auth), (
            f"the Authorization is {[t['state'] for t in auth]} after POST /payments: override "
            f"complete_authorization() to finish it as the shopper or the PSP would")
        return pid

    async def charged(self, host: HostClient) -> str:
        """A Payment charged in full: captured when the instance captures manually."""
        pid = await self.authorize(host)
        if self.default_capture_method() == CaptureMethod.MANUAL:
            await self.modify(host, pid, "capture", self.amount)
        else:
            await self._contract_await_state(host, pid, TxType.CHARGE)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount, _transactions(host.payment(pid))
        return pid

    async def _contract_await_state(self, host: HostClient, pid: str, type_: TxType) -> None:
        for tx in _transactions(host.payment(pid), type_):
            if tx["state"] == TxState.PENDING.value:
                await self.settle(host, pid, tx)

    async def modify(self, host: HostClient, pid: str, operation: str, amount: int | None = None) -> dict[str, Any]:
        """Run one payment-intent action; returns the transaction it recorded, settled to Success."""
        action: dict[str, Any] = {"action": _OPERATIONS[operation]}
        if amount is not None:
            action["amount"] = {"centAmount": amount, "currencyCode": self.currency}
        known = {t["id"] for t in _transactions(host.payment(pid))}
        resp = await host.intent(pid, action)
        body = await _json(resp)
        assert resp.status == 200, f"{operation} {amount}: {resp.status} {body}"
        outcome = Outcome(body["outcome"])
        allowed = {Outcome.APPROVED, Outcome.RECEIVED} if self.capabilities.async_modifications else {Outcome.APPROVED}
        assert outcome in allowed, f"{operation} {amount} answered {outcome.value}"
        new = [t for t in _transactions(host.payment(pid)) if t["id"] not in known]
        assert len(new) == 1, f"{operation} recorded {len(new)} transactions: {new}"
        if outcome == Outcome.RECEIVED:
            await self.settle(host, pid, new[0])
        tx = next(t for t in _transactions(host.payment(pid)) if t["id"] == new[0]["id"])
        assert tx["state"] == TxState.SUCCESS.value, (
            f"{operation} answered {outcome.value} and its transaction is {tx['state']}"
            + (": override settle() to deliver the PSP's notification" if outcome == Outcome.RECEIVED else ""))
        assert tx.get("interactionId"), f"{operation}: the transaction has no interactionId (the PSP reference)"
        if amount is not None:
            assert tx["amount"]["centAmount"] == amount, tx
        return tx

    def _contract_distinct(self, host: HostClient, pid: str, type_: TxType, count: int) -> None:
        txs = [t for t in _transactions(host.payment(pid), type_) if t["state"] == TxState.SUCCESS.value]
        assert len(txs) == count and len({t["interactionId"] for t in txs}) == count, (
            f"{count} {type_.value} transactions with distinct interactionIds expected: {txs}")

    # -- authorization -----------------------------------------------------------------------------

    async def test_authorize(self) -> None:
        """``POST /payments``: a Payment for the cart's amount with the instance's paymentInterface and the
        method, attached to the cart, with an Authorization in Success, Pending or Initial."""
        host = await self.start()
        cart = host.cart(self.amount, self.currency)
        resp = await host.pay(host.session(self.payment_interface, cart=cart), self.payment_body)
        body = await _json(resp)
        assert resp.status == 200, f"POST /payments with payment_body: {resp.status} {body}"
        pid = body.get("paymentReference")
        assert pid, f"no paymentReference in {body}"
        payment = host.payment(pid)
        assert payment["paymentMethodInfo"].get("paymentInterface") == self.payment_interface
        assert payment["paymentMethodInfo"].get("method") == self.method, payment["paymentMethodInfo"]
        assert payment["amountPlanned"]["centAmount"] == self.amount
        auth = _transactions(payment, TxType.AUTHORIZATION)
        assert len(auth) == 1 and auth[0]["state"] in ("Success", "Pending", "Initial"), auth
        assert auth[0]["amount"]["centAmount"] == self.amount, auth
        stored = host.ct.get_cart(str(cart["id"])) or {}
        assert pid in [p["id"] for p in (stored.get("paymentInfo") or {}).get("payments") or []], \
            "the Payment is not attached to the cart"

    async def test_authorize_with_automatic_capture(self) -> None:
        if CaptureMethod.AUTOMATIC not in self.capabilities.capture_methods:
            pytest.skip(f"{self.plugin} does not support captureMethod automatic")
        host = await self.start(CaptureMethod.AUTOMATIC)
        pid = await self.authorize(host)
        await self._contract_await_state(host, pid, TxType.CHARGE)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount, _transactions(host.payment(pid))

    async def test_refused_body_is_a_4xx_envelope(self) -> None:
        """A body the provider refuses is a 4xx in the host's envelope (a ``host.ApiError``), not a 500, and
        authorizes nothing."""
        if self.refused_body is None:
            pytest.skip("set refused_body: a POST /payments body the provider refuses")
        host = await self.start()
        resp, body = await self.pay(host, self.refused_body)
        assert 400 <= resp.status < 500, f"refused_body answered {resp.status}: {body}"
        _assert_envelope(body, resp.status, "refused_body")
        for payment in host.ct.payments():
            assert not _transactions(payment, TxType.AUTHORIZATION) or all(
                t["state"] == TxState.FAILURE.value for t in _transactions(payment, TxType.AUTHORIZATION))

    # -- modifications -----------------------------------------------------------------------------

    def _contract_require_manual(self) -> None:
        if self.default_capture_method() != CaptureMethod.MANUAL:
            pytest.skip(f"{self.plugin} does not support captureMethod manual")

    async def test_capture_full(self) -> None:
        self._contract_require("capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount

    async def test_capture_partial(self) -> None:
        self._contract_require("capture", "partial_capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount * 3 // 10)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount * 3 // 10

    async def test_capture_multiple(self) -> None:
        self._contract_require("capture", "partial_capture", "multiple_capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount * 3 // 10)
        await self.modify(host, pid, "capture", self.amount * 2 // 10)
        self._contract_distinct(host, pid, TxType.CHARGE, 2)

    async def test_refund_full(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount)
        assert _total(host.payment(pid), TxType.REFUND) == self.amount

    async def test_refund_partial(self) -> None:
        self._contract_require("refund", "partial_refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount // 10)
        assert _total(host.payment(pid), TxType.REFUND) == self.amount // 10

    async def test_refund_multiple(self) -> None:
        self._contract_require("refund", "partial_refund", "multiple_refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount // 10)
        await self.modify(host, pid, "refund", self.amount // 20)
        self._contract_distinct(host, pid, TxType.REFUND, 2)

    async def test_cancel(self) -> None:
        self._contract_require("cancel")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "cancel")
        assert _total(host.payment(pid), TxType.CANCEL_AUTHORIZATION) == self.amount

    async def test_reverse_of_an_authorization_cancels(self) -> None:
        self._contract_require("cancel")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "reverse")
        assert _total(host.payment(pid), TxType.CANCEL_AUTHORIZATION) == self.amount

    async def test_reverse_of_a_charge_refunds(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "reverse")
        assert _total(host.payment(pid), TxType.REFUND) == self.amount

    @pytest.mark.parametrize("feature", ["capture", "partial_capture", "multiple_capture", "refund",
                                         "partial_refund", "multiple_refund", "cancel"])
    async def test_undeclared_operation_is_refused(self, feature: str) -> None:
        """An operation the provider does not declare is a 400 InvalidOperation that says so, writes nothing,
        and never reaches the provider."""
        caps = self.capabilities
        if getattr(caps, feature):
            pytest.skip(f"{self.plugin} declares {feature}")
        if feature in ("partial_capture", "multiple_capture") and not caps.capture:
            pytest.skip("capture is not declared at all")
        if feature in ("partial_refund", "multiple_refund") and not caps.refund:
            pytest.skip("refund is not declared at all")
        host = await self.start()
        if feature.endswith("refund"):
            pid = await self.charged(host)
        else:
            pid = await self.authorize(host)
        if feature == "multiple_capture":
            await self.modify(host, pid, "capture", self.amount // 2 if caps.partial_capture else self.amount)
        if feature == "multiple_refund":
            await self.modify(host, pid, "refund", self.amount // 2 if caps.partial_refund else self.amount)
        operation, amount = {
            "capture": ("capture", self.amount), "partial_capture": ("capture", self.amount - 1),
            "multiple_capture": ("capture", 1), "refund": ("refund", self.amount),
            "partial_refund": ("refund", self.amount - 1), "multiple_refund": ("refund", 1),
            "cancel": ("cancel", None)}[feature]
        action: dict[str, Any] = {"action": _OPERATIONS[operation]}
        if amount is not None:
            action["amount"] = {"centAmount": amount, "currencyCode": self.currency}
        before = host.payment(pid)
        body = await self._contract_refused(await host.intent(pid, action), f"undeclared {feature}")
        assert body["errors"][0]["code"] == "InvalidOperation", body
        assert host.payment(pid)["version"] == before["version"], f"undeclared {feature} wrote to the Payment"


