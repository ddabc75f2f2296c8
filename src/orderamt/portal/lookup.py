"""How the portal finds its orders by Odoo id, the one lookup every poll and webhook batch
makes: by an index on the Odoo id column, or by reading the whole table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, literal, select, table, text

from orderamt.config import PortalSchema
from orderamt.portal.engine import Database
from orderamt.portal.schema import table_keys

LARGE_TABLE = 50_000
"""Orders from which the lookup deserves an index: one order looked up by Odoo id without
one took 6 ms on SQLite, 8 on PostgreSQL and 18 on MariaDB among 100,000 orders, and 54,
65 and 235 ms among 1,000,000; with one, about a millisecond at either size
(bench/lookup.py; bench/README.md, "Finding orders by Odoo id")."""


@dataclass(frozen=True)
class OdooIdLookup:
    """What `orderamt check` says of the lookup."""

    index: str | None
    """The index (or key) whose first column is the Odoo id column; None if there is none."""
    large: bool
    """The table holds LARGE_TABLE orders or more (only asked where there is no index)."""
    invalid: str | None = None
    """An index on the column that a CREATE INDEX CONCURRENTLY which did not finish left
    invalid (PostgreSQL): it serves nothing, and a new one under its name is refused."""


_LARAVEL_NAME = str.maketrans("-.", "__")
"""Laravel's index names have `_` for each `-` and `.` of the table's and columns' names."""


@dataclass(frozen=True)
class IndexAdvice:
    """The index `check` asks for, as SQL to run and as a line of a Laravel migration."""

    sql: str
    laravel: str
    drop: str | None = None
    """The statement that removes an invalid index first, where there is one."""


def index_advice(db: Database, schema: PortalSchema, invalid: str | None = None) -> IndexAdvice:
    """The index a Laravel migration's `$table->index('odoo_order_id')` makes, in this
    database's SQL: Laravel's name (table_column_index, lower-cased, `-` and `.` as `_`), cut
    to what the database allows in an index name (MySQL and MariaDB refuse a longer one, as
    Laravel's migration would find), each name quoted where the database needs it; on
    PostgreSQL CONCURRENTLY, which does not hold the table's writes while it builds."""
    dialect = db.engine.dialect
    longest = getattr(dialect, "max_index_name_length", None) or dialect.max_identifier_length
    laravel_name = f"{schema.table}_{schema.odoo_id}_index".lower().translate(_LARAVEL_NAME)
    name = laravel_name[:longest]
    quote = dialect.identifier_preparer.quote
    how = "CREATE INDEX CONCURRENTLY" if dialect.name == "postgresql" else "CREATE INDEX"
    named = "" if name == laravel_name else f", '{name}'"
    return IndexAdvice(
        sql=f"{how} {quote(name)} ON {quote(schema.table)} ({quote(schema.odoo_id)})",
        laravel=f"$table->index('{schema.odoo_id}'{named})",
        drop=f"DROP INDEX CONCURRENTLY {quote(invalid)}" if invalid else None,
    )


def _serves(options: Mapping[str, Any]) -> bool:
    """Whether an index of these (reflected) options can serve `odoo_id IN (...)`: a whole
    one (not partial: `postgresql_where`, `sqlite_where`), a b-tree or hash (not BRIN, GIN
    or GiST; not FULLTEXT or SPATIAL, which MySQL and MariaDB reflect as a `_prefix`)."""
    if any(key.endswith(("_where", "_prefix")) for key in options):
        return False
    return options.get("postgresql_using") in (None, "btree", "hash")


_PG_INVALID = text(
    "SELECT c.relname FROM pg_catalog.pg_index i "
    "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
    "WHERE i.indrelid = to_regclass(:table) AND NOT i.indisvalid"
)
"""PostgreSQL's indexes of a table left invalid by a CREATE INDEX CONCURRENTLY that did not
finish, read from the catalog: SQLAlchemy 2.0 reflects them as if valid (2.1 marks them)."""


def _invalid(db: Database, table_name: str) -> set[str]:
    if db.engine.dialect.name != "postgresql":
        return set()
    quoted = db.engine.dialect.identifier_preparer.quote(table_name)
    with db.engine.connect() as conn:
        return {str(name) for name in conn.execute(_PG_INVALID, {"table": quoted}).scalars()}


def odoo_id_lookup(db: Database, schema: PortalSchema) -> OdooIdLookup:
    """The index that serves the lookup by Odoo id, and (without one) whether the table is
    large enough for a full read to cost. `schema` spells the columns as the table does
    (TableInfo.schema). Reads at most LARGE_TABLE rows, however large the table."""
    with db.doing("reading the orders table's indexes"):
        keys = table_keys(inspect(db.engine), schema.table)
        invalid_names = _invalid(db, schema.table)
    wanted = schema.odoo_id.lower()
    on_it = [key for key in keys if key.columns[:1] == (wanted,)]
    for key in on_it:
        if key.name not in invalid_names and _serves(key.options):
            return OdooIdLookup(index=key.name, large=False)
    invalid = next((k.name for k in on_it if k.name in invalid_names), None)
    past = select(literal(1)).select_from(table(schema.table)).limit(1).offset(LARGE_TABLE - 1)
    with db.doing("counting orders"), db.engine.connect() as conn:
        large = conn.execute(past).first() is not None
    return OdooIdLookup(index=None, large=large, invalid=invalid)
