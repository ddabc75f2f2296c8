"""The journal's five tables: their definitions, their creation, and their upgrades in place.

A journal made by an older orderamt gains the tables and columns added since on first use
(never in a dry run), its history kept; until then it is read as it is (`legacy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateIndex

from orderamt.portal.coltypes import Money, UtcTimestamp
from orderamt.portal.schema import TableFit

DEFAULT_JOURNAL_TABLE = "orderamt_journal"


def _added_run_columns() -> list[Column[Any]]:
    """Columns of the runs table added after its first release: a journal from before gains
    them in place on first use (ALTER TABLE ... ADD), its history kept."""
    return [
        Column("error", String(500), nullable=True),
        Column("host", String(255), nullable=True),
        Column("pid", Integer(), nullable=True),
    ]


def _added_change_columns() -> list[Column[Any]]:
    """The changes table's columns for mapped fields (NULL field: the amount's change)."""
    return [
        Column("field", String(64), nullable=True),
        Column("old_value", Text(), nullable=True),
        Column("new_value", Text(), nullable=True),
    ]


def _added_hold_columns() -> list[Column[Any]]:
    """The holds table's columns for mapped fields (NULL field: the amount's hold)."""
    return [
        Column("field", String(64), nullable=True),
        Column("value", Text(), nullable=True),
    ]


def _added_push_columns() -> list[Column[Any]]:
    """The changes table's columns for pushes (NULL direction: a write to the portal)."""
    return [
        Column("direction", String(8), nullable=True),
        Column("odoo_old", Text(), nullable=True),
        Column("odoo_new", Text(), nullable=True),
    ]


ADDED_COLUMNS = {"changes": ("field", "old_value", "new_value"), "holds": ("field", "value")}
"""What a journal from before mapped fields lacks, by table."""
PUSH_COLUMNS = ("direction", "odoo_old", "odoo_new")
"""What a journal from before pushes lacks (the migration "pushes": three columns added)."""


def _big_id() -> Any:
    return BigInteger().with_variant(Integer(), "sqlite")


