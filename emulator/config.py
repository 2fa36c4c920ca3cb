"""Configuration of the emulator: project, API clients, lifetimes, persistence, JWT signing key."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class ClientCredentials:
    """An API client: ``scopes`` carry the project-key suffix (``manage_project:demo``)."""

    client_id: str
    client_secret: str
    scopes: list[str]


def default_clients(project_key: str = "demo") -> list[ClientCredentials]:
    """The demo's clients: ``connector`` (whole project) and ``checkout`` (Checkout's scopes)."""
    pk = project_key
    return [
        ClientCredentials("connector", "connector-secret", [f"manage_project:{pk}"]),
        ClientCredentials(
            "checkout",
            "checkout-secret",
            [f"manage_checkout_payment_intents:{pk}", f"manage_checkout_transactions:{pk}"],
        ),
    ]


def generate_signing_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key for signing Merchant Center JWTs."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def process_signing_key() -> rsa.RSAPrivateKey:
    """The key of every config that is given none: generated once per process, on first use.

    RSA key generation costs tens of milliseconds; a test suite building an emulator per test
    would otherwise spend most of its time there.
    """
    return generate_signing_key()


def key_fingerprint_kid(key: rsa.RSAPrivateKey) -> str:
    """A ``kid`` that is stable for one key and changes with it (``emulator-<8 hex>``).

    A verifier that caches the JWKS by ``kid`` therefore refetches it when an emulator restarts
    with a new key, instead of failing signatures against the stale one.
    """
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "emulator-" + hashlib.sha256(der).hexdigest()[:8]


@dataclass
class EmulatorConfig:
    """Everything an emulator instance needs; the defaults serve the demo project ``demo``.

    The default ``clients`` are :func:`default_clients` for ``project_key``. ``token_ttl`` and
    ``session_ttl`` are in seconds. ``sqlite_path`` makes the data survive a restart. ``issuer``
    is the Merchant Center JWT issuer the host must be configured with. ``signing_key``, when not
    given, is generated once per process; ``key_id`` (the JWKS ``kid``) defaults to a fingerprint of it.
    """

    project_key: str = "demo"
    clients: list[ClientCredentials] = field(default_factory=default_clients)
    token_ttl: int = 172800
    session_ttl: int = 3600
    sqlite_path: str | None = None
    issuer: str = "http://127.0.0.1/mc"
    signing_key: rsa.RSAPrivateKey | None = None
    key_id: str | None = None

    def __post_init__(self) -> None:
        if self.project_key != "demo" and self.clients == default_clients():
            # The default clients follow the project key they are meant for.
            self.clients = default_clients(self.project_key)
        if self.signing_key is None:
            self.signing_key = process_signing_key()
        if self.key_id is None:
            self.key_id = key_fingerprint_kid(self.signing_key)

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The signing key (always set after construction)."""
        assert self.signing_key is not None
        return self.signing_key

    @property
    def kid(self) -> str:
        """The JWKS ``kid`` of :attr:`key`."""
        assert self.key_id is not None
        return self.key_id

    def client(self, client_id: str) -> ClientCredentials | None:
        """The configured client with this id, if any."""
        return next((c for c in self.clients if c.client_id == client_id), None)
