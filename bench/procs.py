"""Processes of a run: started pinned to a core, probed over loopback, measured from ``/proc``, stopped."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def can_pin() -> bool:
    """Pinning needs ``taskset`` and two cores: the server on core 0, everything else on core 1."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """``argv`` on core ``cpu``; with ``None`` on every core. A child inherits its parent's affinity, and the
    bench itself runs pinned (``pin_self``), so "unpinned" must say so explicitly: without it, the workers of
    ``--workers 2`` ran on the bench's one core, beside the stub and the load generator."""
    if not can_pin():
        return argv
    cores = str(cpu) if cpu is not None else f"0-{(os.cpu_count() or 1) - 1}"
    return ["taskset", "-c", cores, *argv]


def pin_self(cpu: int) -> None:
    """Keep the orchestrating process off the server's core."""
    if can_pin():
        os.sched_setaffinity(0, {cpu})


def http_get(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback URLs built here
        return json.loads(resp.read() or b"null")


class Proc:
    """A child process (``taskset`` execs into it, so the pid is the server's own)."""

    def __init__(self, name: str, argv: list[str], cpu: int | None, log: Path) -> None:
        self.name = name
        self.log = log
        self._out: IO[bytes] = log.open("wb")
        self.popen = subprocess.Popen(pinned(argv, cpu), stdout=self._out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, url: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            try:
                http_get(url, timeout=1.0)
                return
            except OSError:
                time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not start (exit {self.popen.returncode}):\n{tail}")

    def tree(self) -> list[int]:
        """This process and its live descendants (``serve --workers N`` runs N workers under a supervisor)."""
        pids, i = [self.pid], 0
        while i < len(pids):
            try:
                children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
            except OSError:
                children = []
            pids += [int(c) for c in children]
            i += 1
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the process and its live descendants (``/proc/<pid>/stat``)."""
        total = 0.0
        for pid in self.tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK   # utime, stime (fields 14, 15)
        return total

    def rss_mb(self) -> float:
        total = 0
        for pid in self.tree():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except OSError:
                continue
        return total * _PAGE / 2**20

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)     # aiohttp exits cleanly on it; SIGINT may be ignored
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._out.close()

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class CpuSample:
    cpu: float
    wall: float

    @classmethod
    def of(cls, proc: Proc) -> CpuSample:
        return cls(proc.cpu_seconds(), time.monotonic())


def core_ticks() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each core since boot (``/proc/stat``; idle and iowait are not busy)."""
    ticks: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            numbers = [int(v) for v in values[:8]]
            ticks[int(name[3:])] = (sum(numbers) - numbers[3] - numbers[4], sum(numbers))
    return ticks


def core_busy(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> dict[str, float]:
    """Busy share of each core between two ``core_ticks()``, interrupts and softirq (loopback TCP) included."""
    return {f"cpu{core}": round((after[core][0] - b[0]) / max(after[core][1] - b[1], 1), 3)
            for core, b in before.items() if core in after}


def machine() -> dict[str, Any]:
    import aiohttp

    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), 0)
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "implementation": platform.python_implementation(), "aiohttp": aiohttp.__version__,
            "executable": sys.executable, "pinned": can_pin()}
