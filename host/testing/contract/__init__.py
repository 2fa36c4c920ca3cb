"""The provider contract suite: test classes a plugin subclasses to prove its provider keeps the contract.

Opt in by subclassing (the base classes' names do not start with ``Test``, so pytest collects only your
subclass); enable ``host.testing`` in ``conftest.py`` (``pytest_plugins = ["host.testing"]``)::

    from typing import Any, ClassVar
    from host import Money, TxType
    from host.testing import ProviderContract

    class TestAcmeContract(ProviderContract):
        plugin = "acme"                                        # the name registered in register_providers
        settings: ClassVar[dict[str, Any]] = {"apiKey": "test", "webhookSecret": "whsec"}
        method = "card"
        payment_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card"}}
        refused_body: ClassVar[dict[str, Any]] = {"paymentMethod": {"type": "card", "token": 42}}

        def sign_webhook(self, body: bytes) -> dict[str, str]: ...
        def webhook_event(self, payment_id: str, psp_reference: str, tx_type: TxType, amount: Money) -> bytes: ...

Every test builds a real host from a connector.yaml snippet (one instance of ``plugin`` with ``settings``)
against the commercetools emulator, and goes through HTTP as Checkout and the enabler do. A test whose
feature the provider's ``capabilities`` do not declare is skipped with the reason; for each undeclared
operation a test checks the host refuses it with a clear 400 (never a 500).

Two guards watch every test (the host gets a subclass of the provider class whose methods and route
handlers are wrapped):

* **errors are the host's**: an exception out of a provider method that is not a ``host.ApiError`` (a
  ``KeyError``, an SDK's own error...) fails the test, naming the method; so does any 500 answer.
* **nothing blocks the event loop**: each provider call is run step by step, a step being the code between
  two awaits, during which nothing else can run. A step longer than ``slow_callback_duration`` (0.1 s)
  fails the test, naming the method: synchronous I/O, ``time.sleep`` or heavy CPU work. Time in the
  garbage collector does not count (in a long session a collection takes that long, wherever it starts).
  The loop also runs in asyncio's debug mode (which refuses calls from other threads), and its "Executing
  ... took" warnings are shown with the failure; they alone do not fail a test, because asyncio cannot tell
  whose code was slow (the host and the emulator share the loop, and a loaded machine or the garbage
  collector can stall any callback).

The tests, and what each checks, are listed in docs/writing-plugins.md ("The contract suite").

``ProviderContract`` is for ``PaymentProvider`` classes, ``GiftCardContract`` for ``GiftCardProvider``.
"""

from __future__ import annotations

from host.testing.contract.giftcards import GiftCardContract
from host.testing.contract.payments import ProviderContract

__all__ = ["GiftCardContract", "ProviderContract"]
