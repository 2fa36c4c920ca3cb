"""The commercetools a test runs against: the ``Commercetools`` protocol and its in-process emulator.

Two implementations exist: ``RunningEmulator`` (the project's own ``emulator``, in this process) and
``RunningJudge`` (``host.testing.judge``: @labdigital/commercetools-mock in a Node process). A test written
against the protocol runs on both; what only the emulator can do (faults, call stats, a moved clock) stays on
``RunningEmulator`` and its ``emulator`` attribute.

The helpers are synchronous. On the emulator they call the in-process object; on the judge they are
blocking loopback HTTP calls of about a millisecond, which cannot deadlock because the judge is another
process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from aiohttp.test_utils import TestServer

from emulator import EMULATOR_KEY, Emulator, EmulatorConfig, create_emulator_app, mint_mc_jwt

PROJECT_KEY = "test-project"
ISSUER = "http://127.0.0.1/mc-test"


class CartLine(TypedDict):
    """One cart line: a unit price in minor units times a quantity."""

    name: str
    centAmount: int
    quantity: int


@dataclass(frozen=True)
class Endpoints:
    """Where each commercetools service is (real commercetools has one host per service)."""

    auth: str
    api: str
    session: str
    jwks: str

    @classmethod
    def at(cls, url: str) -> Endpoints:
        """Every service under one base URL, as the emulator serves them."""
        return cls(auth=url, api=url, session=f"{url}/", jwks=f"{url}/.well-known/jwks.json")


class Commercetools(Protocol):
    """What a test needs from a commercetools: its addresses, set-up helpers, and reads of stored data.

    ``create_*`` go through the same rules as the HTTP API. ``get_*`` answer ``None`` for an unknown id.
    ``issue_token`` gives an access token of a configured client (``connector``: the host's, whole
    project; ``checkout``: Checkout's payment-intent and transaction scopes).
    """

    @property
    def name(self) -> str:
        """``emulator`` or ``ctmock`` (the test-id suffix)."""

    @property
    def url(self) -> str:
        """The base URL (the HTTP API's)."""

    @property
    def endpoints(self) -> Endpoints: ...

    @property
    def project_key(self) -> str: ...

    @property
    def issuer(self) -> str:
        """The Merchant Center JWT issuer the host must be configured with."""

    def create_cart(self, currency: str, lines: list[CartLine], *, tax_rate: float | None = None,
                    tax_included_in_price: bool = False, customer_id: str | None = None,
                    anonymous_id: str | None = None, platform_tax: bool = False) -> dict[str, Any]: ...

    def create_shipping_method(self, name: str, country: str, cent_amount: int, currency: str = "EUR", *,
                               free_above: int | None = None, tax_rate: float = 0.19) -> dict[str, Any]:
        """A shipping method to ``country`` (its zone made when missing). Shipping is taxed at the cart's rate on
        the emulator, at ``tax_rate`` on the judge: give the cart's (a cart to ship, taxed, on the judge is
        ``create_cart(..., tax_rate=r, platform_tax=True)``)."""

    def create_session(self, cart_id: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def expire_session(self, session_id: str) -> None: ...

    def issue_token(self, client_id: str, scopes: list[str] | None = None) -> str: ...

    def get_cart(self, cart_id: str) -> dict[str, Any] | None: ...

    def get_session(self, session_id: str) -> dict[str, Any] | None: ...

    def get_payment(self, payment_id: str) -> dict[str, Any] | None: ...

    def payments(self) -> list[dict[str, Any]]: ...

    def create_customer(self, email: str, **fields: Any) -> dict[str, Any]:
        """A Customer made as ``POST /customers`` makes it (``firstName=``, ``custom=`` ...)."""

    def get_customer(self, customer_id: str) -> dict[str, Any] | None: ...

    def create_type(self, draft: dict[str, Any]) -> dict[str, Any]: ...

    def get_type(self, key: str) -> dict[str, Any] | None: ...

    def mc_jwt(self, **kwargs: Any) -> str: ...

    def reset(self) -> None: ...


class KeyHolder:
    """A backend whose project, issuer and JWT signing key are an ``EmulatorConfig``'s."""

    config: EmulatorConfig

    @property
    def project_key(self) -> str:
        return self.config.project_key

    @property
    def issuer(self) -> str:
        return self.config.issuer

    def mc_jwt(self, **kwargs: Any) -> str:
        """A Merchant Center JWT signed with the key the backend's JWKS publishes (``mint_mc_jwt``'s keywords,
        such as ``issuer=`` or ``expires_in=``, spoil it)."""
        return mint_mc_jwt(self.config, **kwargs)


@dataclass
class RunningEmulator(KeyHolder):
    """The commercetools stand-in, served on loopback from this process."""

    url: str
    emulator: Emulator
    config: EmulatorConfig
    server: TestServer
    name: str = "emulator"

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.at(self.url)

    def stats(self) -> dict[str, int]:
        """Calls per ``METHOD /route/template`` since the last ``reset_stats()``."""
        return dict(self.emulator.stats)

    def reset_stats(self) -> None:
        self.emulator.reset_stats()

    def calls(self) -> int:
        return sum(self.emulator.stats.values())

    def create_cart(self, currency: str, lines: list[CartLine], *, tax_rate: float | None = None,
                    tax_included_in_price: bool = False, customer_id: str | None = None,
                    anonymous_id: str | None = None, platform_tax: bool = False) -> dict[str, Any]:
        """``platform_tax`` changes nothing here: the emulator's ``taxRate`` carts are taxed by the emulator."""
        return self.emulator.create_cart(currency, [dict(line) for line in lines], tax_rate=tax_rate,
                                         customer_id=customer_id, anonymous_id=anonymous_id,
                                         tax_included_in_price=tax_included_in_price)

    def create_shipping_method(self, name: str, country: str, cent_amount: int, currency: str = "EUR", *,
                               free_above: int | None = None, tax_rate: float = 0.19) -> dict[str, Any]:
        return self.emulator.create_shipping_method(name, country, cent_amount, currency, free_above=free_above)

    def create_session(self, cart_id: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.emulator.create_session(cart_id, metadata)

    def expire_session(self, session_id: str) -> None:
        self.emulator.expire_session(session_id)

    def issue_token(self, client_id: str, scopes: list[str] | None = None) -> str:
        return self.emulator.issue_token(client_id, scopes)

    def get_cart(self, cart_id: str) -> dict[str, Any] | None:
        return self.emulator.get_cart(cart_id)

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return self.emulator.get_session(session_id)

    def get_payment(self, payment_id: str) -> dict[str, Any] | None:
        return self.emulator.get_payment(payment_id)

    def payments(self) -> list[dict[str, Any]]:
        return self.emulator.payments()

    def create_customer(self, email: str, **fields: Any) -> dict[str, Any]:
        return self.emulator.create_customer(email, **fields)

    def get_customer(self, customer_id: str) -> dict[str, Any] | None:
        return self.emulator.get_customer(customer_id)

    def create_type(self, draft: dict[str, Any]) -> dict[str, Any]:
        return self.emulator.create_type(draft)

    def get_type(self, key: str) -> dict[str, Any] | None:
        return self.emulator.get_type(key)

    def reset(self) -> None:
        self.emulator.reset()


async def start_emulator(**overrides: Any) -> RunningEmulator:
    config = EmulatorConfig(project_key=PROJECT_KEY, issuer=ISSUER, **overrides)
    app = create_emulator_app(config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return RunningEmulator(str(server.make_url("")).rstrip("/"), app[EMULATOR_KEY], config, server)
