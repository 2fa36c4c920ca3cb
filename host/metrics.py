"""Prometheus metrics: what the host records on its own, and the calls flows make for what only they know.

Recorded by the host (``host.instrument``), every request and every upstream call::

    connector_host_requests_total{route, method, instance_id, status}          counter
    connector_host_request_duration_seconds{route, method, instance_id}        histogram
    connector_host_requests_in_progress                                        gauge
    connector_host_commercetools_requests_total{route, method, status}         counter ("error": no answer)
    connector_host_commercetools_request_duration_seconds{route, method}       histogram
    connector_host_psp_calls_total{instance_id, operation, outcome}            counter
    connector_host_psp_call_duration_seconds{instance_id, operation}           histogram
    connector_host_webhook_verifications_failed_total{instance_id}             counter

Recorded by flows through the functions of this module (docs/deploy.md lists the label values)::

    reservation(instance_id, operation, outcome)       connector_host_reservations_total
    reconciliation(instance_id, operation, outcome)    connector_host_reconciliations_total
    reconciler_run(outcome, settled=, duration=)       connector_host_reconciler_runs_total,
                                                       connector_host_reconciler_settled_total,
                                                       connector_host_reconciler_run_duration_seconds
    conflict_retry(operation)                          connector_host_conflict_retries_total
    event_flagged(instance_id, reason)                 connector_host_events_flagged_total

``route`` is a template (``/operations/payment-intents/{paymentId}``, ``/{projectKey}/payments/{id}``),
never a raw path, so the number of series stays bounded. The label is ``instance_id``, not ``instance``:
Prometheus gives ``instance`` to the scrape target.

With several workers (``serve --workers N``) the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before any
worker imports prometheus_client; each worker writes its values there and the supervisor's ``/metrics``
adds them up (prometheus_client's multiprocess mode). One process uses the default registry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_NS = "connector_host"

REQUESTS = Counter("requests", "HTTP requests served, by route template, instance and status",
                   ["route", "method", "instance_id", "status"], namespace=_NS)
REQUEST_SECONDS = Histogram("request_duration_seconds", "Time to answer an HTTP request",
                            ["route", "method", "instance_id"], namespace=_NS)
IN_PROGRESS = Gauge("requests_in_progress", "HTTP requests being served now", namespace=_NS,
                    multiprocess_mode="livesum")
CT_REQUESTS = Counter("commercetools_requests", "Calls to commercetools, by route template and status",
                      ["route", "method", "status"], namespace=_NS)
CT_SECONDS = Histogram("commercetools_request_duration_seconds", "Time until commercetools answered",
                       ["route", "method"], namespace=_NS)
PSP_CALLS = Counter("psp_calls", "Calls to a provider, by instance, operation and outcome",
                    ["instance_id", "operation", "outcome"], namespace=_NS)
PSP_SECONDS = Histogram("psp_call_duration_seconds", "Time a provider took to answer",
                        ["instance_id", "operation"], namespace=_NS)
WEBHOOKS_UNVERIFIED = Counter("webhook_verifications_failed", "Webhooks whose signature did not verify",
                              ["instance_id"], namespace=_NS)
RESERVATIONS = Counter("reservations", "Reservations written and settled by flows",
                       ["instance_id", "operation", "outcome"], namespace=_NS)
RECONCILIATIONS = Counter("reconciliations", "Reservations the reconciler examined, by what it concluded",
                          ["instance_id", "operation", "outcome"], namespace=_NS)
RECONCILER_RUNS = Counter("reconciler_runs", "Runs of the reconciler", ["outcome"], namespace=_NS)
RECONCILER_SETTLED = Counter("reconciler_settled", "Reservations settled by reconciler runs", namespace=_NS)
RECONCILER_SECONDS = Histogram("reconciler_run_duration_seconds", "Time a reconciler run took", namespace=_NS,
                               buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
CONFLICT_RETRIES = Counter("conflict_retries", "Versioned writes repeated after a 409", ["operation"],
                           namespace=_NS)

EVENTS_FLAGGED = Counter("events_flagged", "PSP events the host did not record because they break a limit "
                         "(reason refund_above_charge)", ["instance_id", "reason"], namespace=_NS)


# -- recorded by flows ------------------------------------------------------------------------------

def reservation(instance_id: str, operation: str, outcome: str) -> None:
    """A reservation of ``operation`` (capture, refund, cancel, ...) was written or settled.

    ``outcome``: ``written``, ``conflict`` (lost the race, re-checked), ``refused`` (over the limit),
    ``success``, ``failure``, ``pending`` (settled as such), ``unknown`` (left Initial)."""
    _child(RESERVATIONS, instance_id, operation, outcome).inc()


def reconciliation(instance_id: str, operation: str, outcome: str) -> None:
    """The reconciler examined one reservation. ``outcome``: ``success``, ``failure``, ``pending`` (what it
    settled it as) or ``unchanged`` (the PSP does not know yet)."""
    RECONCILIATIONS.labels(instance_id, operation, outcome).inc()


def reconciler_run(outcome: str, *, settled: int = 0, duration: float | None = None) -> None:
    """One reconciler run ended. ``outcome``: ``ok`` or ``error``; ``settled``: reservations it settled."""
    RECONCILER_RUNS.labels(outcome).inc()
    if settled:
        RECONCILER_SETTLED.inc(settled)
    if duration is not None:
        RECONCILER_SECONDS.observe(duration)


def conflict_retry(operation: str) -> None:
    """A versioned write got 409 and is being repeated on the re-read resource."""
    _child(CONFLICT_RETRIES, operation).inc()


def event_flagged(instance_id: str, reason: str) -> None:
    """A PSP event (or part of one) was not recorded: ``refund_above_charge``."""
    _child(EVENTS_FLAGGED, instance_id, reason).inc()


# -- recorded by the host (host.instrument) ---------------------------------------------------------

_children: dict[tuple[object, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once: labels() validates and takes a lock on every call, and the
    label values of these metrics come from short fixed lists."""
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def request(route: str, method: str, instance_id: str, status: int, seconds: float) -> None:
    _child(REQUESTS, route, method, instance_id, str(status)).inc()
    _child(REQUEST_SECONDS, route, method, instance_id).observe(seconds)


def commercetools_call(route: str, method: str, status: str, seconds: float | None) -> None:
    _child(CT_REQUESTS, route, method, status).inc()
    if seconds is not None:
        _child(CT_SECONDS, route, method).observe(seconds)


def psp_call(instance_id: str, operation: str, outcome: str, seconds: float) -> None:
    _child(PSP_CALLS, instance_id, operation, outcome).inc()
    _child(PSP_SECONDS, instance_id, operation).observe(seconds)


def webhook_verification_failed(instance_id: str) -> None:
    WEBHOOKS_UNVERIFIED.labels(instance_id).inc()


# -- exposition -------------------------------------------------------------------------------------

@dataclass
class MetricsServer:
    """``GET /metrics`` on its own port, served by a prometheus_client thread."""

    server: WSGIServer
    host: str

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def registry() -> CollectorRegistry:
    """What ``/metrics`` shows: this process's registry, or every worker's files in multiprocess mode."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return REGISTRY
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
    return combined


def serve_metrics(host: str, port: int) -> MetricsServer:
    """Start ``/metrics`` on ``host:port`` (0: any free port). Raises ``OSError`` when it cannot listen."""
    server, _thread = start_http_server(port, addr=host, registry=registry())
    return MetricsServer(server, host)


def worker_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (its counters stay in the totals)."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(pid)  # type: ignore[no-untyped-call]
