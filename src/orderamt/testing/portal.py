"""A portal orders table as a Laravel migration makes it, for the demo, the tests and the bench."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    column,
    insert,
    table,
)
from sqlalchemy.dialects import mysql

from orderamt.portal.coltypes import LaravelTimestamp, Money

OdooIdType = Literal["int", "bigint", "varchar"]

_ODOO_ID_TYPES: dict[str, Any] = {
    "int": Integer(),
    "bigint": BigInteger(),
    "varchar": String(255),
}


def create_orders_table(
    engine: Engine,
    *,
    name: str = "orders",
    odoo_id_type: OdooIdType = "bigint",
    amount_scale: int = 2,
) -> None:
    """`$table->id(); string('order_number'); decimal('total_amount', 10, 2); ...; timestamps()`.

    `amount_scale` makes it `decimal('total_amount', 8 + scale, scale)`, as some portals keep
    four decimals.
    """
    big_id = (
        BigInteger()
        .with_variant(Integer(), "sqlite")
        .with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb")
    )
    orders = Table(
        name,
        MetaData(),
        Column("id", big_id, primary_key=True, autoincrement=True),
        Column("order_number", String(255), nullable=False),
        Column("total_amount", Numeric(8 + amount_scale, amount_scale), nullable=True),
        Column("odoo_order_id", _ODOO_ID_TYPES[odoo_id_type], nullable=True),
        Column("created_at", DateTime(), nullable=True),
        Column("updated_at", DateTime(), nullable=True),
        # Laravel's config/database.php for MySQL and MariaDB, not the server's default.
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    orders.create(engine)


def _rows_table(name: str) -> Any:
    return table(
        name,
        column("id"),
        column("order_number"),
        column("total_amount", Money()),
        column("odoo_order_id"),
        column("created_at", LaravelTimestamp()),
        column("updated_at", LaravelTimestamp()),
    )


def insert_orders(
    engine: Engine, rows: Iterable[Mapping[str, Any]], *, name: str = "orders"
) -> None:
    """Insert rows of the Laravel table (amounts as Decimal, timestamps naive UTC)."""
    batch = [dict(row) for row in rows]
    if not batch:
        return
    for row in batch:
        if isinstance(row.get("total_amount"), (int, float, str)):
            row["total_amount"] = Decimal(str(row["total_amount"]))
    with engine.begin() as conn:
        conn.execute(insert(_rows_table(name)), batch)


def read_orders(engine: Engine, *, name: str = "orders") -> list[dict[str, Any]]:
    """Every row, by id, with amounts as Decimal: what a test compares before and after."""
    from sqlalchemy import select

    t = _rows_table(name)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id))]


def laravel_now(now: datetime) -> datetime:
    """Laravel stores timestamps to the second."""
    return now.replace(microsecond=0, tzinfo=None)
