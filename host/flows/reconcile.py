"""Reconciliation: settle the attempts whose outcome the host does not know, by asking the PSP.

An attempt stays undecided (a transaction ``Initial``, or ``Pending`` with no webhook) when the host died
between the PSP call and the write of its outcome, when that write failed, when a Payment was created and
the request died before reaching the PSP, or when a PSP's webhook never came. The reconciler finds them
with a commercetools query — Payments of this host's instances that hold an ``Initial`` or ``Pending``
transaction and have not changed for the horizon — so every replica sees the same work, and settles each
transaction older than the horizon:

- to what the PSP says it did (``Provider.reconcile``), on the reservation itself (and the extra
  transactions of the same answer beside it, as the request would have);
- to ``Failure`` when the PSP has no record of an ``Initial`` attempt: it never reached the PSP (a Payment
  created but never attached, or attached and never charged, ends here too);
- not at all when the PSP cannot be asked (the provider does not implement it, or it is unreachable): it
  is reported and tried again on the next pass.

Its writes go through the consolidating update, so two reconcilers racing (two replicas, or the CLI beside
a running host) write once. The horizon must be longer than any request's PSP call (a request still at
the PSP must not be judged).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from host import metrics
from host.commercetools.client import CommercetoolsClient
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update
from host.errors import ApiError, NotSupportedError
from host.models import (
    Money,
    PaymentView,
    ReconcileRequest,
    ReconcileResult,
    Transaction,
    TxState,
    TxType,
)
from host.providers import Provider
from host.routing import Bound, Router

logger = logging.getLogger(__name__)
UNDECIDED = (TxState.INITIAL, TxState.PENDING)


@dataclass(frozen=True, slots=True)
class Settled:
    """One undecided transaction the reconciler looked at, and what it did (``after`` None: nothing)."""

    payment_id: str
    instance: str
    type: TxType
    amount: Money
    before: TxState
    after: TxState | None
    reason: str

    def line(self, dry_run: bool = False) -> str:
        verb = ("would settle" if dry_run else "settled") if self.after else "left"
        target = f" -> {self.after.value}" if self.after else ""
        return (f"{verb} payment {self.payment_id} ({self.instance}): {self.type.value} {self.amount} "
                f"{self.before.value}{target}: {self.reason}")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _older(tx: Transaction, payment: PaymentView, cutoff: datetime) -> bool:
    stamp = tx.timestamp or payment.created_at
    if not stamp:
        return True
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) <= cutoff
    except ValueError:
        return True


def operation_of(interface_id: str | None) -> str:
    """The operation an attempt key names (``<instance>:<operation>:<attempt>``), else ``unknown``."""
    parts = (interface_id or "").split(":")
    return parts[1] if len(parts) >= 3 else "unknown"


def _where(interfaces: Sequence[str], cutoff: datetime) -> str:
    names = ", ".join(json.dumps(i) for i in interfaces)
    return (f"paymentMethodInfo(paymentInterface in ({names})) and "
            f'transactions(state in ("Initial", "Pending")) and lastModifiedAt <= "{_iso(cutoff)}"')


def _drafts(tx: Transaction, result: ReconcileResult) -> tuple[TxState, list[TxDraft]]:
    main = next((t for t in result.transactions if t.type == tx.type), None)
    state = main.state if main is not None else TxState.FAILURE
    reference = (main.interaction_id if main is not None else None) or result.psp_reference
    if tx.interface_id:
        drafts = [TxDraft(tx.type, state, tx.amount, reference, tx.interface_id, settles=True)]
    else:
        drafts = [TxDraft(tx.type, state, tx.amount, reference or tx.interaction_id)]
    for extra in result.transactions:
        if extra is not main:
            key = f"{tx.interface_id}:{extra.type.value}" if tx.interface_id else None
            drafts.append(TxDraft(extra.type, extra.state, extra.amount or tx.amount,
                                  extra.interaction_id or reference, key))
    return state, drafts


async def _settle_one(ct: CommercetoolsClient, bound: Bound[Provider], payment: PaymentView, tx: Transaction,
                      dry_run: bool) -> Settled:
    def done(after: TxState | None, reason: str) -> Settled:
        return Settled(payment.id, bound.id, tx.type, tx.amount, tx.state, after, reason)

    request = ReconcileRequest(payment, tx, operation_of(tx.interface_id), tx.interface_id,
                               tx.interaction_id or payment.interface_id)
    try:
        result = await bound.provider.reconcile(request)
    except NotSupportedError:
        return done(None, f"{bound.plugin} cannot be asked; left to the PSP's webhooks")
    except ApiError as exc:
        return done(None, f"the PSP cannot be asked now ({exc.message}); tried again next pass")
    if not result.found:
        if tx.state == TxState.PENDING:
            return done(None, "the PSP has no record of a Pending transaction; left for an operator")
        state, drafts, reason = TxState.FAILURE, [], "the PSP has no record of it: it never reached the PSP"
        if tx.interface_id:
            drafts = [TxDraft(tx.type, TxState.FAILURE, tx.amount, interface_id=tx.interface_id, settles=True)]
    else:
        state, drafts = _drafts(tx, result)
        reason = f"the PSP says {state.value}"
        learnt = drafts[0].interaction_id and not tx.interaction_id
        if state == tx.state and not learnt:
            return done(None, f"the PSP says it is still {state.value}")
        if state == tx.state:
            reason = f"the PSP says it is still {state.value}; its reference {drafts[0].interaction_id} recorded"
    if not drafts:
        return done(None, "a transaction without an attempt key or PSP reference cannot be addressed")
    if not dry_run:
        await apply_update(ct, payment.id, PaymentUpdate(drafts, psp_reference=result.psp_reference),
                           payment=payment)
    return done(state, reason)


async def reconcile_once(ct: CommercetoolsClient, router: Router, *, horizon: float, batch: int = 100,
                         pages: int = 10, dry_run: bool = False, now: datetime | None = None) -> list[Settled]:
    """One pass: every undecided transaction older than ``horizon`` seconds on this host's Payments, ``batch``
    Payments a page, at most ``pages`` pages (oldest first; every Payment's turn comes)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=horizon)
    enabled = {b.payment_interface: b for b in router.enabled}
    if not enabled:
        return []
    out: list[Settled] = []
    where = _where(sorted(enabled), cutoff)
    offset, seen = 0, set()
    for _ in range(pages):
        # a Payment written to drops out of the query (it changed just now); one left as it was stays, so
        # the next page starts after those: Payments the PSP cannot settle never hold later ones back
        payments = await ct.query_payments(where, limit=batch, offset=offset, sort="createdAt asc")
        for payment in payments:
            bound = enabled.get(payment.payment_interface or "")
            if payment.id in seen or bound is None:
                offset += 1
                continue
            seen.add(payment.id)
            settled = await _settle_payment(ct, bound, payment, cutoff, dry_run)
            out += settled
            if dry_run or not any(s.after is not None for s in settled):
                offset += 1
        if len(payments) < batch:
            break
    return out


async def _settle_payment(ct: CommercetoolsClient, bound: Bound[Provider], payment: PaymentView, cutoff: datetime,
                          dry_run: bool) -> list[Settled]:
    out: list[Settled] = []
    for tx in payment.transactions:
        if tx.state in UNDECIDED and _older(tx, payment, cutoff):
            settled = await _settle_one(ct, bound, payment, tx, dry_run)
            out.append(settled)
            if dry_run:
                continue
            metrics.reconciliation(bound.id, operation_of(tx.interface_id),
                                   settled.after.value.lower() if settled.after else "unchanged")
            if settled.after is not None:
                payment = await ct.get_payment(payment.id)   # the next transaction writes on the new version
    return out


@asynccontextmanager
async def running(ct: CommercetoolsClient, router: Router, *, interval: float, horizon: float,
                  batch: int) -> AsyncIterator[None]:
    """The in-process reconciler: a pass every ``interval`` seconds (jittered, so replicas spread out)."""
    if interval <= 0:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not crypto
            started = time.monotonic()
            try:
                results = await reconcile_once(ct, router, horizon=horizon, batch=batch)
            except Exception:   # a pass that fails is tried again; the host keeps serving
                logger.exception("reconciler pass failed")
                metrics.reconciler_run("error", duration=time.monotonic() - started)
                continue
            for settled in results:
                (logger.info if settled.after else logger.warning)("reconciler: %s", settled.line())
            metrics.reconciler_run("ok", settled=sum(1 for s in results if s.after),
                                   duration=time.monotonic() - started)

    task = asyncio.create_task(loop(), name="reconciler")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
