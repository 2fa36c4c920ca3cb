"""What must hold after a bad day and one reconcile pass, whatever failed where: pure checks over what
commercetools holds (Payments and carts as JSON), what the PSP's books say, and the answers clients got.

Money counts when it moved or is moving: a transaction in ``Success`` or ``Pending``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LIVE = ("Success", "Pending")
PSP_FAULT_CODES = ("SandboxError", "SandboxTimeout")

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    invariant: str
    subject: str        # a Payment or cart id, or a request's correlation id
    detail: str


@dataclass(frozen=True)
class Answer:
    """One client request and what it got. ``status`` None: the host died with the request in flight."""

    cid: str
    kind: str
    status: int | None
    body: Any = None
    payment_id: str | None = None
    attempt_key: str | None = None     # the reservation an intent with an Idempotency-Key makes
    key: str | None = None             # its Idempotency-Key

    @property
    def code(self) -> str | None:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return str(errors[0].get("code")) if errors and isinstance(errors[0], dict) else None


@dataclass
class World:
    """Everything the checks look at."""

    payments: Sequence[Json]
    carts: Sequence[Json]
    cutoff: datetime                                   # an Initial at or before it is older than the horizon
    answers: Sequence[Answer] = ()
    injected: frozenset[str] = frozenset()             # correlation ids of requests a commercetools fault hit
    books: Sequence[Json] | None = None                # the PSPs' movements (``matrix.books``); None: unknown
    gift_card: tuple[str, int] | None = None           # the paymentInterface of one gift card's Payments, its balance
    after: Sequence[Answer] = ()                       # retries of unfinished keyed requests once all is settled
    by_id: dict[str, Json] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {str(p["id"]): p for p in self.payments}


def txs(payment: Json, type_: str | None = None, states: Iterable[str] | None = None) -> list[Json]:
    wanted = tuple(states) if states is not None else None
    return [t for t in payment.get("transactions") or []
            if (type_ is None or t["type"] == type_) and (wanted is None or t["state"] in wanted)]


def total(payment: Json, type_: str, states: Iterable[str] = LIVE) -> int:
    return sum(int(t["amount"]["centAmount"]) for t in txs(payment, type_, states))


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def over_capture(world: World) -> Iterator[Violation]:
    for p in world.payments:
        charged = total(p, "Charge")
        if txs(p, "Authorization"):
            limit, what = total(p, "Authorization"), "authorized"
        else:       # a gift card: charged at once, up to the Payment's amount
            limit, what = int(p["amountPlanned"]["centAmount"]), "planned"
        if charged > limit:
            yield Violation("no over-capture", p["id"], f"charged {charged} > {what} {limit}")


def over_refund(world: World) -> Iterator[Violation]:
    for p in world.payments:
        refunded, charged = total(p, "Refund"), total(p, "Charge")
        if refunded > charged:
            yield Violation("no over-refund", p["id"], f"refunded {refunded} > charged {charged}")


def duplicates(world: World) -> Iterator[Violation]:
    keys: Counter[str] = Counter()
    refs: Counter[tuple[str, str]] = Counter()
    where: dict[object, str] = {}
    for p in world.payments:
        for t in txs(p):
            if t.get("interfaceId"):
                keys[t["interfaceId"]] += 1
                where[t["interfaceId"]] = p["id"]
            if t.get("interactionId"):
                refs[(t["type"], t["interactionId"])] += 1
                where[(t["type"], t["interactionId"])] = p["id"]
    for key, n in keys.items():
        if n > 1:
            yield Violation("no duplicate transaction", where[key], f"attempt key {key} recorded {n} times")
    for ref, n in refs.items():
        if n > 1:
            yield Violation("no duplicate transaction", where[ref], f"{ref[0]} {ref[1]} recorded {n} times")


def stale_initial(world: World) -> Iterator[Violation]:
    for p in world.payments:
        for t in txs(p, states=("Initial",)):
            if _stamp(t.get("timestamp") or p["createdAt"]) <= world.cutoff:
                what = f"{t['type']} {t['amount']['centAmount']} {t.get('interfaceId')}"
                yield Violation("no Initial older than the horizon", p["id"], f"{what} since {t.get('timestamp')}")


def unrecorded_psp_movements(world: World) -> Iterator[Violation]:
    """Every movement in the PSP's books is on its Payment (by reference, or by the attempt key it was called
    with) in Success or Pending."""
    name = "no PSP authorization without its Payment"
    if world.books is None:
        yield Violation(name, "-", "cannot be checked: the sandbox PSP keeps no books the test can read")
        return
    for moved in world.books:
        what = f"the PSP did {moved['type']} {moved['reference']}"
        candidates = world.payments
        if moved["paymentId"] is not None:
            payment = world.by_id.get(str(moved["paymentId"]))
            if payment is None:
                yield Violation(name, str(moved["paymentId"]), f"{what} for a Payment commercetools does not have")
                continue
            candidates = [payment]
        ids = {moved["reference"], moved["key"] or moved["reference"]}
        if not any(ids & {t.get("interactionId"), t.get("interfaceId")}
                   for p in candidates for t in txs(p, moved["type"], LIVE)):
            yield Violation(name, str(moved["paymentId"] or "-"), f"{what} ({moved['key']}); no Payment shows it")


def movements_the_psp_did_not_make(world: World) -> Iterator[Violation]:
    """Every Success or Pending transaction is a movement the PSP's books have."""
    if world.books is None:
        return
    made = {(m["type"], m["reference"]) for m in world.books} | {(m["type"], m["key"]) for m in world.books
                                                                 if m["key"]}
    for p in world.payments:
        for t in txs(p, states=LIVE):
            if (t["type"], t.get("interactionId")) not in made and (t["type"], t.get("interfaceId")) not in made:
                yield Violation("no Payment shows what the PSP did not do", p["id"],
                                f"{t['type']} {t['state']} {t['amount']['centAmount']} {t.get('interactionId')} "
                                f"({t.get('interfaceId')}) is not in the PSP's books")


