"""The consolidation rules under random interleavings (hypothesis stateful), against a real commercetools fake.

Run against the emulator and against @labdigital/commercetools-mock (the judge). One Payment authorized
for 60.00 EUR. Attempts to capture or refund 10/20/30 EUR are driven step by step,
in any order hypothesis chooses: reserve (sometimes with a stale version, so the 409 path runs), the PSP
decides (approved, rejected, or received and settled later), the outcome is written, the PSP's webhook
arrives (before or after the outcome, redelivered any number of times), a request is replayed with the same
key, and somebody else writes to the Payment meanwhile. After every step:

- Success charges <= authorized, Success refunds <= Success charges (nothing captured or refunded twice);
- no attempt is recorded twice: attempt keys (interfaceId) and PSP references (per type) are unique;
and at the end, once every outcome and webhook has arrived, nothing is lost: each attempt's transaction
carries what the PSP did, and the Payment's totals equal the PSP's.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings
from host.errors import AmbiguousEventError, InvalidFieldError, InvalidOperationError
from host.flows.events import record_event
from host.flows.modify import Reserved, refuse, reserve, settle
from host.flows.rules import Modification
from host.models import (
    ModificationResult,
    Money,
    Operation,
    Outcome,
    PaymentEvent,
    PaymentView,
    TransactionResult,
    TxState,
    TxType,
)
from host.providers import Capabilities
from host.testing.backends import Endpoints
from host.testing.harness import PROJECT_KEY, start_emulator
from host.testing.judge import RunningJudge

AUTHORIZED = 6000
CAPS = Capabilities(methods=frozenset({"card"}))
TYPE = {Operation.CAPTURE: TxType.CHARGE, Operation.REFUND: TxType.REFUND}


@dataclass
class Backend:
    loop: asyncio.AbstractEventLoop
    ct: CommercetoolsClient


@dataclass
class Attempt:
    operation: Operation
    amount: int
    key: str
    reserved: Reserved | None = None
    refused: bool = False                 # by the limits, or by the PSP without a reference
    psp: TxState | None = None            # what the PSP did (Pending until its webhook says more)
    final: TxState | None = None          # what the PSP's webhook will say
    reference: str | None = None
    recorded: bool = False


@pytest.fixture(params=["emulator", "ctmock"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The commercetools client of the host, on its own loop, against the emulator or ct-mock (the judge)."""
    loop = asyncio.new_event_loop()
    emulator = None
    if request.param == "emulator":
        emulator = loop.run_until_complete(start_emulator())
        endpoints = Endpoints.at(emulator.url)
    else:
        judge: RunningJudge = request.getfixturevalue("ct_judge")
        judge.reset()
        endpoints = judge.endpoints
    http = loop.run_until_complete(_session())
    ct = CommercetoolsClient(CommercetoolsSettings(
        project_key=PROJECT_KEY, client_id="connector", client_secret="connector-secret", auth_url=endpoints.auth,
        api_url=endpoints.api, session_url=endpoints.session, timeout=5), http)
    try:
        yield Backend(loop, ct)
    finally:
        loop.run_until_complete(http.close())
        if emulator is not None:
            loop.run_until_complete(emulator.server.close())
        loop.close()


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


class _Bound:
    """Enough of a ``Bound`` for ``record_event``: the instance whose Payments it may touch."""

    id = "card"
    payment_interface = "mock"


