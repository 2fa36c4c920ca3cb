"""Settings of a ``plugin: bank_transfer`` instance, as an operator writes them in connector.yaml::

    instances:
      transfer:
        plugin: bank_transfer
        paymentInterface: bank-transfer
        settings:
          iban: DE89 3704 0044 0532 0130 00
          bic: COBADEFFXXX
          accountHolder: ACME Shop GmbH
          webhookSecret: ${BANK_WEBHOOK_SECRET}
          dueDays: 14

The IBAN is checked (country length and ISO 7064 mod-97), the BIC against ISO 9362. Unknown keys are refused.
"""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from bank_transfer.reference import mod97_valid
from host import ProviderSettings

#: IBAN lengths of the SEPA countries (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?\Z")


class BankTransferSettings(ProviderSettings):
    """The account shoppers transfer to, and the secret the bank's notifications are signed with."""

    model_config = ConfigDict(alias_generator=to_camel)

    iban: str = Field(description="the merchant's account, spaces allowed")
    bic: str = Field(description="the bank's BIC (8 or 11 characters)")
    account_holder: str = Field(min_length=1, max_length=70, description="the beneficiary name shoppers enter")
    webhook_secret: SecretStr = Field(description="HMAC key of the bank's notifications and of page links")
    due_days: int = Field(14, ge=1, le=90, description="days the shopper has to transfer")

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        iban = re.sub(r"\s+", "", value).upper()
        expected = IBAN_LENGTHS.get(iban[:2])
        if expected is None:
            raise ValueError(f"IBAN country {iban[:2]!r} is not a SEPA country")
        if len(iban) != expected:
            raise ValueError(f"an IBAN of {iban[:2]} has {expected} characters, this one {len(iban)}")
        if not mod97_valid(iban):
            raise ValueError("the IBAN's check digits are wrong (mistyped?)")
        return iban

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str) -> str:
        bic = value.strip().upper()
        if not _BIC.match(bic):
            raise ValueError("a BIC is 8 or 11 characters: bank (4 letters), country (2), location (2), branch (3)")
        return bic

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("webhookSecret must have at least 16 characters")
        return value
