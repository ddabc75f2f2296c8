"""The change journal and the run log, kept in the portal database beside the orders.

Each change is journaled in the same transaction as the change itself, so the two can never
disagree; each run is recorded with its mode, times, counts and exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    update,
)

from orderamt.coltypes import Money

DEFAULT_JOURNAL_TABLE = "orderamt_journal"


@dataclass(frozen=True)
class JournalEntry:
    run_id: int
    order_id: int
    odoo_id: str | None
    order_number: str
    old_amount: Decimal | None
    new_amount: Decimal | None
    odoo_write_date: str | None
    changed_at: datetime
    conflict: bool = False
    old_updated_at: datetime | None = None
    """The row's updated_at before the change, so a revert leaves the row as it was."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    mode: str
    reverts_run: int | None
    started_at: datetime
    finished_at: datetime | None
    found: int | None
    updated: int | None
    unchanged: int | None
    skipped: int | None
    exit_code: int | None


def _big_id() -> Any:
    return BigInteger().with_variant(Integer(), "sqlite")


class Journal:
    """The two tables, named after ORDERAMT_JOURNAL_TABLE (and `<name>_runs`)."""

    def __init__(self, name: str = DEFAULT_JOURNAL_TABLE) -> None:
        self.metadata = MetaData()
        self.runs = Table(
            f"{name}_runs",
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("kind", String(16), nullable=False),
            Column("mode", String(16), nullable=False),
            Column("reverts_run", BigInteger(), nullable=True),
            Column("started_at", DateTime(), nullable=False),
            Column("finished_at", DateTime(), nullable=True),
            Column("found", Integer(), nullable=True),
            Column("updated", Integer(), nullable=True),
            Column("unchanged", Integer(), nullable=True),
            Column("skipped", Integer(), nullable=True),
            Column("exit_code", Integer(), nullable=True),
        )
        self.changes = Table(
            name,
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("run_id", BigInteger(), nullable=False, index=True),
            Column("order_id", BigInteger(), nullable=False, index=True),
            Column("odoo_id", String(64), nullable=True),
            Column("order_number", String(255), nullable=False),
            Column("old_amount", Money(20, 4), nullable=True),
            Column("new_amount", Money(20, 4), nullable=True),
            Column("odoo_write_date", String(32), nullable=True),
            Column("changed_at", DateTime(), nullable=False),
            Column("old_updated_at", DateTime(), nullable=True),
            Column("conflict", Boolean(), nullable=False, default=False),
        )

    def exists(self, conn: Connection) -> bool:
        return bool(inspect(conn).has_table(self.changes.name))

    def create(self, conn: Connection) -> None:
        """Create both tables on first use (never in a dry run)."""
        self.metadata.create_all(conn, checkfirst=True)

    def start_run(
        self, conn: Connection, kind: str, mode: str, started: datetime, reverts: int | None = None
    ) -> int:
        result = conn.execute(
            insert(self.runs).values(kind=kind, mode=mode, started_at=started, reverts_run=reverts)
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_run(
        self, conn: Connection, run_id: int, finished: datetime, counts: dict[str, int], code: int
    ) -> None:
        conn.execute(
            update(self.runs)
            .where(self.runs.c.id == run_id)
            .values(finished_at=finished, exit_code=code, **counts)
        )

    def record(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        if entries:
            conn.execute(insert(self.changes), [_entry_row(e) for e in entries])

    def last_written(self, conn: Connection, order_ids: Iterable[int]) -> dict[int, Decimal | None]:
        """What orderamt last wrote to each of these orders, where it ever wrote."""
        ids = list(order_ids)
        if not ids:
            return {}
        c = self.changes.c
        latest = (
            select(func.max(c.id)).where(c.order_id.in_(ids)).group_by(c.order_id).scalar_subquery()
        )
        rows = conn.execute(select(c.order_id, c.new_amount).where(c.id.in_(latest)))
        return {int(order_id): amount for order_id, amount in rows}

    def recent_runs(self, conn: Connection, limit: int) -> list[RunRecord]:
        r = self.runs.c
        rows = conn.execute(select(self.runs).order_by(r.id.desc()).limit(limit))
        return [RunRecord(**row._mapping) for row in rows]

    def get_run(self, conn: Connection, run_id: int) -> RunRecord | None:
        row = conn.execute(select(self.runs).where(self.runs.c.id == run_id)).first()
        return RunRecord(**row._mapping) if row is not None else None

    def entries(
        self, conn: Connection, *, run_id: int | None = None, order_id: int | None = None
    ) -> list[JournalEntry]:
        c = self.changes.c
        stmt = select(self.changes).order_by(c.id)
        if run_id is not None:
            stmt = stmt.where(c.run_id == run_id)
        if order_id is not None:
            stmt = stmt.where(c.order_id == order_id)
        return [_entry(row._mapping) for row in conn.execute(stmt)]


def _entry_row(e: JournalEntry) -> dict[str, Any]:
    return {
        "run_id": e.run_id,
        "order_id": e.order_id,
        "odoo_id": e.odoo_id,
        "order_number": e.order_number,
        "old_amount": e.old_amount,
        "new_amount": e.new_amount,
        "odoo_write_date": e.odoo_write_date,
        "changed_at": e.changed_at,
        "conflict": e.conflict,
        "old_updated_at": e.old_updated_at,
    }


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(
        Decimal("0.01")
    )


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(
        run_id=int(row["run_id"]),
        order_id=int(row["order_id"]),
        odoo_id=row["odoo_id"],
        order_number=row["order_number"],
        old_amount=_money(row["old_amount"]),
        new_amount=_money(row["new_amount"]),
        odoo_write_date=row["odoo_write_date"],
        changed_at=row["changed_at"],
        conflict=bool(row["conflict"]),
        old_updated_at=row["old_updated_at"],
    )
