"""What the sandbox PSPs did, read from their books (the custom objects of their instance's container), as the
invariants want it: one movement per authorization, capture, cancel, refund or redemption the PSP made, with
its type, PSP reference, the attempt key it was called with and, when the books know it, its Payment."""

from __future__ import annotations

from typing import Any

from host.commercetools.store import container_for
from plugins.sandbox.books import reference

LIVE_OUTCOMES = ("approved", "received")


Objects = list[dict[str, Any]]


def _values(objects: Objects, instance: str) -> Objects:
    container = container_for(instance)
    return [o["value"] for o in objects if o["container"] == container]


def card_movements(objects: Objects, instance: str) -> Objects:
    """The card sandbox's books (``plugins.sandbox.books``) among ``objects``: entries by reference."""
    out = []
    for entry in _values(objects, instance):
        if entry["kind"] == "authorization":
            out += [{"paymentId": entry["paymentId"], "type": t["type"], "reference": t["interactionId"],
                     "key": entry["key"] + (":Charge" if t["type"] == "Charge" else "")}
                    for t in entry["transactions"] if t["state"] in ("Success", "Pending")]
        elif entry.get("outcome") in LIVE_OUTCOMES:
            out.append({"paymentId": entry["paymentId"], "type": entry["type"],
                        "reference": reference(entry["kind"], entry["key"]), "key": entry["key"]})
    return out


def gift_card_movements(objects: Objects, instance: str) -> Objects:
    """The gift-card sandbox's ledger (``plugins.sandbox_giftcard.ledger``) among ``objects``: its redemptions
    and refunds (the ledger does not name their Payments)."""
    out: Objects = []
    for entry in _values(objects, instance):
        for rid, taken in (entry.get("redemptions") or {}).items():    # a card (not an index entry)
            out.append({"paymentId": None, "type": "Charge", "reference": rid, "key": None})
            out += [{"paymentId": None, "type": "Refund", "reference": fid, "key": None} for fid in taken["refunds"]]
    return out
