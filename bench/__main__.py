"""``python -m bench`` (``make bench``): every scenario on the host and on the baseline, the instance
scaling and the memory, written to ``bench/results/latest.json`` and ``docs/benchmarks.md``.

``--quick`` is a smoke run (~1 minute); ``--profile`` adds py-spy samples of the host under the
``POST /payments`` and capture loads (``bench/results/profile.json``). Traffic goes to 127.0.0.1 only and
every run is bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.load import generator
from bench.procs import Proc, can_pin, free_port, machine, pin_self
from bench.profile import profiler
from bench.report import render, targets
from bench.runner import OTHER_CPU, Env, Measurement, best_of, measure
from bench.scenarios import BY_NAME, SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
INSTANCE_COUNTS = (1, 10, 100)
SCALING_SCENARIOS = ("config", "payments")
PROFILED = ("payments", "capture")
SERVERS = ("host", "baseline")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per measurement, no repeats")
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds of load before each measurement (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is kept")
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS),
                        help="comma-separated: " + ", ".join(BY_NAME))
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1/10/100 instances runs")
    parser.add_argument("--workers", default="1,2",
                        help="worker counts to compare on POST /payments (`serve --workers N`); '' skips it")
    parser.add_argument("--concurrency", default="10,50",
                        help="connection counts at which POST /payments' CPU per request is compared; '' skips it")
    parser.add_argument("--before", type=Path, default=RESULTS / "before.json",
                        help="an earlier run's JSON, shown beside this one (default bench/results/before.json)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else the Python generator (bench.loadgen)")
    parser.add_argument("--profile", action="store_true", help="also sample the host with py-spy")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: regenerate the docs from --out and bench/results/profile.json")
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.scenarios = [BY_NAME[name] for name in args.scenarios.split(",") if name]
    args.workers = [int(n) for n in args.workers.split(",") if n]
    args.concurrency = [int(n) for n in args.concurrency.split(",") if n]
    return args


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _line(m: Measurement) -> str:
    return (f"  {m.server:<8} {m.scenario:<9} {m.instances:>3} inst  {m.load.rps:8.1f} req/s  "
            f"p50 {m.load.p50_ms:6.2f} ms  p99 {m.load.p99_ms:6.2f} ms  {m.cpu_us_per_request:7.1f} µs CPU/req  "
            f"{m.upstream_per_request:4.2f} upstream/req  errors {m.load.errors}")


def _rounds(repeat: int, runs: Mapping[Any, Callable[[], Measurement]]) -> dict[Any, list[Measurement]]:
    """Each measurement once per round, ``repeat`` rounds: a drift of the machine hits all of them alike.

    Per-round lists keep the round order, so ``_paired`` compares runs of the same round."""
    done: dict[Any, list[Measurement]] = {key: [] for key in runs}
    keys = list(runs)
    for round_ in range(repeat):
        shift = round_ % len(keys)          # and each in another position of its round
        for key in keys[shift:] + keys[:shift]:
            done[key].append(runs[key]())
            _say(_line(done[key][-1]))
    return done


def _paired(runs: list[Measurement], reference: list[Measurement], attr: str) -> list[float]:
    """Per-round ratios of ``attr`` (rps or p99_ms): each run against the reference run of its round."""
    return [round(getattr(a.load, attr) / getattr(b.load, attr), 4) for a, b in zip(runs, reference, strict=True)]


def _summary(runs: list[Measurement], **extra: Any) -> dict[str, Any]:
    best = best_of(runs)
    return {**best.to_json(), "runs_rps": [round(m.load.rps, 1) for m in runs], **extra}


def run(args: argparse.Namespace, env: Env, log: Callable[[str], None]) -> dict[str, Any]:
    scenarios: list[dict[str, Any]] = []
    for scenario in args.scenarios:
        log(f"{scenario.title}")
        plan = {server: partial(measure, env, server, scenario) for server in SERVERS}
        if not args.quick:   # the same host with INFO logs off: what logging costs
            plan["host_warning_logs"] = partial(measure, replace(env, log_level="WARNING"), "host", scenario)
        done = _rounds(args.repeat, plan)
        base = done["baseline"]
        row: dict[str, Any] = {"name": scenario.name, "title": scenario.title,
                               "expected_upstream": scenario.expected_upstream, "baseline": _summary(base)}
        for key in plan.keys() - {"baseline"}:
            row[key] = _summary(done[key], rps_ratio_runs=_paired(done[key], base, "rps"),
                                p99_ratio_runs=_paired(done[key], base, "p99_ms"))
        scenarios.append(row)
    scaling: list[dict[str, Any]] = []
    if not args.no_scaling:
        names = ("config",) if args.quick else SCALING_SCENARIOS
        log(f"instances {', '.join(map(str, INSTANCE_COUNTS))}: {', '.join(names)} against the last instance")
        for name in names:
            counts = _rounds(args.repeat, {n: partial(measure, env, "host", BY_NAME[name], instances=n)
                                           for n in INSTANCE_COUNTS})
            scaling += [_summary(done, vs_1_runs=_paired(done, counts[1], "rps")) for done in counts.values()]
    workers: list[dict[str, Any]] = []
    if args.workers:
        log(f"workers {', '.join(map(str, args.workers))}: payments, the host unpinned beyond one worker")
        counts = _rounds(args.repeat, {n: partial(measure, env, "host", BY_NAME["payments"], workers=n)
                                       for n in args.workers})
        one = counts.get(1) or counts[args.workers[0]]
        workers = [_summary(done, vs_1_runs=_paired(done, one, "rps")) for done in counts.values()]
    concurrency: list[dict[str, Any]] = []
    if args.concurrency:
        log(f"connections {', '.join(map(str, args.concurrency))}: payments, host and baseline")
        by_load: dict[Any, Callable[[], Measurement]] = {
            (server, c): partial(measure, replace(env, connections=c), server, BY_NAME["payments"])
            for c in args.concurrency for server in SERVERS}
        runs = _rounds(args.repeat, by_load)
        concurrency = [{"connections": c, **{server: _summary(runs[server, c]) for server in SERVERS}}
                       for c in args.concurrency]
    return {"scenarios": scenarios, "scaling": scaling, "workers": workers, "concurrency": concurrency}


def run_profiles(args: argparse.Namespace, env: Env, raw_dir: Path) -> dict[str, Any]:
    raw_dir.mkdir(parents=True, exist_ok=True)
    spy = profiler(raw_dir, env.workdir, args.profile_seconds, loadgen=env.loadgen, connections=env.connections,
                   cpu=OTHER_CPU)
    out: dict[str, Any] = {"date": _now(), "seconds": args.profile_seconds, "scenarios": {}}
    for name in PROFILED:
        for server in SERVERS:
            _say(f"profiling {server} under {name}")
            m = measure(env, server, BY_NAME[name], profile=spy)
            out["scenarios"].setdefault(name, {})[server] = {**m.extra["profile"], "gc": m.extra["gc"],
                                                             "cpu_us_per_request": round(m.cpu_us_per_request, 1)}
    return out


def revision() -> dict[str, Any]:
    """The commit measured, and whether host/ or plugins/ had uncommitted changes."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "host", "plugins"))}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_docs(args: argparse.Namespace, report: dict[str, Any]) -> None:
    profile_path = RESULTS / "profile.json"
    saved = json.loads(profile_path.read_text(encoding="utf-8")) if profile_path.exists() else None
    before = None
    if args.before and args.before.exists() and args.before.resolve() != args.out.resolve():
        before = json.loads(args.before.read_text(encoding="utf-8"))
    args.docs.write_text(render(report, saved, ROOT / "bench" / "analysis.md", before), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        write_docs(args, json.loads(args.out.read_text(encoding="utf-8")))
        _say(f"wrote {args.docs} from {args.out}")
        return 0
    loadgen = generator(args.loadgen)
    if loadgen == "python" and args.loadgen == "auto":
        _say("wrk is not installed (apt-get install -y wrk): using the Python load generator bench.loadgen, "
             "whose ceiling is a few thousand req/s; the results say so.")
    if not can_pin():
        _say("taskset or a second core is missing: processes are not pinned, numbers are less comparable.")
    pin_self(OTHER_CPU)
    command = " ".join(["python -m bench", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    rev = revision()
    with tempfile.TemporaryDirectory(prefix="connector-host-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        with Proc("stub", [sys.executable, "-m", "bench.stub", "--port", str(port)], OTHER_CPU,
                  workdir / "stub.log") as stub:
            stub_url = f"http://127.0.0.1:{port}"
            stub.wait_ready(f"{stub_url}/_stats")
            env = Env(workdir, stub, stub_url, loadgen, args.connections, args.duration, args.warmup)
            results = run(args, env, _say)
            profile = run_profiles(args, env, RESULTS / "profiles") if args.profile else None
    report: dict[str, Any] = {
        "date": _now(), "command": command, "machine": machine(), "revision": rev,
        "settings": {"loadgen": loadgen, "connections": args.connections, "duration_s": args.duration,
                     "warmup_s": args.warmup, "repeat": args.repeat, "quick": args.quick,
                     "pinned": can_pin(), "server_cpu": 0, "other_cpu": OTHER_CPU},
        **results, "elapsed_s": round(time.monotonic() - started, 1),
    }
    report["targets"] = targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if profile is not None:
        (RESULTS / "profile.json").write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    if not args.no_docs:
        write_docs(args, report)
    _say(f"wrote {args.out}" + ("" if args.no_docs else f" and {args.docs}"))
    for t in report["targets"]:
        _say(f"  {'met ' if t['met'] else 'MISSED'}  {t['target']}: {t['value']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
