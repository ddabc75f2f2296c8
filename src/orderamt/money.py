"""Money, in one place: every stored or received amount becomes a `Decimal` here.

The rules, written once:
- An amount read from the portal or the journal is kept exactly as stored, at its column's
  own scale: 857.8749 stays 857.8749. Nothing read from a database is rounded.
- An amount from Odoo (a float, which may carry binary noise such as 12.120000000000001) is
  read through its shortest repr, then rounded half-up to the currency's decimals, once,
  where it enters. Odoo rounds the same way.
- Two amounts are the same when they are numerically equal: 857.87 and 857.8700 are, 857.87
  and 857.8749 are not. An amount that is not a number (NaN) equals nothing.
- Odoo's amounts are never negative and never NaN or infinite; such a value is refused.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DEFAULT_DECIMALS = 2
NOT_A_NUMBER = Decimal("NaN")

CURRENCY_SYMBOLS = {"USD": "$"}
DEFAULT_CURRENCY = "USD"

MINOR_UNITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
"""ISO 4217 minor units where they are not 2 (JPY has none, KWD three), as Odoo's own
res.currency rounds them."""


def currency_decimals(code: str | None) -> int:
    """How many decimals an amount in this currency has (2 when unknown)."""
    return MINOR_UNITS.get((code or "").upper(), DEFAULT_DECIMALS)


def is_currency_code(code: str) -> bool:
    """Three ASCII capital letters, as ISO 4217 writes a currency."""
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def from_stored(value: object) -> Decimal | None:
    """A value as a database returned it, exactly: None stays None, junk becomes NaN.

    SQLite keeps whatever it is given, so a column may hold text that is no number; NaN
    makes the rule refuse to compare it, and such an order is reported, never written.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return NOT_A_NUMBER
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return NOT_A_NUMBER


def from_odoo(value: object, decimals: int = DEFAULT_DECIMALS) -> Decimal | None:
    """Odoo's amount rounded to the currency's decimals, or None when it is not an amount."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
        amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    if amount < 0:
        return None
    return amount + 0  # folds -0.00 into 0.00


def is_number(amount: Decimal | None) -> bool:
    return amount is not None and amount.is_finite()


def same(a: Decimal | None, b: Decimal | None) -> bool:
    """Whether two amounts are equal as numbers; None equals only None, NaN nothing."""
    if a is None or b is None:
        return a is None and b is None
    if not (a.is_finite() and b.is_finite()):
        return False
    return a == b


def largest(precision: int, scale: int) -> Decimal:
    """The largest amount a DECIMAL(precision, scale) column holds."""
    return Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)


def as_amount(value: object) -> Decimal | None:
    """The amount a field of money kind holds (its values are Decimals, or None)."""
    if value is None or isinstance(value, Decimal):
        return value
    raise TypeError(f"an amount is a Decimal, not {type(value).__name__}")


def format_amount(amount: Decimal | None, currency: str | None = None) -> str:
    """An amount as the portal shows it: $1,579.56 for dollars, 1,579.56 EUR otherwise.

    Two decimals at least, more where the amount holds them (a 4-decimal column's 857.8749
    is shown as such, so an operator sees what differs).
    """
    if amount is None:
        return "(empty)"
    if not amount.is_finite():
        return "(not a number)"
    code = currency or DEFAULT_CURRENCY
    places = _places(amount, currency_decimals(code))
    text = f"{amount:,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"


def plain(amount: Decimal | None) -> str | None:
    """An amount for JSON and the log: two decimals at least, every stored digit kept."""
    if amount is None:
        return None
    if not amount.is_finite():
        return "NaN"
    return f"{amount:.{_places(amount, DEFAULT_DECIMALS)}f}"


def _places(amount: Decimal, least: int) -> int:
    """`least` decimals, or more where the amount's digits past them are not all zero."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= least:
        return least  # no digit past `least`: 857.87, 1579.5, 12
    return max(least, -amount.normalize().as_tuple().exponent)  # type: ignore[operator]
