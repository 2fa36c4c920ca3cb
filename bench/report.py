"""The targets and ``docs/benchmarks.md``, both computed from the JSON a run writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

THROUGHPUT_RATIO = 0.90     # host req/s ≥ 90% of the baseline's (issue 16; issue 7 asked 80%)
P99_RATIO = 1.5             # host p99 ≤ 1.5 x the baseline's
FLATNESS = 0.05             # req/s at 10 and 100 instances within 5% of 1 instance
IDLE_MB = 80.0              # RSS after start
WORKERS_RATIO = 1.7         # 2 workers on 2 cores: req/s ≥ 1.7x one worker's (POST /payments)
CPU_FLAT = 0.10             # host CPU µs per request at the most connections within 10% of the fewest


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def rps_ratio(host: dict[str, Any], base: dict[str, Any]) -> float:
    """Host over baseline throughput: the median of the per-round ratios when there are rounds."""
    runs = host.get("rps_ratio_runs")
    return median(runs) if runs else _ratio(host["rps"], base["rps"])


def p99_ratio(host: dict[str, Any], base: dict[str, Any]) -> float:
    runs = host.get("p99_ratio_runs")
    return median(runs) if runs else _ratio(host["p99_ms"], base["p99_ms"])


def vs_one(row: dict[str, Any], one: dict[str, Any]) -> float:
    """Throughput at N instances over 1 instance, per round (median), minus 1."""
    runs = row.get("vs_1_runs")
    return (median(runs) if runs else _ratio(row["rps"], one["rps"])) - 1


def scaling_by_scenario(report: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for row in report.get("scaling", []):
        out.setdefault(row["scenario"], {})[int(row["instances"])] = row
    return out


def cpu_growth(report: dict[str, Any], server: str = "host") -> tuple[int, int, float] | None:
    """(fewest, most connections, how much more CPU per request the server spends at the most)."""
    rows = sorted(report.get("concurrency") or [], key=lambda r: r["connections"])
    if len(rows) < 2:
        return None
    low, high = rows[0], rows[-1]
    return (low["connections"], high["connections"],
            _ratio(high[server]["cpu_us_per_request"], low[server]["cpu_us_per_request"]) - 1)


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, its measured value and whether it is met."""
    found: list[dict[str, Any]] = []
    for s in report["scenarios"]:
        host, base = s["host"], s["baseline"]
        ratio = rps_ratio(host, base)
        found.append({"target": f"{s['name']}: throughput ≥ {THROUGHPUT_RATIO:.0%} of baseline",
                      "value": f"{ratio:.0%}", "met": ratio >= THROUGHPUT_RATIO})
        p99 = p99_ratio(host, base)
        found.append({"target": f"{s['name']}: p99 ≤ {P99_RATIO}x baseline", "value": f"{p99:.2f}x",
                      "met": p99 <= P99_RATIO})
    for name, runs in scaling_by_scenario(report).items():
        if 1 not in runs or len(runs) < 2:
            continue
        worst = max(abs(vs_one(r, runs[1])) for n, r in runs.items() if n != 1)
        found.append({"target": f"{name}: throughput flat within {FLATNESS:.0%} from 1 to "
                                f"{max(runs)} instances", "value": f"worst {worst:.1%} off", "met": worst <= FLATNESS})
    by_workers = {int(r["workers"]): r for r in report.get("workers", [])}
    if 1 in by_workers and 2 in by_workers:
        ratio = vs_one(by_workers[2], by_workers[1]) + 1     # median of the rounds' own ratios
        found.append({"target": f"payments: 2 workers ≥ {WORKERS_RATIO}x one worker's throughput",
                      "value": f"{ratio:.2f}x", "met": ratio >= WORKERS_RATIO})
    flat = cpu_growth(report)
    if flat is not None:
        low, high, growth = flat
        found.append({"target": f"payments: host CPU per request flat within {CPU_FLAT:.0%} from {low} to {high} "
                                "connections", "value": f"{growth:+.1%}", "met": growth <= CPU_FLAT})
    idle = [(r["instances"], r["rss_idle_mb"]) for r in report.get("scaling", [])]
    idle += [(s["host"]["instances"], s["host"]["rss_idle_mb"]) for s in report["scenarios"]]
    if idle:
        count, worst_mb = max(idle, key=lambda x: x[1])
        found.append({"target": f"idle memory < {IDLE_MB:.0f} MB", "value": f"{worst_mb:.1f} MB (at {count} "
                      f"instance{'s' if count != 1 else ''})", "met": worst_mb < IDLE_MB})
    return found


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header)))
           + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _cores(m: dict[str, Any]) -> str:
    cores = m.get("cores_busy") or {}
    return " / ".join(f"{cores[c]:.2f}" for c in ("cpu0", "cpu1") if c in cores) or f"{m['cpu_utilization']:.2f}"


