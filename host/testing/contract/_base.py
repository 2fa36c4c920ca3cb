"""The base of both contract classes: building the host with one watched instance."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from host.config import load_config
from host.errors import ConfigError
from host.models import CaptureMethod, Money, TxState, TxType
from host.plugins import Plugins
from host.providers import Capabilities, ProviderClass, ProviderSettings
from host.testing.contract._checks import (  # noqa: F401
    _OPERATIONS,
    _WATCHED,
    MakeHost,
    _assert_envelope,
    _json,
    _Stepped,
    _total,
    _transactions,
    _Watch,
)
from host.testing.harness import HostClient, connector_yaml, plugins_with


class _Contract:
    """What ``ProviderContract`` and ``GiftCardContract`` share: set-up, guards, settings, status, webhooks."""

    #: The plugin name as written in connector.yaml (``plugin:``), registered in ``register_providers``.
    plugin: ClassVar[str]
    #: Valid ``settings:`` of an instance (camelCase as an operator writes them).
    settings: ClassVar[Mapping[str, Any]] = {}
    #: ``methods:`` of the instance; ``None``: every method the provider declares.
    methods: ClassVar[Sequence[str] | None] = None
    currency: ClassVar[str] = "EUR"
    #: The cart amount of each test, in minor units.
    amount: ClassVar[int] = 10000
    instance_id: ClassVar[str] = "contract"
    payment_interface: ClassVar[str] = "contract-psp"
    #: Seconds ``status()`` may take.
    status_budget: ClassVar[float] = 2.0
    #: A step of a provider call (the code between two awaits) that runs longer than this (seconds) fails.
    slow_callback_duration: ClassVar[float] = 0.1
    #: Seconds to wait for a ``received`` modification to be settled (see ``settle``).
    settle_timeout: ClassVar[float] = 5.0
    #: The transaction type the webhook tests ask ``webhook_event`` for.
    webhook_tx_type: ClassVar[TxType] = TxType.CHARGE
    #: The amount of that event (minor units); ``None``: ``amount``.
    webhook_amount: ClassVar[int | None] = None
    #: Plugins registered in-process (name -> module with ``@hookimpl`` functions), for a provider that is
    #: not installed as a distribution. Installed plugins are found through their entry point.
    in_process_plugins: ClassVar[Mapping[str, object]] = {}

    _contract_make_host: MakeHost
    _contract_watch: _Watch
    _contract_watched_loop: asyncio.AbstractEventLoop | None

    # -- what a subclass may override -------------------------------------------------------------

    def instance_settings(self) -> Mapping[str, Any]:
        """The instance's settings; override when they depend on a fixture (a test server's URL)."""
        return self.settings

    def sign_webhook(self, body: bytes) -> dict[str, str]:
        """The headers that sign ``body`` as the PSP signs its notifications (webhook providers only)."""
        raise NotImplementedError(f"{type(self).__name__} declares webhooks: implement sign_webhook(body)")

    def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes:
        """The raw body of a PSP notification that settles a ``tx_type`` transaction of ``amount`` in Success
        on the Payment ``payment_id``, with ``psp_reference`` as its interaction id (webhook providers only)."""
        raise NotImplementedError(f"{type(self).__name__} declares webhooks: implement webhook_event(...)")

    async def webhook_payment(self, host: HostClient) -> str:
        """A Payment the webhook tests send their event about."""
        raise NotImplementedError

    # -- machinery ---------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    async def _contract_guards(self, connector_host: MakeHost,
                               caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
        self._contract_make_host = connector_host
        self._contract_watch = _Watch(self.slow_callback_duration)
        self._contract_watched_loop = None
        # the handler keeps the level of the last call: WARNING lets both kinds of record through
        caplog.set_level(logging.ERROR, logger="host.middleware")
        caplog.set_level(logging.WARNING, logger="asyncio")
        try:
            yield
        finally:
            self._contract_watch.close()
            if self._contract_watched_loop is not None:
                self._contract_watched_loop.set_debug(False)
        records = caplog.get_records("call")
        if self._contract_watch.slow:
            # asyncio's own report of the slow callbacks, for context: it cannot tell whose code it was
            loop_said = [r.getMessage() for r in records if r.name == "asyncio" and " took " in r.getMessage()]
            pytest.fail(f"the provider blocked the event loop for more than {self.slow_callback_duration} s "
                        f"(synchronous I/O, time.sleep or heavy CPU work between two awaits):\n  "
                        + "\n  ".join(self._contract_watch.slow + loop_said), pytrace=False)
        if self._contract_watch.foreign:
            pytest.fail("the provider raised errors that are not host.ApiError subclasses (raise ProviderError, "
                        "InvalidFieldError, ... instead):\n  " + "\n  ".join(self._contract_watch.foreign),
                        pytrace=False)
        crashed = [r.getMessage() for r in records if r.name == "host.middleware" and r.levelno >= logging.ERROR
                   and r.getMessage().startswith("unexpected error")]
        assert not crashed, "the host answered 500 Internal server error:\n" + "\n".join(crashed)

    @functools.cached_property
    def _contract_plugins(self) -> Plugins:
        return plugins_with(self.in_process_plugins)

    @property
    def provider_class(self) -> ProviderClass:
        """The provider class registered as ``plugin``."""
        entry = self._contract_plugins.providers.get(self.plugin)
        if entry is None:
            pytest.fail(f"no provider {self.plugin!r} is registered; available: "
                        f"{self._contract_plugins.describe_available()}. Is the plugin installed "
                        f"(pip install -e .) and does its entry point in the 'connector_host' group name it?")
        return entry.cls

    @property
    def capabilities(self) -> Capabilities:
        return self.provider_class.capabilities

    def _contract_require(self, *features: str) -> None:
        for feature in features:
            if not getattr(self.capabilities, feature):
                pytest.skip(f"{self.plugin} does not declare {feature}")

    def default_capture_method(self) -> CaptureMethod:
        caps = self.capabilities
        if CaptureMethod.MANUAL in caps.capture_methods and (caps.capture or len(caps.capture_methods) == 1):
            return CaptureMethod.MANUAL
        return CaptureMethod.AUTOMATIC

    def instance_yaml(self, capture_method: CaptureMethod | None = None,
                      settings: Mapping[str, Any] | None = None) -> str:
        """The instance under ``instances:`` (JSON is YAML)."""
        instance: dict[str, Any] = {
            "plugin": self.plugin, "paymentInterface": self.payment_interface,
            "captureMethod": (capture_method or self.default_capture_method()).value,
            "settings": dict(self.instance_settings() if settings is None else settings)}
        if self.methods is not None:
            instance["methods"] = list(self.methods)
        return f"{self.instance_id}: {json.dumps(instance, default=str)}\n"

    async def start(self, capture_method: CaptureMethod | None = None) -> HostClient:
        """A running host with the instance, its provider watched; the loop runs in asyncio's debug mode."""
        plugins = copy.copy(self._contract_plugins)
        entry = plugins.providers.get(self.plugin)
        if entry is not None:   # else load_config says the plugin is unknown, naming the available ones
            plugins.providers = {**plugins.providers,
                                 self.plugin: dataclasses.replace(entry, cls=self._contract_watch.subclass(entry.cls))}
        host = await self._contract_make_host(self.instance_yaml(capture_method), plugins=plugins)
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = self.slow_callback_duration
        loop.set_debug(True)
        self._contract_watched_loop = loop
        return host

    def session(self, host: HostClient, amount: int | None = None) -> str:
        return host.session(self.payment_interface, amount=self.amount if amount is None else amount,
                            currency=self.currency)

    def _contract_secrets(self) -> list[str]:
        settings = self.provider_class.Settings.model_validate(dict(self.instance_settings()))
        return [v.get_secret_value() for v in (getattr(settings, f) for f in type(settings).model_fields)
                if isinstance(v, SecretStr) and len(v.get_secret_value()) >= 4]

    async def _contract_refused(self, resp: Any, what: str, status: int = 400) -> dict[str, Any]:
        body = await _json(resp)
        assert resp.status == status, f"{what}: expected {status}, got {resp.status}: {body}"
        _assert_envelope(body, status, what)
        return dict(body)

    # -- settings, status, config ------------------------------------------------------------------

    def test_settings_reject_unknown_key(self, tmp_path: Path) -> None:
        """connector.yaml with an unknown settings key stops start-up with the key's path, not a traceback."""
        assert issubclass(self.provider_class.Settings, ProviderSettings), \
            "Settings must subclass host.ProviderSettings (extra='forbid')"
        valid = tmp_path / "valid.yaml"
        valid.write_text(connector_yaml(self.instance_yaml()), encoding="utf-8")
        load_config(valid, self._contract_plugins)
        path = tmp_path / "connector.yaml"
        bad = {**self.instance_settings(), "contractUnknownKey": True}
        path.write_text(connector_yaml(self.instance_yaml(settings=bad)), encoding="utf-8")
        try:
            load_config(path, self._contract_plugins)
        except ConfigError as exc:
            caught = exc
        else:
            pytest.fail("settings with an unknown key were accepted: the Settings model must refuse extra keys "
                        "(subclass host.ProviderSettings and keep extra='forbid')")
        assert caught.path == f"instances.{self.instance_id}.settings.contractUnknownKey", str(caught)
        assert caught.line is not None and "unknown key" in str(caught)
        for secret in self._contract_secrets():
            assert secret not in str(caught), "the settings error quotes a secret"

    async def test_status_answers_within_budget(self) -> None:
        host = await self.start()
        started = time.monotonic()
        resp = await host.status()
        elapsed = time.monotonic() - started
        body = await _json(resp)
        assert resp.status == 200, body
        checks = [c for c in body["checks"] if (c.get("details") or {}).get("instance") == self.instance_id]
        assert len(checks) == 1, f"no status check for instance {self.instance_id}: {body}"
        assert checks[0]["status"] == "UP", f"status() says DOWN: {checks[0]}"
        assert elapsed < self.status_budget, f"/operations/status took {elapsed:.2f} s"

    async def test_config_answers_json_without_secrets(self) -> None:
        host = await self.start()
        resp = await host.config(self.session(host))
        body = await _json(resp)
        assert resp.status == 200, body
        assert isinstance(body, dict), f"/operations/config must answer a JSON object, not {body!r}"
        text = json.dumps(body)
        for secret in self._contract_secrets():
            assert secret not in text, "/operations/config shows a secret setting"

    async def test_payment_components_answer_json(self) -> None:
        host = await self.start()
        resp = await host.client.get("/operations/payment-components",
                                     headers={"Authorization": f"Bearer {host.mc_jwt()}"})
        body = await _json(resp)
        assert resp.status == 200, body
        assert all(isinstance(body.get(k), list) for k in ("dropins", "components", "express")), body

    # -- webhooks ----------------------------------------------------------------------------------

    def _contract_event(self, payment_id: str, reference: str | None = None) -> tuple[bytes, str, Money]:
        reference = reference or f"contract-{uuid.uuid4().hex[:20]}"
        amount = Money(self.webhook_amount or self.amount, self.currency)
        return self.webhook_event(payment_id, reference, self.webhook_tx_type, amount), reference, amount

    async def test_webhook_signed_event_is_recorded_once(self) -> None:
        """A valid signed event is accepted and recorded; delivered again, it changes nothing."""
        self._contract_require("webhooks")
        host = await self.start()
        pid = await self.webhook_payment(host)
        body, reference, amount = self._contract_event(pid)
        headers = self.sign_webhook(body)
        resp = await host.post_webhook(self.instance_id, body, headers)
        assert resp.status < 300, f"a valid signed event was refused: {resp.status} {await resp.text()}"
        after = host.payment(pid)
        recorded = [t for t in _transactions(after, self.webhook_tx_type) if t.get("interactionId") == reference]
        assert recorded, (f"no {self.webhook_tx_type.value} transaction with interactionId {reference} "
                          f"was recorded: {_transactions(after)}")
        assert recorded[0]["state"] == TxState.SUCCESS.value, recorded
        assert recorded[0]["amount"]["centAmount"] == amount.cent_amount, recorded
        again = await host.post_webhook(self.instance_id, body, headers)
        assert again.status < 300, f"a redelivered event was refused: {again.status} {await again.text()}"
        assert host.payment(pid)["version"] == after["version"], "a redelivered event changed the Payment"

    async def test_webhook_tampered_or_unsigned_is_refused(self) -> None:
        """A body that is not what was signed, or carries no signature, is a 401 and writes nothing."""
        self._contract_require("webhooks")
        host = await self.start()
        pid = await self.webhook_payment(host)
        body, _, _ = self._contract_event(pid)
        headers = self.sign_webhook(body)
        other, _, _ = self._contract_event(pid)
        version = host.payment(pid)["version"]
        for what, sent, sent_headers in (("a tampered body", body + b" ", headers),
                                         ("another event under the first one's signature", other, headers),
                                         ("an unsigned event", body, {})):
            resp = await host.post_webhook(self.instance_id, sent, sent_headers)
            assert resp.status == 401, f"{what}: expected 401, got {resp.status}: {await resp.text()}"
            assert host.payment(pid)["version"] == version, f"{what} changed the Payment"

    async def test_webhook_undeclared_is_refused(self) -> None:
        if self.capabilities.webhooks:
            pytest.skip(f"{self.plugin} declares webhooks")
        host = await self.start()
        resp = await host.post_webhook(self.instance_id, b"{}", {})
        body = await self._contract_refused(resp, "a webhook to a provider without webhooks")
        assert body["errors"][0]["code"] == "InvalidOperation", body


