"""``connector-host serve``: the host in this process, or a supervisor and N worker processes on one port.

- One worker: the host runs in this process. This is always the case with ``commercetools.embedded``,
  whose stand-in keeps its data in this process's memory (so do the sandbox PSPs): a second process
  would see another commercetools.
- N workers: this process supervises (``host.supervisor``). It checks the port is free, starts N
  processes (multiprocessing, spawn), each loading connector.yaml itself and listening on the same port
  with ``SO_REUSEPORT``, so the kernel spreads connections across them. It serves ``/metrics`` for all of
  them (prometheus_client multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` is set before any worker
  starts), starts a new worker when one dies, and gives up when one fails on its own while starting
  (exit code > 0: the next would too) or more than five die within a minute.
- SIGTERM (or SIGINT) stops gracefully: every serving process stops accepting, lets the requests in
  flight finish within ``server.shutdownTimeout``, then closes its upstream sessions (``cleanup_ctx``).
  The supervisor forwards SIGTERM and waits that long plus a margin; a second signal kills at once.

prometheus_client picks its storage when it is imported, so this module imports ``host.app`` and
``host.metrics`` only inside functions, after the multiprocess directory is settled.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from host._version import __version__
from host.config import Deployment, ServerConfig, load_config
from host.errors import ConnectorError
from host.keys import DEPLOYMENT, EMULATOR_URL
from host.ports import EMULATOR, HOST, METRICS, bind_error, reads_env
from host.server import HostRunner

if TYPE_CHECKING:
    from host.metrics import MetricsServer

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def usable_cores() -> int:
    """The cores this process may run on (taskset and cpusets included; CPU quotas are not visible)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_count(deployment: Deployment, requested: int | None) -> int:
    if requested is not None and requested < 0:
        raise ConnectorError(f"--workers must be 0 (one per core) or more, not {requested}")
    count = requested or deployment.config.server.workers or usable_cores()
    if count > 1 and deployment.config.commercetools.embedded:
        log = logger.warning if (requested or deployment.config.server.workers) else logger.debug
        log("commercetools.embedded keeps the stand-in's data in this process: serving with 1 worker, not %d "
            "(run the stand-in on its own, `python -m emulator`, to use more)", count)
        return 1
    return count


def serve(deployment: Deployment, *, workers: int | None, log_level: str) -> int:
    """Serve ``deployment`` until SIGTERM/SIGINT; returns the exit code."""
    count = worker_count(deployment, workers)
    if count == 1:
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:   # an operator's multiprocess directory: start from an empty one, as the library wants
            empty_multiprocess_dir(Path(directory))
        return _serve_here(deployment)
    announce(deployment, count)
    from host.supervisor import Supervisor

    return Supervisor(deployment, count, log_level).run()


def announce(deployment: Deployment, count: int, app: web.Application | None = None) -> None:
    """Where the host serves (said once it listens, when it serves in this process), where its stand-in
    is, and what another shell must export for the demo commands to find them."""
    from host.app import public_url

    server = deployment.config.server
    line = (f"connector-host {__version__} serving {deployment.source} on http://{server.host}:{server.port} "
            f"({len(deployment.instances)} instance(s), {count} worker(s))")
    if app is not None and EMULATOR_URL in app:
        line += f", commercetools stand-in on {app[EMULATOR_URL]}"
    print(line, file=sys.stderr)
    if deployment.config.commercetools.embedded:
        print(f"demo checkout: {public_url(server)}/demo/", file=sys.stderr)
    exports = [f"{name}={os.environ[name]}" for name in (HOST.env, EMULATOR.env)
               if os.environ.get(name) and reads_env(deployment.source, name)]
    if exports:
        print(f"in another shell, `export {' '.join(exports)}` so that demo-session and demo-tokens find it",
              file=sys.stderr)


# -- one serving process ----------------------------------------------------------------------------

async def _freeze_startup_objects(app: web.Application) -> None:
    """Move everything start-up created (modules, SDKs, settings) out of the cyclic GC's sight: a full
    collection then walks only what requests create (docs/benchmarks.md, "Profile")."""
    gc.collect()
    gc.freeze()
    # a request allocates a few thousand objects, almost none of them cyclic: the default young-generation
    # threshold (700) would collect several times per request (docs/benchmarks.md, "Profile")
    gc.set_threshold(20_000, 20, 20)


