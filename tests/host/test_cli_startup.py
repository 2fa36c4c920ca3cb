"""``connector-host serve`` and the demo commands, as a user meets them on a shared machine: a busy port is
one line naming what to change, and the demo commands find the host from the same connector.yaml and
environment (or say what to export)."""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.serving import CLI, ROOT, free_port, serving

from host._version import __version__
from host.ports import EMULATOR, HOST, bind_error

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")   # logFormat: text


def _env(**values: str) -> dict[str, str]:
    """A shell's environment; every port the shipped connector.yaml opens is free unless given."""
    env = {**os.environ, "CONNECTOR_HOST_BLOCK_PLUGINS": "", "PORT": "0", "CT_EMULATOR_PORT": "0",
           "METRICS_PORT": "0", **values}
    env.pop("CONNECTOR_CONFIG", None)
    return env


def _run(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on (on every address, as the host would)."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))  # noqa: S104 - the host listens on 0.0.0.0 by default
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize(("variable", "expected"), [
    ("PORT", "cannot listen on 0.0.0.0:{port}: the port is already in use (server.port)"),
    ("CT_EMULATOR_PORT", "cannot listen on 127.0.0.1:{port} for the commercetools stand-in: the port is already "
                         "in use (commercetools.emulator.port)"),
    ("METRICS_PORT", "cannot listen on 0.0.0.0:{port} for /metrics: the port is already in use (server.metricsPort)"),
])
def test_a_busy_port_is_one_line_naming_the_setting_and_the_variable(busy_port: int, variable: str,
                                                                     expected: str) -> None:
    result = _run("serve", env=_env(**{variable: str(busy_port)}))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if not LOG_LINE.match(line)]
    assert len(said) == 1, result.stderr
    assert said[0].startswith(f"connector-host: {expected.format(port=busy_port)}, perhaps by another "
                              f"connector-host. Use another port: export {variable}="), said[0]
    if variable == "PORT":
        assert "--port " in said[0] and said[0].endswith("or set server.port in connector.yaml")
    assert f"connector-host {__version__} serving" not in result.stderr, "nothing may claim to serve before it listens"


