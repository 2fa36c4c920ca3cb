"""Finding an attempt's PaymentIntent at Stripe, read-only (for ``reconcile.py``).

Stripe cannot be asked by idempotency key, so an attempt is found through what the plugin writes at Stripe:

- by its id, when commercetools has it: the transaction's ``interactionId``, else the Payment's
  ``interfaceId`` (``GET /v1/payment_intents/{id}``, the latest charge expanded);
- else by ``metadata.ct_payment_id``, written at creation: a scan of ``GET /v1/payment_intents``, which
  Stripe lists newest first, so the scan stops at the first PaymentIntent created before the attempt began
  (less ``CLOCK_SLACK``). It is exact, and works wherever listing works (localstripe too);
- when the scan cannot finish within ``LIST_PAGES`` pages (a busy account, an old attempt), by Stripe's
  search, ``GET /v1/payment_intents/search?query=metadata['ct_payment_id']:'<id>'``. Search is eventually
  consistent (under a minute, up to an hour during Stripe's outages) and not offered in every country, so
  an empty answer counts as "Stripe never saw it" only for an attempt older than ``SEARCH_LAG``; a younger
  one is left for a later pass (``ProviderError`` 503).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import stripe

from host import ProviderError, ReconcileRequest

if TYPE_CHECKING:
    from stripe.params import PaymentIntentListParams

Obj = Mapping[str, Any]

#: Seconds the host's, commercetools' and Stripe's clocks may disagree by.
CLOCK_SLACK = 600
#: Pages of ``PAGE`` PaymentIntents scanned for ``ct_payment_id`` before asking Stripe's search.
LIST_PAGES = 5
PAGE = 100
#: Seconds Stripe's search index may lag behind (its documented worst case, during outages).
SEARCH_LAG = 3600


async def find_intent(client: stripe.StripeClient, request: ReconcileRequest) -> Obj | None:
    """The attempt's PaymentIntent (its charge expanded), or None when Stripe has none."""
    for known in dict.fromkeys((request.psp_reference, request.payment.interface_id)):
        if known and known.startswith("pi_"):
            pi = await retrieve(client, known)
            if pi is not None and _owner(pi) in (None, request.payment.id):
                return pi
    pi_id, complete = await _scan(client, request)
    if pi_id is None and not complete:
        pi_id = await _search(client, request)
    return await retrieve(client, pi_id) if pi_id is not None else None


async def _scan(client: stripe.StripeClient, request: ReconcileRequest) -> tuple[str | None, bool]:
    """The PaymentIntent naming this Payment among those created since its reservation; and whether the
    scan saw all of them (False: more than ``LIST_PAGES`` pages, or the reservation's time is unknown)."""
    since = _since(request)
    if since is None:
        return None, False
    params: PaymentIntentListParams = {"limit": PAGE}
    for _ in range(LIST_PAGES):
        page = await client.v1.payment_intents.list_async(params)
        for item in page.data:
            pi = item.to_dict()
            if _owner(pi) == request.payment.id:
                return str(pi["id"]), True
            if int(pi.get("created") or 0) < since - CLOCK_SLACK:
                return None, True          # newest first: all the rest are older still
        if not page.has_more or not page.data:
            return None, True
        params["starting_after"] = page.data[-1].id
    return None, False


async def _search(client: stripe.StripeClient, request: ReconcileRequest) -> str | None:
    payment_id = request.payment.id
    query = f"metadata['ct_payment_id']:'{_quoted(payment_id)}'"
    result = await client.v1.payment_intents.search_async({"query": query, "limit": 10})
    for item in result.data:
        pi = item.to_dict()
        if _owner(pi) == payment_id:
            return str(pi["id"])
    since = _since(request)
    if since is None or time.time() - since < SEARCH_LAG:
        raise ProviderError(f"Stripe's search does not know a PaymentIntent of payment {payment_id} yet, and "
                            "its index may lag; asked again on a later pass.", code="StripeSearchLag", status=503)
    return None


async def retrieve(client: stripe.StripeClient, pi_id: str) -> Obj | None:
    """The PaymentIntent with its latest charge expanded; None when Stripe does not know it (404)."""
    try:
        pi = await client.v1.payment_intents.retrieve_async(pi_id, {"expand": ["latest_charge"]})
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise
    result: dict[str, Any] = pi.to_dict()
    return result


async def payment_intent(client: stripe.StripeClient, request: ReconcileRequest) -> Obj | None:
    """The Payment's PaymentIntent, which every modification acts on (none: no modification reached Stripe)."""
    for known in (request.payment.interface_id, request.psp_reference):
        if known and known.startswith("pi_"):
            return await retrieve(client, known)
    return None


def _owner(pi: Obj) -> str | None:
    metadata = pi.get("metadata") or {}
    owner = metadata.get("ct_payment_id")
    return str(owner) if owner else None


def _since(request: ReconcileRequest) -> float | None:
    """When the attempt began (the earlier of the reservation's timestamp and the Payment's creation)."""
    moments = []
    for stamp in (request.transaction.timestamp, request.payment.created_at):
        try:
            moment = datetime.fromisoformat((stamp or "").replace("Z", "+00:00"))
        except ValueError:
            continue
        moments.append((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
    return min(moments, default=None)


def _quoted(value: str) -> str:
    """``value`` inside a single-quoted string of Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
