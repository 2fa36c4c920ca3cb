"""With a SQLite file, the data (and issued tokens) survive a new app on the same file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator import EMULATOR_KEY, EmulatorConfig, create_emulator_app

DRAFT = {"amountPlanned": {"currencyCode": "EUR", "centAmount": 1000}, "key": "order-1"}


async def test_data_survives_a_restart_on_the_same_file(
    aiohttp_client: Callable[..., Any], config: EmulatorConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(config, sqlite_path=str(tmp_path / "emulator.sqlite"))
    first = await aiohttp_client(create_emulator_app(config))
    emulator = first.app[EMULATOR_KEY]
    auth = {"Authorization": f"Bearer {emulator.issue_token('connector')}"}
    cart = emulator.create_cart("EUR", [{"name": "Mug", "centAmount": 1000}])
    session = emulator.create_session(cart["id"], {"paymentInterface": "sandbox"})
    payment = await (await first.post("/demo/payments", json=DRAFT, headers=auth)).json()
    update = {"version": 1, "actions": [{"action": "setInterfaceId", "interfaceId": "psp-1"}]}
    payment = await (await first.post(f"/demo/payments/{payment['id']}", json=update, headers=auth)).json()
    add = {
        "version": 1,
        "actions": [{"action": "addPayment", "payment": {"typeId": "payment", "id": payment["id"]}}],
    }
    cart = await (await first.post(f"/demo/carts/{cart['id']}", json=add, headers=auth)).json()
    method = await (await first.post("/demo/payment-methods", json={"method": "card"}, headers=auth)).json()
    await first.delete(f"/demo/payment-methods/{method['id']}", params={"version": "1"}, headers=auth)
    await first.close()

    second = await aiohttp_client(create_emulator_app(config))
    assert await (await second.get(f"/demo/carts/{cart['id']}", headers=auth)).json() == cart
    assert await (await second.get(f"/demo/sessions/{session['id']}", headers=auth)).json() == session
    assert await (await second.get(f"/demo/payments/{payment['id']}", headers=auth)).json() == payment
    assert (await second.get(f"/demo/payment-methods/{method['id']}", headers=auth)).status == 404
    duplicate = await second.post("/demo/payments", json=DRAFT, headers=auth)
    assert (await duplicate.json())["errors"][0]["code"] == "DuplicateField"
    listed = await (await second.get("/demo/payments", headers=auth)).json()
    assert [p["id"] for p in listed["results"]] == [payment["id"]]


async def test_reset_clears_the_file_too(
    aiohttp_client: Callable[..., Any], config: EmulatorConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(config, sqlite_path=str(tmp_path / "emulator.sqlite"))
    first = await aiohttp_client(create_emulator_app(config))
    cart = first.app[EMULATOR_KEY].create_cart()
    await first.post("/_emulator/reset")
    await first.close()
    second = await aiohttp_client(create_emulator_app(config))
    assert second.app[EMULATOR_KEY].get_cart(cart["id"]) is None
