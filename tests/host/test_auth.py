"""Every authentication failure of CONTRACT.md §3, with its exact status and message, through the host."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from host.testing import HostClient

INSTANCES = """\
ex:
  plugin: example_psp
  paymentInterface: ex
  settings: {apiKey: k}
"""

Factory = Callable[..., Awaitable[HostClient]]


@pytest.fixture
async def host(connector_host: Factory) -> HostClient:
    return await connector_host(INSTANCES)


async def _auth_error(resp: Any) -> tuple[str, str]:
    assert resp.status == 401
    body = await resp.json()
    assert body["statusCode"] == 401
    assert body["error"] == body["errors"][0]["code"]
    assert body["error_description"] == body["message"] == body["errors"][0]["message"]
    return body["error"], body["message"]


async def test_session_missing_unknown_expired(host: HostClient) -> None:
    post = host.client.post
    assert await _auth_error(await post("/payments", json={})) == \
        ("access_denied", "This endpoint requires the X-Session-Id header.")
    assert await _auth_error(await post("/payments", json={}, headers={"X-Session-Id": "nope"})) == \
        ("invalid_token", "Session is not active")
    sid = host.session("ex")
    host.ct.emulator.expire_session(sid)
    assert await _auth_error(await post("/payments", json={}, headers={"X-Session-Id": sid})) == \
        ("invalid_token", "Session is not active")


async def test_session_correlation_id_from_metadata_overrides_header(host: HostClient) -> None:
    sid = host.session("ex", correlationId="checkout-corr-1")
    resp = await host.client.get("/operations/config", headers={"X-Session-Id": sid, "X-Correlation-ID": "mine"})
    assert resp.status == 200
    assert resp.headers["X-Correlation-ID"] == "checkout-corr-1"


async def _intent(host: HostClient, headers: dict[str, str]) -> Any:
    return await host.client.post("/operations/payment-intents/p1", headers=headers,
                                  json={"actions": [{"action": "cancelPayment"}]})


async def test_oauth_header_rules(host: HostClient) -> None:
    assert await _auth_error(await _intent(host, {})) == \
        ("access_denied", "This endpoint requires the authorization header.")
    for bad in ("Basic abc", "bearer abc", "Bearer a b", "Bearer"):
        assert await _auth_error(await _intent(host, {"Authorization": bad})) == \
            ("invalid_request", "Authorization header must have the format 'Bearer <token>'")


async def test_oauth_inactive_and_wrong_scope(host: HostClient) -> None:
    assert await _auth_error(await _intent(host, {"Authorization": "Bearer unknown"})) == \
        ("invalid_token", "invalid_token")
    token = host.ct.emulator.issue_token("checkout", ["manage_checkout_transactions:test-project"])
    resp = await _intent(host, {"Authorization": f"Bearer {token}"})
    assert await _auth_error(resp) == ("invalid_token", "Not authorized")


async def test_oauth_wrong_scope_lists_valid_authorities(host: HostClient) -> None:
    token = host.ct.emulator.issue_token("checkout", ["manage_checkout_transactions:test-project"])
    body = await (await _intent(host, {"Authorization": f"Bearer {token}"})).json()
    assert body["errors"][0]["validAuthorities"] == ["manage_project", "manage_checkout_payment_intents"]


async def test_oauth_scope_suffix_is_stripped_and_any_authority_passes(host: HostClient) -> None:
    token = host.ct.emulator.issue_token("connector")   # manage_project:test-project
    resp = await _intent(host, {"Authorization": f"Bearer {token}"})
    assert resp.status == 404   # authenticated; the payment does not exist


async def _status(host: HostClient, token: str) -> Any:
    return await host.client.get("/operations/status", headers={"Authorization": f"Bearer {token}"})


async def test_jwt_accepted(host: HostClient) -> None:
    assert (await _status(host, host.mc_jwt())).status == 200


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"expires_in": -10}, "jwt expired"),
    ({"issuer": "https://evil.example"}, "Issuer in the token does not match the expected issuer."),
    ({"project_key": "other"}, "Project key does not match."),
])
async def test_jwt_failures(host: HostClient, kwargs: dict[str, Any], message: str) -> None:
    assert await _auth_error(await _status(host, host.mc_jwt(**kwargs))) == ("invalid_token", message)


async def test_jwt_not_yet_valid(host: HostClient) -> None:
    import time
    token = host.mc_jwt(not_before=int(time.time()) + 3600)
    assert await _auth_error(await _status(host, token)) == ("invalid_token", "jwt not active")


async def test_jwt_tampered_signature_malformed_and_none_alg(host: HostClient) -> None:
    import base64
    import json
    token = host.mc_jwt()
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    assert (await _auth_error(await _status(host, tampered)))[1] == "invalid signature"
    assert (await _auth_error(await _status(host, "not-a-jwt")))[1] == "jwt malformed"
    none_head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": json.loads(
        base64.urlsafe_b64decode(head + "==")).get("kid")}).encode()).rstrip(b"=").decode()
    assert (await _status(host, f"{none_head}.{payload}.")).status == 401


async def test_jwt_hmac_with_the_public_key_is_refused(host: HostClient) -> None:
    import jwt as pyjwt
    from cryptography.hazmat.primitives import serialization
    public_pem = host.ct.config.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    real = pyjwt.decode(host.mc_jwt(), options={"verify_signature": False})
    kid = pyjwt.get_unverified_header(host.mc_jwt())["kid"]
    # PyJWT itself refuses to sign HS256 with a PEM key, so the forgery is built by hand
    forged = _hs256(real, public_pem, kid)
    assert (await _status(host, forged)).status == 401


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}." \
              f"{b64(json.dumps(claims).encode())}"
    return f"{signing}.{b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())}"


async def test_jwks_is_cached(host: HostClient) -> None:
    for _ in range(3):
        assert (await _status(host, host.mc_jwt())).status == 200
    assert host.ct.stats().get("GET /.well-known/jwks.json") == 1


def _b64(data: Any) -> str:
    import base64
    import json
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("header", [{"alg": "RS256", "kid": {"a": 1}}, {"alg": "RS256", "kid": ["k"]},
                                    {"alg": "RS256", "kid": 7}, {"alg": {"x": 1}, "kid": "k"}, [1, 2], "text",
                                    {"alg": "RS256", "kid": "k", "crit": 5}, {"alg": "RS256", "kid": "k" * 5000}])
async def test_a_jwt_header_of_any_shape_is_401(host: HostClient, header: Any) -> None:
    payload = _b64({"sub": "x", "exp": 9999999999})
    assert (await _auth_error(await _status(host, f"{_b64(header)}.{payload}.c2ln")))[0] == "invalid_token"


async def test_a_malformed_session_header_says_so(host: HostClient) -> None:
    resp = await host.client.post("/payments", json={}, headers={"X-Session-Id": "not a session/../x"})
    assert await _auth_error(resp) == (
        "invalid_request", "The X-Session-Id header is not a session id (1 to 256 letters, digits, '-' or '_').")


async def test_a_session_api_that_cannot_answer_is_503_not_inactive(host: HostClient) -> None:
    sid = host.session("ex")
    await host.client.get("/operations/config", headers={"X-Session-Id": sid})   # the token is cached
    host.ct.emulator.inject_fault(r"/sessions/", 503, times=50)
    resp = await host.client.get("/operations/config", headers={"X-Session-Id": sid})
    body = await resp.json()
    assert resp.status == 503, body
    assert body["errors"][0]["code"] == "ServiceUnavailable" and "error" not in body
    host.ct.emulator.clear_faults()
    assert (await host.client.get("/operations/config", headers={"X-Session-Id": sid})).status == 200
