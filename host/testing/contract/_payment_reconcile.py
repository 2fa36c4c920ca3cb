"""The reconcile checks of ``ProviderContract`` (skipped for a provider that does not implement ``reconcile``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from host.models import CaptureMethod, ModificationResult, PaymentResult, TransactionResult, TxState, TxType
from host.testing.contract._checks import _OPERATIONS, _transactions
from host.testing.contract._reconcile import _Reconciling
from host.testing.harness import HostClient


class _ProviderReconcile(_Reconciling):
    payment_body: ClassVar[Mapping[str, Any]]

    async def authorize(self, host: HostClient) -> str:   # ProviderContract's
        raise NotImplementedError

    async def charged(self, host: HostClient) -> str:     # ProviderContract's
        raise NotImplementedError

    async def _contract_lost_payment(self, host: HostClient, *, reached: bool) -> tuple[str, list[Any]]:
        known = {p["id"] for p in host.ct.payments()}
        with self.lose(host, "create_payment", reached=reached) as answers:
            resp = await host.pay(self.session(host), self.payment_body)
        assert resp.status >= 500, f"POST /payments with a lost answer: {resp.status} {await resp.text()}"
        return self._contract_new_payment(host, known), answers

    async def test_reconcile_settles_a_lost_authorization(self) -> None:
        """The provider authorized and its answer never reached the host: ``reconcile`` finds the authorization
        by the attempt's idempotency key, and a reconcile pass records it on the Payment."""
        self._contract_require_reconcile()
        host = await self.start()
        pid, answers = await self._contract_lost_payment(host, reached=True)
        reservation = self._contract_reservation(host, pid, TxType.AUTHORIZATION, set())
        made: PaymentResult = answers[0]
        did = next(t for t in made.transactions if t.type == TxType.AUTHORIZATION)
        main = self.check_found(await self.ask(host, pid, reservation["id"]), TxType.AUTHORIZATION, did,
                                "the authorization")
        settled = await self.reconcile_pass(host, pid)
        self.check_recorded(host, pid, reservation, main, settled)
        if main is not None and main.state != reservation["state"]:
            assert host.payment(pid).get("interfaceId") == made.psp_reference, \
                "the Payment's interfaceId is not the PSP reference the provider answered"

    async def test_reconcile_fails_an_attempt_that_never_reached_the_psp(self) -> None:
        """The host reserved an authorization and never called the PSP: ``reconcile`` finds nothing under its
        key, and a reconcile pass marks it Failure."""
        self._contract_require_reconcile()
        host = await self.start()
        pid, _ = await self._contract_lost_payment(host, reached=False)
        reservation = self._contract_reservation(host, pid, TxType.AUTHORIZATION, set())
        result = await self.ask(host, pid, reservation["id"])
        assert not result.found, f"reconcile found an attempt that never reached the provider: {result}"
        self.check_recorded(host, pid, reservation, None, await self.reconcile_pass(host, pid))

    async def test_reconcile_answers_an_undecided_authorization(self) -> None:
        """An authorization the host recorded as Pending or Initial (waiting for a webhook or the shopper):
        ``reconcile`` finds it under the reference the host recorded."""
        self._contract_require_reconcile()
        host = await self.start()
        resp = await host.pay(self.session(host), self.payment_body)
        body = await resp.json()
        assert resp.status == 200, body
        pid = str(body["paymentReference"])
        (auth,) = _transactions(host.payment(pid), TxType.AUTHORIZATION)
        if auth["state"] not in (TxState.INITIAL.value, TxState.PENDING.value):
            pytest.skip(f"{self.plugin} decides the authorization at once ({auth['state']})")
        recorded = TransactionResult(TxType.AUTHORIZATION, TxState(auth["state"]), None, auth.get("interactionId"))
        main = self.check_found(await self.ask(host, pid, auth["id"]), TxType.AUTHORIZATION, recorded,
                                "the undecided authorization")
        assert main is not None, "reconcile does not find an authorization the host recorded"
        self.check_recorded(host, pid, auth, main, await self.reconcile_pass(host, pid))

    async def test_reconcile_settles_a_lost_modification(self) -> None:
        """A capture (or, without captures, a refund) whose answer never reached the host: ``reconcile``
        finds it, and a reconcile pass records it once."""
        self._contract_require_reconcile()
        caps = self.capabilities
        if caps.capture and self.default_capture_method() == CaptureMethod.MANUAL:
            operation, tx_type, method = "capture", TxType.CHARGE, "capture"
        elif caps.refund:
            operation, tx_type, method = "refund", TxType.REFUND, "refund"
        else:
            pytest.skip(f"{self.plugin} declares neither capture nor refund")
        host = await self.start()
        pid = await (self.authorize(host) if operation == "capture" else self.charged(host))
        known = {t["id"] for t in _transactions(host.payment(pid))}
        amount = self.amount // 2 if (caps.partial_capture if operation == "capture" else caps.partial_refund) \
            else self.amount
        action = {"action": _OPERATIONS[operation], "amount": {"centAmount": amount, "currencyCode": self.currency}}
        with self.lose(host, method) as answers:
            resp = await host.intent(pid, action)
        assert resp.status >= 500, f"{operation} with a lost answer: {resp.status} {await resp.text()}"
        reservation = self._contract_reservation(host, pid, tx_type, known)
        made: ModificationResult = answers[0]
        did = TransactionResult(tx_type, made.outcome.state, None, made.psp_reference)
        main = self.check_found(await self.ask(host, pid, reservation["id"]), tx_type, did, f"the {operation}")
        self.check_recorded(host, pid, reservation, main, await self.reconcile_pass(host, pid))
