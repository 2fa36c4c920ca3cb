"""``GiftCardContract``: the contract suite for ``GiftCardProvider`` classes."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from host.models import RedeemResult, TransactionResult, TxState, TxType
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
from host.testing.contract._reconcile import _Reconciling
from host.testing.harness import HostClient


class GiftCardContract(_Reconciling):
    """The contract of a ``GiftCardProvider``: balance, redeem, refund; capture and cancel refused."""

    amount: ClassVar[int] = 5000
    payment_interface: ClassVar[str] = "contract-giftcard"
    #: A card with at least ``redeem_amount`` in ``currency`` (and enough for the tests that redeem twice).
    giftcard_code: ClassVar[str]
    #: A code the provider does not know.
    unknown_giftcard_code: ClassVar[str] = "CONTRACT-NO-SUCH-CARD"
    #: How much each test redeems (minor units), at most ``amount``.
    redeem_amount: ClassVar[int] = 2000

    async def webhook_payment(self, host: HostClient) -> str:
        return await self.redeemed(host)

    async def balance(self, host: HostClient, code: str) -> tuple[int, Any]:
        resp = await host.balance(self.session(host), code)
        return resp.status, await _json(resp)

    async def redeemed(self, host: HostClient) -> str:
        """A Payment of ``redeem_amount`` redeemed from ``giftcard_code``."""
        resp = await host.redeem(self.session(host), self.giftcard_code, self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status == 200 and body.get("result") == "Success", f"redeem: {resp.status} {body}"
        return str(body["paymentReference"])

    async def refund(self, host: HostClient, pid: str, amount: int | None = None) -> None:
        """Refund ``amount`` of a redemption; ``None``: reverse it."""
        action: dict[str, Any] = {"action": "reversePayment"} if amount is None else {
            "action": "refundPayment", "amount": {"centAmount": amount, "currencyCode": self.currency}}
        resp = await host.intent(pid, action)
        body = await _json(resp)
        assert resp.status == 200 and body["outcome"] == "approved", f"{action}: {resp.status} {body}"

    def _contract_remaining(self, body: Any) -> int:
        return int(body["amount"]["centAmount"])

    async def test_balance_of_a_valid_card(self) -> None:
        host = await self.start()
        status, body = await self.balance(host, self.giftcard_code)
        assert status == 200 and body["status"] == {"state": "Valid"}, body
        assert body["amount"]["currencyCode"] == self.currency and self._contract_remaining(body) >= self.redeem_amount

    async def test_balance_of_an_unknown_card(self) -> None:
        host = await self.start()
        status, body = await self.balance(host, self.unknown_giftcard_code)
        assert status == 404 and body["status"]["state"] == "NotFound", body
        assert body["status"]["errors"][0]["code"] == "NotFound", body

    async def test_redeem(self) -> None:
        """``POST /redeem``: a Charge of the redeemed amount on a Payment of the instance; the balance drops."""
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid = await self.redeemed(host)
        payment = host.payment(pid)
        assert payment["paymentMethodInfo"] == {"paymentInterface": self.payment_interface, "method": "giftcard"}
        assert _total(payment, TxType.CHARGE) == self.redeem_amount, _transactions(payment)
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before) - self.redeem_amount

    async def test_redeem_more_than_the_cart_is_refused(self) -> None:
        host = await self.start()
        resp = await host.redeem(self.session(host, self.redeem_amount - 1), self.giftcard_code,
                                 self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status == 400 and body["status"]["errors"], body
        assert all(_total(p, TxType.CHARGE) == 0 for p in host.ct.payments())

    async def test_redeem_of_an_unknown_card_charges_nothing(self) -> None:
        host = await self.start()
        resp = await host.redeem(self.session(host), self.unknown_giftcard_code, self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status < 500, body
        assert resp.status >= 400 or body.get("result") == "Failure", body
        assert all(_total(p, TxType.CHARGE) == 0 for p in host.ct.payments())

    async def test_refund_full(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid = await self.redeemed(host)
        await self.refund(host, pid, self.redeem_amount)
        assert _total(host.payment(pid), TxType.REFUND) == self.redeem_amount
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before), \
            "the refund did not restore the balance"

    async def test_refund_partial_and_multiple(self) -> None:
        self._contract_require("refund", "partial_refund")
        host = await self.start()
        pid = await self.redeemed(host)
        await self.refund(host, pid, self.redeem_amount // 4)
        if self.capabilities.multiple_refund:
            await self.refund(host, pid, self.redeem_amount // 4)
        count = 2 if self.capabilities.multiple_refund else 1
        refunds = [t for t in _transactions(host.payment(pid), TxType.REFUND) if t["state"] == "Success"]
        assert len(refunds) == count and len({t["interactionId"] for t in refunds}) == count, refunds

    async def test_reverse_refunds_the_redemption(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.redeemed(host)
        await self.refund(host, pid)
        assert _total(host.payment(pid), TxType.REFUND) == self.redeem_amount

    @pytest.mark.parametrize("action", ["capturePayment", "cancelPayment"])
    async def test_capture_and_cancel_are_refused(self, action: str) -> None:
        host = await self.start()
        pid = await self.redeemed(host)
        version = host.payment(pid)["version"]
        body: dict[str, Any] = {"action": action}
        if action == "capturePayment":
            body["amount"] = {"centAmount": 1, "currencyCode": self.currency}
        refused = await self._contract_refused(await host.intent(pid, body), f"{action} of a gift card")
        assert refused["errors"][0]["code"] == "InvalidOperation", refused
        assert host.payment(pid)["version"] == version

    @pytest.mark.parametrize("feature", ["refund", "partial_refund", "multiple_refund"])
    async def test_undeclared_refund_is_refused(self, feature: str) -> None:
        caps = self.capabilities
        if getattr(caps, feature):
            pytest.skip(f"{self.plugin} declares {feature}")
        if feature != "refund" and not caps.refund:
            pytest.skip("refund is not declared at all")
        host = await self.start()
        pid = await self.redeemed(host)
        if feature == "multiple_refund":
            await self.refund(host, pid, self.redeem_amount // 2 if caps.partial_refund else self.redeem_amount)
        amount = {"refund": self.redeem_amount, "partial_refund": self.redeem_amount - 1, "multiple_refund": 1}
        version = host.payment(pid)["version"]
        body = await self._contract_refused(await host.intent(pid, {"action": "refundPayment", "amount": {
            "centAmount": amount[feature], "currencyCode": self.currency}}), f"undeclared {feature}")
        assert body["errors"][0]["code"] == "InvalidOperation", body
        assert host.payment(pid)["version"] == version

    # -- reconciliation (skipped for a provider that does not implement reconcile) -------------------

    async def _contract_lost_redeem(self, host: HostClient, *, reached: bool) -> tuple[str, list[Any]]:
        known = {p["id"] for p in host.ct.payments()}
        with self.lose(host, "redeem", reached=reached) as answers:
            resp = await host.redeem(self.session(host), self.giftcard_code, self.redeem_amount, self.currency)
        assert resp.status >= 500, f"POST /redeem with a lost answer: {resp.status} {await resp.text()}"
        return self._contract_new_payment(host, known), answers

    async def test_reconcile_settles_a_lost_redemption(self) -> None:
        """The provider redeemed and its answer never reached the host: ``reconcile`` finds the redemption, a
        reconcile pass records its Charge, and the card was charged once."""
        self._contract_require_reconcile()
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid, answers = await self._contract_lost_redeem(host, reached=True)
        made: RedeemResult = answers[0]
        assert made.state == TxState.SUCCESS, f"the redemption itself failed: {made}"
        reservation = self._contract_reservation(host, pid, TxType.CHARGE, set())
        did = TransactionResult(TxType.CHARGE, TxState.SUCCESS, None, made.redemption_id)
        main = self.check_found(await self.ask(host, pid, reservation["id"]), TxType.CHARGE, did, "the redemption")
        self.check_recorded(host, pid, reservation, main, await self.reconcile_pass(host, pid))
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before) - self.redeem_amount

    async def test_reconcile_fails_a_redemption_that_never_reached_the_provider(self) -> None:
        self._contract_require_reconcile()
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid, _ = await self._contract_lost_redeem(host, reached=False)
        reservation = self._contract_reservation(host, pid, TxType.CHARGE, set())
        result = await self.ask(host, pid, reservation["id"])
        assert not result.found, f"reconcile found a redemption that never reached the provider: {result}"
        self.check_recorded(host, pid, reservation, None, await self.reconcile_pass(host, pid))
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before)

    async def test_reconcile_settles_a_lost_refund(self) -> None:
        self._contract_require_reconcile()
        self._contract_require("refund")
        host = await self.start()
        pid = await self.redeemed(host)
        _, before = await self.balance(host, self.giftcard_code)
        known = {t["id"] for t in _transactions(host.payment(pid))}
        action = {"action": "refundPayment",
                  "amount": {"centAmount": self.redeem_amount, "currencyCode": self.currency}}
        with self.lose(host, "refund") as answers:
            resp = await host.intent(pid, action)
        assert resp.status >= 500, f"a refund with a lost answer: {resp.status} {await resp.text()}"
        reservation = self._contract_reservation(host, pid, TxType.REFUND, known)
        did = TransactionResult(TxType.REFUND, answers[0].outcome.state, None, answers[0].psp_reference)
        main = self.check_found(await self.ask(host, pid, reservation["id"]), TxType.REFUND, did, "the refund")
        self.check_recorded(host, pid, reservation, main, await self.reconcile_pass(host, pid))
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before) + self.redeem_amount
