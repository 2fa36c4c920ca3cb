"""The fault matrix's checks catch what they are named after, and pass a sound project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from matrix.invariants import Answer, World, check

CUTOFF = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
OLD, NEW = "2030-01-01T11:59:00.000Z", "2030-01-01T12:00:30.000Z"


def tx(type_: str, state: str, cents: int, key: str | None = None, ref: str | None = None,
       at: str = OLD) -> dict[str, Any]:
    return {"type": type_, "state": state, "amount": {"centAmount": cents, "currencyCode": "EUR"},
            "interfaceId": key, "interactionId": ref, "timestamp": at}


def payment(pid: str, *txs: dict[str, Any], planned: int = 5000, interface: str = "card") -> dict[str, Any]:
    return {"id": pid, "createdAt": OLD, "amountPlanned": {"centAmount": planned, "currencyCode": "EUR"},
            "paymentMethodInfo": {"paymentInterface": interface}, "transactions": list(txs)}


def cart(cid: str, *pids: str, total: int = 5000) -> dict[str, Any]:
    return {"id": cid, "totalPrice": {"centAmount": total, "currencyCode": "EUR"},
            "paymentInfo": {"payments": [{"typeId": "payment", "id": p} for p in pids]}}


SOUND = [
    payment("p1", tx("Authorization", "Success", 5000, "c:create:1", "a-1"),
            tx("Charge", "Success", 3000, "c:capture:1", "c-1"), tx("Charge", "Failure", 2000, "c:capture:2"),
            tx("Refund", "Pending", 3000, "c:refund:1", "r-1"), tx("Charge", "Initial", 2000, "c:capture:3", at=NEW)),
    payment("p2", tx("Charge", "Success", 2000, "g:redeem:2", "gift-1"), planned=2000, interface="gift"),
    payment("p3", tx("Authorization", "Failure", 5000, "c:create:3")),       # not attached, decided Failure
]
CARTS = [cart("cart1", "p1"), cart("cart2", "p2", total=9000)]
BOOKS = [{"paymentId": "p1", "type": "Authorization", "reference": "a-1", "key": "c:create:1"},
         {"paymentId": "p1", "type": "Charge", "reference": "c-1", "key": "c:capture:1"},
         {"paymentId": "p1", "type": "Refund", "reference": "r-1", "key": "c:refund:1"},
         {"paymentId": None, "type": "Charge", "reference": "gift-1", "key": None}]
ANSWERS = [Answer("op-1", "capture", 200, {"outcome": "approved"}, "p1", "c:capture:1"),
           Answer("op-2", "capture", 502, {"errors": [{"code": "SandboxError"}]}, "p1", "c:capture:2"),
           Answer("op-3", "pay", 503, {"errors": [{"code": "ServiceUnavailable"}]}),
           Answer("op-4", "pay", None),
           Answer("op-5", "redeem", 200, {"result": "Success", "paymentReference": "p2"})]


def world(payments: list[dict[str, Any]] = SOUND, carts: list[dict[str, Any]] = CARTS,
          answers: list[Answer] = ANSWERS, books: list[dict[str, Any]] | None = BOOKS) -> World:
    return World(payments, carts, CUTOFF, answers, frozenset({"op-3"}), books, ("gift", 5000))


def test_a_sound_project_passes() -> None:
    assert check(world()) == []


def _broken(name: str, w: World) -> list[str]:
    return [v.detail for v in check(w) if v.invariant == name]


@pytest.mark.parametrize(("name", "payments", "carts"), [
    ("no over-capture", [payment("p1", tx("Authorization", "Success", 5000), tx("Charge", "Success", 3000),
                                 tx("Charge", "Pending", 2500))], [cart("c", "p1")]),
    ("no over-capture", [payment("p1", tx("Charge", "Success", 2500), planned=2000)], [cart("c", "p1")]),
    ("no over-refund", [payment("p1", tx("Authorization", "Success", 5000), tx("Charge", "Success", 3000),
                                tx("Refund", "Success", 2000), tx("Refund", "Initial", 900),
                                tx("Refund", "Pending", 1001, at=NEW))], [cart("c", "p1")]),
    ("no duplicate transaction", [payment("p1", tx("Authorization", "Success", 5000, "k"),
                                          tx("Charge", "Failure", 10, "k"))], [cart("c", "p1")]),
    ("no duplicate transaction", [payment("p1", tx("Authorization", "Success", 5000), tx("Charge", "Success", 10,
                                                                                           ref="x")),
                                  payment("p2", tx("Authorization", "Success", 5000), tx("Charge", "Pending", 10,
                                                                                           ref="x"))],
     [cart("c", "p1"), cart("d", "p2")]),
    ("no Initial older than the horizon", [payment("p1", tx("Authorization", "Initial", 5000, "k"))],
     [cart("c", "p1")]),
    ("at most one successful authorization per cart", [payment("p1", tx("Authorization", "Success", 2000)),
                                                       payment("p2", tx("Authorization", "Pending", 2000))],
     [cart("c", "p1", "p2")]),
    ("no cart paid above its total", [payment("p1", tx("Charge", "Success", 3000), planned=3000),
                                      payment("p2", tx("Authorization", "Success", 2500), planned=2500)],
     [cart("c", "p1", "p2")]),
    ("no gift card spent above its balance", [
        payment("p1", tx("Charge", "Success", 3000), planned=3000, interface="gift"),
        payment("p2", tx("Charge", "Success", 2500), tx("Refund", "Failure", 2500), planned=2500, interface="gift")],
     [cart("c", "p1"), cart("d", "p2")]),
    ("no orphan Payment", [payment("p1", tx("Authorization", "Initial", 5000, at=NEW))], []),
    ("no orphan Payment", [payment("p1")], []),
])
def test_each_check_catches_what_it_is_named_after(name: str, payments: list[dict[str, Any]],
                                                   carts: list[dict[str, Any]]) -> None:
    assert _broken(name, world(payments, carts, [], [])), name


def test_a_psp_movement_that_commercetools_does_not_show_is_caught() -> None:
    name = "no PSP authorization without its Payment"
    failed = [payment("p1", tx("Authorization", "Failure", 5000, "c:create:1"))]
    assert _broken(name, world(failed, [cart("c", "p1")], [], BOOKS[:1]))
    assert _broken(name, world([], [], [], BOOKS[:1]))                     # no Payment at all
    assert _broken(name, world(SOUND[:1], CARTS[:1], [], BOOKS[3:]))       # a redemption on no Payment
    assert _broken(name, world(books=None)) == [
        "cannot be checked: the sandbox PSP keeps no books the test can read"]


def test_a_movement_the_psp_did_not_make_is_caught() -> None:
    name = "no Payment shows what the PSP did not do"
    assert _broken(name, world(books=BOOKS[:2] + BOOKS[3:])) == [
        "Refund Pending 3000 r-1 (c:refund:1) is not in the PSP's books"]
    unknown = payment("p9", tx("Authorization", "Success", 100, None, "a-9"))
    assert _broken(name, world([*SOUND, unknown], [*CARTS, cart("c9", "p9", total=100)]))


def test_a_5xx_is_allowed_only_where_a_fault_was_injected() -> None:
    name = "no 5xx outside the injected faults"
    unexplained = [Answer("op-9", "capture", 500, {"errors": [{"code": "General"}]})]
    assert _broken(name, world(answers=unexplained))
    assert _broken(name, world(answers=ANSWERS)) == []


def test_an_answer_that_commercetools_contradicts_is_caught() -> None:
    name = "every answer is what commercetools records"
    told_done = [Answer("op-1", "capture", 200, {"outcome": "received"}, "p1", "c:capture:2")]   # Failure there
    told_failed = [Answer("op-5", "redeem", 200, {"result": "Failure", "paymentReference": "p2"})]
    assert _broken(name, world(answers=told_done))
    assert _broken(name, world(answers=told_failed))
