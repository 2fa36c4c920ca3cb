"""The Stripe Customer of a commercetools customer, and ``GET /customer/session``.

**Where the id lives.** As the official connector keeps it: the custom field ``stripeConnector_stripeCustomerId``
on the commercetools Customer, Type ``payment-connector-stripe-customer-id`` (created by the host when missing,
``context.customers``). A customer the official connector linked is therefore found again, and one linked here
is found by the official connector. Plugin versions before the custom field kept the id in the instance's store
(``context.store``, key ``customer:<ct id>``): it is still read, and moved to the custom field when it is valid.
A cart whose customer cannot be read (or whose Customer has a merchant Type without the field) keeps using the
store, so paying and storing work all the same.

**Resolving** (STRIPE.md §1.4), each candidate checked with Stripe (``customers.retrieve``: not deleted, and
``metadata.ct_customer_id`` is this customer, so an id from the browser or a stale record can never hand one
shopper's Customer to another): ① the ``stripeCustomerId`` the enabler passes to ``/customer/session``, ② the
custom field, ③ the store of older versions. ④ Otherwise a new Customer is created (email, name,
``metadata.ct_customer_id``) under an idempotency key derived from the instance, the customer and the candidate
that failed, so replicas creating at once get the same Customer, and a deleted one is replaced once. Stripe's
customer search (the official ③) is not used: search is eventually consistent and not in every account.

**``GET /customer/session``** (session auth): 204 without a body for a guest cart or a customer that cannot be
read; otherwise ``{"stripeCustomerId", "ephemeralKey", "sessionId"}`` from an ephemeral key (pinned to this
instance's API version) and a Customer Session whose Payment Element features are ``savedPaymentMethodsConfig``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import stripe
from aiohttp import web

from host import ApiError, CustomerView, CustomField, ProviderContext, Route, RouteContext
from plugins.stripe.errors import fail

if TYPE_CHECKING:
    from stripe.params import CustomerCreateParams, CustomerSessionCreateParams

from plugins.stripe.settings import StripeSettings

#: The official connector's Type and field (STRIPE.md §5 step 5).
STRIPE_CUSTOMER_FIELD = CustomField(type_key="payment-connector-stripe-customer-id",
                                    name="stripeConnector_stripeCustomerId", label="Stripe Customer ID")
_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]{1,250}\Z")


def _store_key(ct_customer_id: str) -> str:
    return f"customer:{ct_customer_id}"


class StripeCustomers:
    """Find or create the Stripe Customer of a commercetools customer (see the module docstring)."""

    def __init__(self, client: stripe.StripeClient, context: ProviderContext, log: logging.Logger) -> None:
        self.client, self.context, self.log = client, context, log

    async def read(self, ct_customer_id: str) -> CustomerView | None:
        """The commercetools customer; None when it cannot be read: none with this id, or commercetools refuses
        (an API client without ``manage_customers``): then the store keeps the Stripe id, payments go on."""
        try:
            return await self.context.customers.get(ct_customer_id)
        except ApiError as exc:
            if exc.status >= 500:
                raise
            self.log.warning("commercetools customer not readable (%s %s): the Stripe customer id is kept in the "
                             "instance's store", exc.status, exc.code)
            return None

    async def known(self, ct_customer_id: str, view: CustomerView | None = None) -> str | None:
        """The valid Stripe Customer on the custom field, or None: nothing is created, and the store of older
        versions is not read (it costs a commercetools call on every payment; ``of`` moves it)."""
        found, _ = await self._resolve(ct_customer_id, view, None, legacy=False)
        return found

    async def of(self, ct_customer_id: str, view: CustomerView | None = None, requested: str | None = None) -> str:
        """The Stripe Customer of this customer, created and recorded when there is no valid one."""
        view = view if view is not None else await self.read(ct_customer_id)
        found, failed = await self._resolve(ct_customer_id, view, requested)
        if found is not None:
            return found
        params: dict[str, Any] = {"metadata": {"ct_customer_id": ct_customer_id}}
        if view is not None:
            if view.email:
                params["email"] = view.email
            name = " ".join(p for p in (view.first_name, view.last_name) if p)
            if name:
                params["name"] = name
        key = f"{self.context.instance_id}:customer:{ct_customer_id}:{failed or 'new'}"
        try:
            created = await self.client.v1.customers.create_async(
                cast_params(params), {"idempotency_key": key})
        except stripe.StripeError as exc:
            fail(self.log, exc, "customer creation", "a commercetools customer")
        await self._record(ct_customer_id, view, created.id)
        self.log.info("Stripe customer %s created for a commercetools customer", created.id)
        return str(created.id)

    async def _resolve(self, ct_customer_id: str, view: CustomerView | None, requested: str | None, *,
                       legacy: bool = True) -> tuple[str | None, str | None]:
        """(the first valid candidate, else None; the last invalid one, for the creation key)."""
        if view is None:
            view = await self.read(ct_customer_id)
        on_field = view.fields.get(STRIPE_CUSTOMER_FIELD.name) if view is not None else None
        candidates: list[object] = [requested, on_field]
        if on_field is None and legacy:      # plugin versions before the custom field kept it in the store
            stored = await self.context.store.get(_store_key(ct_customer_id))
            candidates.append(stored.value.get("id") if stored is not None and isinstance(stored.value, dict)
                              else None)
        failed: str | None = None
        for candidate in dict.fromkeys(candidates):
            if not isinstance(candidate, str) or not _CUSTOMER_ID.match(candidate):
                continue
            if await self._valid(candidate, ct_customer_id):
                if candidate != on_field and (view is not None or candidate == requested):   # else: kept already
                    await self._record(ct_customer_id, view, candidate)
                return candidate, failed
            failed = candidate
        return None, failed

    async def _record(self, ct_customer_id: str, view: CustomerView | None, stripe_id: str) -> None:
        """On the custom field; in the instance's store when the customer cannot carry it."""
        if view is not None:
            try:
                await self.context.customers.set_field(ct_customer_id, STRIPE_CUSTOMER_FIELD, stripe_id)
                return
            except ApiError as exc:       # no such customer, or a merchant's Type without the field
                if exc.status >= 500:
                    raise
                self.log.warning("Stripe customer %s kept in the instance's store: %s", stripe_id, exc.message)
        await self.context.store.update(_store_key(ct_customer_id), lambda _: {"id": stripe_id})

    async def _valid(self, customer_id: str, ct_customer_id: str) -> bool:
        try:
            customer = (await self.client.v1.customers.retrieve_async(customer_id)).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return False
            fail(self.log, exc, "customer lookup", customer_id)
        except stripe.StripeError as exc:
            fail(self.log, exc, "customer lookup", customer_id)
        metadata = customer.get("metadata") or {}
        return not customer.get("deleted") and metadata.get("ct_customer_id") == ct_customer_id


