"""Creating a Payment for a cart: shared by ``/payments``, ``/redeem`` and ``/operations/transactions``.

The order is the templates': compute the open amount, create the Payment (with the instance's
paymentInterface, the method, ``checkoutTransactionItemId``, the customer or anonymous id), attach it to
the cart, and only then call the PSP. The create carries a ``key`` so a retried call never makes two
Payments; ``addPayment`` retries on 409 with the re-read cart version, re-checking the open amount.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from host.commercetools.amounts import amount_to_pay, cart_amount, cart_payments, counts_as_paid
from host.commercetools.client import CommercetoolsClient
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update
from host.errors import ConcurrentModificationError
from host.models import Money, PaymentResult, SessionInfo, TransactionResult

_ADD_PAYMENT_ATTEMPTS = 4
#: a Payment created this recently, neither paid nor failed, counts as in flight when attempts collide
IN_FLIGHT_WINDOW = timedelta(minutes=2)


async def open_amount(ct: CommercetoolsClient, cart: Mapping[str, Any], session: SessionInfo | None) -> Money:
    planned = session.gift_card_planned_amount if session else None
    return amount_to_pay(cart, await cart_payments(ct, cart), planned)


async def new_payment(ct: CommercetoolsClient, cart: Mapping[str, Any], *, amount: Money, payment_interface: str,
                      method: str, checkout_transaction_item_id: str | None,
                      session: SessionInfo | None) -> dict[str, Any]:
    """Create the Payment and attach it to the cart; returns the Payment as created (version in hand)."""
    draft: dict[str, Any] = {
        "key": f"ch-{uuid.uuid4().hex}",
        "amountPlanned": {"currencyCode": amount.currency, "centAmount": amount.cent_amount,
                          "fractionDigits": amount.fraction_digits},
        "paymentMethodInfo": {"paymentInterface": payment_interface, "method": method},
    }
    if checkout_transaction_item_id:
        draft["checkoutTransactionItemId"] = checkout_transaction_item_id
    if cart.get("customerId"):
        draft["customer"] = {"typeId": "customer", "id": cart["customerId"]}
    elif cart.get("anonymousId"):
        draft["anonymousId"] = cart["anonymousId"]
    payment: dict[str, Any] = await ct.create_payment(draft)
    await attach(ct, cart, payment["id"], session)
    return payment


async def attach(ct: CommercetoolsClient, cart: Mapping[str, Any], payment_id: str,
                 session: SessionInfo | None) -> None:
    version = int(cart["version"])
    action = [{"action": "addPayment", "payment": {"typeId": "payment", "id": payment_id}}]
    for attempt in range(_ADD_PAYMENT_ATTEMPTS):
        try:
            await ct.update_cart(str(cart["id"]), version, action)
            return
        except ConcurrentModificationError:
            if attempt == _ADD_PAYMENT_ATTEMPTS - 1:
                raise
            cart = await ct.get_cart(str(cart["id"]))
            refs = {p["id"] for p in (cart.get("paymentInfo") or {}).get("payments") or []}
            if payment_id in refs:   # our earlier attempt went through
                return
            # another payment landed meanwhile (a double submit, another replica): is anything still open,
            # counting payments that are still being decided?
            payments = [p for p in await cart_payments(ct, cart) if p["id"] != payment_id]
            open_ = amount_to_pay(cart, payments, session.gift_card_planned_amount if session else None)
            deciding = sum(int(p["amountPlanned"]["centAmount"]) for p in payments if _in_flight(p))
            if deciding >= open_.cent_amount:
                raise ConcurrentModificationError("Another payment for this cart is in progress.",
                                                  resource=cart.get("id"),
                                                  cartAmount=cart_amount(cart).to_json()) from None
            version = int(cart["version"])


def _in_flight(payment: Mapping[str, Any]) -> bool:
    if counts_as_paid(payment) or any(t.get("state") == "Failure" for t in payment.get("transactions") or []):
        return False
    try:
        created = datetime.fromisoformat(str(payment.get("createdAt")))
    except ValueError:
        return False
    return datetime.now(UTC) - created < IN_FLIGHT_WINDOW


def drafts(results: tuple[TransactionResult, ...], default_amount: Money, reference: str | None,
           interface_id: str | None = None) -> list[TxDraft]:
    return [TxDraft(t.type, t.state, t.amount or default_amount, t.interaction_id or reference, interface_id)
            for t in results]


async def record_result(ct: CommercetoolsClient, payment: Mapping[str, Any], result: PaymentResult,
                        amount: Money) -> dict[str, Any]:
    """Record a provider's ``PaymentResult`` on the Payment just created, with the version in hand."""
    update = PaymentUpdate(transactions=drafts(result.transactions, amount, result.psp_reference),
                           psp_reference=result.psp_reference, method=result.method)
    return await apply_update(ct, str(payment["id"]), update, payment=payment)
