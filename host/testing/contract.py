"""The provider contract suite: test classes a plugin subclasses to prove its provider keeps the contract.

Opt in by subclassing (the base classes' names do not start with ``Test``, so pytest collects only your
subclass); enable ``host.testing`` in ``conftest.py`` (``pytest_plugins = ["host.testing"]``)::

    from typing import Any, ClassVar
    from host import Money, TxType
    from host.testing import ProviderContract

    class TestAcmeContract(ProviderContract):
        plugin = "acme"                                        # the name registered in register_providers
        settings: ClassVar[dict[str, Any]] = {"apiKey": "test", "webhookSecret": "whsec"}
        method = "card"
        payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}}
        refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card", "token": 42}}

        def sign_webhook(self, body: bytes) -> dict[str, str]: ...
        def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes: ...

Every test builds a real host from a connector.yaml snippet (one instance of ``plugin`` with ``settings``)
against the commercetools emulator, and goes through HTTP as Checkout and the enabler do. A test whose
feature the provider's ``capabilities`` do not declare is skipped with the reason; for each undeclared
operation a test checks the host refuses it with a clear 400 (never a 500).

Two guards watch every test (the host gets a subclass of the provider class whose methods and route
handlers are wrapped):

* **errors are the host's**: an exception out of a provider method that is not a ``host.ApiError`` (a
  ``KeyError``, an SDK's own error...) fails the test, naming the method; so does any 500 answer.
* **nothing blocks the event loop**: each provider call is run step by step, a step being the code between
  two awaits, during which nothing else can run. A step longer than ``slow_callback_duration`` (0.1 s)
  fails the test, naming the method: synchronous I/O, ``time.sleep`` or heavy CPU work. The loop also runs
  in asyncio's debug mode (which refuses calls from other threads), and its "Executing ... took" warnings
  are shown with the failure; they alone do not fail a test, because asyncio cannot tell whose code was
  slow (the host and the emulator share the loop, and a loaded machine or the garbage collector can stall
  any callback).

The tests, and what each checks, are listed in docs/writing-plugins.md ("The contract suite").

``ProviderContract`` is for ``PaymentProvider`` classes, ``GiftCardContract`` for ``GiftCardProvider``.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import inspect
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from host.config import load_config
from host.errors import ApiError, ConfigError
from host.models import CaptureMethod, Money, Outcome, TxState, TxType
from host.plugins import Plugins
from host.providers import Capabilities, Provider, ProviderClass, ProviderSettings, Route
from host.testing.harness import HostClient, connector_yaml, plugins_with

MakeHost = Callable[..., Awaitable[HostClient]]

_WATCHED = ("startup", "shutdown", "status", "public_config", "payment_components", "payment_method",
            "create_payment", "capture", "cancel", "refund", "reverse", "parse_webhook", "balance", "redeem")
_OPERATIONS = {"capture": "capturePayment", "refund": "refundPayment", "cancel": "cancelPayment",
               "reverse": "reversePayment"}


def _transactions(payment: Mapping[str, Any], type_: TxType | None = None) -> list[dict[str, Any]]:
    return [dict(t) for t in payment.get("transactions") or [] if type_ is None or t["type"] == type_.value]


def _total(payment: Mapping[str, Any], type_: TxType, state: TxState = TxState.SUCCESS) -> int:
    return sum(int(t["amount"]["centAmount"]) for t in _transactions(payment, type_) if t["state"] == state.value)


async def _json(resp: Any) -> Any:
    text = await resp.text()
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"{resp.method} {resp.url.path} answered {resp.status} with a non-JSON body: "
                             f"{text[:300]!r}") from None


def _assert_envelope(body: Any, status: int, what: str) -> None:
    """The contract's error envelope: ``{"message", "statusCode", "errors": [{"code", "message"}]}``."""
    assert isinstance(body, dict), f"{what}: the error body is not a JSON object: {body!r}"
    assert body.get("statusCode") == status, f"{what}: statusCode {body.get('statusCode')} != HTTP {status}"
    assert body.get("message"), f"{what}: the error envelope has no message: {body}"
    errors = body.get("errors")
    assert isinstance(errors, list) and errors and all("code" in e and "message" in e for e in errors), \
        f"{what}: the error envelope has no errors[].code/message: {body}"


