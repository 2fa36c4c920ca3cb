"""The sandbox PSP's card vault: tokens for cards a shopper stored, kept in its books (``books.py``).

Like a real PSP, the sandbox stores a card when the shopper asks and hands back its own opaque token
(``sandbox-tok-<uuid5 of the authorization's reference>``, so a repeated call gives the same token), never a
card number: the sandbox never sees one (its enabler decides test-card outcomes in the browser and sends
display data only). The vault entry, under the token, names the commercetools customer it was stored for
and its display data; paying with a token checks both that it is known, for that customer, and not detached.
"""

from __future__ import annotations

import uuid
from typing import Any

from host import DisplayOptions, SavedMethod, StoredMethod
from plugins.sandbox.body import CardDisplay
from plugins.sandbox.books import Books

_NAMESPACE = uuid.UUID("2f1e6c1a-9d0b-4c8e-b1d6-766175c74b65")


def token_for(reference: str) -> str:
    return f"sandbox-tok-{uuid.uuid5(_NAMESPACE, reference)}"


def display_of(card: CardDisplay | None) -> DisplayOptions:
    if card is None:
        return DisplayOptions()
    return DisplayOptions(end_digits=card.end_digits, brand=card.brand, expiry_month=card.expiry_month,
                          expiry_year=card.expiry_year)


def saved_json(saved: SavedMethod) -> dict[str, Any]:
    return {"token": saved.token, "display": saved.display.to_json(), "method": saved.method}


def saved_of(data: Any) -> SavedMethod | None:
    if not isinstance(data, dict):
        return None
    return SavedMethod(token=str(data["token"]), display=DisplayOptions.from_json(data.get("display")),
                       method=data.get("method"))


async def store(books: Books, reference: str, customer_id: str, card: CardDisplay | None, payment_id: str,
                at: float) -> SavedMethod:
    """Vault the card the authorization ``reference`` paid with, for ``customer_id``; its token."""
    saved = SavedMethod(token=token_for(reference), display=display_of(card), method="card")
    await books.enter(saved.token, {"kind": "token", "customerId": customer_id, "paymentId": payment_id,
                                    "at": at, "display": saved.display.to_json()})
    return saved


async def usable(books: Books, method: StoredMethod) -> bool:
    """Whether the vault holds ``method.token`` for its customer, not detached."""
    entry = await books.find(method.token)
    return (entry is not None and entry.get("kind") == "token" and entry.get("customerId") == method.customer_id
            and not entry.get("detached"))


async def detach(books: Books, method: StoredMethod) -> None:
    await books.mark(method.token, detached=True)
