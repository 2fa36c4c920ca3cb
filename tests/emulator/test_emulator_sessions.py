"""Sessions: the create and read shapes, 404s, and expiry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]
Advance = Callable[[float], None]


async def test_session_is_created_for_a_cart_and_read_back(
    client: Client, emulator: Emulator, auth: dict[str, str]
) -> None:
    cart = emulator.create_cart()
    draft = {"cart": {"cartRef": {"id": cart["id"]}}, "metadata": {"processorUrl": "http://x", "a": 1}}
    resp = await client.post("/demo/sessions", json=draft, headers=auth)
    assert resp.status == 201
    created = await resp.json()
    assert created["state"] == "ACTIVE"
    assert created["version"] == 1
    assert created["activeCart"] == {"cartRef": {"id": cart["id"]}}
    assert created["metadata"] == {"processorUrl": "http://x", "a": 1}
    assert created["createdAt"].endswith("Z") and len(created["createdAt"]) == 24
    assert "expiryAt" in created
    read = await client.get(f"/demo/sessions/{created['id']}", headers=auth)
    assert read.status == 200
    assert await read.json() == created


async def test_session_for_unknown_cart_is_400(client: Client, auth: dict[str, str]) -> None:
    resp = await client.post("/demo/sessions", json={"cart": {"cartRef": {"id": "nope"}}}, headers=auth)
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "ReferencedResourceNotFound"


async def test_session_without_cart_is_400(client: Client, auth: dict[str, str]) -> None:
    resp = await client.post("/demo/sessions", json={"metadata": {}}, headers=auth)
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "InvalidJsonInput"


async def test_unknown_session_is_404(client: Client, auth: dict[str, str]) -> None:
    resp = await client.get("/demo/sessions/undefined", headers=auth)
    assert resp.status == 404
    body = await resp.json()
    assert body["errors"][0]["code"] == "ResourceNotFound"
    assert body["statusCode"] == 404


async def test_session_expires_after_its_ttl(
    client: Client, emulator: Emulator, auth: dict[str, str], advance_clock: Advance
) -> None:
    session = emulator.create_session(emulator.create_cart()["id"], {"paymentInterface": "sandbox"})
    advance_clock(3599)
    assert (await (await client.get(f"/demo/sessions/{session['id']}", headers=auth)).json())[
        "state"
    ] == "ACTIVE"
    advance_clock(1)
    body = await (await client.get(f"/demo/sessions/{session['id']}", headers=auth)).json()
    assert body["state"] == "EXPIRED"
    assert body["activeCart"]["cartRef"]["id"] == session["activeCart"]["cartRef"]["id"]


async def test_expire_session_ends_it_now(client: Client, emulator: Emulator, auth: dict[str, str]) -> None:
    session = emulator.create_session(emulator.create_cart()["id"], {})
    emulator.expire_session(session["id"])
    body = await (await client.get(f"/demo/sessions/{session['id']}", headers=auth)).json()
    assert body["state"] == "EXPIRED"
    assert emulator.get_session(session["id"]) == body
