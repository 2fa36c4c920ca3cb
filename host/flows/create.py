"""Creating a Payment for a cart and calling the PSP: ``/payments``, ``/redeem``, ``/operations/transactions``.

One path for all three, in the templates' order with a reservation first:

1. **Check** the cart: its open amount counts what is paid *and what is in flight* (Payments on the cart
   whose authorization is still undecided), so a second attempt while the first is at the PSP is
   refused with a 409 instead of paying twice.
2. **Create** the Payment with its reservation already in it: an ``Initial`` transaction (Authorization,
   or Charge for a gift card) whose ``interfaceId`` is the attempt key. Every PSP call thus has a trace in
   commercetools before it is made, at no extra call.
3. **Attach** it to the cart with the cart version of step 1: the cart's version is the lock. If another
   attempt attached a Payment meanwhile, the 409 re-reads the cart and checks again; a refused attempt
   marks its reservation ``Failure`` (the PSP was never called).
4. **Call** the provider with the attempt key as its idempotency key, then **settle** the reservation
   with the outcome (never adding an unreserved one).

A stored payment method the request pays with is checked in step 1, on the cart just read (the cart's
customer's own, ``host.flows.stored``), before anything is written; one the shopper asked to store is
stored after step 4, only when the authorization succeeded.

An ``Idempotency-Key`` from the client makes the Payment's key, and so the attempt key, stable: a replay
finds the first Payment and answers it instead of paying again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from host import metrics
from host.commercetools.client import CommercetoolsClient
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update, now_iso
from host.commercetools.versioned import retry_on_conflict
from host.commercetools.views import CartView
from host.commercetools.wallet import Wallet
from host.errors import ApiError, PaymentInProgressError
from host.flows import durable, stored
from host.flows.rules import counts_as_paid, in_flight, open_amount
from host.ids import new_id
from host.models import Money, PaymentResult, PaymentView, TransactionResult, TxState, TxType
from host.payment_methods import StoredMethod

logger = logging.getLogger(__name__)
_ATTACH_ATTEMPTS = 4


async def cart_payments(ct: CommercetoolsClient, cart: CartView) -> list[PaymentView]:
    """The Payments attached to the cart, read concurrently."""
    return list(await asyncio.gather(*(ct.get_payment(pid) for pid in cart.payment_ids)))


async def amount_to_pay(ct: CommercetoolsClient, cart: CartView, gift_card_planned: Money | None = None,
                        abandon_after: float | None = None) -> Money:
    return open_amount(cart, await cart_payments(ct, cart), gift_card_planned, _before(abandon_after))


def _before(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.now(UTC) - timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One payment attempt: the Payment, the amount it reserves and the key of its reservation."""

    payment: PaymentView
    amount: Money
    key: str                     # the reservation's interfaceId; the PSP's idempotency key
    tx_type: TxType
    whole: bool = True           # pays the whole open amount (not an amount the client chose)
    customer_id: str | None = None
    stored: StoredMethod | None = None   # pays with this stored method (the customer's own, checked)
    store: bool = False          # store the method after a successful authorization (asked, and allowed)
    billing_address: Mapping[str, Any] | None = None    # the cart's, as read in step 1
    shipping_address: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    """A request whose ``Idempotency-Key`` already made this Payment: answer it, pay nothing."""

    payment: PaymentView


@dataclass(frozen=True, slots=True)
class Order:
    """What to create: for which instance, cart and method; ``amount`` None means the open amount."""

    instance_id: str
    payment_interface: str
    cart_id: str
    method: str
    tx_type: TxType = TxType.AUTHORIZATION
    amount: Money | None = None
    gift_card_planned: Money | None = None
    checkout_transaction_item_id: str | None = None
    idempotency_key: str | None = None       # the client's Idempotency-Key
    kind: str = "create"                      # names the attempt key: create, redeem, transaction
    abandon_after: float | None = None        # seconds after which an unfinished "action required" frees the cart
    wallet: Wallet | None = None              # the instance's stored payment methods (None: not enabled)
    stored_method_id: str | None = None       # pay with this stored method (``host.flows.stored.for_payment``)
    store_method: bool = False                # the shopper asked to store the method


def payment_key(order: Order) -> str:
    """The Payment's ``key``: derived from the client's Idempotency-Key (scoped to instance, cart and kind),
    else random. commercetools refuses a second Payment with the same key."""
    if order.idempotency_key is None:
        return f"ch-{new_id()}"
    scope = f"{order.instance_id}|{order.kind}|{order.cart_id}|{order.idempotency_key}"
    return f"ch-{hashlib.sha256(scope.encode()).hexdigest()[:40]}"


