"""Prometheus metrics of one host process: requests, commercetools calls, PSP calls, and the flows' API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from prometheus_client import REGISTRY

from host import metrics
from host.commercetools.client import route_of
from host.testing import HostClient
from plugins.sandbox import SIGNATURE_HEADER

INSTANCES = """\
sandbox: {plugin: sandbox, paymentInterface: mock, methods: [card]}
giftcards: {plugin: sandbox_giftcard, paymentInterface: mock-giftcard-provider}
"""
CAPTURE = {"action": "capturePayment", "amount": {"centAmount": 5950, "currencyCode": "EUR"}}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """Counter values read before and after what a test does."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels
        self.before = value(name, **labels)

    @property
    def change(self) -> float:
        return value(self.name, **self.labels) - self.before


@pytest.fixture
async def host(connector_host: Callable[..., Awaitable[HostClient]]) -> HostClient:
    return await connector_host(INSTANCES)


async def test_requests_are_counted_by_route_template_instance_and_status(host: HostClient) -> None:
    paid = Delta("connector_host_requests_total", route="/payments", method="POST", instance_id="sandbox",
                 status="200")
    captured = Delta("connector_host_requests_total", route="/operations/payment-intents/{paymentId}",
                     method="POST", instance_id="sandbox", status="200")
    refused = Delta("connector_host_requests_total", route="/payments", method="POST", instance_id="sandbox",
                    status="400")
    unmatched = Delta("connector_host_requests_total", route="unmatched", method="GET", instance_id="",
                      status="404")
    latency = Delta("connector_host_request_duration_seconds_count", route="/payments", method="POST",
                    instance_id="sandbox")

    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    assert (await (await host.intent(pid, CAPTURE)).json()) == {"outcome": "approved"}
    bad = await host.pay(host.session("mock"), {"paymentMethod": {"type": "invoice"}, "paymentOutcome": "Authorized"})
    assert bad.status == 400           # routed to the instance, then refused: still labelled with it
    assert (await host.client.get("/no/such/path")).status == 404

    assert (paid.change, captured.change, refused.change, unmatched.change) == (1, 1, 1, 1)
    assert latency.change == 2
    assert value("connector_host_requests_in_progress") == 0


async def test_commercetools_calls_are_counted_as_the_emulator_counts_them(host: HostClient) -> None:
    sid = host.session("mock")
    await host.config(sid)              # token and session reads out of the way
    # the host's calls, and the sandbox PSP's own books (a read that finds nothing, then a create)
    routes = {"GET /{projectKey}/sessions/{id}": "200", "GET /{projectKey}/carts/{id}": "200",
              "POST /{projectKey}/payments": "201", "POST /{projectKey}/carts/{id}": "200",
              "POST /{projectKey}/payments/{id}": "200", "GET /{projectKey}/custom-objects/{container}/{key}": "404",
              "POST /{projectKey}/custom-objects": "201"}
    deltas = {r: Delta("connector_host_commercetools_requests_total", method=r.split()[0], route=r.split()[1],
                       status=status) for r, status in routes.items()}
    host.ct.reset_stats()
    assert (await host.pay(sid)).status == 200
    assert {r: int(d.change) for r, d in deltas.items() if d.change} == host.ct.stats()


async def test_a_commercetools_409_is_counted_with_its_status(host: HostClient) -> None:
    conflicts = Delta("connector_host_commercetools_requests_total", route="/{projectKey}/carts/{id}",
                      method="POST", status="409")
    host.ct.emulator.inject_fault(r"/carts/", 409, times=1, method="POST")
    assert (await host.pay(host.session("mock"))).status == 200     # addPayment re-read and repeated
    assert conflicts.change == 1


async def test_psp_calls_by_instance_operation_and_outcome(host: HostClient) -> None:
    approved = Delta("connector_host_psp_calls_total", instance_id="sandbox", operation="create_payment",
                     outcome="approved")
    rejected = Delta("connector_host_psp_calls_total", instance_id="sandbox", operation="create_payment",
                     outcome="rejected")
    reversed_ = Delta("connector_host_psp_calls_total", instance_id="sandbox", operation="reverse",
                      outcome="approved")
    refunds = Delta("connector_host_psp_calls_total", instance_id="sandbox", operation="refund",
                    outcome="approved")
    balances = Delta("connector_host_psp_calls_total", instance_id="giftcards", operation="balance",
                     outcome="valid")

    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    await host.pay(host.session("mock"), {"paymentMethod": {"type": "card"}, "paymentOutcome": "Rejected"})
    await host.intent(pid, CAPTURE)
    await host.intent(pid, {"action": "reversePayment"})     # the default reverse() refunds: counted once
    assert (await host.balance(host.session("mock-giftcard-provider"), "SANDBOX-EUR-100")).status == 200

    assert (approved.change, rejected.change, reversed_.change, refunds.change, balances.change) == (1, 1, 1, 0, 1)


