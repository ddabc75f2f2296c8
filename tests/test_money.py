"""Money's one home: what becomes a Decimal, how amounts compare, how they are shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderamt import money


@settings(deadline=None)  # a loaded CI machine is no bug in the rule
@given(st.floats(min_value=0, max_value=1e8, allow_nan=False))
def test_odoo_amount_has_the_currency_places(value: float) -> None:
    """Any non-negative float from Odoo becomes a Decimal with exactly two places."""
    amount = money.from_odoo(value)
    assert amount is not None
    assert amount.as_tuple().exponent == -2
    assert abs(amount - Decimal(repr(value))) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (12.120000000000001, 2, "12.12"),
        (857.875, 2, "857.88"),
        (0.005, 2, "0.01"),
        (-0.0, 2, "0.00"),
        (1234.5, 0, "1235"),
        (1.2345, 3, "1.235"),
        (-5.0, 2, None),
        (float("nan"), 2, None),
        (float("inf"), 2, None),
        ("950.00", 2, None),
        (True, 2, None),
        (None, 2, None),
    ],
)
def test_from_odoo_rounds_half_up_once(value: object, decimals: int, expected: str | None) -> None:
    """Odoo's float is read through its shortest repr and rounded half-up to the decimals."""
    amount = money.from_odoo(value, decimals)
    assert (str(amount) if amount is not None else None) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (Decimal("857.8749"), "857.8749"),
        ("857.8749", "857.8749"),
        (" 12.10 ", "12.10"),
        (857.87, "857.87"),
        (12, "12"),
        ("abc", "NaN"),
        ("", "NaN"),
        (None, None),
    ],
)
def test_stored_values_are_kept_exactly(stored: object, expected: str | None) -> None:
    """What a database returns is never rounded; text that is no number is NaN."""
    amount = money.from_stored(stored)
    assert (str(amount) if amount is not None else None) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("857.87", "857.8700", True),
        ("857.87", "857.8749", False),
        ("0.00", "0", True),
        ("NaN", "NaN", False),
        (None, None, True),
        (None, "0.00", False),
    ],
)
def test_same_is_numeric_equality(a: str | None, b: str | None, same: bool) -> None:
    """Amounts are the same when numerically equal; NaN equals nothing, None only None."""
    first = None if a is None else Decimal(a)
    second = None if b is None else Decimal(b)
    assert money.same(first, second) is same


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1579.56", None, "$1,579.56"),
        ("1579.5", "USD", "$1,579.50"),
        ("857.8749", "USD", "$857.8749"),
        ("857.8700", "USD", "$857.87"),
        ("950", "EUR", "950.00 EUR"),
        ("NaN", None, "(not a number)"),
        (None, None, "(empty)"),
    ],
)
def test_format_shows_every_stored_digit(
    amount: str | None, currency: str | None, shown: str
) -> None:
    """Two places at least, and every digit the column holds, so a sub-cent difference shows."""
    value = None if amount is None else Decimal(amount)
    assert money.format_amount(value, currency) == shown


def test_largest_of_a_decimal_column() -> None:
    """DECIMAL(10,2) holds up to 99,999,999.99."""
    assert money.largest(10, 2) == Decimal("99999999.99")
