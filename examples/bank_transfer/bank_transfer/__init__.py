"""``connector-host-bank-transfer``: bank transfer (prepayment) for connector-host.

Installed, it is discovered through its ``connector_host`` entry point (``bank_transfer``) and enabled in
connector.yaml with ``plugin: bank_transfer``; see README.md. It imports only from ``host``.
"""

from __future__ import annotations

from bank_transfer.provider import BankTransferProvider
from bank_transfer.reference import creditor_reference, refund_reference
from bank_transfer.settings import BankTransferSettings
from bank_transfer.signing import SIGNATURE_HEADER, sign
from host import Registry, hookimpl

__all__ = ["SIGNATURE_HEADER", "BankTransferProvider", "BankTransferSettings", "creditor_reference",
           "refund_reference", "register_providers", "sign"]


@hookimpl
def register_providers(registry: Registry) -> None:
    """Register ``BankTransferProvider`` as ``bank_transfer``."""
    registry.register("bank_transfer", BankTransferProvider)
