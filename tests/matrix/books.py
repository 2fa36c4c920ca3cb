"""What the sandbox PSPs did, from their books (commercetools custom objects of their instance), as the
invariants want it: per entry, the Payment it was for and the movements it made (type, PSP reference and
the attempt key the PSP was called with)."""

from __future__ import annotations

import importlib
from typing import Any

from emulator.store import CUSTOM_OBJECTS
from host.commercetools.store import container_for
from host.testing import RunningEmulator

LIVE_OUTCOMES = ("approved", "received")


def card_books(ct: RunningEmulator, instance: str) -> list[dict[str, Any]] | None:
    """The card sandbox's movements; None when the sandbox keeps no shared books (before issue 12 item 4)."""
    try:
        books = importlib.import_module("plugins.sandbox.books")
    except ImportError:
        return None
    container = container_for(instance)
    out = []
    for stored in ct.emulator.store.all(CUSTOM_OBJECTS):
        if stored["container"] != container:
            continue
        entry = stored["value"]
        if entry["kind"] == "authorization":
            moved = [{"type": t["type"], "reference": t["interactionId"],
                      "key": entry["key"] + (":Charge" if t["type"] == "Charge" else "")}
                     for t in entry["transactions"] if t["state"] in ("Success", "Pending")]
        elif entry.get("outcome") in LIVE_OUTCOMES:
            moved = [{"type": entry["type"], "reference": books.reference(entry["kind"], entry["key"]),
                      "key": entry["key"]}]
        else:
            moved = []
        out.append({"paymentId": entry["paymentId"], "moved": moved})
    return out
