"""The reconciler settles what the host could not record, from the PSP's books (issue 12).

The PSP here is an in-process provider whose "books" are a dict shared by the test: what it did per
idempotency key. commercetools failures are the emulator's injected faults.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from host import (
    Capabilities,
    CreatePaymentRequest,
    ModificationRequest,
    ModificationResult,
    Outcome,
    PaymentProvider,
    PaymentResult,
    ProviderError,
    ReconcileRequest,
    ReconcileResult,
    StatusCheck,
    TransactionResult,
    TxState,
    TxType,
    hookimpl,
)
from host.flows.reconcile import reconcile_once
from host.keys import CT, ROUTER
from host.testing import HostClient, plugins_with

OUTCOME_WRITE = r"/payments/[^/]+$"


class Books(PaymentProvider):
    """A PSP that remembers what it did, by idempotency key, and can be asked about it."""

    capabilities = Capabilities(methods=frozenset({"card"}))
    done: ClassVar[dict[str, TransactionResult]] = {}
    reachable: ClassVar[bool] = True
    after_modification: ClassVar[list[Callable[[], None]]] = []   # what happens once the PSP has acted

    async def status(self) -> StatusCheck:
        return StatusCheck("books", "UP")

    async def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        tx = TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, request.amount, f"auth-{len(self.done)}")
        self.done[request.idempotency_key] = tx
        return PaymentResult(tx.interaction_id, (tx,))

    async def _modify(self, request: ModificationRequest, tx_type: TxType) -> ModificationResult:
        tx = TransactionResult(tx_type, TxState.SUCCESS, request.amount, f"mod-{len(self.done)}")
        self.done[request.idempotency_key] = tx
        for hook in self.after_modification:
            hook()
        return ModificationResult(Outcome.APPROVED, str(tx.interaction_id))

    async def capture(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, TxType.CHARGE)

    async def cancel(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, TxType.CANCEL_AUTHORIZATION)

    async def refund(self, request: ModificationRequest) -> ModificationResult:
        return await self._modify(request, TxType.REFUND)

    async def reconcile(self, request: ReconcileRequest) -> ReconcileResult:
        if not self.reachable:
            raise ProviderError("the PSP is down", status=503)
        tx = self.done.get(request.idempotency_key or "")
        return ReconcileResult(True, (tx,), tx.interaction_id) if tx else ReconcileResult.not_found()


@hookimpl
def register_providers(registry: Any) -> None:
    registry.register("books", Books)


MakeHost = Callable[..., Awaitable[HostClient]]


@pytest.fixture
async def host(connector_host: MakeHost) -> HostClient:
    Books.done.clear()
    Books.reachable = True
    Books.after_modification.clear()
    host = await connector_host("card: {plugin: books, paymentInterface: mock}\n",
                                extra="reconciler: {interval: 0}\n", plugins=plugins_with({"books": SimpleNamespace(
                                    register_providers=register_providers)}))
    await host.client.get("/operations/config", headers={"X-Session-Id": host.session("mock")})   # token cached
    return host


def _states(host: HostClient, payment_id: str) -> list[tuple[str, str, str | None]]:
    return [(t["type"], t["state"], t.get("interactionId")) for t in host.payment(payment_id)["transactions"]]


async def _pass(host: HostClient, **options: Any) -> list[Any]:
    return await reconcile_once(host.app[CT], host.app[ROUTER], horizon=options.pop("horizon", 0), **options)


async def _lost_authorization(host: HostClient) -> str:
    """The PSP authorized; commercetools refused every write of the outcome: answered 202, left Initial."""
    host.ct.emulator.inject_fault(OUTCOME_WRITE, 500, times=1000, method="POST")
    resp = await host.pay(host.session("mock"))
    host.ct.emulator.clear_faults()
    assert resp.status == 202, await resp.text()
    payment_id = str((await resp.json())["paymentReference"])
    assert _states(host, payment_id) == [("Authorization", "Initial", None)]
    return payment_id


async def test_an_authorization_the_host_could_not_record_is_recorded_from_the_psps_books(host: HostClient) -> None:
    payment_id = await _lost_authorization(host)
    [settled] = await _pass(host)
    assert (settled.after, settled.reason) == (TxState.SUCCESS, "the PSP says Success")
    assert _states(host, payment_id) == [("Authorization", "Success", "auth-0")]
    version = host.payment(payment_id)["version"]
    assert await _pass(host) == []                                   # nothing left: a second pass writes nothing
    assert host.payment(payment_id)["version"] == version


async def test_an_attempt_that_never_reached_the_psp_is_marked_failure(host: HostClient) -> None:
    # the Payment is created, then commercetools fails on every later write: the PSP is never called
    host.ct.emulator.inject_fault(r"/(carts|payments)/", 503, times=1000, method="POST")
    resp = await host.pay(host.session("mock"))
    host.ct.emulator.clear_faults()
    assert resp.status == 503
    [payment] = host.ct.payments()
    assert [t["state"] for t in payment["transactions"]] == ["Initial"]
    [settled] = await _pass(host)
    assert settled.after == TxState.FAILURE and "never reached the PSP" in settled.reason
    assert [t["state"] for t in host.payment(payment["id"])["transactions"]] == ["Failure"]
    assert Books.done == {}


async def test_a_psp_that_cannot_be_asked_leaves_the_attempt_for_the_next_pass(host: HostClient) -> None:
    payment_id = await _lost_authorization(host)
    Books.reachable = False
    [left] = await _pass(host)
    assert left.after is None and "cannot be asked now" in left.reason
    assert _states(host, payment_id) == [("Authorization", "Initial", None)]
    Books.reachable = True
    [settled] = await _pass(host)
    assert settled.after == TxState.SUCCESS


async def test_a_dry_run_asks_and_writes_nothing(host: HostClient) -> None:
    payment_id = await _lost_authorization(host)
    version = host.payment(payment_id)["version"]
    [would] = await _pass(host, dry_run=True)
    assert would.after == TxState.SUCCESS and would.line(dry_run=True).startswith("would settle payment")
    assert host.payment(payment_id)["version"] == version


async def test_a_young_attempt_is_left_alone(host: HostClient) -> None:
    payment_id = await _lost_authorization(host)
    assert await _pass(host, horizon=300) == []
    assert _states(host, payment_id) == [("Authorization", "Initial", None)]


async def test_two_reconcilers_at_once_write_once(host: HostClient, connector_host: MakeHost) -> None:
    other = await connector_host("card: {plugin: books, paymentInterface: mock}\n",
                                 extra="reconciler: {interval: 0}\n", plugins=plugins_with({"books": SimpleNamespace(
                                     register_providers=register_providers)}))
    payment_id = await _lost_authorization(host)
    version = host.payment(payment_id)["version"]
    await asyncio.gather(_pass(host), _pass(other), _pass(host))
    assert _states(host, payment_id) == [("Authorization", "Success", "auth-0")]
    assert host.payment(payment_id)["version"] == version + 1


async def test_a_capture_the_host_could_not_record_is_recorded_from_the_psps_books(host: HostClient) -> None:
    payment_id = (await (await host.pay(host.session("mock", amount=5000))).json())["paymentReference"]

    def commercetools_fails() -> None:
        host.ct.emulator.inject_fault(OUTCOME_WRITE, 500, times=1000, method="POST")

    Books.after_modification.append(commercetools_fails)      # the PSP captured; then every write fails
    resp = await host.intent(payment_id, {"action": "capturePayment",
                                          "amount": {"centAmount": 5000, "currencyCode": "EUR"}})
    host.ct.emulator.clear_faults()
    assert (await resp.json()) == {"outcome": "received"}
    [settled] = await _pass(host)
    assert settled.type == TxType.CHARGE and settled.after == TxState.SUCCESS
    assert _states(host, payment_id)[-1] == ("Charge", "Success", "mod-1")


async def test_attempts_the_psp_cannot_settle_never_hold_later_ones_back(host: HostClient) -> None:
    """Pages go by id: with a batch of 1, the first Payment left undecided does not hide the next one."""
    first, second = await _lost_authorization(host), await _lost_authorization(host)
    Books.done.pop(next(iter(Books.done)))        # the PSP forgets one: it will be marked Failure
    Books.reachable = False
    assert len(await _pass(host, batch=1)) == 2   # both looked at (and left), one page each
    Books.reachable = True
    results = await _pass(host, batch=1)
    assert sorted(s.after.value for s in results if s.after) == ["Failure", "Success"]
    assert {_states(host, p)[0][1] for p in (first, second)} == {"Failure", "Success"}