class _Watch:
    """Watches a provider class: each call is timed step by step (a step is the code that runs between two
    suspensions, during which nothing else can run) and exceptions that are not ``ApiError`` are noted."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.slow: list[str] = []
        self.foreign: list[str] = []
        self._noted: set[int] = set()

    def step(self, label: str, seconds: float) -> None:
        if seconds >= self.threshold:
            self.slow.append(f"{label} ran {seconds:.3f} s without yielding to the event loop")

    def error(self, label: str, exc: BaseException) -> None:
        if isinstance(exc, Exception) and not isinstance(exc, ApiError) and id(exc) not in self._noted:
            self._noted.add(id(exc))   # once, however many wrapped calls it passes through
            self.foreign.append(f"{label}: {type(exc).__module__}.{type(exc).__qualname__}: {exc}")

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def watched(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                self.error(label, exc)
                raise
            finally:
                self.step(label, time.perf_counter() - started)
            return _Stepped(result, label, self) if inspect.iscoroutine(result) else result
        return watched

    def subclass(self, cls: ProviderClass) -> ProviderClass:
        """``cls`` with its methods and its routes' handlers watched."""
        namespace: dict[str, Any] = {name: self.wrap(f"{name}()", getattr(cls, name))
                                     for name in _WATCHED if callable(getattr(cls, name, None))}
        watch = self

        def routes(provider: Provider) -> Sequence[Route]:
            return tuple(dataclasses.replace(r, handler=watch.wrap(f"route {r.method} {r.path}", r.handler))
                         for r in cls.routes(provider))

        namespace["routes"] = routes
        watched: ProviderClass = type(cls.__name__, (cls,), namespace)
        return watched


class _Stepped:
    """Awaits a coroutine as ``await`` would, timing each step it runs (``yield from``, unrolled)."""

    def __init__(self, coro: Coroutine[Any, Any, Any], label: str, watch: _Watch) -> None:
        self._coro, self._label, self._contract_watch = coro, label, watch

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value, error = self._coro, None, None
        while True:
            started = time.perf_counter()
            try:
                suspended = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                return stop.value
            except BaseException as exc:
                self._contract_watch.error(self._label, exc)
                raise
            finally:
                self._contract_watch.step(self._label, time.perf_counter() - started)
            try:
                value, error = (yield suspended), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:   # thrown in by the task (cancellation): pass it on
                value, error = None, exc


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