def _server_row(label: str, m: dict[str, Any], base: dict[str, Any]) -> list[str]:
    gc = m.get("gc", {})
    return [label, f"{m['rps']:,.0f}", f"{rps_ratio(m, base):.0%}", f"{m['p50_ms']:.2f}",
            f"{m['p99_ms']:.2f}", f"{p99_ratio(m, base):.2f}x", f"{m['upstream_per_request']:.2f}",
            f"{m['cpu_us_per_request']:,.0f}", f"{gc.get('share_of_cpu', 0):.0%}", _cores(m),
            f"{m['rss_loaded_mb']:.0f}", str(m["errors"])]


def _scenarios(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    header = ["server", "req/s", "vs baseline", "p50 ms", "p99 ms", "p99 vs baseline", "upstream calls/req",
              "CPU µs/req", "GC share of CPU", "core 0 / core 1 busy", "RSS after load MB", "errors"]
    for s in report["scenarios"]:
        host, base = s["host"], s["baseline"]
        rows = [_server_row("**host**", host, base), _server_row("baseline", base, base)]
        if "host_warning_logs" in s:
            rows.append(_server_row("host, `--log-level WARNING`", s["host_warning_logs"], base))
        lines += [f"### {s['title']}", "", *_table(header, rows), ""]
        routes = ", ".join(f"{route} {n:.2f}" for route, n in host["upstream_by_route"].items())
        lines += [f"Host upstream calls per request: {routes} (expected {s['expected_upstream']:g}).", ""]
    return lines


def _vs_one_cell(row: dict[str, Any], one: dict[str, Any]) -> str:
    runs = [r - 1 for r in row.get("vs_1_runs", [])]
    spread = f" ({min(runs):+.0%} to {max(runs):+.0%})" if len(runs) > 1 and row is not one else ""
    return f"{vs_one(row, one):+.1%}{spread}"


def _scaling(report: dict[str, Any]) -> list[str]:
    by = scaling_by_scenario(report)
    if not by:
        return ["Not run (`--no-scaling`).", ""]
    counts = sorted({n for runs in by.values() for n in runs})
    header = ["instances"]
    for name in by:
        header += [f"{name} req/s", f"{name} vs 1 instance (rounds)", f"{name} CPU µs/req"]
    rows = []
    for n in counts:
        row = [str(n)]
        idle = 0.0
        for runs in by.values():
            r = runs.get(n)
            if r is None or 1 not in runs:
                row += ["", "", ""]
                continue
            row += [f"{r['rps']:,.0f}", _vs_one_cell(r, runs[1]), f"{r['cpu_us_per_request']:,.0f}"]
            idle = max(idle, r["rss_idle_mb"])
        rows.append([*row, f"{idle:.1f}"])
    return [*_table([*header, "idle RSS MB"], rows), "",
            "Each run targets the last instance (`mock-{N-1}`) of a connector.yaml with N sandbox instances. "
            "\"vs 1 instance\" is the median over rounds of each round's N-instance run against its own "
            "1-instance run; the range shows how far single rounds scatter on this machine.", ""]


def _workers(report: dict[str, Any]) -> list[str]:
    rows = report.get("workers") or []
    if not rows:
        return ["Not measured in this run (`--workers 1,2`, the default, measures it).", ""]
    one = next((r for r in rows if r["workers"] == 1), rows[0])
    table = [[str(r["workers"]), f"{r['rps']:,.0f}", _vs_one_cell(r, one), f"{r['p99_ms']:.2f}",
              f"{r['cpu_us_per_request']:,.0f}", _cores(r), f"{r['rss_loaded_mb']:.0f}", str(r["errors"])]
             for r in rows]
    return [*_table(["workers", "req/s", "vs 1 worker (rounds)", "p99 ms", "CPU µs/req (all processes)",
                     "core 0 / core 1 busy", "RSS after load MB (all processes)", "errors"], table), "",
            "POST /payments with `serve --workers N`. One worker is pinned to core 0 as everywhere on this page; "
            "more run on every core, so they share core 1 with the stub and the load generator: on a 2-core "
            "machine that caps what a second worker can add (\"What stands in the way\").", ""]


def _concurrency(report: dict[str, Any]) -> list[str]:
    rows = sorted(report.get("concurrency") or [], key=lambda r: r["connections"])
    if not rows:
        return ["Not measured in this run (`--concurrency 10,50`, the default, measures it).", ""]
    table = [[str(r["connections"]), f"{r['host']['rps']:,.0f}", f"{r['host']['cpu_us_per_request']:,.0f}",
              f"{r['host']['p99_ms']:.2f}", f"{r['baseline']['rps']:,.0f}",
              f"{r['baseline']['cpu_us_per_request']:,.0f}", f"{r['baseline']['p99_ms']:.2f}"] for r in rows]
    out = [*_table(["connections", "host req/s", "host CPU µs/req", "host p99 ms", "baseline req/s",
                    "baseline CPU µs/req", "baseline p99 ms"], table), ""]
    host, base = cpu_growth(report), cpu_growth(report, "baseline")
    if host and base:
        out += [f"POST /payments, one worker. CPU per request from {host[0]} to {host[1]} connections: host "
                f"{host[2]:+.1%}, baseline {base[2]:+.1%}.", ""]
    return out


def _before_after(report: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    if not before:
        return ["No earlier run to compare (`--before`, default `bench/results/before.json`).", ""]
    rev = before.get("revision") or {}
    old = {s["name"]: s for s in before.get("scenarios", [])}
    rows = []
    for s in report["scenarios"]:
        b = old.get(s["name"])
        if b is None:
            continue
        ratios = rps_ratio(b["host"], b["baseline"]), rps_ratio(s["host"], s["baseline"])
        rows.append([s["name"], f"{ratios[0]:.0%} → {ratios[1]:.0%}",
                     f"{b['host']['rps']:,.0f} → {s['host']['rps']:,.0f}",
                     f"{b['host']['cpu_us_per_request']:,.0f} → {s['host']['cpu_us_per_request']:,.0f}",
                     f"{b['baseline']['cpu_us_per_request']:,.0f} → {s['baseline']['cpu_us_per_request']:,.0f}"])
    then, now = cpu_growth(before), cpu_growth(report)
    if then and now:
        rows.append([f"payments CPU/req, c{now[0]} → c{now[1]}", "", "", f"{then[2]:+.1%} → {now[2]:+.1%}", ""])
    workers = ({int(r["workers"]): r for r in before.get("workers", [])},
               {int(r["workers"]): r for r in report.get("workers", [])})
    if all(1 in w and 2 in w for w in workers):
        then_x, now_x = (vs_one(w[2], w[1]) + 1 for w in workers)
        rows.append(["payments, 2 workers vs 1", f"{then_x:.2f}x → {now_x:.2f}x", "", "", ""])
    return [f"Before: commit `{rev.get('commit', '?')}`, {before.get('date', '?')}, measured with this bench "
            f"(`{before.get('command', '?')}`). After: this run.", "",
            *_table(["scenario", "host vs baseline", "host req/s", "host CPU µs/req", "baseline CPU µs/req"], rows),
            ""]


def _memory(report: dict[str, Any]) -> list[str]:
    rows = [[s["name"], f"{s['host']['rss_idle_mb']:.1f}", f"{s['host']['rss_loaded_mb']:.1f}",
             f"{s['baseline']['rss_idle_mb']:.1f}", f"{s['baseline']['rss_loaded_mb']:.1f}"]
            for s in report["scenarios"]]
    rows += [[f"{r['scenario']}, {r['instances']} instances", f"{r['rss_idle_mb']:.1f}", f"{r['rss_loaded_mb']:.1f}",
              "", ""] for r in report.get("scaling", []) if r["instances"] != 1]
    return [*_table(["run", "host idle MB", "host after load MB", "baseline idle MB", "baseline after load MB"],
                    rows), "",
            "Idle: RSS 0.5 s after the server answers `/health`, before any request. After load: RSS at the end "
            "of the measured window.", ""]


def _profile(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return ["No profile yet: run `python -m bench --profile` (needs `.venv/bin/pip install py-spy`).", ""]
    lines = [f"py-spy (`--native`, 200 Hz, {profile['seconds']:g} s per server) under load, "
             f"{profile['date']}. Shares are of the server's CPU samples.", ""]
    for name, servers in profile["scenarios"].items():
        host = servers.get("host")
        if not host:
            continue
        gc = host.get("gc", {})
        base = servers.get("baseline", {})
        lines += [f"#### {name}: where the host's CPU goes", "",
                  f"GC (timed with `gc.callbacks` during the measured window): host {gc.get('share_of_cpu', 0):.0%} "
                  f"of CPU, {gc.get('us_per_request', 0):.0f} µs/request, collections gen0/1/2 "
                  f"{'/'.join(map(str, gc.get('collections', [])))}, longest gen2 pause "
                  f"{(gc.get('longest_ms') or [0, 0, 0])[2]:.1f} ms, {gc.get('tracked_objects', 0):,} tracked objects"
                  + (f"; baseline {base['gc']['share_of_cpu']:.0%} of CPU, {base['gc']['us_per_request']:.0f} "
                     f"µs/request." if base.get("gc") else "."), ""]
        rows = [[f"`{n}`", f"{share:.1%}", f"{share * host['cpu_us_per_request']:.0f}"]
                for n, share in host["attributed"][:12]]
        lines += [*_table(["host code that caused the work (innermost host frame)", "share", "≈ µs/request"], rows), ""]
        rows = [[name, f"{h:.0f}", f"{b:.0f}", f"{h - b:+.0f}"] for name, h, b in _package_rows(host, base)]
        lines += [*_table(["package of the running code", "host µs/req", "baseline µs/req", "host - baseline"],
                          rows), ""]
    return lines


def _package_rows(host: dict[str, Any], base: dict[str, Any], top: int = 10) -> list[tuple[str, float, float]]:
    """CPU per request by package, host against baseline, the largest differences first."""
    h = {name: share * host["cpu_us_per_request"] for name, share in host["by_package"]}
    b = {name: share * base.get("cpu_us_per_request", 0.0) for name, share in base.get("by_package", [])}
    rows = [(name, h.get(name, 0.0), b.get(name, 0.0)) for name in h.keys() | b.keys()]
    return sorted(rows, key=lambda r: r[2] - r[1])[:top]


def render(report: dict[str, Any], profile: dict[str, Any] | None, analysis: Path,
           before: dict[str, Any] | None = None) -> str:
    m, st = report["machine"], report["settings"]
    repeats = "" if st["repeat"] == 1 else f", median of {st['repeat']} runs"
    gen = "wrk" if st["loadgen"] == "wrk" else ("the Python load generator `bench.loadgen`: its own ceiling (a few "
                                                "thousand req/s) may be what is measured; install wrk")
    rev = report.get("revision") or {}
    measured = f", measuring commit `{rev['commit']}`{' with local changes' if rev.get('dirty') else ''}" \
        if rev.get("commit") else ""
    lines = [
        "# Benchmarks", "",
        f"Generated by `{report['command']}` (`make bench`) on {report['date']}{measured}; regenerate, do not "
        "edit. Raw numbers: `bench/results/latest.json`.", "",
        "## Machine", "",
        *_table(["", ""], [["CPU", f"{m['cpu_model']}, {m['cpus']} cores"], ["memory", f"{m['memory_gb']} GB"],
                           ["kernel", m["kernel"]], ["Python", f"{m['implementation']} {m['python']}"],
                           ["aiohttp", m["aiohttp"]], ["load generator", gen],
                           ["pinning", "server on core 0; stub, load generator and bench on core 1"
                            if st["pinned"] else "none (taskset or a second core missing)"]]),
        "",
        "## How it is measured", "",
        f"- Each measurement starts a fresh server process, loads it for {st['warmup_s']:g} s (warm-up: token, "
        f"introspection cache, keep-alive pool), then for {st['duration_s']:g} s with {st['connections']} "
        f"keep-alive connections, closed loop{repeats}.",
        "- Upstream is `bench/stub.py`: a stateless aiohttp app answering the commercetools routes in constant time "
        "(own process, core 1), counting requests per route.",
        "- The baseline (`bench/baseline.py`) is a bare aiohttp handler per scenario making the same upstream "
        "calls on a `ClientSession` with the host's connector settings and parsing every answer: the ceiling.",
        "- The host runs as in production: `python -m host serve --config connector.yaml`, JSON logs at INFO "
        "(to a file), wrapped by `bench/gcstats.py`, which only times garbage collections.",
        "- CPU µs/req: the server's utime+stime (`/proc/<pid>/stat`) over the window ÷ requests. Core busy "
        "(`/proc/stat`, softirq included, which is where loopback TCP runs): core 0 near 1.00 and core 1 below it "
        "means the server, not the stub or the load generator, is the bottleneck.",
        "- GC share of CPU: time inside the cyclic garbage collector (`gc.callbacks`) ÷ the server's CPU time.",
        "",
        "To run it: `make bench` (or `.venv/bin/python -m bench`; `--quick` for a one-minute smoke run, `--repeat 3` "
        "for medians of three interleaved rounds, `--profile` for py-spy samples, `--render-only` to rebuild this "
        "page from the JSON, `--workers 1,2` for the worker counts compared, the default). "
        "It wants `wrk` (`apt-get install -y wrk`) and falls back to a Python load generator "
        "without it; `--profile` wants py-spy (`.venv/bin/pip install py-spy`).", "",
        "## Results", "",
        *_scenarios(report),
        "## Instances", "",
        *_scaling(report),
        "## Workers", "",
        *_workers(report),
        "## Connections", "",
        *_concurrency(report),
        "## Before and after", "",
        *_before_after(report, before),
        "## Memory", "",
        *_memory(report),
        "## Targets", "",
        *_table(["target", "measured", "met"],
                [[t["target"], t["value"], "yes" if t["met"] else "**no**"] for t in report["targets"]]),
        "",
    ]
    if analysis.exists():
        lines += [analysis.read_text(encoding="utf-8").rstrip(), ""]
    lines += ["## Profile data", "", *_profile(profile)]
    return "\n".join(lines).rstrip() + "\n"