async def test_a_webhook_that_fails_verification_is_counted(host: HostClient) -> None:
    failed = Delta("connector_host_webhook_verifications_failed_total", instance_id="sandbox")
    unverified = Delta("connector_host_psp_calls_total", instance_id="sandbox", operation="parse_webhook",
                       outcome="unverified")
    resp = await host.post_webhook("sandbox", b'{"id": "evt"}', {SIGNATURE_HEADER: "t=1,v1=bad"})
    assert resp.status == 401
    assert (failed.change, unverified.change) == (1, 1)


def test_flows_record_reservations_reconciliations_and_reconciler_runs() -> None:
    written = Delta("connector_host_reservations_total", instance_id="i", operation="capture", outcome="written")
    settled = Delta("connector_host_reconciliations_total", instance_id="i", operation="capture",
                    outcome="success")
    runs = Delta("connector_host_reconciler_runs_total", outcome="ok")
    total = Delta("connector_host_reconciler_settled_total")
    timed = Delta("connector_host_reconciler_run_duration_seconds_count")
    retries = Delta("connector_host_conflict_retries_total", operation="capture")

    metrics.reservation("i", "capture", "written")
    metrics.reconciliation("i", "capture", "success")
    metrics.reconciler_run("ok", settled=3, duration=0.2)
    metrics.conflict_retry("capture")

    assert (written.change, settled.change, runs.change, total.change, timed.change, retries.change) == \
        (1, 1, 1, 3, 1, 1)


@pytest.mark.parametrize(("path", "route"), [
    ("payments/0b6c9f3e-1d2a-4c47-9d49-3f8a1f0c2b1e", "/{projectKey}/payments/{id}"),
    ("payments/key=ch-1f2e", "/{projectKey}/payments/key={key}"),
    ("sessions/abc", "/{projectKey}/sessions/{id}"),
    ("payment-methods", "/{projectKey}/payment-methods"),
    ("custom-objects/connector-host.card/0a1b", "/{projectKey}/custom-objects/{container}/{key}"),
    ("custom-objects/connector-host-idempotency", "/{projectKey}/custom-objects/{container}"),
])
def test_commercetools_paths_become_route_templates(path: str, route: str) -> None:
    assert route_of(path) == route


async def test_the_flows_count_their_reservations_and_the_reconciler_its_passes(host: HostClient) -> None:
    from host.flows.reconcile import reconcile_once
    from host.keys import CT, ROUTER

    written = Delta("connector_host_reservations_total", instance_id="sandbox", operation="capturePayment",
                    outcome="written")
    settled = Delta("connector_host_reservations_total", instance_id="sandbox", operation="capturePayment",
                    outcome="success")
    created = Delta("connector_host_reservations_total", instance_id="sandbox", operation="create",
                    outcome="written")
    examined = [Delta("connector_host_reconciliations_total", instance_id="sandbox", operation="create",
                      outcome=outcome) for outcome in ("failure", "unchanged")]
    runs = Delta("connector_host_reconciler_runs_total", outcome="ok")
    pid = (await (await host.pay(host.session("mock"))).json())["paymentReference"]
    assert (await host.intent(pid, CAPTURE)).status == 200
    assert (written.change, settled.change, created.change) == (1, 1, 1)
    # an attempt left undecided (commercetools failed after the Payment was created), found by the reconciler
    host.ct.emulator.inject_fault(r"/(carts|payments)/", 503, times=100, method="POST")
    assert (await host.pay(host.session("mock"))).status == 503
    host.ct.emulator.clear_faults()
    await reconcile_once(host.app[CT], host.app[ROUTER], horizon=0)
    assert sum(d.change for d in examined) == 1
    assert runs.change == 0     # a pass run by hand is not the in-process reconciler's run
