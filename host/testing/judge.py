"""The independent commercetools judge: @labdigital/commercetools-mock in a Node process (``tests/judge``).

ct-mock's own API judges what the host writes (Payments, carts, versions and 409s, queries, custom objects);
the thin Node layer around it adds what it lacks: OAuth token and introspection, Checkout's Sessions API and
the Merchant Center JWKS. Python keeps the JWT signing key and mints the JWTs, as with the emulator.

``start_judge()`` spawns ``node server.mjs`` once; ``RunningJudge`` implements the ``Commercetools``
protocol over blocking loopback HTTP. The Node packages are installed by ``make test`` (``npm ci`` in
``tests/judge``); ``CONNECTOR_HOST_JUDGE`` may point at another copy of that folder.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from emulator import EmulatorConfig
from emulator.config import default_clients
from emulator.mc_jwt import jwks
from host.testing.backends import ISSUER, PROJECT_KEY, CartLine, Endpoints, KeyHolder

_START_TIMEOUT = 30.0


class JudgeError(RuntimeError):
    """The judge is not installed, did not start, or refused a set-up call."""


def judge_dir() -> Path:
    """The folder with ``server.mjs`` and its ``node_modules``: ``$CONNECTOR_HOST_JUDGE`` or the repository's."""
    configured = os.environ.get("CONNECTOR_HOST_JUDGE")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "tests" / "judge"


