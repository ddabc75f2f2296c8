"""Column types that carry money and Laravel timestamps across SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Numeric, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from orderamt import money
from orderamt.times import aware_utc, local_naive, naive_utc

LARAVEL_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
UTC_ZONE = ZoneInfo("UTC")


class Money(TypeDecorator[Decimal]):
    """A DECIMAL column read as Decimal exactly as stored, and written without a float on the way.

    SQLite has no decimal type: a value is bound as text, which the column's NUMERIC affinity
    stores as a number, just as Laravel's PDO does.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int | None = None, scale: int | None = None) -> None:
        """`precision` and `scale` matter only where orderamt creates the column (the journal):
        MySQL makes a bare NUMERIC a DECIMAL(10,0), which would drop the cents."""
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Exactly as stored (text that is no number, which SQLite allows, as NaN)."""
        return money.from_stored(value)


class LaravelTimestamp(TypeDecorator[datetime]):
    """The portal's naive wall-clock time in its zone; on SQLite the 'YYYY-MM-DD HH:MM:SS' text
    Laravel writes.

    An aware datetime bound to it is turned into the zone's naive local time; a naive one (a
    value read from the portal, put back by a revert) is written as it is. Values read stay
    naive: they are the portal's own.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self, zone: ZoneInfo = UTC_ZONE) -> None:
        super().__init__()
        self.zone = zone

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = local_naive(value, self.zone)
        if dialect.name != "sqlite":
            return value
        return value.strftime(LARAVEL_TIMESTAMP_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, str):
            return parse_timestamp(value)
        return value  # type: ignore[no-any-return]


class UtcTimestamp(TypeDecorator[datetime]):
    """orderamt's own times: stored as naive UTC, read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, str):
            value = parse_timestamp(value)
        return None if value is None else aware_utc(value)


def parse_timestamp(text: str) -> datetime | None:
    """A stored timestamp as a naive datetime, or None for MySQL's zero date or junk.

    Python 3.10's fromisoformat takes only 0, 3 or 6 fractional digits and no 'Z'; Laravel
    and other writers are less tidy.
    """
    value = text.strip().replace("T", " ").removesuffix("Z")
    head, dot, fraction = value.partition(".")
    if dot:
        head += "." + (fraction[:6] + "000000")[:6]
    try:
        return datetime.fromisoformat(head).replace(tzinfo=None)
    except ValueError:
        return None


def stored_text(stored: object) -> str | None:
    """A mapped field's column as text (an ENUM, a VARCHAR, or whatever holds the value)."""
    if stored is None:
        return None
    if isinstance(stored, bytes):
        return stored.decode("utf-8", "replace")
    return str(stored)