def run_loop(server: ServerConfig, main: Coroutine[Any, Any, None]) -> None:
    """Run a serving process's event loop: uvloop unless ``server.eventLoop`` is ``asyncio`` (or uvloop is not
    installed, as on Windows). uvloop's transports and loop cost less per request (docs/benchmarks.md)."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if server.eventLoop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if server.eventLoop == "uvloop":
                raise ConnectorError("server.eventLoop is uvloop, but uvloop is not installed") from None
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """A worker whose supervisor died (SIGKILL gives it no chance to stop us) stops too, gracefully."""
    parent = os.getppid()
    while os.getppid() == parent:  # noqa: ASYNC110 - no event tells a process its parent died
        await asyncio.sleep(1.0)
    logger.warning("the supervisor (pid %d) is gone: stopping", parent)
    stop.set()


async def _run(app: web.Application, server: ServerConfig, *, reuse_port: bool, stop_on: Iterable[signal.Signals],
               on_ready: Callable[[], None] | None = None, orphan_watch: bool = False) -> None:
    runner = HostRunner(app, access_log=None, handle_signals=False, shutdown_timeout=server.shutdownTimeout)
    await runner.setup()
    watch: asyncio.Task[None] | None = None
    try:
        site = web.TCPSite(runner, server.host, server.port, reuse_port=reuse_port)
        try:
            await site.start()
        except OSError as exc:
            error = bind_error(exc, HOST, server.host, server.port, app[DEPLOYMENT].source)
            raise error or ConnectorError(f"cannot listen on {server.host}:{server.port}: {exc.strerror}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in stop_on:
            loop.add_signal_handler(sig, stop.set)
        if orphan_watch:
            watch = asyncio.create_task(_stop_when_orphaned(stop))
        if on_ready is not None:
            on_ready()
        await stop.wait()
        logger.info("stopping: no new connections, requests in flight get up to %g s", server.shutdownTimeout)
    finally:
        if watch is not None:
            watch.cancel()
        await runner.cleanup()


def start_metrics(server: ServerConfig, config_path: str = "connector.yaml") -> MetricsServer | None:
    if server.metricsPort is None:
        return None
    from host.metrics import serve_metrics

    host = server.metricsHost or server.host
    try:
        metrics = serve_metrics(host, server.metricsPort)
    except OSError as exc:
        error = bind_error(exc, METRICS, host, server.metricsPort, config_path)
        raise error or ConnectorError(f"cannot serve metrics on {host}:{server.metricsPort}: {exc.strerror}") from None
    logger.info("metrics on http://%s:%d/metrics", host, metrics.port)
    return metrics


def _serve_here(deployment: Deployment) -> int:
    from host import telemetry
    from host.app import create_app

    server = deployment.config.server
    telemetry.setup(deployment.config.tracing)
    metrics = start_metrics(server, deployment.source)
    try:
        app = create_app(deployment)
        app.on_startup.append(_freeze_startup_objects)
        run_loop(server, _run(app, server, reuse_port=False, stop_on=(signal.SIGINT, signal.SIGTERM),
                         on_ready=lambda: announce(deployment, 1, app)))
    finally:
        if metrics is not None:
            metrics.close()
        telemetry.shutdown()
    return 0


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to build the same host as its siblings (it re-reads connector.yaml)."""

    source: str
    host: str
    port: int
    log_format: str
    log_level: str


def worker_main(spec: WorkerSpec, ready: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole group: the supervisor decides
    from host import telemetry
    from host.app import create_app
    from host.logs import setup_logging

    setup_logging(spec.log_format, spec.log_level)

    def announce() -> None:
        ready.send_bytes(b"ready")
        ready.close()

    try:
        loaded = load_config(spec.source)
        server = loaded.config.server.model_copy(update={"host": spec.host, "port": spec.port})
        deployment = Deployment(loaded.config.model_copy(update={"server": server}), loaded.instances,
                                loaded.plugins, loaded.source)
        telemetry.setup(deployment.config.tracing)
        app = create_app(deployment)
        app.on_startup.append(_freeze_startup_objects)
        run_loop(server, _run(app, server, reuse_port=True, stop_on=(signal.SIGTERM,), on_ready=announce,
                         orphan_watch=True))
    except ConnectorError as exc:      # the supervisor stops on exit code 2, as serve does
        print(f"connector-host: {exc}", file=sys.stderr)
        sys.exit(2)
    finally:
        telemetry.shutdown()


def empty_multiprocess_dir(directory: Path) -> None:
    """Remove an earlier run's metric files (the library wants an empty directory at start)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
