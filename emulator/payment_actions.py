"""Payment update actions and the TransactionDraft, with commercetools' validation.

Each action changes a *copy* of the payment; :func:`emulator.updates.apply_actions` raises on the first invalid
action, so the caller stores either every change of a request or none. Rules worth knowing:

* ``setInterfaceId`` and ``setMethodInfoInterface`` are write-once (a different value → 400
  ``InvalidOperation``; the same value is accepted).
* A transaction's ``interfaceId`` is unique within the payment (400 ``DuplicateField``).
* ``changeTransactionState`` accepts any transition except back to ``Initial``.
* Money must be in the payment's currency (400 ``InvalidField``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .clock import iso, new_id, parse_iso
from .errors import duplicate_field, invalid_json, invalid_operation
from .fields import (
    JsonObject,
    as_object,
    custom_fields,
    opt_object,
    opt_reference,
    opt_str,
    path_of,
    req_enum,
    req_object,
    req_str,
)
from .money import parse_money

if TYPE_CHECKING:
    from .core import Emulator

TRANSACTION_TYPES = ("Authorization", "CancelAuthorization", "Charge", "Chargeback", "Refund")
TRANSACTION_STATES = ("Initial", "Pending", "Success", "Failure")
_A = "actions"


def _timestamp(draft: JsonObject, path: str, required: bool = False) -> str | None:
    text = req_str(draft, "timestamp", path) if required else opt_str(draft, "timestamp", path)
    if text is None:
        return None
    try:
        return iso(parse_iso(text))
    except (ValueError, OverflowError, OSError):
        raise invalid_json(f"{path_of(path, 'timestamp')}: invalid date-time '{text}'") from None


def _check_tx_interface_id(payment: JsonObject, interface_id: str, tx_id: str | None) -> None:
    for tx in payment["transactions"]:
        if tx["id"] != tx_id and tx.get("interfaceId") == interface_id:
            raise duplicate_field("interfaceId", interface_id)


def build_transaction(emu: Emulator, value: Any, payment: JsonObject, path: str) -> JsonObject:
    """A Transaction from a TransactionDraft, validated against ``payment``."""
    draft = as_object(value, path)
    tx_type = req_enum(draft, "type", TRANSACTION_TYPES, path)
    currency = payment["amountPlanned"]["currencyCode"]
    amount = parse_money(req_object(draft, "amount", path), path_of(path, "amount"), currency)
    state = "Initial"
    if draft.get("state") is not None:
        state = req_enum(draft, "state", TRANSACTION_STATES, path)
    tx: JsonObject = {
        "id": new_id(),
        "timestamp": _timestamp(draft, path) or emu.timestamp(),
        "type": tx_type,
        "amount": amount,
    }
    interaction_id = opt_str(draft, "interactionId", path)
    if interaction_id is not None:
        tx["interactionId"] = interaction_id
    interface_id = opt_str(draft, "interfaceId", path)
    if interface_id is not None:
        _check_tx_interface_id(payment, interface_id, None)
        tx["interfaceId"] = interface_id
    tx["state"] = state
    custom = custom_fields(draft.get("custom"), path_of(path, "custom"))
    if custom is not None:
        tx["custom"] = custom
    return tx


def _transaction(payment: JsonObject, action: JsonObject) -> JsonObject:
    tx_id = req_str(action, "transactionId", _A)
    for tx in payment["transactions"]:
        if tx["id"] == tx_id:
            found: JsonObject = tx
            return found
    raise invalid_operation(f"The payment has no transaction with ID '{tx_id}'.")


def _put(target: JsonObject, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _set_custom_type(target: JsonObject, action: JsonObject) -> None:
    _put(target, "custom", custom_fields(action, _A) if action.get("type") is not None else None)


def _set_custom_field(target: JsonObject, action: JsonObject) -> None:
    name = req_str(action, "name", _A)
    custom = target.get("custom")
    if custom is None:
        raise invalid_operation("This resource has no custom type set.")
    _put(custom["fields"], name, action.get("value"))


Action = Callable[["Emulator", JsonObject, JsonObject], None]


def _add_transaction(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    draft = req_object(a, "transaction", _A)
    p["transactions"].append(build_transaction(emu, draft, p, "actions -> transaction"))


def _change_transaction_state(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    tx = _transaction(p, a)
    state = req_enum(a, "state", TRANSACTION_STATES, _A)
    if state == "Initial" and tx["state"] != "Initial":
        raise invalid_operation(f"The transaction state cannot change from '{tx['state']}' to 'Initial'.")
    tx["state"] = state


def _change_transaction_interaction_id(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    _transaction(p, a)["interactionId"] = req_str(a, "interactionId", _A)


def _set_transaction_interface_id(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    tx = _transaction(p, a)
    interface_id = opt_str(a, "interfaceId", _A)
    if interface_id is not None:
        _check_tx_interface_id(p, interface_id, tx["id"])
    _put(tx, "interfaceId", interface_id)


def _change_transaction_timestamp(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    _transaction(p, a)["timestamp"] = _timestamp(a, _A, required=True)


def _set_interface_id(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    interface_id = req_str(a, "interfaceId", _A)
    if p.get("interfaceId") not in (None, interface_id):
        raise invalid_operation("The interfaceId of a payment cannot be changed once it is set.")
    p["interfaceId"] = interface_id


def _set_method_info_interface(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    interface = req_str(a, "interface", _A)
    if p["paymentMethodInfo"].get("paymentInterface") not in (None, interface):
        raise invalid_operation("The paymentInterface of a payment cannot be changed once set.")
    p["paymentMethodInfo"]["paymentInterface"] = interface


def _method_info_setter(key: str, read: Callable[[JsonObject], Any]) -> Action:
    def apply(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
        _put(p["paymentMethodInfo"], key, read(a))

    return apply


def _token(a: JsonObject) -> JsonObject | None:
    token = opt_object(a, "token", _A)
    return None if token is None else {"value": req_str(token, "value", "actions -> token")}


def _payment_setter(key: str, read: Callable[[JsonObject], Any]) -> Action:
    def apply(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
        _put(p, key, read(a))

    return apply


def _status_setter(key: str) -> Action:
    def apply(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
        _put(p["paymentStatus"], key, opt_str(a, key, _A))

    return apply


def _add_interface_interaction(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    interaction = custom_fields(a, _A)
    assert interaction is not None
    p["interfaceInteractions"].append(interaction)


def _change_amount_planned(emu: Emulator, p: JsonObject, a: JsonObject) -> None:
    currency = p["amountPlanned"]["currencyCode"]
    p["amountPlanned"] = parse_money(req_object(a, "amount", _A), "actions -> amount", currency)


ACTIONS: dict[str, Action] = {
    "addTransaction": _add_transaction,
    "changeTransactionState": _change_transaction_state,
    "changeTransactionInteractionId": _change_transaction_interaction_id,
    "setTransactionInterfaceId": _set_transaction_interface_id,
    "changeTransactionTimestamp": _change_transaction_timestamp,
    "setTransactionCustomType": lambda e, p, a: _set_custom_type(_transaction(p, a), a),
    "setTransactionCustomField": lambda e, p, a: _set_custom_field(_transaction(p, a), a),
    "setInterfaceId": _set_interface_id,
    "setMethodInfoInterface": _set_method_info_interface,
    "setMethodInfoMethod": _method_info_setter("method", lambda a: opt_str(a, "method", _A)),
    "setMethodInfoName": _method_info_setter("name", lambda a: opt_object(a, "name", _A)),
    "setMethodInfoToken": _method_info_setter("token", _token),
    "setMethodInfoInterfaceAccount": _method_info_setter(
        "interfaceAccount", lambda a: opt_str(a, "interfaceAccount", _A)
    ),
    "setMethodInfoCustomType": lambda e, p, a: _set_custom_type(p["paymentMethodInfo"], a),
    "setMethodInfoCustomField": lambda e, p, a: _set_custom_field(p["paymentMethodInfo"], a),
    "setKey": _payment_setter("key", lambda a: opt_str(a, "key", _A)),
    "setCustomType": lambda e, p, a: _set_custom_type(p, a),
    "setCustomField": lambda e, p, a: _set_custom_field(p, a),
    "addInterfaceInteraction": _add_interface_interaction,
    "setStatusInterfaceCode": _status_setter("interfaceCode"),
    "setStatusInterfaceText": _status_setter("interfaceText"),
    "changeAmountPlanned": _change_amount_planned,
    "setAnonymousId": _payment_setter("anonymousId", lambda a: opt_str(a, "anonymousId", _A)),
    "setCustomer": _payment_setter("customer", lambda a: opt_reference(a, "customer", "customer", _A)),
}


