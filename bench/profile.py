"""Sampling the host under load with py-spy, and reading the samples back as shares of its CPU time.

py-spy attaches to the running server from core 1 while the load generator drives the scenario; it pauses
the server for each sample (so stacks are whole, throughput drops while sampled) and reads native frames
too, which is how the cyclic garbage collector shows up. Idle samples (the event loop waiting in
``epoll``) are not recorded, so every share is a share of the CPU the server spent. Three views:

- ``by_package``: the leaf frame's package (aiohttp, asyncio, logging, pydantic, host...): where the CPU
  actually went;
- ``attributed``: the innermost frame in ``host/`` or ``plugins/`` of each sample, which names the host
  code that caused the work (``client.py:_send`` owns the aiohttp client and tenacity time it calls);
  samples with no host frame are aiohttp, the event loop and callbacks outside any handler;
- ``inclusive``: each host function's share with everything it calls (a function counted once a sample).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import run_load
from bench.procs import pinned
from bench.scenarios import Request

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
_PACKAGES = ("aiohttp", "multidict", "yarl", "tenacity", "pydantic", "pydantic_core", "pythonjsonlogger",
             "ruamel", "pluggy", "jwt", "stripe", "propcache", "frozenlist", "aiohappyeyeballs")
#: standard-library modules shown as themselves; any other one (threading, inspect, enum...) counts for its caller
_STDLIB = ("asyncio", "logging", "json", "uuid", "hashlib", "hmac", "datetime", "socket", "ssl", "selectors",
           "http")
_HELPER = "python (other)"


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass(frozen=True)
class Frame:
    func: str
    file: str

    @property
    def package(self) -> str:
        path = self.file.replace("\\", "/")
        for marker, name in (("/host/", "host"), ("/plugins/", "plugins"), ("/bench/", "bench")):
            if marker in path and "site-packages" not in path:
                return name
        for name in _PACKAGES:
            if f"/site-packages/{name}/" in path:
                return name
        if "site-packages" in path:
            return "other packages"
        stem = path.rsplit("/", 2)
        for name in _STDLIB:
            if f"/{name}/" in path or stem[-1] == f"{name}.py":
                return name
        return _HELPER

    @property
    def short(self) -> str:
        path = self.file.replace("\\", "/")
        for marker in ("/host/", "/plugins/"):
            if marker in path and "site-packages" not in path:
                return f"{marker.strip('/')}/{path.split(marker, 1)[1]}:{self.func}"
        return f"{path.rsplit('/', 1)[-1]}:{self.func}"


def parse(path: Path) -> list[tuple[list[Frame], int]]:
    """py-spy's raw (collapsed) output: ``frame;frame;... count``, outermost frame first."""
    stacks: list[tuple[list[Frame], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for part in stack.split(";"):
            match = _FRAME.match(part)
            frames.append(Frame(match["func"], match["file"]) if match else Frame(part, ""))
        stacks.append((frames, int(count)))
    return stacks


def _is_python(frame: Frame) -> bool:
    return frame.file.endswith(".py") or frame.file.startswith("<frozen")


_ENTRY = ("host/cli.py:", "host/__main__.py:")


def _owner_package(frames: list[Frame]) -> str:
    """The leaf's package; for a generic standard-library helper (a ``threading.Condition`` that tenacity's
    Future makes, ``inspect`` checks), the package of the nearest caller that is not one."""
    for frame in reversed(frames):
        package = frame.package
        if package != _HELPER:
            return package
    return _HELPER


def summarize(stacks: list[tuple[list[Frame], int]], top: int = 15) -> dict[str, Any]:
    """Shares of the samples: by package, by the host function that caused them, and inclusive."""
    total = sum(n for _, n in stacks) or 1
    by_package: Counter[str] = Counter()
    attributed: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for all_frames, n in stacks:
        if any(f.func.startswith("gc_collect") for f in all_frames):   # native frames (py-spy --native)
            by_package["gc (cyclic garbage collector)"] += n
            attributed["(cyclic garbage collection)"] += n
            continue
        frames = [f for f in all_frames if _is_python(f)]
        if not frames:
            by_package["native (no Python frame)"] += n
            continue
        by_package[_owner_package(frames)] += n
        owners = [f for f in frames if f.package in ("host", "plugins") and not f.short.startswith(_ENTRY)]
        attributed[owners[-1].short if owners else f"(outside host code) {frames[-1].package}"] += n
        for name in {f.short for f in owners}:
            inclusive[name] += n

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(n / total, 4)] for name, n in counter.most_common(top)]

    return {"samples": total, "by_package": shares(by_package), "attributed": shares(attributed),
            "inclusive": shares(inclusive)}


def profiler(outdir: Path, workdir: Path, seconds: float, *, loadgen: str, connections: int, cpu: int,
             rate: int = 200) -> Callable[[str, int, str, Request], dict[str, Any]]:
    """A ``measure(profile=...)`` callback: py-spy on the server while the scenario runs again."""
    spy = py_spy()
    if spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy (only needed for --profile)")

    def run(label: str, pid: int, base_url: str, request: Request) -> dict[str, Any]:
        raw = outdir / f"{label}.txt"
        argv = [spy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--rate", str(rate),
                "--format", "raw", "--full-filenames", "--native", "--output", str(raw)]
        proc = subprocess.Popen(pinned(argv, cpu), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)     # attached before the load starts
        load = run_load(loadgen, base_url, request, connections=connections, duration=seconds, cpu=cpu,
                        workdir=workdir)
        _, err = proc.communicate(timeout=seconds + 30)
        if proc.returncode != 0 or not raw.exists():
            raise RuntimeError(f"py-spy failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
        summary = summarize(parse(raw))
        summary["rps_while_sampled"] = round(load.rps, 1)
        summary["raw"] = raw.name    # py-spy's collapsed stacks, for flamegraph.pl or speedscope
        return summary

    return run