def one_authorization_per_cart(world: World) -> Iterator[Violation]:
    for cart in world.carts:
        ids = [ref["id"] for ref in (cart.get("paymentInfo") or {}).get("payments") or []]
        payments = [world.by_id[i] for i in ids if i in world.by_id]
        live = [p["id"] for p in payments for _ in txs(p, "Authorization", LIVE)]
        if len(live) > 1:
            yield Violation("at most one successful authorization per cart", cart["id"],
                            f"{len(live)} successful authorizations: {live}")
        paid = sum(total(p, "Authorization") + (0 if txs(p, "Authorization") else total(p, "Charge"))
                   - total(p, "CancelAuthorization") for p in payments)
        cart_total = int((cart.get("taxedPrice") or {}).get("totalGross", cart["totalPrice"])["centAmount"])
        if paid > cart_total:
            yield Violation("no cart paid above its total", cart["id"], f"paid {paid} > total {cart_total}")


def gift_card_balance(world: World) -> Iterator[Violation]:
    """Every gift-card Payment of ``world.gift_card``'s interface spends the one card: together, no more than
    its balance (a refund gives back)."""
    if world.gift_card is None:
        return
    interface, balance = world.gift_card
    mine = [p for p in world.payments if (p.get("paymentMethodInfo") or {}).get("paymentInterface") == interface]
    spent = sum(total(p, "Charge") - total(p, "Refund") for p in mine)
    if spent > balance:
        yield Violation("no gift card spent above its balance", interface,
                        f"{len(mine)} Payments spent {spent} of a balance of {balance}")


def orphans(world: World) -> Iterator[Violation]:
    attached = {ref["id"] for cart in world.carts for ref in (cart.get("paymentInfo") or {}).get("payments") or []}
    for p in world.payments:
        if p["id"] in attached:
            continue
        paying = txs(p, "Authorization") + txs(p, "Charge")
        if not paying or any(t["state"] != "Failure" for t in paying):
            states = ", ".join(f"{t['type']} {t['state']}" for t in txs(p)) or "no transaction"
            yield Violation("no orphan Payment", p["id"], f"on no cart and not decided Failure ({states})")


def server_errors(world: World) -> Iterator[Violation]:
    for a in world.answers:
        if a.status is not None and a.status >= 500 and a.cid not in world.injected \
                and a.code not in PSP_FAULT_CODES:
            yield Violation("no 5xx outside the injected faults", a.cid, f"{a.kind} answered {a.status}: {a.body}")


def stuck_keys(world: World) -> Iterator[Violation]:
    """Once the day is over and reconciled, a client retrying with its Idempotency-Key gets a final answer:
    not "still being processed" (409), not a 5xx (but a PSP's fault: the PSPs keep failing at 20%)."""
    for a in world.after:
        if a.status is None or a.status == 409 or (a.status >= 500 and a.code not in PSP_FAULT_CODES):
            yield Violation("no Idempotency-Key stuck unfinished", a.cid, f"{a.kind} answered {a.status}: {a.body}")


_APPROVED = {"approved", "received"}


def told_is_recorded(world: World) -> Iterator[Violation]:
    """What a client was told went through is what the Payment shows, and what it was told failed is not."""
    for a in world.answers:
        if a.status != 200 or not isinstance(a.body, dict):
            continue
        payment = world.by_id.get(str(a.body.get("paymentReference") or a.payment_id))
        told = _told(a)
        if payment is None or told is None:
            continue
        recorded = [t for t in txs(payment) if t.get("interfaceId") == a.attempt_key] if a.attempt_key else \
            txs(payment, "Charge" if a.kind == "redeem" else "Authorization")
        live = any(t["state"] in LIVE for t in recorded)
        if told != live:
            states = [f"{t['type']} {t['state']}" for t in recorded] or "nothing"
            yield Violation("every answer is what commercetools records", a.cid,
                            f"{a.kind} told {'done' if told else 'failed'}; payment {payment['id']} shows {states}")


def _told(a: Answer) -> bool | None:
    """What the answer claims: a redeem's ``result``, an intent's ``outcome``. (A 200 to ``/payments`` claims
    nothing but the Payment: Checkout reads the outcome there.)"""
    if a.kind == "redeem":
        return a.body.get("result") == "Success"
    if a.attempt_key and "outcome" in a.body:
        return a.body["outcome"] in _APPROVED
    return None


CHECKS: Sequence[Callable[[World], Iterator[Violation]]] = (
    over_capture, over_refund, duplicates, stale_initial, unrecorded_psp_movements, movements_the_psp_did_not_make,
    one_authorization_per_cart,
    gift_card_balance, orphans, server_errors, stuck_keys, told_is_recorded)
NAMES = ("no over-capture", "no over-refund", "no duplicate transaction", "no Initial older than the horizon",
         "no PSP authorization without its Payment", "no Payment shows what the PSP did not do",
         "at most one successful authorization per cart",
         "no cart paid above its total", "no gift card spent above its balance",
         "no orphan Payment", "no 5xx outside the injected faults", "no Idempotency-Key stuck unfinished",
         "every answer is what commercetools records")


def check(world: World) -> list[Violation]:
    return [v for run in CHECKS for v in run(world)]