async def begin(ct: CommercetoolsClient, order: Order,
                check_amount: Callable[[Money, Money], None] | None = None) -> Attempt | Replay:
    """Steps 1-3: check the cart, create the Payment with its reservation, attach it. ``check_amount(asked,
    open)`` refuses an explicit amount (redeem, recurring) that does not fit."""
    key = payment_key(order)
    if order.idempotency_key is not None:
        replayed = await ct.get_payment_by_key(key)
        if replayed is not None:
            return Replay(replayed)
    cart = await ct.get_cart(order.cart_id)
    method = None if order.stored_method_id is None else await stored.for_payment(
        ct, order.wallet, order.payment_interface, cart, order.stored_method_id, storing=order.store_method)
    store = order.store_method and order.wallet is not None and bool(cart.customer_id)
    if order.store_method and not store:
        logger.info("storePaymentMethod ignored for cart %s: %s", cart.id, "a guest cart" if order.wallet
                    else "stored payment methods are not enabled")
    open_ = await amount_to_pay(ct, cart, order.gift_card_planned, order.abandon_after)
    amount = open_
    if order.amount is not None:
        asked = Money(order.amount.cent_amount, order.amount.currency, open_.fraction_digits)
        if check_amount is not None:
            check_amount(asked, open_)
        amount = asked
    reservation = f"{order.instance_id}:{order.kind}:{key}"
    draft: dict[str, object] = {
        "key": key,
        "amountPlanned": {"currencyCode": amount.currency, "centAmount": amount.cent_amount,
                          "fractionDigits": amount.fraction_digits},
        "paymentMethodInfo": {"paymentInterface": order.payment_interface, "method": order.method},
        "transactions": [{"type": order.tx_type.value, "amount": amount.to_ct(), "state": TxState.INITIAL.value,
                          "interfaceId": reservation, "timestamp": now_iso()}],
    }
    if order.checkout_transaction_item_id:
        draft["checkoutTransactionItemId"] = order.checkout_transaction_item_id
    if cart.customer_id:
        draft["customer"] = {"typeId": "customer", "id": cart.customer_id}
    elif cart.anonymous_id:
        draft["anonymousId"] = cart.anonymous_id
    payment, created = await ct.create_payment(draft)
    if not created and order.idempotency_key is not None:
        return Replay(payment)        # a concurrent request with the same Idempotency-Key made it
    attempt = Attempt(payment, amount, reservation, order.tx_type, whole=order.amount is None,
                      customer_id=cart.customer_id, stored=method, store=store,
                      billing_address=cart.raw.get("billingAddress"), shipping_address=cart.raw.get("shippingAddress"))
    metrics.reservation(order.instance_id, order.kind, "written")
    try:
        await _attach(ct, cart, attempt, order.gift_card_planned, _before(order.abandon_after))
    except ApiError:
        metrics.reservation(order.instance_id, order.kind, "refused")
        await refuse(ct, attempt)
        raise
    return attempt


async def _attach(ct: CommercetoolsClient, cart: CartView, attempt: Attempt, planned: Money | None,
                  abandoned_before: datetime | None) -> None:
    """``addPayment`` with the version the amount was checked on; on a 409 check again on the new cart."""
    action = [{"action": "addPayment", "payment": {"typeId": "payment", "id": attempt.payment.id}}]
    current = cart

    async def add(n: int) -> None:
        nonlocal current
        if n:
            current = await ct.get_cart(cart.id)
            if attempt.payment.id in current.payment_ids:   # our earlier try went through
                return
            others = [p for p in await cart_payments(ct, current) if p.id != attempt.payment.id]
            left = open_amount(current, others, planned, abandoned_before)
            if attempt.amount.cent_amount > left.cent_amount:
                raise PaymentInProgressError("The cart changed while paying; try again.", resource=cart.id,
                                             cartAmount=current.total.to_json())
            if attempt.whole and left.cent_amount != attempt.amount.cent_amount:
                raise PaymentInProgressError("The cart's open amount changed while paying; try again.",
                                             resource=cart.id, cartAmount=current.total.to_json())
        await ct.update_cart(cart.id, current.version, action)

    await retry_on_conflict(add, attempts=_ATTACH_ATTEMPTS, what="cart")


async def refuse(ct: CommercetoolsClient, attempt: Attempt) -> None:
    """Mark the reservation ``Failure``: the PSP was not called (or said no for sure)."""
    try:
        await apply_update(ct, attempt.payment.id, PaymentUpdate(
            [TxDraft(attempt.tx_type, TxState.FAILURE, attempt.amount, interface_id=attempt.key, settles=True)]),
            payment=attempt.payment)
    except ApiError as exc:   # the reservation stays Initial; reconciliation will mark it
        logger.warning("could not mark reservation %s failed: %s", attempt.key, exc.code)


