"""Guards and helpers of the contract suite: watched provider calls, blocking steps, envelopes."""

from __future__ import annotations

import dataclasses
import functools
import gc
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from typing import Any

from host.errors import ApiError
from host.models import TxState, TxType
from host.providers import Provider, ProviderClass, Route
from host.testing.harness import HostClient

MakeHost = Callable[..., Awaitable[HostClient]]

_WATCHED = ("startup", "shutdown", "status", "public_config", "payment_components", "payment_method",
            "create_payment", "capture", "cancel", "refund", "reverse", "parse_webhook", "balance", "redeem",
            "reconcile")
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


class _GcClock:
    """Seconds spent in the garbage collector while it is registered (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._began: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began is not None:
            self.total += time.perf_counter() - self._began
            self._began = None


class _Watch:
    """Watches a provider class: each call is timed step by step (a step is the code that runs between two
    suspensions, during which nothing else can run) and exceptions that are not ``ApiError`` are noted.

    A step's time leaves out the garbage collector's: a collection of a long test session's heap stops the
    loop for 0.1 s and more, whichever code happens to allocate when it starts. ``close()`` when done."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.slow: list[str] = []
        self.foreign: list[str] = []
        self._noted: set[int] = set()
        self._gc = _GcClock()
        gc.callbacks.append(self._gc)

    def close(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    def clock(self) -> float:
        """Seconds outside the garbage collector (from an arbitrary start)."""
        return time.perf_counter() - self._gc.total

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
            started = self.clock()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                self.error(label, exc)
                raise
            finally:
                self.step(label, self.clock() - started)
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
            started = self._contract_watch.clock()
            try:
                suspended = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                return stop.value
            except BaseException as exc:
                self._contract_watch.error(self._label, exc)
                raise
            finally:
                self._contract_watch.step(self._label, self._contract_watch.clock() - started)
            try:
                value, error = (yield suspended), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:   # thrown in by the task (cancellation): pass it on
                value, error = None, exc


