"""The reconciliation checks shared by both contract classes: losing an answer, asking, running a pass.

An attempt whose answer the host never recorded is made for real: the provider's method is replaced, on the
running host's provider object, by one that calls it and then raises a 504 (the PSP did it and its answer
was lost), or raises before calling it (it never reached the PSP). The host leaves its reservation
``Initial``; the check asks ``reconcile`` about it and runs one reconciliation pass, as the reconciler would
once the horizon has passed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from host.errors import NotSupportedError, ProviderError
from host.flows.reconcile import Settled, operation_of, reconcile_once
from host.keys import CT, ROUTER
from host.models import ReconcileRequest, ReconcileResult, Transaction, TransactionResult, TxState, TxType
from host.providers import Provider
from host.testing.contract._base import _Contract
from host.testing.contract._checks import _transactions
from host.testing.harness import HostClient

LOST = "ContractLostAnswer"


class _Reconciling(_Contract):
    """What the reconcile checks of ``ProviderContract`` and ``GiftCardContract`` share."""

    #: False for a provider whose calls change nothing at the PSP until somebody acts on their answer (a
    #: bank transfer only hands out a reference): an answer that never arrived then counts for nothing, and
    #: ``reconcile`` rightly finds nothing. True: ``reconcile`` must find what the provider did.
    reconcile_finds_lost_answers: ClassVar[bool] = True

    def _contract_require_reconcile(self) -> None:
        if getattr(self.provider_class, "reconcile", None) is Provider.reconcile:
            pytest.skip(f"{self.plugin} does not implement reconcile")

    @contextmanager
    def lose(self, host: HostClient, method: str, *, reached: bool = True) -> Iterator[list[Any]]:
        """Within the block, the provider's ``method`` answers 504: after doing its work (``reached``), or
        before reaching the PSP. Yields the answers it gave (and the host never saw)."""
        provider = host.provider(self.instance_id)
        original: Callable[..., Awaitable[Any]] = getattr(provider, method)
        answers: list[Any] = []

        async def lost(*args: Any, **kwargs: Any) -> Any:
            if reached:
                answers.append(await original(*args, **kwargs))
            raise ProviderError("The PSP's answer was lost (a contract test).", code=LOST, status=504)

        setattr(provider, method, lost)
        try:
            yield answers
        finally:
            delattr(provider, method)

    def _contract_new_payment(self, host: HostClient, known: set[str]) -> str:
        """The one Payment of this instance that is not in ``known``."""
        new = [p["id"] for p in host.ct.payments() if p["id"] not in known
               and (p.get("paymentMethodInfo") or {}).get("paymentInterface") == self.payment_interface]
        assert len(new) == 1, f"expected one new Payment of {self.payment_interface}, found {len(new)}"
        return str(new[0])

    def _contract_reservation(self, host: HostClient, pid: str, tx_type: TxType, known: set[str]) -> dict[str, Any]:
        new = [t for t in _transactions(host.payment(pid), tx_type) if t["id"] not in known]
        assert len(new) == 1 and new[0].get("interfaceId"), f"expected one new {tx_type.value} reservation: {new}"
        return new[0]

    async def ask(self, host: HostClient, pid: str, tx_id: str) -> ReconcileResult:
        """``reconcile`` asked about transaction ``tx_id`` as the reconciler asks."""
        payment = await host.app[CT].get_payment(pid)
        tx: Transaction = next(t for t in payment.transactions if t.id == tx_id)
        request = ReconcileRequest(payment, tx, operation_of(tx.interface_id), tx.interface_id,
                                   tx.interaction_id or payment.interface_id)
        try:
            return await host.provider(self.instance_id).reconcile(request)
        except NotSupportedError as exc:
            pytest.skip(f"{self.plugin}'s reconcile is not supported: {exc.message}")

    async def reconcile_pass(self, host: HostClient, pid: str) -> list[Settled]:
        """One pass over attempts of any age (as once the horizon has passed); what it did with ``pid``."""
        done = await reconcile_once(host.app[CT], host.app[ROUTER], horizon=0,
                                    now=datetime.now(UTC) + timedelta(seconds=1))
        return [s for s in done if s.payment_id == pid]

    def check_found(self, result: ReconcileResult, tx_type: TxType, did: TransactionResult | None,
                    what: str) -> TransactionResult | None:
        """The transaction of ``tx_type`` in ``result``; when the provider did ``did``, the same one (its
        reference, and its state or a later, decided one)."""
        if not result.found:
            assert did is None or not self.reconcile_finds_lost_answers, (
                f"reconcile does not find {what} the provider made: look it up by request.idempotency_key (the "
                f"key the PSP was called with) or request.psp_reference; set reconcile_finds_lost_answers = False "
                f"only if the call changed nothing at the PSP")
            return None
        main = next((t for t in result.transactions if t.type == tx_type), None)
        assert main is not None, (f"reconcile found {what} but answered no {tx_type.value} transaction (the "
                                  f"attempt's own transaction comes first): {result.transactions}")
        if did is not None:
            reference = main.interaction_id or result.psp_reference
            assert reference == did.interaction_id, (
                f"reconcile names {what} {reference!r}, the provider answered {did.interaction_id!r}")
            later = (TxState.SUCCESS, TxState.FAILURE) if did.state in (TxState.INITIAL, TxState.PENDING) else ()
            assert main.state == did.state or main.state in later, (
                f"reconcile says {what} is {main.state.value}, the provider answered {did.state.value}")
        return main

    def check_recorded(self, host: HostClient, pid: str, reservation: Mapping[str, Any],
                       main: TransactionResult | None, settled: list[Settled]) -> dict[str, Any]:
        """After the pass the reservation says what ``reconcile`` said (Failure when it found nothing; an
        undecided answer may since have been decided by the PSP's webhook)."""
        tx_type = TxType(reservation["type"])
        key = reservation["interfaceId"]
        mine = [t for t in _transactions(host.payment(pid), tx_type) if t.get("interfaceId") == key]
        assert len(mine) == 1, f"the attempt's {tx_type.value} is recorded {len(mine)} times: {mine}"
        expected = TxState.FAILURE if main is None else main.state
        allowed = {expected.value}
        if expected == TxState.PENDING:
            allowed |= {TxState.SUCCESS.value, TxState.FAILURE.value}
        assert mine[0]["state"] in allowed, (
            f"after a reconcile pass the {tx_type.value} is {mine[0]['state']}, reconcile said {expected.value} "
            f"(the pass said: {[s.line() for s in settled]})")
        if main is not None and main.interaction_id and expected != TxState.INITIAL:
            assert mine[0].get("interactionId") == main.interaction_id, mine[0]
        return mine[0]
