"""Custom objects: create-or-replace by container and key, conditional on the version when one is given."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


async def _put(client: Client, auth: dict[str, str], **draft: Any) -> tuple[int, dict[str, Any]]:
    resp = await client.post("/demo/custom-objects", json={"container": "c", "key": "k", **draft}, headers=auth)
    return resp.status, await resp.json()


async def test_create_replace_and_read(client: Client, auth: dict[str, str]) -> None:
    status, created = await _put(client, auth, value={"balance": 10})
    assert (status, created["version"], created["value"]) == (201, 1, {"balance": 10})
    status, replaced = await _put(client, auth, value={"balance": 7}, version=1)
    assert (status, replaced["version"], replaced["id"]) == (200, 2, created["id"])
    read = await (await client.get("/demo/custom-objects/c/k", headers=auth)).json()
    assert read == replaced


async def test_a_stale_version_and_a_create_only_on_an_existing_object_are_409(client: Client,
                                                                               auth: dict[str, str]) -> None:
    await _put(client, auth, value=1)
    await _put(client, auth, value=2)
    for version in (1, 0):
        status, body = await _put(client, auth, value=3, version=version)
        assert status == 409 and body["errors"][0]["currentVersion"] == 2
    status, body = await _put(client, auth, key="new", value=1, version=0)
    assert (status, body["version"]) == (201, 1)


async def test_query_a_container_delete_and_bad_names(client: Client, auth: dict[str, str]) -> None:
    await _put(client, auth, key="a", value=1)
    await _put(client, auth, key="b", value=2)
    await _put(client, auth, container="other", key="a", value=3)
    page = await (await client.get("/demo/custom-objects/c", headers=auth)).json()
    assert sorted(o["key"] for o in page["results"]) == ["a", "b"]
    assert (await client.delete("/demo/custom-objects/c/a?version=2", headers=auth)).status == 409
    assert (await client.delete("/demo/custom-objects/c/a?version=1", headers=auth)).status == 200
    assert (await client.get("/demo/custom-objects/c/a", headers=auth)).status == 404
    status, body = await _put(client, auth, key="has space", value=1)
    assert status == 400 and body["errors"][0]["code"] == "InvalidField"
