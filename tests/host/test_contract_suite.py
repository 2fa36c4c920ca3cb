"""The contract suite itself: it passes a correct provider and fails each way of breaking the contract.

The providers live in a test module written to a temporary directory and run by an inner pytest (a
subprocess, its outcomes read from a JUnit XML report); they are registered in-process
(``in_process_plugins``). Each broken provider differs from the correct one in one
method, and the test named for that rule must fail, saying why.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest

PROBE = '''
from __future__ import annotations

import gc
import hashlib
import hmac
import json
import sys
import time
import uuid
from typing import Any, ClassVar

from pydantic import ConfigDict, SecretStr

from host import (Capabilities, CaptureMethod, InvalidFieldError, ModificationResult, Money, Outcome,
                  PaymentEvent, PaymentProvider, PaymentResult, ProviderSettings, ReconcileResult, StatusCheck,
                  TransactionResult, TxState, TxType, WebhookResult, WebhookSignatureError, hookimpl)
from host.testing import ProviderContract

KEY = "probe-key-0123456789"


class Settings(ProviderSettings):
    key: SecretStr


def signature(body: bytes) -> str:
    return hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()


class Good(PaymentProvider):
    Settings = Settings
    capabilities = Capabilities(methods=frozenset({"card"}), webhooks=True)

    async def status(self):
        return StatusCheck("probe", "UP")

    def payment_method(self, body):
        if body.get("paymentMethod") != {"type": "card"}:
            raise InvalidFieldError("paymentMethod", "Only {'type': 'card'} is accepted.")
        return "card"

    async def remember(self, key, *txs):
        """What the PSP did under ``key``, in the instance's store, for reconcile."""
        done = [[t.type.value, t.state.value, t.interaction_id] for t in txs]
        await self.context.store.update(key, lambda _: done)

    async def create_payment(self, request):
        ref = f"pay-{request.payment.id}"
        txs = [TransactionResult(TxType.AUTHORIZATION, TxState.SUCCESS, request.amount, ref)]
        if request.capture_method == CaptureMethod.AUTOMATIC:
            txs.append(TransactionResult(TxType.CHARGE, TxState.SUCCESS, request.amount, ref + ":charge"))
        await self.remember(request.idempotency_key, *txs)
        return PaymentResult(ref, tuple(txs))

    async def modified(self, request, tx_type, ref):
        await self.remember(request.idempotency_key, TransactionResult(tx_type, TxState.SUCCESS, None, ref))
        return ModificationResult(Outcome.APPROVED, ref)

    async def capture(self, request):
        return await self.modified(request, TxType.CHARGE, f"cap-{request.idempotency_key}")

    async def cancel(self, request):
        return await self.modified(request, TxType.CANCEL_AUTHORIZATION, f"can-{request.idempotency_key}")

    async def refund(self, request):
        return await self.modified(request, TxType.REFUND, f"ref-{request.idempotency_key}")

    async def reconcile(self, request):
        found = await self.context.store.get(request.idempotency_key or "")
        if found is None:
            return ReconcileResult.not_found()
        txs = tuple(TransactionResult(TxType(t), TxState(s), None, ref) for t, s, ref in found.value)
        return ReconcileResult(True, txs, txs[0].interaction_id)

    def check(self, request):
        if request.headers.get("X-Probe-Signature") != signature(request.body):
            raise WebhookSignatureError()

    def interaction(self, event):
        return event["ref"]

    async def parse_webhook(self, request):
        self.check(request)
        event = json.loads(request.body)
        tx = TransactionResult(TxType(event["type"]), TxState.SUCCESS, Money(event["amount"], "EUR"),
                               self.interaction(event))
        return WebhookResult(events=(PaymentEvent((tx,), payment_id=event["pid"]),))


class Blocking(Good):
    async def capture(self, request):
        time.sleep(0.25)
        return await super().capture(request)


COLLECTING = []


def slow_collection(phase, info):
    """A collection of a large heap, as a long test session has: it stops every coroutine for a while."""
    if phase == "stop" and COLLECTING:
        time.sleep(0.25)


gc.callbacks.append(slow_collection)


class Collecting(Good):
    """Correct: the garbage collector happens to run during its capture."""

    async def capture(self, request):
        COLLECTING.append(1)
        try:
            gc.collect()
        finally:
            COLLECTING.pop()
        return await super().capture(request)


class Crashing(Good):
    async def refund(self, request):
        raise KeyError("charge")


class LaxSettings(ProviderSettings):
    model_config = ConfigDict(extra="ignore")
    key: SecretStr