class JournalSchema:
    """The tables, named after ORDERAMT_JOURNAL_TABLE (and `<name>_runs`, `<name>_holds`,
    `<name>_problems`, `<name>_state`); the SQL on them is in `runs`, `changes` and `state`.

    On MySQL and MariaDB they are created like the orders table (`fit`): its character set
    and collation, so joining on the order number works, and an unsigned order id where its
    id is unsigned (Laravel's `$table->id()`), so a foreign key can be added.
    """

    def __init__(
        self,
        name: str = DEFAULT_JOURNAL_TABLE,
        fit: TableFit | None = None,
        *,
        legacy: bool = False,
        pushless: bool = False,
    ) -> None:
        """`legacy`: the changes and holds tables as a journal from before mapped fields has
        them, `pushless` as one from before pushes has them, for reading it as it is (a dry
        run, `history`) before it is upgraded."""
        self.name = name
        self.legacy = legacy
        self.pushless = pushless or legacy
        fit = fit or TableFit()
        order_id: Any = BigInteger()
        if fit.id_unsigned:  # MySQL's dialect imported only where it is the one in use
            from sqlalchemy.dialects.mysql import BIGINT

            order_id = order_id.with_variant(BIGINT(unsigned=True), "mysql", "mariadb")
        options: dict[str, Any] = {
            f"mysql_{key}": value
            for key, value in (("charset", fit.charset), ("collate", fit.collation))
            if value
        }
        self.metadata = MetaData()
        self.runs = Table(
            f"{name}_runs",
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("kind", String(16), nullable=False),
            Column("mode", String(16), nullable=False),
            Column("reverts_run", BigInteger(), nullable=True),
            Column("started_at", UtcTimestamp(), nullable=False),
            # `status` and the metrics file (after every run) read the newest runs by their
            # end; without it each read went through every run of the journal's years.
            Column("finished_at", UtcTimestamp(), nullable=True, index=True),
            Column("found", Integer(), nullable=True),
            Column("updated", Integer(), nullable=True),
            Column("unchanged", Integer(), nullable=True),
            Column("skipped", Integer(), nullable=True),
            Column("exit_code", Integer(), nullable=True),
            *_added_run_columns(),
            # The last poll, read beside them (its runs are few among a listener's batches).
            Index(None, "mode", "finished_at"),
            **options,
        )
        self.changes = Table(
            name,
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("run_id", BigInteger(), nullable=False, index=True),
            Column("order_id", order_id, nullable=False, index=True),
            Column("odoo_id", String(64), nullable=True),
            Column("order_number", String(255), nullable=False),
            Column("old_amount", Money(20, 4), nullable=True),
            Column("new_amount", Money(20, 4), nullable=True),
            Column("odoo_write_date", String(32), nullable=True),
            Column("changed_at", UtcTimestamp(), nullable=False),
            Column("old_updated_at", DateTime(), nullable=True),
            Column("conflict", Boolean(), nullable=False, default=False),
            *([] if legacy else _added_change_columns()),
            *([] if self.pushless else _added_push_columns()),
            **options,
        )
        self.holds = Table(
            f"{name}_holds",
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("order_id", order_id, nullable=False, index=True),
            Column("amount", Money(20, 4), nullable=True),
            Column("odoo_write_date", String(32), nullable=True),
            Column("reverted_run", BigInteger(), nullable=False),
            Column("revert_run", BigInteger(), nullable=False),
            Column("held_at", UtcTimestamp(), nullable=False),
            Column("released_at", UtcTimestamp(), nullable=True),
            Column("released_why", String(32), nullable=True),
            *([] if legacy else _added_hold_columns()),
            **options,
        )

        self.problems = Table(
            f"{name}_problems",
            self.metadata,
            Column("order_id", order_id, primary_key=True, autoincrement=False),
            Column("order_number", String(255), nullable=False),
            Column("reason", String(32), nullable=False),
            Column("detail", String(255), nullable=True),
            Column("first_run", BigInteger(), nullable=False),
            Column("last_run", BigInteger(), nullable=False),
            Column("seen_at", UtcTimestamp(), nullable=False),
            Column("ignored_reason", String(255), nullable=True),
            Column("ignored_at", UtcTimestamp(), nullable=True),
            **options,
        )
        self.state = Table(
            f"{name}_state",
            self.metadata,
            Column("name", String(32), primary_key=True),
            Column("write_date", String(32), nullable=False),
            Column("odoo_id", BigInteger(), nullable=False),
            Column("moved_at", UtcTimestamp(), nullable=False),
            Column("heartbeat_run", BigInteger(), nullable=True),
            **options,
        )

    def exists(self, conn: Connection) -> bool:
        return bool(inspect(conn).has_table(self.changes.name))

    def create(self, conn: Connection) -> None:
        """Create the tables on first use (never in a dry run); a journal from before a table
        or a column existed gains it in place, its history untouched (an index: see
        `missing_indexes`)."""
        inspector = inspect(conn)
        existing = set(inspector.get_table_names())
        missing = [t for t in self.metadata.sorted_tables if t.name not in existing]
        if missing:
            self.metadata.create_all(conn, tables=missing, checkfirst=False)
        upgradable = [
            t for t in (self.runs, self.state, self.changes, self.holds) if t.name in existing
        ]
        columns_of = self.column_names(conn, upgradable)
        for table in upgradable:
            have = columns_of[table.name]
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=conn.dialect)
                    name = conn.dialect.identifier_preparer.quote(column.name)
                    where = conn.dialect.identifier_preparer.format_table(table)
                    conn.execute(text(f"ALTER TABLE {where} ADD {name} {kind} NULL"))

    def missing_indexes(self, conn: Connection) -> list[Index]:
        """The runs table's indexes it does not have: they came after its first release
        (the other tables' came with them). Read from the catalog, without a lock."""
        preparer = conn.dialect.identifier_preparer
        inspector = inspect(conn)
        missing = []
        for index in self.runs.indexes:
            # As the database has it: a long name is cut (with a hash) when it is made.
            assert index.name is not None  # a naming convention's (cut, not refused, if long)
            name = preparer.truncate_and_render_index_name(index.name)
            if name.startswith(preparer.initial_quote):
                name = name[1:-1]
            if not inspector.has_index(self.runs.name, name):
                missing.append(index)
        return missing

    @staticmethod
    def add_index(conn: Connection, index: Index) -> None:
        """Make an index, if no other process made it since it was found missing (MySQL
        alone has no CREATE INDEX IF NOT EXISTS; there a loser of that race fails)."""
        dialect = conn.dialect
        mysql = dialect.name == "mysql" and not getattr(dialect, "is_mariadb", False)
        conn.execute(CreateIndex(index, if_not_exists=not mysql))

    @staticmethod
    def column_names(conn: Connection, tables: Iterable[Table]) -> dict[str, set[str]]:
        """The columns these existing tables have now, read off an empty read's description:
        a light query a table, where the catalog's reflection takes several (on PostgreSQL
        13 ms for two tables, a quarter of `orderamt status` after its imports)."""
        return {
            t.name: set(conn.execute(select(text("*")).select_from(t).limit(0)).keys())
            for t in tables
        }

    def _amounts(self, table: Table | None = None) -> list[Any]:
        """Only the amount's rows (a legacy journal has no others)."""
        table = self.changes if table is None else table
        return [] if self.legacy else [table.c.field.is_(None)]
