"""The routing table: constant-time lookup, clear 4xx when nothing matches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from host.errors import InvalidFieldError, InvalidOperationError
from host.routing import Bound, Router
from host.testing import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]


class _P:
    def __init__(self, kind: str) -> None:
        self.kind = kind


def _bound(i: int, kind: str = "payment", enabled: bool = True) -> Bound:  # type: ignore[type-arg]
    return Bound(f"i{i}", f"pi-{i}", frozenset({"card"}), _P(kind), "x", "d", "1", enabled=enabled)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [1, 100])
def test_every_interface_resolves_to_its_instance(count: int) -> None:
    router = Router.build({f"i{i}": _bound(i) for i in range(count)})
    for i in range(count):
        assert router.for_interface(f"pi-{i}", "payment").id == f"i{i}"
        assert router.for_id(f"i{i}").payment_interface == f"pi-{i}"


def test_single_instance_serves_sessions_without_interface() -> None:
    router = Router.build({"i0": _bound(0), "g": _bound(1, "giftcard")})
    assert router.for_interface(None, "payment").id == "i0"
    assert router.for_interface(None, "giftcard").id == "i1"


def test_ambiguous_session_without_interface_is_400() -> None:
    router = Router.build({"i0": _bound(0), "i1": _bound(1)})
    with pytest.raises(InvalidOperationError, match="names no paymentInterface"):
        router.for_interface(None, "payment")


def test_unknown_disabled_and_wrong_kind() -> None:
    router = Router.build({"i0": _bound(0), "i1": _bound(1, enabled=False), "g": _bound(2, "giftcard")})
    with pytest.raises(InvalidFieldError, match="No payment integration is configured for paymentInterface 'zzz'"):
        router.for_interface("zzz", "payment")
    with pytest.raises(InvalidOperationError, match="'pi-1' is disabled"):
        router.for_interface("pi-1", "payment")
    with pytest.raises(InvalidOperationError, match="does not offer card payment operations"):
        router.for_interface("pi-2", "payment")


def test_method_must_be_enabled_and_allowed_by_session() -> None:
    bound = Bound("i", "pi", frozenset({"card", "invoice"}), _P("payment"), "x", "d", "1")  # type: ignore[arg-type]
    assert Router.check_method(bound, "card") == "card"
    with pytest.raises(InvalidFieldError, match="'paypal' is not enabled for 'pi'"):
        Router.check_method(bound, "paypal")
    with pytest.raises(InvalidFieldError, match="not allowed by this checkout session"):
        Router.check_method(bound, "invoice", ("card",))


def test_the_only_instance_serves_sessions_without_interface_for_any_kind() -> None:
    assert Router.build({"i0": _bound(0)}).for_interface(None, None).id == "i0"
    assert Router.build({"g": _bound(1, "giftcard"), "i": _bound(2, enabled=False)}).for_interface(None, None).id \
        == "i1"
    with pytest.raises(InvalidOperationError, match=r"2 integrations could serve this request \(pi-0, pi-1\)"):
        Router.build({"i0": _bound(0), "g": _bound(1, "giftcard")}).for_interface(None, None)
    with pytest.raises(InvalidOperationError, match="No enabled payment integration"):
        Router.build({"i0": _bound(0, enabled=False)}).for_interface(None, None)


async def test_config_serves_a_session_without_interface_when_one_instance_is_configured(
        connector_host: MakeHost) -> None:
    host = await connector_host("sandbox: {plugin: sandbox, paymentInterface: mock}")
    resp = await host.config(host.session())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["environment"] == "TEST"


async def test_config_without_interface_is_a_clear_400_when_several_could_serve(connector_host: MakeHost) -> None:
    host = await connector_host("""\
sandbox: {plugin: sandbox, paymentInterface: mock}
giftcards: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
""")
    resp = await host.config(host.session())
    assert resp.status == 400
    assert (await resp.json())["message"] == (
        "The session names no paymentInterface and 2 integrations could serve this request (mock, "
        "mock-giftcard-provider); create the session with metadata.paymentInterface set to one of them.")


async def test_a_plugin_route_serves_a_session_without_interface_when_one_instance_is_configured(
        connector_host: MakeHost) -> None:
    host = await connector_host("stripe: {plugin: stripe, paymentInterface: stripe, settings: {secretKey: sk_test_1, "
                                "publishableKey: pk_test_1, webhookSecret: whsec_1, apiBase: 'http://127.0.0.1:9'}}")
    resp = await host.client.get("/config-element/payment", headers={"X-Session-Id": host.session(amount=1200)})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["cartInfo"] == {"amount": 1200, "currency": "EUR"}