class Lax(Good):
    Settings = LaxSettings


class Trusting(Good):
    def check(self, request):
        pass


class Forgetful(Good):
    def interaction(self, event):
        return str(uuid.uuid4())


class Leaky(Good):
    async def public_config(self, session):
        return {"key": self.settings.key.get_secret_value()}


class Stuck(Good):
    capabilities = Capabilities(methods=frozenset({"card"}), webhooks=True, async_modifications=True)

    async def capture(self, request):
        return ModificationResult(Outcome.RECEIVED, f"cap-{request.idempotency_key}")


class Down(Good):
    async def status(self):
        return StatusCheck("probe", "DOWN", message="unreachable")


class Whole(Good):
    capabilities = Capabilities(methods=frozenset({"card"}), partial_capture=False, partial_refund=False,
                                cancel=False)
    reconcile = PaymentProvider.reconcile


class Amnesiac(Good):
    async def reconcile(self, request):
        return ReconcileResult.not_found()


class Credulous(Good):
    async def reconcile(self, request):
        tx = request.transaction
        return ReconcileResult(True, (TransactionResult(tx.type, TxState.SUCCESS, None, "made-up"),), "made-up")


PROVIDERS = {cls.__name__.lower(): cls for cls in (Good, Blocking, Crashing, Lax, Trusting, Forgetful, Leaky,
                                                    Stuck, Down, Whole, Amnesiac, Credulous, Collecting)}


@hookimpl
def register_providers(registry):
    for name, cls in PROVIDERS.items():
        registry.register(f"probe_{name}", cls)


class TestGood(ProviderContract):
    plugin = "probe_good"
    in_process_plugins: ClassVar[dict[str, Any]] = {"probe": sys.modules[__name__]}
    settings: ClassVar[dict[str, Any]] = {"key": KEY}
    method = "card"
    payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}}
    refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "cash"}}
    settle_timeout = 0.2

    def sign_webhook(self, body):
        return {"X-Probe-Signature": signature(body)}

    def webhook_event(self, payment_id, psp_reference, tx_type, amount):
        return json.dumps({"pid": payment_id, "ref": psp_reference, "type": tx_type.value,
                           "amount": amount.cent_amount}).encode()
