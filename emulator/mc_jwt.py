"""Merchant Center JWTs: the JWKS a verifier fetches, and minting tokens that it accepts.

``GET /.well-known/jwks.json`` (also ``/jwt/.well-known/jwks.json``, where the template's
``jwt-mock-server`` serves it) publishes the RSA public key with its ``kid``.
``POST /jwt/token`` (form or JSON ``{"sub"?, "projectKey"?}``) answers ``{"token"}``: a dev
convenience, the same as :func:`mint_mc_jwt`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .config import EmulatorConfig
from .errors import invalid_json
from .routing import Route, emulator_of

if TYPE_CHECKING:
    from .core import Emulator

DEFAULT_AUDIENCE = "connector-host"


def mint_mc_jwt(
    config_or_emulator: EmulatorConfig | Emulator,
    *,
    sub: str = "mc-user",
    project_key: str | None = None,
    issuer: str | None = None,
    expires_in: float = 3600,
    kid: str | None = None,
    not_before: float | None = None,
    audience: str = DEFAULT_AUDIENCE,
    signing_key: rsa.RSAPrivateKey | None = None,
) -> str:
    """An RS256 Merchant Center token signed with the emulator's key.

    Claims: ``iss`` (default the config's issuer), ``sub``, ``iat``, ``exp`` = now +
    ``expires_in`` (negative: already expired), ``nbf`` = ``not_before`` (absolute POSIX time,
    omitted when None), ``aud``, and ``"{issuer}/claims/project_key"`` (default the config's
    project key; the claim name uses the *given* issuer). ``kid`` and ``signing_key`` override
    the header key id and the key, to mint tokens a verifier must refuse.
    """
    config = (
        config_or_emulator if isinstance(config_or_emulator, EmulatorConfig) else (config_or_emulator.config)
    )
    iss = config.issuer if issuer is None else issuer
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": sub,
        "iat": now,
        "exp": int(now + expires_in),
        "aud": audience,
        f"{iss}/claims/project_key": config.project_key if project_key is None else project_key,
    }
    if not_before is not None:
        claims["nbf"] = int(not_before)
    key = signing_key or config.key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid or config.kid})


def jwks(config: EmulatorConfig) -> dict[str, Any]:
    """The JSON Web Key Set holding the emulator's public signing key."""
    jwk = RSAAlgorithm.to_jwk(config.key.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": config.kid, "alg": "RS256", "use": "sig"}]}


async def get_jwks(request: web.Request) -> web.Response:
    """``GET /.well-known/jwks.json``."""
    return web.json_response(jwks(emulator_of(request).config))


async def post_jwt_token(request: web.Request) -> web.Response:
    """``POST /jwt/token``: mint a token for ``sub`` / ``projectKey``."""
    raw = await request.read()
    params: dict[str, Any] = {}
    if raw.strip():
        if request.content_type == "application/json":
            try:
                params = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise invalid_json(str(exc)) from None
            if not isinstance(params, dict):
                raise invalid_json("The request body must be a JSON object.")
        else:
            params = dict(parse_qsl(raw.decode(errors="replace")))
    sub, project_key = params.get("sub"), params.get("projectKey")
    token = mint_mc_jwt(
        emulator_of(request),
        sub=sub if isinstance(sub, str) else "mc-user",
        project_key=project_key if isinstance(project_key, str) else None,
    )
    return web.json_response({"token": token})


ROUTES = [
    Route("GET", "/.well-known/jwks.json", get_jwks),
    Route("GET", "/jwt/.well-known/jwks.json", get_jwks),
    Route("POST", "/jwt/token", post_jwt_token),
]