def test_bind_errors_name_what_the_config_can_change(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text("server:\n  port: 9000\ninstances: {}\n", encoding="utf-8")
    shipped = str(ROOT / "connector.yaml")

    denied = bind_error(OSError(errno.EACCES, "permission denied"), HOST, "0.0.0.0", 80, shipped)  # noqa: S104
    assert denied is not None
    assert str(denied).startswith("cannot listen on 0.0.0.0:80: ports below 1024 need privileges (server.port).")
    assert "export PORT=8080" in str(denied) and "--port 8080" in str(denied)

    # a connector.yaml that does not read $PORT: exporting it would change nothing, so it is not offered
    busy = bind_error(OSError(errno.EADDRINUSE, "in use"), HOST, "127.0.0.1", 9000, str(own))
    assert busy is not None and "PORT=" not in str(busy) and "set server.port in" in str(busy)

    nowhere = bind_error(socket.gaierror(-2, "Name or service not known"), HOST, "nohost", 8080, shipped)
    assert str(nowhere).startswith("cannot listen on nohost:8080: this machine has no address nohost. Set server.host")
    assert "--host 127.0.0.1" in str(nowhere)
    assert bind_error(OSError(errno.EMFILE, "too many open files"), EMULATOR, "127.0.0.1", 1, shipped) is None


# -- a host started as README's `PORT=... CT_EMULATOR_PORT=... make run`, and the demo commands beside it ----

@dataclass
class Served:
    port: int
    ct_port: int
    log: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment of the shell that started the host: the one a second shell must agree with."""
        return _env(PORT=str(self.port), CT_EMULATOR_PORT=str(self.ct_port))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(free_port(), free_port(), tmp_path_factory.mktemp("serve") / "serve.log")
    with serving(served.env, served.log, port=served.port):
        yield served


def _call(url: str, body: object = None, **headers: str) -> dict:  # type: ignore[type-arg]
    """GET (or POST ``body`` as JSON) on loopback, the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 - http://127.0.0.1 only
        answer: dict = json.load(resp)  # type: ignore[type-arg]
        return answer


def test_serve_says_where_both_listen_and_what_another_shell_must_export(served: Served) -> None:
    said = served.log.read_text(encoding="utf-8")
    assert (f"serving connector.yaml on http://0.0.0.0:{served.port} (2 instance(s), 1 worker(s)), commercetools "
            f"stand-in on http://127.0.0.1:{served.ct_port}") in said
    assert f"export PORT={served.port} CT_EMULATOR_PORT={served.ct_port}" in said


def test_demo_commands_find_the_host_from_the_same_environment(served: Served) -> None:
    shown = _run("demo-session", "--interface", "mock", env=served.env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ""
    assert f"curl -s http://127.0.0.1:{served.port}/operations/config" in shown.stdout

    made = _run("demo-session", "--interface", "mock", "--json", env=served.env)
    session_id = json.loads(made.stdout)["sessionId"]
    ct = f"http://127.0.0.1:{served.ct_port}"
    token = _call(f"{ct}/_emulator/tokens", {"client_id": "connector"})["access_token"]
    session = _call(f"{ct}/demo/sessions/{session_id}", Authorization=f"Bearer {token}")
    host = f"http://127.0.0.1:{served.port}"
    assert session["metadata"]["processorUrl"] == host
    assert session["metadata"]["merchantReturnUrl"] == f"{host}/health"
    assert _call(f"{host}/operations/config", **{"X-Session-Id": session_id})["environment"] == "TEST"

    tokens = _run("demo-tokens", "--json", env=served.env)
    assert tokens.returncode == 0, tokens.stderr
    assert set(json.loads(tokens.stdout)) == {"oauth", "jwt"}


def test_demo_session_says_what_to_export_when_the_stand_in_is_elsewhere(served: Served) -> None:
    # a second shell without the first one's variables looks where connector.yaml's defaults say
    elsewhere = free_port()
    result = _run("demo-session", env=_env(PORT=str(served.port), CT_EMULATOR_PORT=str(elsewhere)))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"connector-host: cannot reach the commercetools stand-in at "
                               f"http://127.0.0.1:{elsewhere} (commercetools.emulator.port of connector.yaml)")
    assert "export PORT=<its port> CT_EMULATOR_PORT=<its port> here" in lines[0]
    assert "--emulator URL" in lines[0]


def test_demo_session_warns_when_no_host_answers_where_the_session_points(served: Served) -> None:
    elsewhere = free_port()
    result = _run("demo-session", "--id", env=_env(PORT=str(elsewhere), CT_EMULATOR_PORT=str(served.ct_port)))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 1, "--id prints the id alone, the warning goes to stderr"
    assert f"warning: no connector-host answers at http://127.0.0.1:{elsewhere} (server.port of connector.yaml)" \
        in result.stderr
    assert "export PORT=<its port> here" in result.stderr


def test_the_readme_lists_every_variable_connector_yaml_reads() -> None:
    """A newcomer finds the settings in the README, not only inside connector.yaml."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings you can override", 1)[1].split("\n## ", 1)[0]
    values = [line.split("#", 1)[0] for line in (ROOT / "connector.yaml").read_text(encoding="utf-8").splitlines()]
    read = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", "\n".join(values)))
    assert read >= {"PORT", "CT_EMULATOR_PORT", "CONNECTOR_EMBEDDED", "LOG_FORMAT"}
    missing = sorted(name for name in read | {"CONNECTOR_CONFIG", "CONNECTOR_HOST_BLOCK_PLUGINS"}
                     if f"`{name}`" not in table)
    assert not missing, f"README's settings table lacks {missing}"
    for flag in ("--port", "--host", "--config"):
        assert f"`{flag}" in table
