"""The supervisor of ``connector-host serve --workers N`` (N > 1); ``host.workers`` says what it does.

It checks the port, sets ``PROMETHEUS_MULTIPROC_DIR``, serves ``/metrics``, starts N spawned worker
processes (``host.workers.worker_main``), replaces one that dies, and on SIGTERM/SIGINT forwards SIGTERM
and waits ``server.shutdownTimeout`` + ``STOP_MARGIN`` seconds before it kills. Signals reach its
``multiprocessing.connection.wait`` through ``signal.set_wakeup_fd``, so it reacts at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from host.config import Deployment
from host.errors import ConnectorError
from host.ports import HOST, bind_error
from host.workers import MULTIPROC_ENV, WorkerSpec, empty_multiprocess_dir, start_metrics, worker_main

if TYPE_CHECKING:
    from host.metrics import MetricsServer

logger = logging.getLogger(__name__)

STOP_MARGIN = 5.0              # seconds the supervisor waits beyond shutdownTimeout before killing
MAX_RESTARTS = 5               # worker deaths tolerated within RESTART_WINDOW
RESTART_WINDOW = 60.0


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    ready_pipe: Connection | None     # until the worker says it listens
    ready: bool = False


@dataclass
class Supervisor:
    deployment: Deployment
    count: int
    log_level: str
    workers: list[_Worker] = field(default_factory=list)
    stopping: bool = False
    force: bool = False
    deaths: list[float] = field(default_factory=list)
    spec: WorkerSpec = field(init=False)
    wake: int = field(init=False)        # read end of the signal wake-up pipe

    def run(self) -> int:
        server = self.deployment.config.server
        port = claim_port(server.host, server.port, self.deployment.source)
        self.spec = WorkerSpec(self.deployment.source, server.host, port, server.logFormat, self.log_level)
        directory, created = _prepare_multiprocess_dir()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self.wake = wake_r
        old_wakeup = signal.set_wakeup_fd(wake_w)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        metrics: MetricsServer | None = None
        try:
            metrics = start_metrics(server, self.deployment.source)
            for index in range(self.count):
                self._start(index)
            return self._watch()
        finally:
            self._stop_all(server.shutdownTimeout + STOP_MARGIN)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(old_wakeup)
            os.close(wake_r)
            os.close(wake_w)
            if metrics is not None:
                metrics.close()
            if created:
                shutil.rmtree(directory, ignore_errors=True)
                os.environ.pop(MULTIPROC_ENV, None)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.force = self.stopping
        self.stopping = True

    def _start(self, index: int) -> None:
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=worker_main, args=(self.spec, writer),
                                  name=f"connector-host-worker-{index}", daemon=False)
        process.start()
        writer.close()
        self.workers.append(_Worker(index, process, reader))

    def _wait(self, objects: list[Any], timeout: float | None = None) -> None:
        wait([*objects, self.wake], timeout)
        try:
            while os.read(self.wake, 512):
                pass
        except BlockingIOError:
            pass

    def _watch(self) -> int:
        announced = False
        while not self.stopping:
            pipes = [w.ready_pipe for w in self.workers if w.ready_pipe is not None]
            self._wait([w.process.sentinel for w in self.workers] + pipes)
            for worker in list(self.workers):
                if worker.ready_pipe is not None and worker.ready_pipe.poll():
                    worker.ready = _read_ready(worker.ready_pipe)
                    worker.ready_pipe.close()
                    worker.ready_pipe = None
                if worker.process.exitcode is None or self.stopping:
                    continue
                code = self._reap(worker)
                if not worker.ready and code is not None and code > 0:
                    # it failed on its own while starting (a provider's startup, the port): so will the next
                    logger.error("worker %d exited with code %s before it was ready: stopping", worker.index, code)
                    return code if code == 2 else 1
                now = time.monotonic()
                self.deaths = [t for t in self.deaths if now - t < RESTART_WINDOW] + [now]
                if len(self.deaths) > MAX_RESTARTS:
                    logger.error("%d workers died within %g s: stopping", len(self.deaths), RESTART_WINDOW)
                    return 1
                logger.error("worker %d (pid %s) exited with code %s: starting a new one", worker.index,
                             worker.process.pid, code)
                self._start(worker.index)
            if not announced and len(self.workers) == self.count and all(w.ready for w in self.workers):
                announced = True
                logger.info("%d workers serving on port %d", self.count, self.spec.port)
        return 0

    def _reap(self, worker: _Worker) -> int | None:
        from host.metrics import worker_exited

        worker.process.join()
        self.workers.remove(worker)
        if worker.ready_pipe is not None:
            worker.ready_pipe.close()
        if worker.process.pid is not None:
            worker_exited(worker.process.pid)
        return worker.process.exitcode

    def _stop_all(self, deadline_in: float) -> None:
        alive = [w for w in self.workers if w.process.is_alive()]
        for worker in alive:
            if worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + deadline_in
        while alive and not self.force and (remaining := deadline - time.monotonic()) > 0:
            self._wait([w.process.sentinel for w in alive], remaining)
            alive = [w for w in alive if w.process.is_alive()]
        for worker in alive:
            logger.warning("worker %d did not stop in time: killing it", worker.index)
            worker.process.kill()
        for worker in list(self.workers):
            self._reap(worker)


def _read_ready(pipe: Connection) -> bool:
    try:
        return pipe.recv_bytes() == b"ready"
    except (EOFError, OSError):
        return False


def claim_port(host: str, port: int, config_path: str = "") -> int:
    """Check that ``host:port`` is free and resolve port 0. Workers bind with SO_REUSEPORT, which would let
    them silently share the port with an older connector-host still running: this plain bind would not.
    A port that cannot be had is ``host.ports.bind_error``'s one line (``config_path``: the connector.yaml)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            error = bind_error(exc, HOST, host, port, config_path or "connector.yaml")
            raise error or ConnectorError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        bound: int = probe.getsockname()[1]
        return bound


def _prepare_multiprocess_dir() -> tuple[Path, bool]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the workers: the operator's (emptied) or a new temporary one."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        empty_multiprocess_dir(Path(given))
        return Path(given), False
    path = Path(tempfile.mkdtemp(prefix="connector-host-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return path, True
