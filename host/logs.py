"""Logging: JSON lines (python-json-logger) with the request's correlation id on every line."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import re
import sys
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/=+-]{0,127}")
#: digits as card numbers are written: a plain run, or groups of 4 (4-6-5 for American Express)
_CARD_LIKE = re.compile(r"\d{13,}|\d{4}(?:[- ]\d{4}){3,4}|\d{4}[- ]\d{6}[- ]\d{5}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """Whether ``text`` holds 13 to 19 digits that pass the Luhn check, or a longer run of digits."""
    for match in _CARD_LIKE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) > 19 or _luhn(digits):
            return True
    return False


def sane_correlation_id(value: object) -> str | None:
    """``value`` when it can serve as a correlation id: 1 to 128 letters, digits and ``._:/=+-``, starting
    with a letter or digit, and nothing that looks like a card number. ``None`` otherwise: the caller makes
    a fresh one, so a client can put neither arbitrary text nor card data into our logs and responses."""
    if not isinstance(value, str) or not _CORRELATION_ID.fullmatch(value) or looks_like_card_number(value):
        return None
    return value


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` that writes the lines of one event-loop turn in one system call.

    ``StreamHandler`` flushes after every record: one ``write`` per log line, a measurable share of a
    request's CPU (docs/benchmarks.md). Inside a running event loop this handler flushes once, when the
    loop gets to its scheduled callbacks (before it waits for I/O again); outside one, at once. A crash
    loses at most the lines of the current turn; ``close()`` and interpreter exit flush what is left."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._scheduled = False

    def flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:    # no loop (any more): a flush scheduled on a closed loop never ran
            self._scheduled = False
            super().flush()
            return
        if not self._scheduled:  # else this turn's flush is already on its way
            self._scheduled = True
            loop.call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._scheduled = False
        super().flush()


def _log_stream() -> Any:
    """stderr, buffered by us (Python line-buffers it, a ``write`` per line). A replaced ``sys.stderr`` (a
    test's capture) is used as it is."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stderr
    sys.stderr.flush()
    return io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w", closefd=False), 1 << 16), encoding="utf-8",
                            errors="backslashreplace")


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlationId = correlation_id.get()
        return True


def setup_logging(fmt: str = "json", level: str | int = "INFO") -> None:
    """Configure the root logger once: ``json`` for production, ``text`` for a terminal."""
    # the formats name neither process nor thread: let LogRecord skip looking them up (a getpid per record)
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    handler = BatchedStreamHandler(_log_stream())
    handler.addFilter(_CorrelationFilter())
    if fmt == "json":
        handler.setFormatter(OrjsonFormatter("{asctime}{levelname}{name}{message}{correlationId}", style="{",
                                           rename_fields={"levelname": "level", "asctime": "time"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlationId)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