def machine(backend: Backend) -> type[RuleBasedStateMachine]:
    run = backend.loop.run_until_complete
    ct = backend.ct

    class Consolidation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            payment, _ = run(ct.create_payment({
                "amountPlanned": {"currencyCode": "EUR", "centAmount": AUTHORIZED},
                "paymentMethodInfo": {"paymentInterface": "mock", "method": "card"},
                "transactions": [{"type": "Authorization", "state": "Success", "interactionId": "auth-1",
                                  "amount": {"currencyCode": "EUR", "centAmount": AUTHORIZED}}]}))
            self.payment_id = payment.id
            self.stale: PaymentView = payment
            self.attempts: list[Attempt] = []

        def _read(self) -> PaymentView:
            return run(ct.get_payment(self.payment_id))

        @rule(operation=st.sampled_from([Operation.CAPTURE, Operation.REFUND]),
              amount=st.sampled_from([1000, 2000, 3000]), stale=st.booleans())
        def reserve(self, operation: Operation, amount: int, stale: bool) -> None:
            attempt = Attempt(operation, amount, f"card:{operation.value}:{uuid.uuid4().hex[:8]}")
            self.attempts.append(attempt)
            payment = self.stale if stale else self._read()
            try:
                attempt.reserved = run(reserve(ct, payment, Modification(operation, Money(amount, "EUR")),
                                               attempt.key, CAPS))
            except (InvalidFieldError, InvalidOperationError):
                attempt.refused = True        # over the limit: refused before any PSP call

        def _pick(self, data: st.DataObject, ready: Any) -> Attempt | None:
            candidates = [a for a in self.attempts if ready(a)]
            return data.draw(st.sampled_from(candidates)) if candidates else None

        @rule(data=st.data(), decision=st.sampled_from(["approved", "rejected", "received-ok", "received-ko"]))
        def psp_decides(self, data: st.DataObject, decision: str) -> None:
            attempt = self._pick(data, lambda a: a.reserved is not None and a.psp is None)
            if attempt is None:
                return
            attempt.reference = f"psp-{attempt.key}"
            attempt.psp = {"approved": TxState.SUCCESS, "rejected": TxState.FAILURE}.get(decision, TxState.PENDING)
            attempt.final = TxState.SUCCESS if decision in ("approved", "received-ok") else TxState.FAILURE

        @rule(data=st.data())
        def record_outcome(self, data: st.DataObject) -> None:
            attempt = self._pick(data, lambda a: a.psp is not None and not a.recorded)
            if attempt is None:
                return
            assert attempt.reserved is not None and attempt.reference is not None
            if attempt.psp == TxState.FAILURE and data.draw(st.booleans()):
                run(refuse(ct, attempt.reserved))           # a 4xx from the PSP: the host marks it failed
                attempt.refused = True                      # without a PSP reference
            else:
                outcome = {TxState.SUCCESS: Outcome.APPROVED, TxState.PENDING: Outcome.RECEIVED}.get(
                    attempt.psp, Outcome.REJECTED)
                run(settle(ct, attempt.reserved, ModificationResult(outcome, attempt.reference)))
            attempt.recorded = True

        @rule(data=st.data())
        def webhook(self, data: st.DataObject) -> None:
            attempt = self._pick(data, lambda a: a.final is not None)
            if attempt is None:
                return
            assert attempt.reference is not None and attempt.final is not None
            event = PaymentEvent((TransactionResult(TYPE[attempt.operation], attempt.final,
                                                    Money(attempt.amount, "EUR"), attempt.reference),),
                                 payment_id=self.payment_id)
            with contextlib.suppress(AmbiguousEventError):   # a 409 to the PSP: it delivers again later
                run(record_event(ct, _Bound(), event))  # type: ignore[arg-type]

        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            attempt = self._pick(data, lambda a: a.reserved is not None)
            if attempt is None:
                return
            again = run(reserve(ct, self._read(), Modification(attempt.operation, Money(attempt.amount, "EUR")),
                                attempt.key, CAPS))
            assert again.key == attempt.key and again.amount.cent_amount == attempt.amount

        @rule()
        def someone_else_writes(self) -> None:
            payment = self._read()
            run(ct.update_payment(self.payment_id, payment.version,
                                  [{"action": "setStatusInterfaceText", "interfaceText": uuid.uuid4().hex}]))

        @rule()
        def remember_a_stale_copy(self) -> None:
            self.stale = self._read()

        @invariant()
        def limits_hold_and_nothing_is_recorded_twice(self) -> None:
            payment = self._read()
            charged, refunded = payment.total(TxType.CHARGE), payment.total(TxType.REFUND)
            assert charged <= AUTHORIZED, payment.transactions
            assert refunded <= charged, payment.transactions
            keys = [t.interface_id for t in payment.transactions if t.interface_id]
            assert len(keys) == len(set(keys))
            refs = Counter((t.type, t.interaction_id) for t in payment.transactions if t.interaction_id)
            assert all(n == 1 for n in refs.values()), refs

        @precondition(lambda self: bool(self.attempts))
        @invariant()
        def every_reserved_attempt_is_one_transaction(self) -> None:
            payment = self._read()
            for attempt in self.attempts:
                if attempt.reserved is not None:
                    tx = payment.transaction(attempt.key)
                    assert tx is not None and tx.amount.cent_amount == attempt.amount

        def teardown(self) -> None:
            """Everything arrives at last; then commercetools must say what the PSP did, to the cent."""
            for attempt in self.attempts:
                if attempt.reserved is not None and attempt.psp is None:
                    attempt.psp = attempt.final = TxState.FAILURE
                    attempt.reference = f"psp-{attempt.key}"
                if attempt.psp is not None and not attempt.recorded:
                    assert attempt.reserved is not None and attempt.reference is not None
                    outcome = {TxState.SUCCESS: Outcome.APPROVED, TxState.PENDING: Outcome.RECEIVED}.get(
                        attempt.psp, Outcome.REJECTED)
                    run(settle(ct, attempt.reserved, ModificationResult(outcome, attempt.reference)))
            for attempt in self.attempts:
                if attempt.final is not None:
                    event = PaymentEvent((TransactionResult(TYPE[attempt.operation], attempt.final,
                                                            Money(attempt.amount, "EUR"), attempt.reference),),
                                         payment_id=self.payment_id)
                    run(record_event(ct, _Bound(), event))  # type: ignore[arg-type]  # nothing is ambiguous now
            payment = self._read()
            for attempt in self.attempts:
                tx = payment.transaction(attempt.key)
                if attempt.reserved is None:
                    assert tx is None
                    continue
                assert tx is not None and tx.state == attempt.final, (attempt, tx)
                assert tx.interaction_id == (None if attempt.refused else attempt.reference)
            for operation, tx_type in TYPE.items():
                psp_total = sum(a.amount for a in self.attempts
                                if a.operation == operation and a.final == TxState.SUCCESS)
                assert payment.total(tx_type) == psp_total

    return Consolidation


def test_consolidation_under_random_interleavings(backend: Backend) -> None:
    run_state_machine_as_test(machine(backend), settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))

