"""From a paymentInterface (or instance id) to the instance that serves a request, in constant time.

The router is built once from the validated deployment. Lookups are dict lookups: the cost does not grow
with the number of instances. A request no instance can serve is a 4xx in the contract's envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from host.commercetools.wallet import Wallet
from host.config import INSTANCE_ID
from host.errors import InvalidFieldError, InvalidOperationError, ResourceNotFoundError
from host.models import CaptureMethod
from host.providers import GiftCardProvider, PaymentProvider, Provider
from host.scope import note_instance

Kind = Literal["payment", "giftcard"]
P = TypeVar("P", bound=Provider, covariant=True)


@dataclass(frozen=True)
class Bound(Generic[P]):
    """An instance ready to serve: its id, paymentInterface, methods and provider object."""

    id: str
    payment_interface: str
    methods: frozenset[str]
    provider: P
    plugin: str
    distribution: str
    version: str
    capture_method: CaptureMethod = CaptureMethod.MANUAL
    enabled: bool = True
    wallet: Wallet | None = None     # its stored payment methods; None: not enabled (``storedPaymentMethods``)


@dataclass
class Router:
    by_interface: dict[str, Bound[Provider]] = field(default_factory=dict)
    by_id: dict[str, Bound[Provider]] = field(default_factory=dict)
    # the one enabled instance of each kind, and of any kind (key None), when there is exactly one (else None)
    _single: dict[Kind | None, Bound[Provider] | None] = field(default_factory=dict)

    @classmethod
    def build(cls, bound: Mapping[str, Bound[Provider]]) -> Router:
        router = cls()
        for b in bound.values():
            router.by_interface[b.payment_interface] = b
            router.by_id[b.id] = b
        for kind in ("payment", "giftcard", None):
            enabled = [b for b in bound.values() if b.enabled and kind in (None, b.provider.kind)]
            router._single[kind] = enabled[0] if len(enabled) == 1 else None
        return router

    @property
    def enabled(self) -> list[Bound[Provider]]:
        return [b for b in self.by_id.values() if b.enabled]

    def for_interface(self, payment_interface: str | None, kind: Kind | None) -> Bound[Provider]:
        """The instance for a paymentInterface; with none given, the only enabled one of ``kind`` (of any
        kind when ``kind`` is None: ``/operations/config`` and plugin routes serve every kind)."""
        if not payment_interface:
            single = self._single.get(kind)
            if single is None:
                candidates = sorted(b.payment_interface for b in self.enabled if kind in (None, b.provider.kind))
                if not candidates:
                    raise InvalidOperationError("No enabled payment integration can serve this request.")
                raise InvalidOperationError(
                    f"The session names no paymentInterface and {len(candidates)} integrations could serve this "
                    f"request ({', '.join(candidates)}); create the session with metadata.paymentInterface set "
                    f"to one of them.")
            return single
        bound = self.by_interface.get(payment_interface)
        if bound is None:
            raise InvalidFieldError("paymentInterface",
                                    f"No payment integration is configured for paymentInterface "
                                    f"'{payment_interface}'.", invalidValue=payment_interface)
        return self._check(bound, kind)

    def for_id(self, instance_id: str, kind: Kind | None = None) -> Bound[Provider]:
        bound = self.by_id.get(instance_id)
        if bound is None:   # a name from a URL: quoted only when it has the shape of an instance id
            named = f" '{instance_id}'" if INSTANCE_ID.fullmatch(instance_id) else " of that name"
            raise ResourceNotFoundError(f"No payment integration instance{named}.")
        return self._check(bound, kind)

    @staticmethod
    def _check(bound: Bound[Provider], kind: Kind | None) -> Bound[Provider]:
        note_instance(bound.id)   # metrics and traces label the request with it, refused or not
        if not bound.enabled:
            raise InvalidOperationError(f"The payment integration '{bound.payment_interface}' is disabled.")
        if kind is not None and bound.provider.kind != kind:
            what = "gift-card" if kind == "giftcard" else "card payment"
            raise InvalidOperationError(f"The payment integration '{bound.payment_interface}' does not offer "
                                        f"{what} operations.")
        return bound

    @staticmethod
    def check_method(bound: Bound[Provider], method: str | None, allowed: tuple[str, ...] = ()) -> str:
        """The method must be offered by the instance and, when the session lists any, allowed by it."""
        if not method:
            if len(bound.methods) == 1:
                return next(iter(bound.methods))
            raise InvalidFieldError("paymentMethod.type", "A value is required for field paymentMethod.type.")
        if method not in bound.methods:
            raise InvalidFieldError("paymentMethod.type",
                                    f"Payment method '{method}' is not enabled for '{bound.payment_interface}'; "
                                    f"enabled: {', '.join(sorted(bound.methods))}.", invalidValue=method,
                                    allowedValues=sorted(bound.methods))
        if allowed and method not in allowed:
            raise InvalidFieldError("paymentMethod.type",
                                    f"Payment method '{method}' is not allowed by this checkout session.",
                                    invalidValue=method, allowedValues=list(allowed))
        return method


def as_payment(bound: Bound[Provider]) -> Bound[PaymentProvider]:
    assert isinstance(bound.provider, PaymentProvider)
    return bound  # type: ignore[return-value]


def as_giftcard(bound: Bound[Provider]) -> Bound[GiftCardProvider]:
    assert isinstance(bound.provider, GiftCardProvider)
    return bound  # type: ignore[return-value]
