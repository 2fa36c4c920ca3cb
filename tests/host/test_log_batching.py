"""The JSON log writes the lines of one event-loop turn in one system call, and loses none."""

from __future__ import annotations

import asyncio
import io
import logging

from host.logs import BatchedStreamHandler


class _Raw(io.RawIOBase):
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes.append(bytes(data))
        return len(data)


async def test_the_lines_of_one_loop_turn_are_one_write_and_none_is_lost() -> None:
    raw = _Raw()
    handler = BatchedStreamHandler(io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8"))
    log = logging.getLogger("test.batching")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        for i in range(50):                      # fifty requests answered in one turn of the loop
            log.info("request %d", i)
        assert raw.writes == []                  # nothing written yet: the flush waits for the loop
        await asyncio.sleep(0)
        assert len(raw.writes) == 1
        log.info("next turn")
        await asyncio.sleep(0)
        assert len(raw.writes) == 2
    finally:
        log.removeHandler(handler)
    log.info("outside the handler")
    lines = b"".join(raw.writes).decode().splitlines()
    assert lines == [f"request {i}" for i in range(50)] + ["next turn"]


def test_outside_an_event_loop_every_line_is_written_at_once() -> None:
    raw = _Raw()
    handler = BatchedStreamHandler(io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8"))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "start-up line", None, None)
    handler.emit(record)
    assert b"".join(raw.writes) == b"start-up line\n"


def test_a_line_logged_as_the_loop_closes_is_written_at_shutdown() -> None:
    """The loop stops before the flush it scheduled runs (the last lines of a SIGTERM): logging's shutdown
    flush, outside any loop, still writes them."""
    raw = _Raw()
    handler = BatchedStreamHandler(io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8"))

    loop = asyncio.new_event_loop()
    loop.call_soon(handler.emit, logging.LogRecord("x", logging.INFO, __file__, 1, "stopping", None, None))
    loop.call_soon(loop.stop)                    # the loop's last turn: the flush lands after it
    loop.run_forever()
    loop.close()                                 # the scheduled flush never ran
    assert raw.writes == []
    handler.flush()                              # what logging.shutdown() does at exit
    assert b"".join(raw.writes) == b"stopping\n"