async def settle(ct: CommercetoolsClient, attempt: Attempt, results: tuple[TransactionResult, ...],
                 psp_reference: str | None, method: str | None = None) -> PaymentView:
    """Step 4: record the provider's outcome on the reservation; extra transactions of the same result
    (the Charge of an automatic capture) are recorded beside it under keys derived from the attempt's."""
    main = next((t for t in results if t.type == attempt.tx_type), None)
    drafts: list[TxDraft] = []
    if main is None:
        logger.warning("provider reported no %s for %s: the reservation stays undecided", attempt.tx_type.value,
                       attempt.key)
    else:
        drafts.append(TxDraft(attempt.tx_type, main.state, main.amount or attempt.amount,
                              main.interaction_id or psp_reference, attempt.key, settles=True))
    for extra in results:
        if extra is not main:
            drafts.append(TxDraft(extra.type, extra.state, extra.amount or attempt.amount,
                                  extra.interaction_id or psp_reference, f"{attempt.key}:{extra.type.value}"))
    return await apply_update(ct, attempt.payment.id, PaymentUpdate(drafts, psp_reference=psp_reference,
                                                                    method=method), payment=attempt.payment)


async def run(ct: CommercetoolsClient, attempt: Attempt,
              call: Callable[[], Awaitable[PaymentResult]]) -> tuple[PaymentResult, PaymentView | None]:
    """Call the PSP for ``attempt`` and settle it. A definite refusal (a 4xx from the provider) marks the
    reservation ``Failure``; an unknown outcome (5xx, timeout, crash) leaves it ``Initial`` for the
    PSP's webhook or reconciliation: its amount stays blocked, never paid twice. The outcome's write is
    repeated within the commercetools budget (``host.flows.durable``); the Payment is None when it did not
    land (the outcome is then pending, for the reconciler to record)."""
    instance, kind = attempt.key.split(":", 2)[:2]
    try:
        result = await call()
    except ApiError as exc:
        metrics.reservation(instance, kind, "failure" if exc.status < 500 else "unknown")
        if exc.status < 500:
            await refuse(ct, attempt)
        raise
    recorded = await durable.record(
        lambda: settle(ct, attempt, result.transactions, result.psp_reference, result.method),
        budget=ct.settings.timeout, what=f"the outcome of {attempt.key}")
    main = next((t for t in result.transactions if t.type == attempt.tx_type), None)
    metrics.reservation(instance, kind, "unknown" if recorded is None or main is None else main.state.value.lower())
    return result, recorded


def replay_state(payment: PaymentView, tx_type: TxType) -> TxState:
    """The decided state of a replayed attempt's Payment; 409 while it is still undecided."""
    if counts_as_paid(payment):
        return TxState.SUCCESS
    if in_flight(payment):
        raise PaymentInProgressError("A request with this Idempotency-Key is still being processed; try again "
                                     "shortly.", paymentReference=payment.id)
    return TxState.FAILURE if payment.has(tx_type, (TxState.FAILURE,)) else TxState.INITIAL


@dataclass(frozen=True, slots=True)
class Paid:
    """What a payment attempt came to: its Payment, the provider's answer (None for a replay, which called no
    PSP), the state of its transaction, and whether commercetools shows it (``recorded`` False: the PSP
    answered, the write did not land; the reconciler records it)."""

    payment: PaymentView
    result: PaymentResult | None
    state: TxState
    recorded: bool = True


async def pay(ct: CommercetoolsClient, order: Order, call: Callable[[Attempt], Awaitable[PaymentResult]],
              check_amount: Callable[[Money, Money], None] | None = None) -> Paid:
    """The whole attempt: check, reserve, attach, call the provider (``call(attempt)``), settle."""
    attempt = await begin(ct, order, check_amount)
    if isinstance(attempt, Replay):
        return Paid(attempt.payment, None, replay_state(attempt.payment, order.tx_type))
    result, recorded = await run(ct, attempt, lambda: call(attempt))
    main = next((t for t in result.transactions if t.type == order.tx_type), None)
    state = TxState.INITIAL if main is None else main.state
    if attempt.store and result.saved is not None and state == TxState.SUCCESS:
        assert order.wallet is not None and attempt.customer_id is not None   # attempt.store says so
        await stored.keep(ct, order.wallet, attempt.customer_id, result.saved, order.method)
    return Paid(recorded or attempt.payment, result, state, recorded is not None)


__all__ = ["Attempt", "Order", "Paid", "Replay", "amount_to_pay", "begin", "cart_payments", "pay",
           "refuse", "replay_state", "run", "settle"]
