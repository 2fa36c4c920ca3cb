"""Driving load: wrk with a generated Lua script, or ``bench.loadgen`` when wrk is not installed.

Both print one ``BENCH_JSON {...}`` line (requests, duration, errors, latency percentiles in µs), so a
run's result does not depend on which generator made it, only its ceiling does (see ``bench.loadgen``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.procs import pinned
from bench.scenarios import Request

_MARK = "BENCH_JSON "

_LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d},"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    errors: int
    error_detail: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def generator(choice: str) -> str:
    """``wrk`` or ``python``: the load generator ``choice`` (``auto``/``wrk``/``python``) resolves to."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk (or run with --loadgen python)")
    return choice


def _lua_string(text: str) -> str:
    """A Lua string literal: printable ASCII as is, anything else (and ``"`` and ``\\``) as ``\\ddd``."""
    return '"' + "".join(c if " " <= c <= "~" and c not in '"\\' else "".join(f"\\{b:03d}" for b in c.encode())
                         for c in text) + '"'


def lua_script(request: Request) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    if request.body:
        lines.append(f"wrk.body = {_lua_string(request.body.decode())}")
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items()]
    return "\n".join(lines) + "\n" + _LUA_DONE


def run_load(kind: str, base_url: str, request: Request, *, connections: int, duration: float,
             cpu: int | None, workdir: Path) -> LoadResult:
    url = base_url.rstrip("/") + request.path
    if kind == "wrk":
        script = workdir / "request.lua"
        script.write_text(lua_script(request), encoding="utf-8")
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "-s", str(script),
                url]
    else:
        body = workdir / "request.body"
        body.write_bytes(request.body)
        argv = [sys.executable, "-m", "bench.loadgen", "--url", url, "--method", request.method,
                "--body-file", str(body), "--connections", str(connections), "--duration", str(duration),
                *(a for k, v in request.headers.items() for a in ("--header", f"{k}: {v}"))]
    done = subprocess.run(pinned(argv, cpu), capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(_MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{kind} failed ({done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}")
    data = json.loads(line[len(_MARK):])
    errors = {k: int(v) for k, v in data["errors"].items()}
    return LoadResult(requests=int(data["requests"]), duration_s=data["duration_us"] / 1e6,
                      errors=sum(errors.values()), error_detail=errors,
                      p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
                      p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000)
