"""Money as commercetools stores it: ``CentPrecisionMoney`` with ISO 4217 fraction digits.

A draft (``{"currencyCode", "centAmount", "fractionDigits"?, "type"?}``) is validated here and
always comes back as ``{"type": "centPrecision", "currencyCode", "centAmount", "fractionDigits"}``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .errors import CtError, invalid_field, invalid_json
from .fields import JsonObject, as_object, opt_int, opt_str, path_of, req_int, req_str

# ISO 4217 minor units that differ from the common 2.
_FRACTION_DIGITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def fraction_digits(currency: str) -> int:
    """ISO 4217 minor unit digits of ``currency`` (2 unless listed otherwise)."""
    return _FRACTION_DIGITS.get(currency, 2)


_LONG = 2**63


def cent_money(currency: str, cent_amount: int) -> JsonObject:
    """A ``CentPrecisionMoney`` value; 400 ``MoneyOverflow`` past a 64-bit amount."""
    if not -_LONG <= cent_amount < _LONG:
        raise CtError(400, "MoneyOverflow", "A Money operation resulted in an overflow.")
    return {
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cent_amount,
        "fractionDigits": fraction_digits(currency),
    }


def check_currency(currency: str, field: str) -> str:
    """``currency`` if it is a 3-letter code, else 400 ``InvalidField``."""
    if not _CURRENCY_RE.fullmatch(currency):
        raise invalid_field(field, currency, f"'{currency}' is not a valid currency code.")
    return currency


def parse_money(value: Any, path: str, currency: str | None = None) -> JsonObject:
    """Validate a Money draft at ``path``; with ``currency``, it must be in that currency."""
    draft = as_object(value, path)
    code = check_currency(req_str(draft, "currencyCode", path), path_of(path, "currencyCode"))
    if currency is not None and code != currency:
        raise invalid_field(
            "currencyCode",
            code,
            f"The currency '{code}' does not match the payment's currency '{currency}'.",
        )
    cents = req_int(draft, "centAmount", path)
    digits = opt_int(draft, "fractionDigits", path)
    if digits is not None and digits != fraction_digits(code):
        raise invalid_field("fractionDigits", digits)
    money_type = opt_str(draft, "type", path)
    if money_type not in (None, "centPrecision"):
        raise invalid_json(f"{path_of(path, 'type')}: only 'centPrecision' money is supported")
    return cent_money(code, cents)


def add_tax(net_cents: int, rate: float) -> int:
    """Tax on a net amount, rounded half-even to whole cents as commercetools does."""
    tax = Decimal(net_cents) * Decimal(str(rate))
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def net_of_gross(gross_cents: int, rate: float) -> int:
    """The net part of a gross amount that includes tax at ``rate``."""
    net = Decimal(gross_cents) / (Decimal(1) + Decimal(str(rate)))
    return int(net.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
