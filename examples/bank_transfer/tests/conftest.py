"""The host's test kit: fixtures (``connector_host``, ``ct_emulator``) and the contract suite's needs."""

from __future__ import annotations

pytest_plugins = ["host.testing"]
