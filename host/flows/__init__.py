"""The payment rules of each operation, in one layer between the HTTP handlers and commercetools.

A flow is check → reserve → call the provider → record, on typed values (``CartView``, ``PaymentView``,
``Money``...), and nothing in it trusts that it is the only replica running: commercetools' resource
versions are the lock, through the one retry-on-conflict helper (``host.commercetools.versioned``).

- ``rules``: pure payment rules (what is paid, in flight, open; capture and refund limits).
- ``create``: a Payment for a cart — ``/payments``, ``/redeem``, ``/operations/transactions``.
- ``modify``: capture, refund, cancel, reverse.
- ``events``: PSP notifications and hosted-page returns.

Handlers only translate HTTP to a flow call and back; the webhook path calls the same flows.
"""
