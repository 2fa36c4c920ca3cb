"""The sandbox's stored cards: it tokenises (its own opaque tokens, never a card number), pays with a token only
for the customer it was stored for, detaches on delete; and through the host, against the emulator, storing,
listing, paying with the stored card (the template's security code decides), deleting, and a recurring charge
of a card stored through ``/payments``."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import MakeProvider, Requests

from host import ApiError, CaptureMethod, MemoryStore, StoredMethod, TxState
from host.testing import HostClient

DISPLAY = {"endDigits": "4444", "brand": "mastercard", "expiryMonth": 1, "expiryYear": 2038}
STORE = {"paymentMethod": {"type": "card", "storePaymentMethod": True, "card": DISPLAY},
         "paymentOutcome": "Authorized"}


def _storing(req: type[Requests], body: dict[str, Any] = STORE, key: str | None = None,
             customer: str | None = "cust-a") -> Any:
    return dataclasses.replace(req.create(body, key=key), store_method=True, customer_id=customer)


def _paying(req: type[Requests], token: str, customer: str = "cust-a", outcome: str = "Authorized",
            recurring: bool = False, attempt: int = 1) -> Any:
    body = {"paymentMethod": {"type": "card", "storedPaymentMethodId": "ct-pm-1"}, "paymentOutcome": outcome}
    return dataclasses.replace(req.create(body, key=f"{token}:{customer}:{outcome}:{recurring}:{attempt}"),
                               customer_id=customer, recurring=recurring,
                               stored_method=StoredMethod("ct-pm-1", token, customer, "card"))


@pytest.mark.parametrize("books", ["commercetools", "memory"])
async def test_an_authorized_card_is_tokenised_with_display_data_only(make_provider: MakeProvider,
                                                                      req: type[Requests], books: str) -> None:
    provider = make_provider(books=books)
    result = await provider.create_payment(_storing(req))
    assert result.saved is not None and result.saved.token.startswith("sandbox-tok-")
    assert result.saved.display.to_json() == {"endDigits": "4444", "brand": {"key": "mastercard"},
                                              "expiryMonth": 1, "expiryYear": 2038}
    again = await provider.create_payment(_storing(req))            # the same call again: the same token
    assert again.saved == result.saved


@pytest.mark.parametrize(("body", "customer"), [
    ({**STORE, "paymentOutcome": "Rejected"}, "cust-a"), (STORE, None),
    ({"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}, "cust-a")])
async def test_nothing_is_tokenised_unless_authorized_and_asked_for_a_customer(
        make_provider: MakeProvider, req: type[Requests], body: dict[str, Any], customer: str | None) -> None:
    request = dataclasses.replace(req.create(body), store_method="storePaymentMethod" in body["paymentMethod"],
                                  customer_id=customer)
    assert (await make_provider().create_payment(request)).saved is None


@pytest.mark.parametrize("digits", ["4111111111111111", "42a4", "12345"])
def test_a_card_number_is_never_accepted_as_display_data(make_provider: MakeProvider, digits: str) -> None:
    body = {"paymentMethod": {"type": "card", "storePaymentMethod": True, "card": {"endDigits": digits}},
            "paymentOutcome": "Authorized"}
    with pytest.raises(ApiError) as exc:
        make_provider().payment_method(body)
    assert exc.value.fields["field"] == "paymentMethod.card.endDigits"


async def test_a_token_pays_for_its_customer_only_and_never_once_detached(make_provider: MakeProvider,
                                                                          req: type[Requests]) -> None:
    provider = make_provider(store=MemoryStore())
    saved = (await provider.create_payment(_storing(req))).saved
    assert saved is not None

    async def state(request: Any) -> TxState:
        return (await provider.create_payment(request)).transactions[0].state

    assert await state(_paying(req, saved.token)) == TxState.SUCCESS
    assert await state(_paying(req, saved.token, outcome="Rejected")) == TxState.FAILURE   # a wrong CVC
    assert await state(_paying(req, saved.token, recurring=True)) == TxState.SUCCESS
    assert await state(_paying(req, saved.token, customer="cust-b")) == TxState.FAILURE
    assert await state(_paying(req, "sandbox-tok-unknown")) == TxState.FAILURE
    await provider.detach(StoredMethod("ct-pm-1", saved.token, "cust-a", "card"))
    assert await state(_paying(req, saved.token, recurring=True, attempt=2)) == TxState.FAILURE


async def test_a_stored_card_pays_without_the_hosted_page_in_offsite_mode(make_provider: MakeProvider,
                                                                          req: type[Requests]) -> None:
    provider = make_provider(store=MemoryStore())
    saved = (await make_provider(store=provider.context.store).create_payment(_storing(req))).saved
    assert saved is not None
    offsite = make_provider(mode="offsite", store=provider.context.store)
    result = await offsite.create_payment(_paying(req, saved.token))
    assert result.transactions[0].state == TxState.SUCCESS and "redirectUrl" not in result.response


# -- through the host --------------------------------------------------------------------------------

MakeHost = Callable[..., Awaitable[HostClient]]
INSTANCE = "card: {plugin: sandbox, paymentInterface: mock, storedPaymentMethods: true, captureMethod: manual}"


async def test_through_the_host_store_list_pay_delete_and_charge_recurring(connector_host: MakeHost) -> None:
    host = await connector_host(INSTANCE)
    session = host.session("mock", cart=host.cart(2000, customer_id="cust-a"))
    config = await (await host.config(session)).json()
    assert config["storedPaymentMethodsConfig"] == {"isEnabled": True}
    assert (await host.pay(session, STORE)).status == 200

    session = host.session("mock", cart=host.cart(3000, customer_id="cust-a"))
    listed = await (await host.client.get("/stored-payment-methods", headers={"X-Session-Id": session})).json()
    [method] = listed["storedPaymentMethods"]
    assert method["type"] == "card" and method["displayOptions"]["endDigits"] == "4444"
    [stored] = host.ct.emulator.payment_methods()
    assert stored["token"]["value"].startswith("sandbox-tok-") and "4444" not in stored["token"]["value"]

    wrong_cvc = {"paymentMethod": {"type": "card", "storedPaymentMethodId": method["id"]},
                 "paymentOutcome": "Rejected"}
    declined = await (await host.pay(session, wrong_cvc)).json()
    assert [t["state"] for t in host.payment(declined["paymentReference"])["transactions"]] == ["Failure"]
    paid = await (await host.pay(session, {**wrong_cvc, "paymentOutcome": "Authorized"})).json()
    assert [t["state"] for t in host.payment(paid["paymentReference"])["transactions"]] == ["Success"]

    recurring_cart = host.cart(1500, customer_id="cust-a")
    token = host.oauth_token(["manage_checkout_transactions:test-project"])
    resp = await host.client.post("/operations/transactions", headers={"Authorization": f"Bearer {token}"}, json={
        "cartId": recurring_cart["id"], "paymentMethodId": method["id"], "type": "Recurring"})
    assert (await resp.json())["transactionStatus"]["state"] == "Completed"

    deleted = await host.client.delete(f"/stored-payment-methods/{method['id']}", headers={"X-Session-Id": session})
    assert deleted.status == 200 and host.ct.emulator.payment_methods() == []
    retired = await host.provider("card").create_payment(dataclasses.replace(   # the PSP refuses it too
        Requests.create({"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized"}, key="after-delete"),
        capture_method=CaptureMethod.MANUAL, customer_id="cust-a", recurring=True,
        stored_method=StoredMethod(method["id"], stored["token"]["value"], "cust-a", "card")))
    assert retired.transactions[0].state == TxState.FAILURE
