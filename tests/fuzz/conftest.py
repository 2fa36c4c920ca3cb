"""Prints what the schemathesis run did at the end of the session, so ``make test`` says it."""

from __future__ import annotations

from typing import Any

import pytest

_REPORT = pytest.StashKey[dict[str, Any]]()


@pytest.fixture
def fuzz_report(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Filled by the fuzz test: ``requests``, ``seconds``, ``summary``."""
    return request.config.stash.setdefault(_REPORT, {})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    if report and "requests" in report:
        terminalreporter.write_line(
            f"schemathesis: {report['requests']} requests to the live host in {report['seconds']:.0f} s; "
            f"{report['summary']}")
