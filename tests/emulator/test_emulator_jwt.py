"""Merchant Center JWTs: the JWKS verifies minted tokens; bad tokens are detectably bad."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from emulator import Emulator, EmulatorConfig, mint_mc_jwt
from emulator.config import generate_signing_key

Client = TestClient[Any, Any]


async def _verify(client: Client, token: str, issuer: str = "http://127.0.0.1/mc") -> dict[str, Any]:
    jwks = jwt.PyJWKSet.from_dict(await (await client.get("/.well-known/jwks.json")).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwks[kid]  # KeyError for an unknown kid
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256"], issuer=issuer, options={"verify_aud": False}
    )
    return claims


async def test_jwks_publishes_the_signing_key(client: Client, config: EmulatorConfig) -> None:
    body = await (await client.get("/.well-known/jwks.json")).json()
    [key] = body["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] == config.kid
    assert await (await client.get("/jwt/.well-known/jwks.json")).json() == body


async def test_minted_token_verifies_against_the_jwks(client: Client, emulator: Emulator) -> None:
    claims = await _verify(client, mint_mc_jwt(emulator, sub="user-7"))
    assert claims["sub"] == "user-7"
    assert claims["iss"] == "http://127.0.0.1/mc"
    assert claims["http://127.0.0.1/mc/claims/project_key"] == "demo"
    assert claims["exp"] - claims["iat"] == 3600
    assert "aud" in claims and "nbf" not in claims


async def test_deliberately_bad_tokens_fail_verification(client: Client, config: EmulatorConfig) -> None:
    with pytest.raises(jwt.ExpiredSignatureError):
        await _verify(client, mint_mc_jwt(config, expires_in=-60))
    with pytest.raises(jwt.ImmatureSignatureError):
        await _verify(client, mint_mc_jwt(config, not_before=time.time() + 600))
    with pytest.raises(jwt.InvalidIssuerError):
        await _verify(client, mint_mc_jwt(config, issuer="https://evil.example"))
    with pytest.raises(KeyError):
        await _verify(client, mint_mc_jwt(config, kid="unknown-kid"))
    with pytest.raises(jwt.InvalidSignatureError):
        await _verify(client, mint_mc_jwt(config, signing_key=generate_signing_key()))
    other_project = await _verify(client, mint_mc_jwt(config, project_key="other"))
    assert other_project["http://127.0.0.1/mc/claims/project_key"] == "other"


async def test_jwt_token_endpoint_mints_for_the_demo(client: Client) -> None:
    resp = await client.post("/jwt/token", json={"sub": "alice", "projectKey": "demo"})
    claims = await _verify(client, (await resp.json())["token"])
    assert claims["sub"] == "alice"
    form = await client.post("/jwt/token", data={"sub": "bob"})
    assert (await _verify(client, (await form.json())["token"]))["sub"] == "bob"
    bad = await client.post("/jwt/token", data=b"{", headers={"Content-Type": "application/json"})
    assert bad.status == 400


def test_kid_is_stable_for_a_key_and_changes_with_it(config: EmulatorConfig) -> None:
    assert EmulatorConfig().kid == config.kid  # one generated key per process
    assert config.kid.startswith("emulator-")
    assert EmulatorConfig(signing_key=generate_signing_key()).kid != config.kid
    assert EmulatorConfig(signing_key=config.signing_key, key_id="emulator-1").kid == "emulator-1"