@dataclass
class RunningJudge(KeyHolder):
    """ct-mock plus our services on one loopback port, each service under its own path prefix."""

    url: str
    process: subprocess.Popen[bytes]
    config: EmulatorConfig
    name: str = "ctmock"
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(auth=f"{self.url}/auth", api=self.url, session=f"{self.url}/session/",
                         jwks=f"{self.url}/mc/.well-known/jwks.json")

    # -- HTTP ---------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, *, form: dict[str, str] | None = None,
             auth: str | None = None) -> tuple[int, Any]:
        """One request to the judge: ``(status, JSON body)``. ``auth`` defaults to the host's token."""
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        headers = {"Authorization": auth or f"Bearer {self._token('connector')}"}
        data: bytes | None = None
        if form is not None:
            data, headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def _api(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201)) -> Any:
        status, answer = self.call(method, path, body)
        if status not in ok:
            raise JudgeError(f"{method} {path} answered {status}: {answer}")
        return answer

    def _token(self, client_id: str) -> str:
        if client_id not in self._tokens:
            self._tokens[client_id] = self.issue_token(client_id)
        return self._tokens[client_id]

    # -- the Commercetools protocol -------------------------------------------------------------------

    def create_cart(self, currency: str, lines: list[CartLine], *, tax_rate: float | None = None,
                    tax_included_in_price: bool = False, customer_id: str | None = None,
                    anonymous_id: str | None = None, platform_tax: bool = False) -> dict[str, Any]:
        """A cart made by ct-mock's cart API from custom line items; ``tax_rate`` makes it externally taxed, or
        with ``platform_tax`` taxed by ct-mock from a tax category of that rate for DE (the cart's country)."""
        category = None
        if platform_tax and tax_rate is not None:
            category = self._tax_category(tax_rate, "DE", tax_included_in_price)
        items: list[dict[str, Any]] = []
        for i, line in enumerate(lines):
            item: dict[str, Any] = {"name": {"en": line["name"]}, "quantity": line["quantity"], "slug": f"line-{i}",
                                    "money": {"currencyCode": currency, "centAmount": line["centAmount"]}}
            if category is not None:
                item["taxCategory"] = {"typeId": "tax-category", "id": category}
            elif tax_rate is not None:
                item["externalTaxRate"] = {"name": "Standard", "amount": tax_rate, "country": "DE",
                                           "includedInPrice": tax_included_in_price}
            items.append(item)
        mode = "Disabled" if tax_rate is None else "Platform" if category is not None else "External"
        draft: dict[str, Any] = {"currency": currency, "customLineItems": items, "taxMode": mode}
        if category is not None:
            draft["country"] = "DE"
        if anonymous_id is not None:
            draft["anonymousId"] = anonymous_id
        if customer_id is not None:      # a Customer made first with ``create_customer``
            draft["customerId"] = customer_id
        cart: dict[str, Any] = self._api("POST", f"/{self.project_key}/carts", draft)
        return cart

    def _tax_category(self, rate: float, country: str, included: bool = False) -> str:
        """The id of a tax category of ``rate`` for ``country`` (made once)."""
        key = f"standard-{country}-{rate}-{'gross' if included else 'net'}".replace(".", "_")
        status, found = self.call("GET", f"/{self.project_key}/tax-categories/key={key}")
        if status == 200:
            return str(found["id"])
        made = self._api("POST", f"/{self.project_key}/tax-categories", {
            "key": key, "name": key,
            "rates": [{"name": "Standard", "amount": rate, "includedInPrice": included, "country": country}]})
        return str(made["id"])

    def create_shipping_method(self, name: str, country: str, cent_amount: int, currency: str = "EUR", *,
                               free_above: int | None = None, tax_rate: float = 0.19) -> dict[str, Any]:
        """A shipping method to ``country`` in the zone of that country (made when missing), taxed at
        ``tax_rate`` there (ct-mock taxes shipping by the method's tax category)."""
        where = urlencode({"where": f'locations(country="{country}")'})
        zones = self._api("GET", f"/{self.project_key}/zones?{where}")["results"]
        zone = zones[0] if zones else self._api("POST", f"/{self.project_key}/zones", {
            "name": f"Zone {country}", "locations": [{"country": country}]})
        rate: dict[str, Any] = {"price": {"currencyCode": currency, "centAmount": cent_amount}}
        if free_above is not None:
            rate["freeAbove"] = {"currencyCode": currency, "centAmount": free_above}
        method: dict[str, Any] = self._api("POST", f"/{self.project_key}/shipping-methods", {
            "name": name, "isDefault": False,
            "taxCategory": {"typeId": "tax-category", "id": self._tax_category(tax_rate, country)},
            "zoneRates": [{"zone": {"typeId": "zone", "id": zone["id"]}, "shippingRates": [rate]}]})
        return method

    def create_session(self, cart_id: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        draft = {"cart": {"cartRef": {"id": cart_id}}, "metadata": metadata or {}}
        session: dict[str, Any] = self._api("POST", f"/session/{self.project_key}/sessions", draft)
        return session

    def expire_session(self, session_id: str) -> None:
        self._api("POST", f"/_judge/sessions/{quote(session_id)}/expire")

    def issue_token(self, client_id: str, scopes: list[str] | None = None) -> str:
        client = self.config.client(client_id)
        if client is None:
            raise JudgeError(f"unknown client {client_id!r}")
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        form = {"grant_type": "client_credentials", **({"scope": " ".join(scopes)} if scopes else {})}
        status, answer = self.call("POST", "/auth/oauth/token", form=form, auth=f"Basic {basic}")
        if status != 200:
            raise JudgeError(f"token for {client_id} answered {status}: {answer}")
        return str(answer["access_token"])

    def _get(self, path: str) -> dict[str, Any] | None:
        status, answer = self.call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise JudgeError(f"GET {path} answered {status}: {answer}")
        found: dict[str, Any] = answer
        return found

    def get_cart(self, cart_id: str) -> dict[str, Any] | None:
        return self._get(f"/{self.project_key}/carts/{quote(cart_id)}")

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return self._get(f"/session/{self.project_key}/sessions/{quote(session_id)}")

    def get_payment(self, payment_id: str) -> dict[str, Any] | None:
        return self._get(f"/{self.project_key}/payments/{quote(payment_id)}")

    def create_customer(self, email: str, **fields: Any) -> dict[str, Any]:
        answer = self._api("POST", f"/{self.project_key}/customers", {"email": email, **fields})
        customer: dict[str, Any] = answer["customer"]
        return customer

    def get_customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._get(f"/{self.project_key}/customers/{quote(customer_id)}")

    def create_type(self, draft: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self._api("POST", f"/{self.project_key}/types", draft)
        return created

    def get_type(self, key: str) -> dict[str, Any] | None:
        return self._get(f"/{self.project_key}/types/key={quote(key)}")

    def payments(self) -> list[dict[str, Any]]:
        """All Payments, oldest first."""
        query = urlencode({"limit": "500", "sort": "createdAt asc"})
        page = self._api("GET", f"/{self.project_key}/payments?{query}")
        return list(page["results"])

    def reset(self) -> None:
        """Drop every resource and session (ct-mock's ``clear()``); issued tokens stay valid."""
        self._api("POST", "/_judge/reset")

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()     # the server exits when its stdin closes
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start_judge(directory: Path, *, project_key: str = PROJECT_KEY, issuer: str = ISSUER) -> RunningJudge:
    """Start ``server.mjs`` with its config written to ``directory``; raises ``JudgeError`` with the reason."""
    source = judge_dir()
    node = shutil.which("node")
    if node is None or not (source / "node_modules" / "@labdigital" / "commercetools-mock").is_dir():
        raise JudgeError(f"the commercetools judge is not installed: it needs Node.js 20+ and `npm ci` in {source} "
                         "(`make test` does both checks and the install)")
    config = EmulatorConfig(project_key=project_key, issuer=issuer, clients=default_clients(project_key))
    settings = {"projectKey": project_key, "jwks": jwks(config),
                "clients": [{"clientId": c.client_id, "clientSecret": c.client_secret, "scopes": c.scopes}
                            for c in config.clients]}
    config_path, log_path = directory / "judge.json", directory / "judge.log"
    config_path.write_text(json.dumps(settings), encoding="utf-8")
    with log_path.open("wb") as log:
        command = [node, str(source / "server.mjs"), "--config", str(config_path), "--port", "0"]
        process = subprocess.Popen(command, cwd=source, stdin=subprocess.PIPE,  # noqa: S603 - our own script
                                   stdout=subprocess.PIPE, stderr=log)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], _START_TIMEOUT)
    line = process.stdout.readline() if ready else b""
    if not line:
        process.kill()
        process.wait()
        raise JudgeError(f"the judge did not start within {_START_TIMEOUT:.0f} s: {log_path.read_text()[-2000:]}")
    return RunningJudge(json.loads(line)["url"], process, config)
