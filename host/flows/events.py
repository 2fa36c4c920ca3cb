"""PSP events (webhooks, hosted-page returns) recorded on their Payment.

The Payment is found by the commercetools id the PSP echoed back, else by ``interfaceId``; a Payment of
another instance is never touched. Each event goes through the consolidating update, so a redelivery
writes nothing, and an event that overtakes the host's own outcome write settles the reservation
instead of adding a second transaction. The PSP is the authority on what it did: an event it reports is
recorded even when it breaks a limit the host enforces on its own requests (a refund above the charged
amount made in the PSP's dashboard), and the host flags it in the log at ERROR. A payment method the event
says the PSP stored for the shopper is kept once the Payment is authorized (``host.flows.stored``).
"""

from __future__ import annotations

import logging

from host.commercetools.client import CommercetoolsClient, predicate
from host.commercetools.payments import PaymentUpdate, TxDraft, apply_update
from host.errors import ResourceNotFoundError
from host.flows import stored
from host.flows.rules import overdrawn
from host.models import PaymentEvent, PaymentView
from host.providers import Provider
from host.routing import Bound

logger = logging.getLogger(__name__)


async def find_payment(ct: CommercetoolsClient, bound: Bound[Provider], event: PaymentEvent) -> PaymentView | None:
    payment: PaymentView | None = None
    if event.payment_id:
        try:
            payment = await ct.get_payment(event.payment_id)
        except ResourceNotFoundError:
            payment = None
    if payment is None and event.psp_reference:
        matches = await ct.query_payments(predicate("interfaceId={ref}", ref=event.psp_reference), limit=5)
        payment = next((p for p in matches if p.payment_interface == bound.payment_interface), None)
    if payment is not None and payment.payment_interface != bound.payment_interface:
        logger.warning("event for payment %s of another integration ignored by %s", payment.id, bound.id)
        return None
    return payment


async def record_event(ct: CommercetoolsClient, bound: Bound[Provider], event: PaymentEvent) -> PaymentView | None:
    """Record ``event`` on its Payment; None when there is no such Payment of this instance."""
    payment = await find_payment(ct, bound, event)
    if payment is None:
        logger.info("no payment for event of %s (payment %s, reference %s); acknowledged", bound.id,
                    event.payment_id, event.psp_reference)
        return None
    planned = payment.amount_planned
    drafts = [TxDraft(t.type, t.state, t.amount or planned, t.interaction_id or event.psp_reference)
              for t in event.transactions]
    update = PaymentUpdate(drafts, psp_reference=event.psp_reference, method=event.method)
    # the Payment was just read: its version is in hand
    recorded = await apply_update(ct, payment.id, update, payment=payment)
    problem = overdrawn(recorded)
    if problem and not overdrawn(payment):
        logger.error("payment %s: an event of %s (reference %s) leaves it %s; check the PSP's records",
                     payment.id, bound.id, event.psp_reference, problem)
    if event.saved is not None:
        await stored.keep_from_event(ct, bound.wallet, recorded, event.saved)
    return recorded