'''
BROKEN = ("Blocking", "Crashing", "Lax", "Trusting", "Forgetful", "Leaky", "Stuck", "Down", "Whole", "Amnesiac",
          "Credulous")
PROBE += "".join(f"\n\nclass Test{name}(TestGood):\n    plugin = 'probe_{name.lower()}'\n"
                 for name in (*BROKEN, "Collecting"))
#: (test, expected outcome, what its report must say)
BREAKS = [
    ("TestBlocking::test_capture_full", "error", "the provider blocked the event loop for more than 0.1 s"),
    ("TestBlocking::test_capture_full", "error", "capture() ran 0.2"),
    ("TestCrashing::test_refund_full", "error", "refund(): builtins.KeyError: 'charge'"),
    ("TestLax::test_settings_reject_unknown_key", "failed", "settings with an unknown key were accepted"),
    ("TestTrusting::test_webhook_tampered_or_unsigned_is_refused", "failed", "a tampered body: expected 401, got 200"),
    ("TestForgetful::test_webhook_signed_event_is_recorded_once", "failed", "no Charge transaction with interactionId"),
    ("TestLeaky::test_config_answers_json_without_secrets", "failed", "/operations/config shows a secret setting"),
    ("TestStuck::test_capture_full", "failed", "override settle() to deliver the PSP's notification"),
    ("TestDown::test_status_answers_within_budget", "failed", "status() says DOWN"),
    ("TestAmnesiac::test_reconcile_settles_a_lost_authorization", "failed",
     "reconcile does not find the authorization the provider made"),
    ("TestAmnesiac::test_reconcile_settles_a_lost_modification", "failed",
     "reconcile does not find the capture the provider made"),
    ("TestCredulous::test_reconcile_fails_an_attempt_that_never_reached_the_psp", "failed",
     "reconcile found an attempt that never reached the provider"),
    ("TestCredulous::test_reconcile_settles_a_lost_authorization", "failed",
     "reconcile names the authorization 'made-up', the provider answered"),
]
UNRELATED = ("test_authorize", "test_payment_components_answer_json")
SKIPS = [
    ("test_capture_partial", "probe_whole does not declare partial_capture"),
    ("test_refund_partial", "probe_whole does not declare partial_refund"),
    ("test_cancel", "probe_whole does not declare cancel"),
    ("test_webhook_signed_event_is_recorded_once", "probe_whole does not declare webhooks"),
    ("test_reconcile_settles_a_lost_authorization", "probe_whole does not implement reconcile"),
]
UNDECLARED = ("partial_capture", "partial_refund", "cancel")
SELECTED = sorted({"TestGood", "TestCollecting::test_capture_full", *(t for t, _, _ in BREAKS),
                   *(f"Test{n}::{t}" for n in BROKEN for t in UNRELATED),
                   *(f"TestWhole::{t}" for t, _ in SKIPS),
                   *(f"TestWhole::test_undeclared_operation_is_refused[{f}]" for f in UNDECLARED)})


@dataclass
class Outcome:
    outcome: str      # passed, failed (in the test), error (in set-up or teardown: the guards), skipped
    text: str


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every contract test of every probe class, by ``Class::test`` id, from one inner pytest run."""
    directory = tmp_path_factory.mktemp("probe")
    (directory / "test_probe.py").write_text(PROBE, encoding="utf-8")
    report = directory / "report.xml"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "host.testing", "-p", "no:cacheprovider",
                          "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function",
                          "-W", "error", f"--junitxml={report}", *(f"test_probe.py::{t}" for t in SELECTED)],
                         cwd=directory, capture_output=True, text=True, timeout=120, check=False)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    found: dict[str, Outcome] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own pytest's report
        key = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        problems = [e for e in case if e.tag in ("failure", "error", "skipped")]
        if not problems:
            found[key] = Outcome("passed", "")
            continue
        kind = "failed" if any(e.tag == "failure" for e in problems) else \
            "error" if any(e.tag == "error" for e in problems) else "skipped"
        found[key] = Outcome(kind, "\n".join(f"{e.get('message', '')}\n{e.text or ''}" for e in problems))
    return found


def test_a_correct_provider_passes_the_whole_suite(outcomes: dict[str, Outcome]) -> None:
    good = {k: v for k, v in outcomes.items() if k.startswith("TestGood::")}
    assert len(good) >= 25
    assert not [k for k, v in good.items() if v.outcome in ("failed", "error")], \
        {k: v.text[-800:] for k, v in good.items() if v.outcome in ("failed", "error")}
    skipped = {k.split("::")[1] for k, v in good.items() if v.outcome == "skipped"}
    assert "test_webhook_undeclared_is_refused" in skipped
    assert "test_refund_multiple" not in skipped
    assert "test_reconcile_settles_a_lost_authorization" not in skipped


@pytest.mark.parametrize(("test", "outcome", "message"), BREAKS)
def test_a_broken_provider_fails_the_test_of_the_rule_it_breaks(outcomes: dict[str, Outcome], test: str,
                                                                outcome: str, message: str) -> None:
    assert outcomes[test].outcome == outcome, outcomes[test].text[-1500:]
    assert message in outcomes[test].text, outcomes[test].text[-1500:]


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_provider_fails_only_where_it_breaks_the_contract(outcomes: dict[str, Outcome], name: str) -> None:
    """Every test outside the broken rule still passes: the failures point at the one problem."""
    for test in (f"Test{name}::{t}" for t in UNRELATED):
        assert outcomes[test].outcome == "passed", textwrap.shorten(outcomes[test].text, 800)


def test_a_garbage_collection_during_a_provider_call_is_not_blamed_on_the_provider(
        outcomes: dict[str, Outcome]) -> None:
    """A long session's collections pause the loop for 0.1 s and more; the step that happens to run one did
    not block it (the guard counts the time outside the collector)."""
    assert outcomes["TestCollecting::test_capture_full"].outcome == "passed", \
        outcomes["TestCollecting::test_capture_full"].text[-1500:]


@pytest.mark.parametrize(("test", "reason"), SKIPS)
def test_an_undeclared_feature_is_skipped_with_the_reason(outcomes: dict[str, Outcome], test: str,
                                                          reason: str) -> None:
    found = outcomes[f"TestWhole::{test}"]
    assert found.outcome == "skipped" and reason in found.text, found


@pytest.mark.parametrize("feature", UNDECLARED)
def test_an_undeclared_operation_is_checked_to_be_a_400(outcomes: dict[str, Outcome], feature: str) -> None:
    assert outcomes[f"TestWhole::test_undeclared_operation_is_refused[{feature}]"].outcome == "passed"
    assert outcomes[f"TestGood::test_undeclared_operation_is_refused[{feature}]"].outcome == "skipped"
