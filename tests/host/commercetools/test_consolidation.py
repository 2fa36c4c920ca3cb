"""The consolidating update's matching rules (CONTRACT.md §5.0, as the host tightens them), as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from host.commercetools.payments import PaymentUpdate, TxDraft, build_actions
from host.commercetools.views import payment_view
from host.errors import AmbiguousEventError, ReservationMissingError
from host.models import Money, PaymentView, TxState, TxType

EUR = Money(1000, "EUR")
AMOUNT = {"currencyCode": "EUR", "centAmount": 1000}


def _payment(*txs: dict[str, Any]) -> PaymentView:
    return payment_view({"id": "p", "version": 3, "interfaceId": "pi_1", "paymentMethodInfo": {"method": "card"},
                         "amountPlanned": AMOUNT, "transactions": list(txs)})


def _apply(payment: PaymentView, actions: list[dict[str, Any]]) -> PaymentView:
    """What commercetools does with the actions (enough of it for these tests)."""
    txs = [dict(t) for t in payment.raw["transactions"]]
    for a in actions:
        if a["action"] == "addTransaction":
            txs.append({**a["transaction"], "id": f"t{len(txs)}"})
        target = next((t for t in txs if t.get("id") == a.get("transactionId")), None)
        if target is not None and a["action"] == "changeTransactionState":
            target["state"] = a["state"]
        if target is not None and a["action"] == "changeTransactionInteractionId":
            target["interactionId"] = a["interactionId"]
    return payment_view({**payment.raw, "transactions": txs})


def _reservation(tx_id: str, key: str, state: str = "Initial") -> dict[str, Any]:
    return {"id": tx_id, "type": "Charge", "state": state, "interfaceId": key, "amount": AMOUNT}


def test_a_webhook_that_overtakes_the_outcome_settles_the_reservation_once() -> None:
    payment = _payment(_reservation("r1", "inst:capture:k1"))
    webhook = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, interaction_id="ch_1")])
    actions = build_actions(payment, webhook)
    assert actions == [{"action": "changeTransactionState", "transactionId": "r1", "state": "Success"},
                       {"action": "changeTransactionInteractionId", "transactionId": "r1", "interactionId": "ch_1"}]
    payment = _apply(payment, actions)
    outcome = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_1", "inst:capture:k1", settles=True)])
    assert build_actions(payment, outcome) == []
    assert len(payment.transactions) == 1


def test_a_second_reservation_of_the_same_amount_is_added_not_matched() -> None:
    """The bug behind the over-capture: the second attempt's reservation matched the first one's."""
    payment = _payment(_reservation("r1", "inst:capture:k1"))
    second = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.INITIAL, EUR, interface_id="inst:capture:k2")])
    actions = build_actions(payment, second)
    assert [a["action"] for a in actions] == ["addTransaction"]
    assert actions[0]["transaction"]["interfaceId"] == "inst:capture:k2"


def test_an_outcome_settles_only_its_own_reservation() -> None:
    payment = _payment(_reservation("r1", "inst:capture:k1"), _reservation("r2", "inst:capture:k2"))
    outcome = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_2", "inst:capture:k2", settles=True)])
    assert build_actions(payment, outcome) == [
        {"action": "changeTransactionState", "transactionId": "r2", "state": "Success"},
        {"action": "changeTransactionInteractionId", "transactionId": "r2", "interactionId": "ch_2"}]


def test_an_outcome_without_its_reservation_is_never_added() -> None:
    payment = _payment(_reservation("r1", "inst:capture:k1"))
    outcome = PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_9", "inst:capture:k9", settles=True)])
    with pytest.raises(ReservationMissingError):
        build_actions(payment, outcome)


def test_an_event_that_could_settle_two_reservations_is_refused_for_redelivery() -> None:
    payment = _payment(_reservation("r1", "k1"), _reservation("r2", "k2"))
    with pytest.raises(AmbiguousEventError) as info:
        build_actions(payment, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_1")]))
    assert info.value.status == 409


def test_an_event_never_matches_a_transaction_named_by_another_reference() -> None:
    payment = _payment({**_reservation("r1", "k1", "Pending"), "interactionId": "ch_1"})
    actions = build_actions(payment, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_2")]))
    assert [a["action"] for a in actions] == ["addTransaction"]


def test_initial_without_any_id_is_dropped_and_disallowed_transitions_write_nothing() -> None:
    payment = _payment({"id": "a", "type": "Authorization", "state": "Success", "interactionId": "pi_1",
                        "amount": AMOUNT})
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.CHARGE, TxState.INITIAL, EUR)])) == []
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.PENDING, EUR, "pi_1")])) == []
    assert build_actions(payment, PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.FAILURE, EUR, "pi_1")])) == [
        {"action": "changeTransactionState", "transactionId": "a", "state": "Failure"}]


def test_interface_id_and_method_are_set_only_when_unset() -> None:
    payment = _payment()
    update = PaymentUpdate(psp_reference="other", method="invoice", payment_interface="mock")
    assert build_actions(payment, update) == [{"action": "setMethodInfoInterface", "interface": "mock"}]


def test_what_the_shopper_paid_with_replaces_the_method_once() -> None:
    payment = _payment()                                    # created with the component's name, "card" here
    assert build_actions(payment, PaymentUpdate(paid_with="klarna")) == [
        {"action": "setMethodInfoMethod", "method": "klarna"}]
    assert build_actions(payment, PaymentUpdate(paid_with="card")) == []   # already so: nothing to write
    assert build_actions(payment, PaymentUpdate(method="klarna")) == []    # ``method`` only fills an empty one


def test_an_extra_the_webhook_already_recorded_is_not_recorded_again() -> None:
    """The Charge of an automatic capture, recorded first by the PSP's webhook, then by the outcome write."""
    payment = _payment({"id": "a", "type": "Authorization", "state": "Initial", "interfaceId": "k1",
                        "amount": AMOUNT},
                       {"id": "c", "type": "Charge", "state": "Success", "interactionId": "ch_1", "amount": AMOUNT})
    outcome = PaymentUpdate([TxDraft(TxType.AUTHORIZATION, TxState.SUCCESS, EUR, "pi_1", "k1", settles=True),
                             TxDraft(TxType.CHARGE, TxState.SUCCESS, EUR, "ch_1", "k1:Charge")])
    actions = build_actions(payment, outcome)
    assert [a["action"] for a in actions] == ["changeTransactionState", "changeTransactionInteractionId",
                                              "setTransactionInterfaceId"]
    assert actions[2] == {"action": "setTransactionInterfaceId", "transactionId": "c", "interfaceId": "k1:Charge"}
