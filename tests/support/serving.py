"""``connector-host serve`` as a user runs it: a separate process, waited for until ``/health`` answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "connector-host")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(env: Mapping[str, str], log: Path, *args: str, port: int, timeout: float = 30) -> Iterator[None]:
    """Run ``connector-host serve *args`` with ``env`` (its stderr into ``log``) until the block ends."""
    with log.open("wb") as log_file:
        server = subprocess.Popen([CLI, "serve", *args], cwd=ROOT, env=dict(env), stdout=subprocess.DEVNULL,
                                  stderr=log_file)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                assert server.poll() is None, log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "the host did not start"
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)