def cast_params(params: dict[str, Any]) -> CustomerCreateParams:
    return params  # type: ignore[return-value]


def customer_session_route(settings: StripeSettings, started: Callable[[], StripeCustomers],
                           log: logging.Logger) -> Route:
    """``GET /customer/session`` (see the module docstring); ``started()`` gives the instance's customers once
    it has started (routes are built before)."""

    async def customer_session(ctx: RouteContext) -> web.StreamResponse:
        customers = started()
        client = customers.client
        ct_customer_id = await ctx.customer_id()
        view = await customers.read(ct_customer_id) if ct_customer_id else None
        if ct_customer_id is None or view is None:
            return web.Response(status=204)
        requested = ctx.request.query.get("stripeCustomerId")
        stripe_id = await customers.of(ct_customer_id, view, requested)
        try:
            key = await client.v1.ephemeral_keys.create_async(
                {"customer": stripe_id}, {"stripe_version": settings.api_version})
            params: CustomerSessionCreateParams = {"customer": stripe_id, "components": {"payment_element": {
                "enabled": True, "features": dict(settings.saved_payment_methods_config)}}}  # type: ignore[typeddict-item]
            session = await client.v1.customer_sessions.create_async(params)
        except stripe.StripeError as exc:
            fail(log, exc, "customer session", stripe_id)
        return web.json_response({"stripeCustomerId": stripe_id, "ephemeralKey": key.secret,
                                  "sessionId": session.client_secret})

    return Route("GET", "/customer/session", customer_session, auth="session")
