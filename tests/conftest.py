"""Shared test configuration: the host's own test kit, localstripe, and the aioresponses shim for aiohttp 3.14."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import aiohttp
import aioresponses.core
import pytest
from support.stripe_server import running

pytest_plugins = ["host.testing"]


class _StreamWriter:
    output_size = 0


class _ShimResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds ClientResponse without ``stream_writer`` (pnuckowski/aioresponses#289)."""

    def __init__(self, *args: Any, stream_writer: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, stream_writer=stream_writer or _StreamWriter(), **kwargs)


if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
    aioresponses.core.ClientResponse = _ShimResponse  # type: ignore[misc]


@pytest.fixture(scope="session")
def localstripe_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A localstripe process on a free loopback port, for the whole session (its output: a temp file)."""
    with running(tmp_path_factory.mktemp("localstripe") / "localstripe.log") as port:
        yield port
