"""One measurement: a fresh server process for one scenario, warmed up, then loaded for a fixed time.

The server (the host or the baseline) runs alone on core 0; the stub, the load generator, py-spy and this
process share core 1. What is read around the measured window: the load generator's requests and
latencies, the server's CPU time (``/proc``), the stub's request counts per route, and the server's RSS.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import LoadResult, run_load
from bench.procs import CpuSample, Proc, core_busy, core_ticks, free_port, http_get
from bench.scenarios import Request, Scenario, write_config

SERVER_CPU = 0
OTHER_CPU = 1


@dataclass
class Env:
    """What every measurement of a run shares."""

    workdir: Path
    stub: Proc
    stub_url: str
    loadgen: str
    connections: int
    duration: float
    warmup: float
    log_level: str = "INFO"

    def stub_stats(self) -> Counter[str]:
        return Counter(http_get(f"{self.stub_url}/_stats"))


@dataclass
class Measurement:
    server: str                       # "host" or "baseline"
    scenario: str
    instances: int
    target: str                       # the paymentInterface the requests were for
    load: LoadResult
    upstream_by_route: dict[str, float]
    cpu_us_per_request: float
    cpu_utilization: float            # server CPU seconds per wall second in the window (1.0 = a full core)
    stub_cpu_utilization: float
    rss_idle_mb: float
    rss_loaded_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def upstream_per_request(self) -> float:
        return sum(self.upstream_by_route.values())

    def to_json(self) -> dict[str, Any]:
        return {"server": self.server, "scenario": self.scenario, "instances": self.instances,
                "target": self.target, **self.load.to_json(),
                "upstream_per_request": round(self.upstream_per_request, 3),
                "upstream_by_route": {k: round(v, 3) for k, v in sorted(self.upstream_by_route.items())},
                "cpu_us_per_request": round(self.cpu_us_per_request, 1),
                "cpu_utilization": round(self.cpu_utilization, 3),
                "stub_cpu_utilization": round(self.stub_cpu_utilization, 3),
                "rss_idle_mb": round(self.rss_idle_mb, 1), "rss_loaded_mb": round(self.rss_loaded_mb, 1),
                **self.extra}


def server_argv(server: str, env: Env, scenario: Scenario, instances: int, port: int, gc_out: Path,
                workers: int = 1) -> list[str]:
    """``python -m host serve ...`` or ``python -m bench.baseline ...``, run under ``bench.gcstats``."""
    if server == "host":
        config = write_config(env.workdir, env.stub_url, port, instances, scenario.mode)
        module = ["host", "serve", "--config", str(config), "--log-level", env.log_level, "--workers", str(workers)]
    else:
        module = ["bench.baseline", "--port", str(port), "--upstream", env.stub_url]
    return [sys.executable, "-m", "bench.gcstats", "--out", str(gc_out), "--", *module]


def _gc_window(proc: Proc, gc_out: Path) -> dict[str, Any]:
    """Ask the server for its GC counters (they reset): what it collected since the last call."""
    gc_out.unlink(missing_ok=True)
    proc.popen.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while not gc_out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.05)
    data: dict[str, Any] = json.loads(gc_out.read_text(encoding="utf-8"))
    return data


def check(base_url: str, request: Request, expect: str) -> None:
    """One request before the load: a scenario that fails or answers the wrong thing measures nothing."""
    url = base_url + request.path       # http://127.0.0.1:<port>/...
    sent = urllib.request.Request(url, data=request.body or None, method=request.method,  # noqa: S310
                                  headers=dict(request.headers))
    try:
        with urllib.request.urlopen(sent, timeout=10) as resp:  # noqa: S310 - loopback URL built here
            body = resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{request.method} {request.path} answered {exc.code}: {exc.read()[:500]!r}") from None
    if expect not in body:
        raise RuntimeError(f"{request.method} {request.path} answered {body[:500]!r}, expected {expect!r} in it")


def measure(env: Env, server: str, scenario: Scenario, *, instances: int = 1, target: int | None = None,
            profile: Callable[[str, int, str, Request], dict[str, Any]] | None = None,
            workers: int = 1) -> Measurement:
    """Measure ``server`` on ``scenario`` against instance ``target`` (default: the last one).

    With ``workers`` > 1 the host runs unpinned (its workers use both cores, beside the stub and the load
    generator) and the GC is not timed (only the supervisor would be); CPU and RSS add up the process tree."""
    target = instances - 1 if target is None else target
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = env.workdir / f"{server}-{scenario.name}-{instances}-{workers}.log"
    gc_out = env.workdir / f"{server}-gc.json"
    timed_gc = workers == 1
    argv = server_argv(server, env, scenario, instances, port, gc_out, workers)
    with Proc(server, argv, SERVER_CPU if workers == 1 else None, log) as proc:
        proc.wait_ready(f"{base}/health")
        check(base, scenario.request(target), scenario.expect)
        time.sleep(0.5)
        rss_idle = proc.rss_mb()

        def load(seconds: float) -> LoadResult:
            return run_load(env.loadgen, base, scenario.request(target), connections=env.connections,
                            duration=seconds, cpu=OTHER_CPU, workdir=env.workdir)

        if env.warmup > 0:
            load(env.warmup)
        if timed_gc:
            _gc_window(proc, gc_out)
        before, stub_before, stats_before = CpuSample.of(proc), CpuSample.of(env.stub), env.stub_stats()
        cores_before = core_ticks()
        result = load(env.duration)
        cores = core_busy(cores_before, core_ticks())
        after, stub_after, stats_after = CpuSample.of(proc), CpuSample.of(env.stub), env.stub_stats()
        cpu = max(after.cpu - before.cpu, 1e-9)
        extra: dict[str, Any] = {"cores_busy": cores, "workers": workers}
        if timed_gc:
            gc_stats = _gc_window(proc, gc_out)
            gc_seconds = sum(gc_stats["seconds"])
            extra["gc"] = {**gc_stats, "share_of_cpu": round(gc_seconds / cpu, 3),
                           "us_per_request": round(gc_seconds / max(result.requests, 1) * 1e6, 1)}
        if profile is not None:
            extra["profile"] = profile(f"{server}-{scenario.name}", proc.pid, base, scenario.request(target))
        rss_loaded = proc.rss_mb()
    requests = max(result.requests, 1)
    wall = max(after.wall - before.wall, 1e-9)
    calls = stats_after - stats_before
    return Measurement(
        server=server, scenario=scenario.name, instances=instances, target=f"mock-{target}", load=result,
        upstream_by_route={route: n / requests for route, n in calls.items()},
        cpu_us_per_request=(after.cpu - before.cpu) / requests * 1e6,
        cpu_utilization=(after.cpu - before.cpu) / wall,
        stub_cpu_utilization=(stub_after.cpu - stub_before.cpu) / wall,
        rss_idle_mb=rss_idle, rss_loaded_mb=rss_loaded, extra=extra)


def best_of(runs: list[Measurement]) -> Measurement:
    """The median run by throughput (the middle of an odd count, the better of two)."""
    ordered = sorted(runs, key=lambda m: m.load.rps)
    return ordered[len(ordered) // 2]
