"""A Python load generator for machines without wrk: ``python -m bench.loadgen --url ... --duration 10``.

``--connections`` workers share one keep-alive ``aiohttp.ClientSession`` and send the same request back to
back for ``--duration`` seconds (closed loop, like wrk). It prints the ``BENCH_JSON`` line wrk's script
prints. One Python process tops out at a few thousand requests per second on one core, far below wrk:
with it, a fast scenario may measure the generator rather than the server, and the results say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q / 100 * len(sorted_values)))]


async def _worker(http: aiohttp.ClientSession, args: argparse.Namespace, body: bytes, headers: dict[str, str],
                  deadline: float, latencies: list[float], errors: dict[str, int]) -> None:
    while (started := time.perf_counter()) < deadline:
        try:
            async with http.request(args.method, args.url, data=body or None, headers=headers) as resp:
                await resp.read()
                if resp.status >= 400:
                    errors["status"] += 1
        except (aiohttp.ClientError, OSError):
            errors["read"] += 1
            continue
        latencies.append(time.perf_counter() - started)


async def run(args: argparse.Namespace, body: bytes) -> dict[str, object]:
    headers = dict(h.split(": ", 1) for h in args.header)
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        deadline = started + args.duration
        await asyncio.gather(*(_worker(http, args, body, headers, deadline, latencies, errors)
                               for _ in range(args.connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    us = [x * 1e6 for x in latencies]
    return {"requests": len(latencies), "duration_us": int(elapsed * 1e6), "errors": errors,
            "p50_us": int(percentile(us, 50)), "p90_us": int(percentile(us, 90)),
            "p99_us": int(percentile(us, 99)), "max_us": int(us[-1]) if us else 0,
            "mean_us": sum(us) / len(us) if us else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body-file")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("bench.loadgen only sends traffic to loopback")
    body = Path(args.body_file).read_bytes() if args.body_file else b""
    print("BENCH_JSON " + json.dumps(asyncio.run(run(args, body))), flush=True)


if __name__ == "__main__":
    main()
