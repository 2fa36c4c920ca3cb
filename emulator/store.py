"""The emulator's data: JSON documents by (kind, id), in memory, optionally backed by SQLite.

With a SQLite file every write stores (or deletes) just the one document it touched, and the
whole file is loaded at start, so a demo survives a restart. Readers get the stored object
itself: callers that change a document copy it first and :meth:`Store.put` the result, which
is what makes an update all-or-nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

Document = dict[str, Any]

CARTS = "cart"
SESSIONS = "session"
PAYMENTS = "payment"
PAYMENT_METHODS = "payment-method"
CUSTOM_OBJECTS = "custom-object"
CUSTOMERS = "customer"
TYPES = "type"
TOKENS = "token"
ZONES = "zone"
SHIPPING_METHODS = "shipping-method"
DATA_KINDS = (CARTS, SESSIONS, PAYMENTS, PAYMENT_METHODS, CUSTOM_OBJECTS, CUSTOMERS, TYPES, ZONES, SHIPPING_METHODS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


class Store:
    """Documents grouped by kind, kept in insertion order (queries return them in that order)."""

    def __init__(self, sqlite_path: str | None = None) -> None:
        self._docs: dict[str, dict[str, Document]] = {}
        self._seq = 0
        self._db: sqlite3.Connection | None = None
        if sqlite_path is not None:
            self._db = sqlite3.connect(sqlite_path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        rows = self._db.execute("SELECT kind, id, seq, body FROM documents ORDER BY seq")
        for kind, doc_id, seq, body in rows:
            self._docs.setdefault(kind, {})[doc_id] = json.loads(body)
            self._seq = max(self._seq, seq)

    def get(self, kind: str, doc_id: str) -> Document | None:
        """The stored document, or None. Do not mutate it: copy, change, :meth:`put`."""
        return self._docs.get(kind, {}).get(doc_id)

    def all(self, kind: str) -> list[Document]:
        """All documents of a kind, oldest first."""
        return list(self._docs.get(kind, {}).values())

    def put(self, kind: str, doc_id: str, doc: Document) -> None:
        """Insert or replace one document (and write it through to SQLite)."""
        docs = self._docs.setdefault(kind, {})
        is_new = doc_id not in docs
        docs[doc_id] = doc
        if self._db is None:
            return
        if is_new:
            self._seq += 1
            self._db.execute(
                "INSERT OR REPLACE INTO documents (kind, id, seq, body) VALUES (?, ?, ?, ?)",
                (kind, doc_id, self._seq, json.dumps(doc)),
            )
        else:
            self._db.execute(
                "UPDATE documents SET body = ? WHERE kind = ? AND id = ?",
                (json.dumps(doc), kind, doc_id),
            )

    def delete(self, kind: str, doc_id: str) -> None:
        """Remove one document if present."""
        self._docs.get(kind, {}).pop(doc_id, None)
        if self._db is not None:
            self._db.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))

    def clear(self, kinds: Iterable[str]) -> None:
        """Remove every document of the given kinds."""
        for kind in kinds:
            self._docs.pop(kind, None)
            if self._db is not None:
                self._db.execute("DELETE FROM documents WHERE kind = ?", (kind,))

    def close(self) -> None:
        """Close the SQLite file (the in-memory data stays readable)."""
        if self._db is not None:
            self._db.close()
            self._db = None
