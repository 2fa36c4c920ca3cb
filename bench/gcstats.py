"""``python -m bench.gcstats --out FILE -- MODULE ARGS...``: a server with its garbage collections timed.

Runs ``python -m MODULE ARGS...`` (``host serve --config ...``, ``bench.baseline ...``) unchanged in this
process, with a ``gc.callbacks`` hook that counts collections and
their time per generation. On SIGUSR1 the counters are written to ``FILE`` as JSON and reset, so a
caller can read what one window of load cost; they are written again at exit.
"""

from __future__ import annotations

import gc
import json
import runpy
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any


class GcTimer:
    def __init__(self) -> None:
        self._started = 0.0
        self.reset()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._started
        generation = int(info["generation"])
        self.count[generation] += 1
        self.seconds[generation] += elapsed
        self.longest[generation] = max(self.longest[generation], elapsed)

    def snapshot(self) -> dict[str, Any]:
        return {"collections": list(self.count), "seconds": [round(s, 6) for s in self.seconds],
                "longest_ms": [round(s * 1000, 3) for s in self.longest],
                "tracked_objects": len(gc.get_objects()), "threshold": list(gc.get_threshold())}

    def reset(self) -> None:
        """Zero the counters; a collection in progress (the signal may land in one) still ends well."""
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]


def main() -> None:
    argv = sys.argv[1:]
    if len(argv) < 4 or argv[0] != "--out" or argv[2] != "--":
        raise SystemExit("usage: python -m bench.gcstats --out FILE -- MODULE [ARGS...]")
    out = Path(argv[1])
    timer = GcTimer()
    gc.callbacks.append(timer)

    def dump(signum: int | None = None, frame: FrameType | None = None) -> None:
        out.write_text(json.dumps(timer.snapshot()), encoding="utf-8")
        timer.reset()

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = [argv[3], *argv[4:]]
    try:
        runpy.run_module(argv[3], run_name="__main__", alter_sys=True)
    finally:
        dump()


if __name__ == "__main__":
    main()