class ProviderContract(_Contract):
    """The contract of a ``PaymentProvider``. Set ``plugin``, ``settings``, ``method``, ``payment_body`` (a
    ``POST /payments`` body that authorizes), ``refused_body`` (one the provider refuses), and for webhook
    providers implement ``sign_webhook`` and ``webhook_event``."""

    #: The payment method ``payment_body`` pays with.
    method: ClassVar[str]
    #: A ``POST /payments`` body that the provider authorizes.
    payment_body: ClassVar[Mapping[str, Any]]
    #: A ``POST /payments`` body that the provider refuses with a 4xx (``None``: that test is skipped).
    refused_body: ClassVar[Mapping[str, Any] | None] = None

    async def complete_authorization(self, host: HostClient, payment_id: str, response: Mapping[str, Any]) -> None:
        """Finish an authorization that ``POST /payments`` left Initial or Pending, as the shopper or the PSP
        would (submit the offsite page, deliver the PSP's notification). ``response`` is the enabler's answer."""

    async def settle(self, host: HostClient, payment_id: str, transaction: Mapping[str, Any]) -> None:
        """Settle a modification that answered ``received`` (its transaction is Pending). By default waits up
        to ``settle_timeout`` for the PSP's own notification; override it to deliver one."""
        deadline = time.monotonic() + self.settle_timeout
        while time.monotonic() < deadline:
            current = [t for t in _transactions(host.payment(payment_id)) if t["id"] == transaction["id"]]
            if current and current[0]["state"] != TxState.PENDING.value:
                return
            await asyncio.sleep(0.02)

    async def webhook_payment(self, host: HostClient) -> str:
        resp, body = await self.pay(host)
        assert resp.status == 200, body
        return str(body["paymentReference"])

    # -- steps -------------------------------------------------------------------------------------

    async def pay(self, host: HostClient, body: Mapping[str, Any] | None = None,
                  amount: int | None = None) -> tuple[Any, Any]:
        """``POST /payments`` for a new cart; the response and its JSON."""
        resp = await host.pay(self.session(host, amount), self.payment_body if body is None else body)
        return resp, await _json(resp)

    async def authorize(self, host: HostClient) -> str:
        """A Payment whose Authorization is Success (``complete_authorization`` finishes what needs it)."""
        resp, body = await self.pay(host)
        assert resp.status == 200, f"POST /payments with payment_body: {resp.status} {body}"
        pid = str(body["paymentReference"])
        await self.complete_authorization(host, pid, body)
        auth = _transactions(host.payment(pid), TxType.AUTHORIZATION)
        assert any(t["state"] == TxState.SUCCESS.value for t in auth), (
            f"the Authorization is {[t['state'] for t in auth]} after POST /payments: override "
            f"complete_authorization() to finish it as the shopper or the PSP would")
        return pid

    async def charged(self, host: HostClient) -> str:
        """A Payment charged in full: captured when the instance captures manually."""
        pid = await self.authorize(host)
        if self.default_capture_method() == CaptureMethod.MANUAL:
            await self.modify(host, pid, "capture", self.amount)
        else:
            await self._contract_await_state(host, pid, TxType.CHARGE)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount, _transactions(host.payment(pid))
        return pid

    async def _contract_await_state(self, host: HostClient, pid: str, type_: TxType) -> None:
        for tx in _transactions(host.payment(pid), type_):
            if tx["state"] == TxState.PENDING.value:
                await self.settle(host, pid, tx)

    async def modify(self, host: HostClient, pid: str, operation: str, amount: int | None = None) -> dict[str, Any]:
        """Run one payment-intent action; returns the transaction it recorded, settled to Success."""
        action: dict[str, Any] = {"action": _OPERATIONS[operation]}
        if amount is not None:
            action["amount"] = {"centAmount": amount, "currencyCode": self.currency}
        known = {t["id"] for t in _transactions(host.payment(pid))}
        resp = await host.intent(pid, action)
        body = await _json(resp)
        assert resp.status == 200, f"{operation} {amount}: {resp.status} {body}"
        outcome = Outcome(body["outcome"])
        allowed = {Outcome.APPROVED, Outcome.RECEIVED} if self.capabilities.async_modifications else {Outcome.APPROVED}
        assert outcome in allowed, f"{operation} {amount} answered {outcome.value}"
        new = [t for t in _transactions(host.payment(pid)) if t["id"] not in known]
        assert len(new) == 1, f"{operation} recorded {len(new)} transactions: {new}"
        if outcome == Outcome.RECEIVED:
            await self.settle(host, pid, new[0])
        tx = next(t for t in _transactions(host.payment(pid)) if t["id"] == new[0]["id"])
        assert tx["state"] == TxState.SUCCESS.value, (
            f"{operation} answered {outcome.value} and its transaction is {tx['state']}"
            + (": override settle() to deliver the PSP's notification" if outcome == Outcome.RECEIVED else ""))
        assert tx.get("interactionId"), f"{operation}: the transaction has no interactionId (the PSP reference)"
        if amount is not None:
            assert tx["amount"]["centAmount"] == amount, tx
        return tx

    def _contract_distinct(self, host: HostClient, pid: str, type_: TxType, count: int) -> None:
        txs = [t for t in _transactions(host.payment(pid), type_) if t["state"] == TxState.SUCCESS.value]
        assert len(txs) == count and len({t["interactionId"] for t in txs}) == count, (
            f"{count} {type_.value} transactions with distinct interactionIds expected: {txs}")

    # -- authorization -----------------------------------------------------------------------------

    async def test_authorize(self) -> None:
        """``POST /payments``: a Payment for the cart's amount with the instance's paymentInterface and the
        method, attached to the cart, with an Authorization in Success, Pending or Initial."""
        host = await self.start()
        cart = host.cart(self.amount, self.currency)
        resp = await host.pay(host.session(self.payment_interface, cart=cart), self.payment_body)
        body = await _json(resp)
        assert resp.status == 200, f"POST /payments with payment_body: {resp.status} {body}"
        pid = body.get("paymentReference")
        assert pid, f"no paymentReference in {body}"
        payment = host.payment(pid)
        assert payment["paymentMethodInfo"].get("paymentInterface") == self.payment_interface
        assert payment["paymentMethodInfo"].get("method") == self.method, payment["paymentMethodInfo"]
        assert payment["amountPlanned"]["centAmount"] == self.amount
        auth = _transactions(payment, TxType.AUTHORIZATION)
        assert len(auth) == 1 and auth[0]["state"] in ("Success", "Pending", "Initial"), auth
        assert auth[0]["amount"]["centAmount"] == self.amount, auth
        stored = host.ct.emulator.get_cart(str(cart["id"])) or {}
        assert pid in [p["id"] for p in (stored.get("paymentInfo") or {}).get("payments") or []], \
            "the Payment is not attached to the cart"

    async def test_authorize_with_automatic_capture(self) -> None:
        if CaptureMethod.AUTOMATIC not in self.capabilities.capture_methods:
            pytest.skip(f"{self.plugin} does not support captureMethod automatic")
        host = await self.start(CaptureMethod.AUTOMATIC)
        pid = await self.authorize(host)
        await self._contract_await_state(host, pid, TxType.CHARGE)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount, _transactions(host.payment(pid))

    async def test_refused_body_is_a_4xx_envelope(self) -> None:
        """A body the provider refuses is a 4xx in the host's envelope (a ``host.ApiError``), not a 500, and
        authorizes nothing."""
        if self.refused_body is None:
            pytest.skip("set refused_body: a POST /payments body the provider refuses")
        host = await self.start()
        resp, body = await self.pay(host, self.refused_body)
        assert 400 <= resp.status < 500, f"refused_body answered {resp.status}: {body}"
        _assert_envelope(body, resp.status, "refused_body")
        for payment in host.ct.emulator.payments():
            assert not _transactions(payment, TxType.AUTHORIZATION) or all(
                t["state"] == TxState.FAILURE.value for t in _transactions(payment, TxType.AUTHORIZATION))

    # -- modifications -----------------------------------------------------------------------------

    def _contract_require_manual(self) -> None:
        if self.default_capture_method() != CaptureMethod.MANUAL:
            pytest.skip(f"{self.plugin} does not support captureMethod manual")

    async def test_capture_full(self) -> None:
        self._contract_require("capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount

    async def test_capture_partial(self) -> None:
        self._contract_require("capture", "partial_capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount * 3 // 10)
        assert _total(host.payment(pid), TxType.CHARGE) == self.amount * 3 // 10

    async def test_capture_multiple(self) -> None:
        self._contract_require("capture", "partial_capture", "multiple_capture")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "capture", self.amount * 3 // 10)
        await self.modify(host, pid, "capture", self.amount * 2 // 10)
        self._contract_distinct(host, pid, TxType.CHARGE, 2)

    async def test_refund_full(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount)
        assert _total(host.payment(pid), TxType.REFUND) == self.amount

    async def test_refund_partial(self) -> None:
        self._contract_require("refund", "partial_refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount // 10)
        assert _total(host.payment(pid), TxType.REFUND) == self.amount // 10

    async def test_refund_multiple(self) -> None:
        self._contract_require("refund", "partial_refund", "multiple_refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "refund", self.amount // 10)
        await self.modify(host, pid, "refund", self.amount // 20)
        self._contract_distinct(host, pid, TxType.REFUND, 2)

    async def test_cancel(self) -> None:
        self._contract_require("cancel")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "cancel")
        assert _total(host.payment(pid), TxType.CANCEL_AUTHORIZATION) == self.amount

    async def test_reverse_of_an_authorization_cancels(self) -> None:
        self._contract_require("cancel")
        self._contract_require_manual()
        host = await self.start()
        pid = await self.authorize(host)
        await self.modify(host, pid, "reverse")
        assert _total(host.payment(pid), TxType.CANCEL_AUTHORIZATION) == self.amount

    async def test_reverse_of_a_charge_refunds(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.charged(host)
        await self.modify(host, pid, "reverse")
        assert _total(host.payment(pid), TxType.REFUND) == self.amount

    @pytest.mark.parametrize("feature", ["capture", "partial_capture", "multiple_capture", "refund",
                                         "partial_refund", "multiple_refund", "cancel"])
    async def test_undeclared_operation_is_refused(self, feature: str) -> None:
        """An operation the provider does not declare is a 400 InvalidOperation that says so, writes nothing,
        and never reaches the provider."""
        caps = self.capabilities
        if getattr(caps, feature):
            pytest.skip(f"{self.plugin} declares {feature}")
        if feature in ("partial_capture", "multiple_capture") and not caps.capture:
            pytest.skip("capture is not declared at all")
        if feature in ("partial_refund", "multiple_refund") and not caps.refund:
            pytest.skip("refund is not declared at all")
        host = await self.start()
        if feature.endswith("refund"):
            pid = await self.charged(host)
        else:
            pid = await self.authorize(host)
        if feature == "multiple_capture":
            await self.modify(host, pid, "capture", self.amount // 2 if caps.partial_capture else self.amount)
        if feature == "multiple_refund":
            await self.modify(host, pid, "refund", self.amount // 2 if caps.partial_refund else self.amount)
        operation, amount = {
            "capture": ("capture", self.amount), "partial_capture": ("capture", self.amount - 1),
            "multiple_capture": ("capture", 1), "refund": ("refund", self.amount),
            "partial_refund": ("refund", self.amount - 1), "multiple_refund": ("refund", 1),
            "cancel": ("cancel", None)}[feature]
        action: dict[str, Any] = {"action": _OPERATIONS[operation]}
        if amount is not None:
            action["amount"] = {"centAmount": amount, "currencyCode": self.currency}
        before = host.payment(pid)
        body = await self._contract_refused(await host.intent(pid, action), f"undeclared {feature}")
        assert body["errors"][0]["code"] == "InvalidOperation", body
        assert host.payment(pid)["version"] == before["version"], f"undeclared {feature} wrote to the Payment"


class GiftCardContract(_Contract):
    """The contract of a ``GiftCardProvider``: balance, redeem, refund; capture and cancel refused."""

    amount: ClassVar[int] = 5000
    payment_interface: ClassVar[str] = "contract-giftcard"
    #: A card with at least ``redeem_amount`` in ``currency`` (and enough for the tests that redeem twice).
    giftcard_code: ClassVar[str]
    #: A code the provider does not know.
    unknown_giftcard_code: ClassVar[str] = "CONTRACT-NO-SUCH-CARD"
    #: How much each test redeems (minor units), at most ``amount``.
    redeem_amount: ClassVar[int] = 2000

    async def webhook_payment(self, host: HostClient) -> str:
        return await self.redeemed(host)

    async def balance(self, host: HostClient, code: str) -> tuple[int, Any]:
        resp = await host.balance(self.session(host), code)
        return resp.status, await _json(resp)

    async def redeemed(self, host: HostClient) -> str:
        """A Payment of ``redeem_amount`` redeemed from ``giftcard_code``."""
        resp = await host.redeem(self.session(host), self.giftcard_code, self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status == 200 and body.get("result") == "Success", f"redeem: {resp.status} {body}"
        return str(body["paymentReference"])

    async def refund(self, host: HostClient, pid: str, amount: int | None = None) -> None:
        """Refund ``amount`` of a redemption; ``None``: reverse it."""
        action: dict[str, Any] = {"action": "reversePayment"} if amount is None else {
            "action": "refundPayment", "amount": {"centAmount": amount, "currencyCode": self.currency}}
        resp = await host.intent(pid, action)
        body = await _json(resp)
        assert resp.status == 200 and body["outcome"] == "approved", f"{action}: {resp.status} {body}"

    def _contract_remaining(self, body: Any) -> int:
        return int(body["amount"]["centAmount"])

    async def test_balance_of_a_valid_card(self) -> None:
        host = await self.start()
        status, body = await self.balance(host, self.giftcard_code)
        assert status == 200 and body["status"] == {"state": "Valid"}, body
        assert body["amount"]["currencyCode"] == self.currency and self._contract_remaining(body) >= self.redeem_amount

    async def test_balance_of_an_unknown_card(self) -> None:
        host = await self.start()
        status, body = await self.balance(host, self.unknown_giftcard_code)
        assert status == 404 and body["status"]["state"] == "NotFound", body
        assert body["status"]["errors"][0]["code"] == "NotFound", body

    async def test_redeem(self) -> None:
        """``POST /redeem``: a Charge of the redeemed amount on a Payment of the instance; the balance drops."""
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid = await self.redeemed(host)
        payment = host.payment(pid)
        assert payment["paymentMethodInfo"] == {"paymentInterface": self.payment_interface, "method": "giftcard"}
        assert _total(payment, TxType.CHARGE) == self.redeem_amount, _transactions(payment)
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before) - self.redeem_amount

    async def test_redeem_more_than_the_cart_is_refused(self) -> None:
        host = await self.start()
        resp = await host.redeem(self.session(host, self.redeem_amount - 1), self.giftcard_code,
                                 self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status == 400 and body["status"]["errors"], body
        assert all(_total(p, TxType.CHARGE) == 0 for p in host.ct.emulator.payments())

    async def test_redeem_of_an_unknown_card_charges_nothing(self) -> None:
        host = await self.start()
        resp = await host.redeem(self.session(host), self.unknown_giftcard_code, self.redeem_amount, self.currency)
        body = await _json(resp)
        assert resp.status < 500, body
        assert resp.status >= 400 or body.get("result") == "Failure", body
        assert all(_total(p, TxType.CHARGE) == 0 for p in host.ct.emulator.payments())

    async def test_refund_full(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        _, before = await self.balance(host, self.giftcard_code)
        pid = await self.redeemed(host)
        await self.refund(host, pid, self.redeem_amount)
        assert _total(host.payment(pid), TxType.REFUND) == self.redeem_amount
        _, after = await self.balance(host, self.giftcard_code)
        assert self._contract_remaining(after) == self._contract_remaining(before), \
            "the refund did not restore the balance"

    async def test_refund_partial_and_multiple(self) -> None:
        self._contract_require("refund", "partial_refund")
        host = await self.start()
        pid = await self.redeemed(host)
        await self.refund(host, pid, self.redeem_amount // 4)
        if self.capabilities.multiple_refund:
            await self.refund(host, pid, self.redeem_amount // 4)
        count = 2 if self.capabilities.multiple_refund else 1
        refunds = [t for t in _transactions(host.payment(pid), TxType.REFUND) if t["state"] == "Success"]
        assert len(refunds) == count and len({t["interactionId"] for t in refunds}) == count, refunds

    async def test_reverse_refunds_the_redemption(self) -> None:
        self._contract_require("refund")
        host = await self.start()
        pid = await self.redeemed(host)
        await self.refund(host, pid)
        assert _total(host.payment(pid), TxType.REFUND) == self.redeem_amount

    @pytest.mark.parametrize("action", ["capturePayment", "cancelPayment"])
    async def test_capture_and_cancel_are_refused(self, action: str) -> None:
        host = await self.start()
        pid = await self.redeemed(host)
        version = host.payment(pid)["version"]
        body: dict[str, Any] = {"action": action}
        if action == "capturePayment":
            body["amount"] = {"centAmount": 1, "currencyCode": self.currency}
        refused = await self._contract_refused(await host.intent(pid, body), f"{action} of a gift card")
        assert refused["errors"][0]["code"] == "InvalidOperation", refused
        assert host.payment(pid)["version"] == version

    @pytest.mark.parametrize("feature", ["refund", "partial_refund", "multiple_refund"])
    async def test_undeclared_refund_is_refused(self, feature: str) -> None:
        caps = self.capabilities
        if getattr(caps, feature):
            pytest.skip(f"{self.plugin} declares {feature}")
        if feature != "refund" and not caps.refund:
            pytest.skip("refund is not declared at all")
        host = await self.start()
        pid = await self.redeemed(host)
        if feature == "multiple_refund":
            await self.refund(host, pid, self.redeem_amount // 2 if caps.partial_refund else self.redeem_amount)
        amount = {"refund": self.redeem_amount, "partial_refund": self.redeem_amount - 1, "multiple_refund": 1}
        version = host.payment(pid)["version"]
        body = await self._contract_refused(await host.intent(pid, {"action": "refundPayment", "amount": {
            "centAmount": amount[feature], "currencyCode": self.currency}}), f"undeclared {feature}")
        assert body["errors"][0]["code"] == "InvalidOperation", body
        assert host.payment(pid)["version"] == version
