"""The consolidating update's matching rules (CONTRACT.md §5.0), as pure functions."""

from __future__ import annotations

from typing import Any

from host.commercetools.payments import PaymentUpdate, TxDraft, build_actions
from host.models import Money, TxState, TxType

EUR = Money(1000, "EUR")


def _payment(*txs: dict[str, Any]) -> dict[str, Any]:
    return {"id": "p", "version": 3, "interfaceId": "pi_1", "paymentMethodInfo": {"method": "card"},
            "transactions": list(txs)}


def _apply(payment: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """What commercetools does with the actions (enough of it for these tests)."""
    txs = [dict(t) for t in payment["transactions"]]
    for a in actions:
        if a["action"] == "addTransaction":
            txs.append({**a["transaction"], "id": f"t{len(txs)}"})
        target = next((t for t in txs if t.get("id") == a.get("transactionId")), None)
        if target is not None and a["action"] == "changeTransactionState":
            target["state"] = a["state"]
        if target is not None and a["action"] == "changeTransactionInteractionId":
            target["interactionId"] = a["interactionId"]
    return {**payment, "transactions": txs}


def test_a_webhook_that_overtakes_the_outcome_settles_the_reservation_once() -> None:
    reservation = {"id": "r1", "type": "Charge", "state": "Initial", "interfaceId": "inst:capture:k1",
                   "amount": {"currencyCode": "EUR", "centAmount": 1000}}
    payment = _payment(reservation)
    webhook = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, interaction_id="ch_1")])
    actions = build_actions(payment, webhook)
    assert actions == [{"action": "changeTransactionState", "transactionId": "r1", "state": "Success"},
                       {"action": "changeTransactionInteractionId", "transactionId": "r1", "interactionId": "ch_1"}]
    payment = _apply(payment, actions)
    outcome = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_1", "inst:capture:k1")])
    assert build_actions(payment, outcome) == []
    assert len(payment["transactions"]) == 1


def test_two_reservations_of_the_same_amount_are_not_guessed_between() -> None:
    r = {"type": "Charge", "state": "Initial", "amount": {"currencyCode": "EUR", "centAmount": 1000}}
    payment = _payment({**r, "id": "r1", "interfaceId": "k1"}, {**r, "id": "r2", "interfaceId": "k2"})
    actions = build_actions(payment, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_1")]))
    assert [a["action"] for a in actions] == ["addTransaction"]


def test_initial_without_any_id_is_dropped_and_disallowed_transitions_write_nothing() -> None:
    payment = _payment({"id": "a", "type": "Authorization", "state": "Success", "interactionId": "pi_1",
                        "amount": {"currencyCode": "EUR", "centAmount": 1000}})
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.INITIAL, EUR)])) == []
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.PENDING, EUR, "pi_1")])) == []
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.FAILURE, EUR, "pi_1")])) == [
        {"action": "changeTransactionState", "transactionId": "a", "state": "Failure"}]


def test_interface_id_and_method_are_set_only_when_unset() -> None:
    payment = _payment()
    update = PaymentUpdate(psp_reference="other", method="invoice", payment_interface="mock")
    assert build_actions(payment, update) == [{"action": "setMethodInfoInterface", "interface": "mock"}]
