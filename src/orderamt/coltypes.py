"""Column types that carry money and Laravel timestamps across SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

LARAVEL_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


class Money(TypeDecorator[Decimal]):
    """A DECIMAL column read as Decimal exactly as stored, and written without a float on the way.

    SQLite has no decimal type: a value is bound as text, which the column's NUMERIC affinity
    stores as a number, just as Laravel's PDO does.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(repr(value) if isinstance(value, float) else str(value))


class LaravelTimestamp(TypeDecorator[datetime]):
    """A naive UTC timestamp; on SQLite the 'YYYY-MM-DD HH:MM:SS' text Laravel writes."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return value.strftime(LARAVEL_TIMESTAMP_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value  # type: ignore[no-any-return]
