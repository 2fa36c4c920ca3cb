"""Listening sockets that cannot be opened, told as one line that names the setting to change.

``connector-host serve`` opens up to three: the host's (``server.host``/``server.port``, ``--host``/``--port``),
on the embedded default the commercetools stand-in's (``commercetools.emulator.port``), and the metrics
port (``server.metricsPort``). A busy port, a
port below 1024 without the right, or an address this machine does not have is a start-up problem like a
bad connector.yaml: one line with the fix, exit 2, no traceback.
"""

from __future__ import annotations

import errno
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from host.errors import ConnectorError

_BIND_ERRNOS = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


@dataclass(frozen=True)
class Listener:
    """What a socket is for and how an operator moves it: the connector.yaml key, the environment
    variable the shipped connector.yaml reads for it, and the command-line flags (if any)."""

    purpose: str
    setting: str
    env: str
    flag: str | None = None
    host_setting: str | None = None
    host_flag: str | None = None


HOST = Listener("", "server.port", "PORT", "--port", "server.host", "--host")
EMULATOR = Listener(" for the commercetools stand-in", "commercetools.emulator.port", "CT_EMULATOR_PORT",
                    host_setting="commercetools.emulator.host")
METRICS = Listener(" for /metrics", "server.metricsPort", "METRICS_PORT", host_setting="server.metricsHost")


def reads_env(config_path: str | Path, name: str) -> bool:
    """Whether connector.yaml takes a value from ``${name}`` (so exporting it moves that value)."""
    try:
        text = Path(config_path).read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r"\$\{" + re.escape(name) + r"(:-[^}]*)?\}", text) is not None


def free_port_near(port: int, host: str = "127.0.0.1") -> int | None:
    """A port after ``port`` that can be bound right now, to suggest in the message (not reserved)."""
    for candidate in range(port + 1, min(port + 100, 65535) + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return None


def bind_error(exc: OSError, listener: Listener, host: str, port: int, config_path: str) -> ConnectorError | None:
    """The one-line start-up error for a socket that could not be opened; ``None`` if ``exc`` is another
    kind of ``OSError`` (the caller re-raises it)."""
    where = f"cannot listen on {host}:{port}{listener.purpose}"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        flag = f", or {listener.host_flag} 127.0.0.1" if listener.host_flag else ""
        return ConnectorError(f"{where}: this machine has no address {host}. Set {listener.host_setting} in "
                              f"{config_path}{flag} (0.0.0.0 means every address)")
    if exc.errno not in _BIND_ERRNOS:
        return None
    if exc.errno == errno.EACCES:
        problem = f"ports below 1024 need privileges ({listener.setting})."
        suggestion: int | None = 8080 if port < 1024 else None
    else:
        problem = f"the port is already in use ({listener.setting}), perhaps by another connector-host."
        suggestion = free_port_near(port, host)
    value = str(suggestion) if suggestion else "N"
    ways = []
    if reads_env(config_path, listener.env):
        ways.append(f"export {listener.env}={value} ({config_path} reads it)")
    if listener.flag:
        ways.append(f"{listener.flag} {value}")
    ways.append(f"set {listener.setting} in {config_path}")
    return ConnectorError(f"{where}: {problem} Use another port: {', or '.join(ways)}")
