"""The index `orderamt check` asks for, spelled for each database as Laravel names it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from orderamt.config import PortalSchema
from orderamt.portal import Database
from orderamt.portal.lookup import index_advice

URLS = {
    "sqlite": "sqlite://",
    "postgresql": "postgresql+psycopg://",
    "mariadb": "mysql+pymysql://",
}


def advice(kind: str, table: str, odoo_id: str) -> tuple[str, str]:
    engine = create_engine(URLS[kind])  # never connected: the dialect is all it asks
    said = index_advice(Database(engine), PortalSchema(table=table, odoo_id=odoo_id))
    return said.sql, said.laravel


def test_a_laravel_table_gets_the_index_its_migration_would_make() -> None:
    """Laravel's own name (table_column_index), lower-cased, `-` and `.` as `_`; names
    quoted only where the database needs it."""
    assert advice("mariadb", "orders", "odoo_order_id") == (
        "CREATE INDEX orders_odoo_order_id_index ON orders (odoo_order_id)",
        "$table->index('odoo_order_id')",
    )
    assert advice("sqlite", "Shop-Orders", "ErpId") == (
        'CREATE INDEX shop_orders_erpid_index ON "Shop-Orders" ("ErpId")',
        "$table->index('ErpId')",
    )
    assert advice("mariadb", "order", "odoo_order_id")[0] == (
        "CREATE INDEX order_odoo_order_id_index ON `order` (odoo_order_id)"
    )


def test_postgresql_builds_it_without_holding_the_portal_s_writes() -> None:
    assert advice("postgresql", "orders", "odoo_order_id")[0] == (
        "CREATE INDEX CONCURRENTLY orders_odoo_order_id_index ON orders (odoo_order_id)"
    )


@pytest.mark.parametrize(("kind", "longest"), [("postgresql", 63), ("mariadb", 64)])
def test_a_name_longer_than_the_database_allows_is_cut_and_given_to_laravel(
    kind: str, longest: int
) -> None:
    """MySQL and MariaDB refuse an index name over 64 characters, which Laravel's default
    would be here (PostgreSQL would cut it at 63 without a word): the advice names the
    index itself, the same in the SQL and in the migration."""
    table, odoo_id = "customer_portal_sale_orders_archive", "odoo_sale_order_identifier"
    name = f"{table}_{odoo_id}_index"[:longest]
    assert len(name) == longest
    sql, laravel = advice(kind, table, odoo_id)
    assert sql.split()[-4] == name
    assert laravel == f"$table->index('{odoo_id}', '{name}')"
