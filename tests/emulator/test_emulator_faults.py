"""Fault rules of the emulator (``emulator.faults``): seeded odds, errors before or after the write, answers
held past the client's timeout, and the log that names the request each fault hit."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from emulator import Emulator

Client = TestClient[Any, Any]
DRAFT = {"amountPlanned": {"currencyCode": "EUR", "centAmount": 1000}}


async def _statuses(client: Client, auth: dict[str, str], n: int) -> list[int]:
    return [(await client.get("/demo/payments", headers=auth)).status for _ in range(n)]


async def test_a_seeded_rate_replays_the_same_faults_with_statuses_in_turn(
        client: Client, emulator: Emulator, auth: dict[str, str]) -> None:
    rule = {"path": "/payments$", "method": "GET", "rate": 0.5, "statuses": [500, 503], "seed": 7}
    assert (await client.post("/_emulator/faults", json=rule)).status == 201
    first = await _statuses(client, auth, 40)
    emulator.reset()
    await client.post("/_emulator/faults", json=rule)
    assert await _statuses(client, auth, 40) == first
    failed = [s for s in first if s != 200]
    assert 5 < len(failed) < 35
    assert failed[:4] == [500, 503, 500, 503]
    assert (await client.post("/demo/payments", json=DRAFT, headers=auth)).status == 201   # POST not matched


async def test_an_error_before_the_write_changes_nothing(client: Client, emulator: Emulator,
                                                         auth: dict[str, str]) -> None:
    emulator.inject_faults("/payments$", "POST", statuses=[502], times=2)
    for _ in range(2):
        assert (await client.post("/demo/payments", json=DRAFT, headers=auth)).status == 502
    assert emulator.payments() == []
    assert (await client.post("/demo/payments", json=DRAFT, headers=auth)).status == 201   # times used up


async def test_an_error_after_the_write_loses_the_answer_not_the_write(client: Client, emulator: Emulator,
                                                                        auth: dict[str, str]) -> None:
    emulator.inject_faults("/payments", "POST", statuses=[500], after=True, times=2)
    created = await client.post("/demo/payments", json={**DRAFT, "key": "k-1"}, headers=auth)
    assert created.status == 500
    [payment] = emulator.payments()
    assert payment["key"] == "k-1" and payment["version"] == 1
    update = {"version": 1, "actions": [{"action": "setInterfaceId", "interfaceId": "psp-1"}]}
    lost = await client.post(f"/demo/payments/{payment['id']}", json=update, headers=auth)
    assert lost.status == 500
    stored = emulator.get_payment(payment["id"])
    assert stored is not None and stored["interfaceId"] == "psp-1" and stored["version"] == 2
    again = await client.post(f"/demo/payments/{payment['id']}", json=update, headers=auth)
    assert again.status == 409                  # the client's retry with the version it had


async def test_a_held_answer_times_the_client_out_after_the_write_landed(client: Client, emulator: Emulator,
                                                                         auth: dict[str, str]) -> None:
    emulator.inject_faults("/payments$", "POST", rate=0, timeout_rate=1, delay=1.0, after=True, times=1)
    with pytest.raises(asyncio.TimeoutError):
        await client.post("/demo/payments", json=DRAFT, headers=auth, timeout=aiohttp.ClientTimeout(total=0.1))
    assert len(emulator.payments()) == 1


async def test_a_request_held_before_it_is_handled_lands_late(client: Client, emulator: Emulator,
                                                              auth: dict[str, str]) -> None:
    emulator.inject_faults("/payments$", "POST", rate=0, timeout_rate=1, delay=0.3, times=1)
    with pytest.raises(asyncio.TimeoutError):
        await client.post("/demo/payments", json=DRAFT, headers=auth, timeout=aiohttp.ClientTimeout(total=0.05))
    assert emulator.payments() == []            # not yet: it is handled once its delay is over
    for _ in range(100):
        if emulator.payments():
            break
        await asyncio.sleep(0.05)
    assert len(emulator.payments()) == 1


async def test_the_log_names_each_request_a_fault_hit(client: Client, emulator: Emulator,
                                                      auth: dict[str, str]) -> None:
    await client.post("/_emulator/faults", json={"path": "/payments$", "method": "POST", "status": 503})
    await client.post("/_emulator/faults", json={"path": "/carts", "rate": 1, "statuses": [504], "after": True,
                                                 "times": 1})
    await client.post("/demo/payments", json=DRAFT, headers={**auth, "X-Correlation-ID": "op-1"})
    await client.post("/demo/payments", json=DRAFT, headers={**auth, "X-Correlation-ID": "op-2"})
    await client.post("/demo/carts", json={"currency": "EUR"}, headers={**auth, "X-Correlation-ID": "op-3"})
    faults = await (await client.get("/_emulator/faults")).json()
    assert faults["rules"] == []                 # both used up
    assert [(i["correlationId"], i["status"], i["after"]) for i in faults["injected"]] == [
        ("op-1", 503, False), ("op-3", 504, True)]
    assert faults["counts"] == {"503": 1, "after 504": 1}
    assert len(emulator.payments()) == 1         # op-2 went through


async def test_delete_forgets_the_rules_and_keeps_the_log(client: Client, emulator: Emulator,
                                                         auth: dict[str, str]) -> None:
    emulator.inject_faults("/payments", rate=0.9, seed=1)
    await _statuses(client, auth, 5)
    assert (await client.delete("/_emulator/faults")).status == 200
    assert await _statuses(client, auth, 5) == [200] * 5
    logged = len(emulator.faults.injected)
    assert logged > 0
    emulator.reset()
    assert emulator.faults.injected == []


@pytest.mark.parametrize("rule", [
    {"path": "x", "rate": 1.5},
    {"path": "x", "rate": 0.6, "timeoutRate": 0.6, "delay": 1},
    {"path": "x", "timeoutRate": 0.5},
    {"path": "x", "rate": 0.5, "statuses": [42]},
    {"path": "x", "rate": 0.5, "statuses": []},
    {"path": "x", "rate": 0.5, "statuses": "500"},
    {"path": "x", "rate": 0.5, "statuses": [True]},
    {"path": "x", "rate": 0.5, "delay": -1},
    {"path": "x", "rate": 0.5, "times": 0},
    {"path": "x", "rate": "often"},
])
async def test_bad_rules_are_400_naming_the_field(client: Client, rule: dict[str, Any]) -> None:
    resp = await client.post("/_emulator/faults", json=rule)
    assert resp.status == 400, rule
    body = await resp.json()
    assert body["errors"][0]["code"] in ("InvalidField", "InvalidJsonInput")
