"""The :class:`Emulator`: state of one emulated project plus the helpers tests call directly.

Every helper does what the matching HTTP endpoint does (same validation, same stored shapes),
without HTTP. ``clock`` is the time source of every expiry and timestamp; tests may replace it
to move time forward instead of sleeping.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from . import carts, customers, oauth, sessions, shipping, types
from .clock import iso
from .config import EmulatorConfig
from .errors import OAuthError
from .faults import Faults, Rule
from .fields import JsonObject
from .store import CARTS, CUSTOM_OBJECTS, CUSTOMERS, DATA_KINDS, PAYMENT_METHODS, PAYMENTS, ZONES, Store


class Emulator:
    """One emulated commercetools project: data, issued tokens, call stats and faults."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.store = Store(self.config.sqlite_path)
        self.stats: Counter[str] = Counter()
        self.faults = Faults()
        self.clock: Callable[[], float] = time.time

    def now(self) -> float:
        """The current POSIX time according to :attr:`clock`."""
        return self.clock()

    def timestamp(self) -> str:
        """The current time as a commercetools timestamp."""
        return iso(self.now())

    # -- data helpers (same rules as the HTTP API) ---------------------------------------------

    def create_cart(
        self,
        currency: str = "EUR",
        line_items: list[dict[str, Any]] | None = None,
        custom_line_items: list[dict[str, Any]] | None = None,
        tax_rate: float | None = None,
        customer_id: str | None = None,
        anonymous_id: str | None = None,
        *,
        tax_included_in_price: bool = False,
    ) -> JsonObject:
        """Create a cart. Lines are ``{"name", "centAmount", "quantity"}`` (unit price in cents;
        the HTTP draft forms ``price``/``money`` are accepted too)."""
        draft: JsonObject = {
            "currency": currency,
            "lineItems": line_items or [],
            "customLineItems": custom_line_items or [],
            "taxIncludedInPrice": tax_included_in_price,
        }
        optional = {"taxRate": tax_rate, "customerId": customer_id, "anonymousId": anonymous_id}
        draft |= {k: v for k, v in optional.items() if v is not None}
        return copy.deepcopy(carts.create_cart(self, draft))

    def create_shipping_method(self, name: str, country: str, cent_amount: int, currency: str = "EUR", *,
                               free_above: int | None = None) -> JsonObject:
        """A shipping method to ``country`` at ``cent_amount``, in the zone of that country (made when missing:
        in commercetools a location belongs to one zone only)."""
        zone = next((z for z in self.store.all(ZONES) if {"country": country} in z["locations"]), None) \
            or shipping.create_zone(self, {"name": f"Zone {country}", "locations": [{"country": country}]})
        rate: JsonObject = {"price": {"currencyCode": currency, "centAmount": cent_amount}}
        if free_above is not None:
            rate["freeAbove"] = {"currencyCode": currency, "centAmount": free_above}
        return copy.deepcopy(shipping.create_shipping_method(self, {
            "name": name, "taxCategory": {"typeId": "tax-category", "id": "standard"},
            "zoneRates": [{"zone": {"typeId": "zone", "id": zone["id"]}, "shippingRates": [rate]}]}))

    def create_session(self, cart_id: str, metadata: dict[str, Any] | None = None) -> JsonObject:
        """Create an ACTIVE session for ``cart_id`` (read shape)."""
        return copy.deepcopy(sessions.create_session(self, cart_id, metadata))

    def expire_session(self, session_id: str) -> None:
        """Make a session read as ``EXPIRED`` from now on."""
        sessions.expire_session(self, session_id)

    def issue_token(self, client_id: str, scopes: list[str] | None = None) -> str:
        """An access token for a configured client, as ``/oauth/token`` would issue it."""
        client = self.config.client(client_id)
        if client is None:
            raise OAuthError(400, "invalid_client", f"Unknown client '{client_id}'.")
        return str(oauth.issue(self, client, scopes)["access_token"])

    def get_cart(self, cart_id: str) -> JsonObject | None:
        """A copy of the stored cart, or None."""
        return copy.deepcopy(self.store.get(CARTS, cart_id))

    def get_session(self, session_id: str) -> JsonObject | None:
        """The session as ``GET /{pk}/sessions/{id}`` shows it now, or None."""
        return copy.deepcopy(sessions.read_session(self, session_id))

    def get_payment(self, payment_id: str) -> JsonObject | None:
        """A copy of the stored payment, or None."""
        return copy.deepcopy(self.store.get(PAYMENTS, payment_id))

    def payments(self) -> list[JsonObject]:
        """Copies of all payments, oldest first."""
        return copy.deepcopy(self.store.all(PAYMENTS))

    def payment_methods(self) -> list[JsonObject]:
        """Copies of all payment methods, oldest first."""
        return copy.deepcopy(self.store.all(PAYMENT_METHODS))

    def create_customer(self, email: str, **fields: Any) -> JsonObject:
        """Create a customer as ``POST /customers`` would (``firstName=``, ``custom=`` ...); the Customer."""
        return copy.deepcopy(customers.create_customer(self, {"email": email, **fields}))

    def get_customer(self, customer_id: str) -> JsonObject | None:
        """A copy of the stored customer, or None."""
        return copy.deepcopy(self.store.get(CUSTOMERS, customer_id))

    def create_type(self, draft: JsonObject) -> JsonObject:
        """Create a Type as ``POST /types`` would."""
        return copy.deepcopy(types.create_type(self, draft))

    def get_type(self, key: str) -> JsonObject | None:
        """A copy of the Type with this key, or None."""
        return copy.deepcopy(types.find_type(self, key=key))

    def custom_object(self, container: str, key: str) -> JsonObject | None:
        """A copy of the custom object, or None."""
        return copy.deepcopy(self.store.get(CUSTOM_OBJECTS, f"{container}/{key}"))

    # -- test hooks ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every resource (carts, sessions, payments, payment methods, custom objects, customers,
        types), the stats, the faults and their log.

        Clients and issued tokens are kept, so a host holding a cached token keeps working.
        """
        self.store.clear(DATA_KINDS)
        self.faults.reset()
        self.reset_stats()

    def reset_stats(self) -> None:
        """Zero the per-route call counts."""
        self.stats.clear()

    def inject_fault(self, path_regex: str, status: int, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` requests whose path matches ``path_regex`` (re.search) and
        whose method is ``method`` (any if None) with ``status``, changing nothing."""
        self.faults.add(Rule(path_regex, method, (status,), times=times))

    def inject_faults(self, path_regex: str, method: str | None = None, *, statuses: Sequence[int] = (500,),
                      rate: float = 1.0, timeout_rate: float = 0.0, delay: float = 0.0, after: bool = False,
                      times: int | None = None, seed: int | None = None) -> Rule:
        """A fault rule (``emulator.faults``): matching requests fail with odds ``rate`` (a status of
        ``statuses``) or ``timeout_rate`` (held ``delay`` s), before they are handled or, with ``after``,
        once the write has landed. ``times`` None: until cleared."""
        return self.faults.add(Rule(path_regex, method, statuses, rate, timeout_rate, delay, after, times, seed))

    def clear_faults(self) -> None:
        """Forget every pending fault (the log of injected ones stays until ``reset``)."""
        self.faults.clear()

    def close(self) -> None:
        """Release the SQLite file."""
        self.store.close()
