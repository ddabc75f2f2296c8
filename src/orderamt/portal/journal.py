"""The change journal and the run log, kept in the portal database beside the orders.

Each change is journaled in the same transaction as the change itself, so the two can never
disagree; each run is recorded with its mode, times, counts and exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
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

from orderamt.models import JournalEntry, RunCounts, RunRecord
from orderamt.portal.coltypes import Money, UtcTimestamp
from orderamt.portal.engine import Database

DEFAULT_JOURNAL_TABLE = "orderamt_journal"


def _big_id() -> Any:
    return BigInteger().with_variant(Integer(), "sqlite")


class JournalTables:
    """The two tables, named after ORDERAMT_JOURNAL_TABLE (and `<name>_runs`), and their SQL."""

    def __init__(self, name: str = DEFAULT_JOURNAL_TABLE) -> None:
        self.metadata = MetaData()
        self.runs = Table(
            f"{name}_runs",
            self.metadata,
            Column("id", _big_id(), primary_key=True, autoincrement=True),
            Column("kind", String(16), nullable=False),
            Column("mode", String(16), nullable=False),
            Column("reverts_run", BigInteger(), nullable=True),
            Column("started_at", UtcTimestamp(), nullable=False),
            Column("finished_at", UtcTimestamp(), nullable=True),
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
            Column("changed_at", UtcTimestamp(), nullable=False),
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
            conn.execute(insert(self.changes), [asdict(e) for e in entries])

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
        self,
        conn: Connection,
        *,
        run_id: int | None = None,
        order_id: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries in the order they were made; with `limit`, the latest `limit` of them."""
        c = self.changes.c
        stmt = select(self.changes)
        if run_id is not None:
            stmt = stmt.where(c.run_id == run_id)
        if order_id is not None:
            stmt = stmt.where(c.order_id == order_id)
        if limit is not None:
            latest = [
                _entry(r._mapping) for r in conn.execute(stmt.order_by(c.id.desc()).limit(limit))
            ]
            return latest[::-1]
        return [_entry(row._mapping) for row in conn.execute(stmt.order_by(c.id))]


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(
        run_id=int(row["run_id"]),
        order_id=int(row["order_id"]),
        odoo_id=row["odoo_id"],
        order_number=row["order_number"],
        old_amount=row["old_amount"],
        new_amount=row["new_amount"],
        odoo_write_date=row["odoo_write_date"],
        changed_at=row["changed_at"],
        conflict=bool(row["conflict"]),
        old_updated_at=row["old_updated_at"],
    )


class PortalJournal:
    """The journal as the sync sees it: runs recorded, entries read back, in the portal."""

    def __init__(self, db: Database, name: str = DEFAULT_JOURNAL_TABLE) -> None:
        self.db = db
        self.tables = JournalTables(name)
        self._known: bool | None = None

    def exists(self) -> bool:
        if self._known is None:
            with self.db.doing("looking for the journal"), self.db.engine.connect() as conn:
                self._known = self.tables.exists(conn)
        return self._known

    def last_written(self, order_ids: Sequence[int]) -> dict[int, Decimal | None]:
        """What orderamt last wrote to each order, per the journal (empty before the first)."""
        if not order_ids or not self.exists():
            return {}
        with self.db.doing("reading the journal"), self.db.engine.connect() as conn:
            return self.tables.last_written(conn, order_ids)

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int:
        """Record a run (creating the journal's tables on first use); returns its id."""
        with self.db.doing("recording the run in the journal"), self.db.engine.begin() as conn:
            self.tables.create(conn)
            self._known = True
            return self.tables.start_run(conn, kind, mode, now, reverts)

    def finish_run(self, run_id: int, now: datetime, counts: RunCounts, code: int) -> None:
        values = {
            "found": counts.found,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": counts.skipped,
        }
        with self.db.doing("recording the end of the run"), self.db.engine.begin() as conn:
            self.tables.finish_run(conn, run_id, now, values, code)

    def runs(self, limit: int) -> list[RunRecord]:
        if not self.exists():
            return []
        with self.db.doing("reading the journal's runs"), self.db.engine.connect() as conn:
            return self.tables.recent_runs(conn, limit)

    def run(self, run_id: int) -> RunRecord | None:
        if not self.exists():
            return None
        with self.db.doing("reading the journal's runs"), self.db.engine.connect() as conn:
            return self.tables.get_run(conn, run_id)

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None, limit: int | None = None
    ) -> list[JournalEntry]:
        if not self.exists():
            return []
        with self.db.doing("reading the journal"), self.db.engine.connect() as conn:
            return self.tables.entries(conn, run_id=run_id, order_id=order_id, limit=limit)
