"""The host's three authentication schemes and the cart amount, on both commercetools implementations.

On ``[ctmock]`` the services around @labdigital/commercetools-mock are the judge's own (tests/judge/server.mjs):
these tests prove they answer the host as commercetools does, so that the money tests judge the host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCES = "card: {plugin: sandbox, paymentInterface: mock}\n"


@pytest.fixture
async def host(money_host: MakeHost) -> HostClient:
    return await money_host(INSTANCES)


def test_emulator_only_tools_are_reached_only_on_the_emulator(host: HostClient) -> None:
    if host.ct.name == "emulator":
        assert host.emulator is host.ct
    else:
        with pytest.raises(TypeError, match="not the emulator"):
            host.emulator.inject_fault  # noqa: B018 - the attribute access is the test


async def test_an_expired_session_is_refused_and_an_active_one_accepted(host: HostClient) -> None:
    active, expired = host.session("mock"), host.session("mock")
    host.ct.expire_session(expired)
    assert host.ct.get_session(expired)["state"] == "EXPIRED"
    assert (await host.config(active)).status == 200
    resp = await host.config(expired)
    assert resp.status == 401
    assert (await resp.json())["message"] == "Session is not active"
    assert (await host.config("no-such-session")).status == 401


async def test_a_token_is_introspected_for_its_scopes(host: HostClient) -> None:
    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    action = {"action": "capturePayment", "amount": {"centAmount": 100, "currencyCode": "EUR"}}
    transactions_only = host.ct.issue_token("checkout", [f"manage_checkout_transactions:{host.ct.project_key}"])
    resp = await host.client.post(f"/operations/payment-intents/{pid}", json={"actions": [action]},
                                  headers={"Authorization": f"Bearer {transactions_only}"})
    assert resp.status == 401 and (await resp.json())["message"] == "Not authorized"
    resp = await host.client.post(f"/operations/payment-intents/{pid}", json={"actions": [action]},
                                  headers={"Authorization": "Bearer not-a-token"})
    assert resp.status == 401
    assert (await host.intent(pid, action)).status == 200


async def test_merchant_center_jwt_is_checked_against_the_jwks(host: HostClient) -> None:
    resp = await host.status()
    assert resp.status == 200
    checks = {c["name"]: c for c in (await resp.json())["checks"]}
    assert checks["commercetools permissions"]["status"] == "UP"
    spoiled = await host.client.get("/operations/status",
                                    headers={"Authorization": f"Bearer {host.mc_jwt(issuer='https://elsewhere')}"})
    assert spoiled.status == 401


async def test_a_taxed_cart_is_paid_gross(host: HostClient) -> None:
    taxed = host.cart(5000, tax_rate=0.19)
    assert taxed["taxedPrice"]["totalGross"]["centAmount"] == 5950
    pid = (await (await host.pay(host.session("mock", cart=taxed))).json())["paymentReference"]
    assert host.payment(pid)["amountPlanned"]["centAmount"] == 5950


async def test_the_payment_of_an_anonymous_cart_carries_its_id(host: HostClient) -> None:
    if host.ct.name == "ctmock":
        pytest.skip("ct-mock 4.4.0 drops anonymousId from a PaymentDraft (docs/commercetools.md)")
    anonymous = host.cart(1000, anonymous_id="shopper-1")
    pid = (await (await host.pay(host.session("mock", cart=anonymous))).json())["paymentReference"]
    assert host.payment(pid)["anonymousId"] == "shopper-1"
    cart = host.ct.get_cart(str(anonymous["id"]))
    assert [p["id"] for p in cart["paymentInfo"]["payments"]] == [pid]
