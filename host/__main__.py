"""``python -m host`` is ``connector-host``."""

from __future__ import annotations

from host.cli import main

raise SystemExit(main())
