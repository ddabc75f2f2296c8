"""The change journal and the run log, kept in the portal database beside the orders.

Each change is journaled in the same transaction as the change itself, so the two can never
disagree; each run is recorded with its mode, times, counts and exit code.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

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
    Text,
    any_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import mysql, postgresql

from orderamt.models import (
    Checkpoint,
    Decision,
    Hold,
    JournalEntry,
    LastValue,
    LastWrite,
    Problem,
    RunCounts,
    RunOverview,
    RunRecord,
)
from orderamt.portal.bulk import insert_many
from orderamt.portal.coltypes import Money, UtcTimestamp
from orderamt.portal.engine import Database
from orderamt.portal.schema import TableFit
from orderamt.reasons import problem_detail, problem_reason

DEFAULT_JOURNAL_TABLE = "orderamt_journal"
CHECKPOINT = "changed"
"""The state row of the catch-up poll's checkpoint."""


def among(conn: Connection, column: Any, ids: Iterable[int]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(array)`: one parameter instead of a
    thousand (with 1,000 ids a batch, that was a third of the journal's reads)."""
    values = [int(i) for i in ids]
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(BigInteger())))
    return column.in_(values)


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


ADDED_COLUMNS = {"changes": ("field", "old_value", "new_value"), "holds": ("field", "value")}
"""What a journal from before mapped fields lacks, by table."""


def _big_id() -> Any:
    return BigInteger().with_variant(Integer(), "sqlite")


class JournalTables:
    """The tables, named after ORDERAMT_JOURNAL_TABLE (and `<name>_runs`, `<name>_holds`),
    and their SQL.

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
    ) -> None:
        """`legacy`: the changes and holds tables as a journal from before mapped fields has
        them, for reading it as it is (a dry run, `history`) before it is upgraded."""
        self.name = name
        self.legacy = legacy
        fit = fit or TableFit()
        order_id: Any = BigInteger()
        if fit.id_unsigned:
            order_id = order_id.with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb")
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
            Column("finished_at", UtcTimestamp(), nullable=True),
            Column("found", Integer(), nullable=True),
            Column("updated", Integer(), nullable=True),
            Column("unchanged", Integer(), nullable=True),
            Column("skipped", Integer(), nullable=True),
            Column("exit_code", Integer(), nullable=True),
            *_added_run_columns(),
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

    def checkpoint(self, conn: Connection) -> Checkpoint | None:
        s = self.state.c
        row = conn.execute(
            select(s.write_date, s.odoo_id, s.heartbeat_run).where(s.name == CHECKPOINT)
        ).first()
        if row is None:
            return None
        beat = int(row.heartbeat_run) if row.heartbeat_run is not None else None
        return Checkpoint(row.write_date, int(row.odoo_id), heartbeat_run=beat)

    def save_checkpoint(self, conn: Connection, checkpoint: Checkpoint, now: datetime) -> None:
        """Move the checkpoint (insert it the first time), in the caller's transaction."""
        s = self.state.c
        values = {
            "write_date": checkpoint.write_date,
            "odoo_id": checkpoint.odoo_id,
            "moved_at": now,
            "heartbeat_run": checkpoint.heartbeat_run,
        }
        moved = conn.execute(update(self.state).where(s.name == CHECKPOINT).values(**values))
        if moved.rowcount == 0:
            conn.execute(insert(self.state).values(name=CHECKPOINT, **values))

    def exists(self, conn: Connection) -> bool:
        return bool(inspect(conn).has_table(self.changes.name))

    def create(self, conn: Connection) -> None:
        """Create the tables on first use (never in a dry run); a journal from before a table
        or a column existed gains it in place, its history untouched."""
        inspector = inspect(conn)
        existing = set(inspector.get_table_names())
        missing = [t for t in self.metadata.sorted_tables if t.name not in existing]
        if missing:
            self.metadata.create_all(conn, tables=missing, checkfirst=False)
        upgradable = [
            t.name for t in (self.runs, self.state, self.changes, self.holds) if t.name in existing
        ]
        # One reflection for all four (on PostgreSQL one catalog query instead of four).
        found = inspector.get_multi_columns(filter_names=upgradable) if upgradable else {}
        columns_of = {name: [c["name"] for c in cols] for (_, name), cols in found.items()}
        for table in (self.runs, self.state, self.changes, self.holds):
            if table.name not in existing:
                continue
            have = set(columns_of.get(table.name, ()))
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=conn.dialect)
                    name = conn.dialect.identifier_preparer.quote(column.name)
                    where = conn.dialect.identifier_preparer.format_table(table)
                    conn.execute(text(f"ALTER TABLE {where} ADD {name} {kind} NULL"))

    def start_run(
        self, conn: Connection, kind: str, mode: str, started: datetime, reverts: int | None = None
    ) -> int:
        result = conn.execute(
            insert(self.runs).values(
                kind=kind,
                mode=mode,
                started_at=started,
                reverts_run=reverts,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_run(
        self,
        conn: Connection,
        run_id: int,
        finished: datetime,
        counts: dict[str, int],
        code: int,
        error: str | None = None,
    ) -> None:
        conn.execute(
            update(self.runs)
            .where(self.runs.c.id == run_id)
            .values(finished_at=finished, exit_code=code, error=error and error[:500], **counts)
        )

    def note_problems(
        self, conn: Connection, run_id: int, decisions: Sequence[Decision], now: datetime
    ) -> int:
        """Keep each skipped order as a problem and forget the others; the number of news."""
        p = self.problems.c
        needing = {d.order.id: d for d in decisions if d.needs_look}
        fine = [d.order.id for d in decisions if not d.needs_look]
        if fine:
            conn.execute(delete(self.problems).where(among(conn, p.order_id, fine)))
        if not needing:
            return 0
        known = {
            int(row.order_id): row
            for row in conn.execute(
                select(p.order_id, p.reason, p.ignored_reason).where(
                    among(conn, p.order_id, needing)
                )
            )
        }
        news = 0
        for order_id, d in needing.items():
            reason = problem_reason(d)
            detail = problem_detail(d)
            before = known.get(order_id)
            if before is None:
                conn.execute(
                    insert(self.problems).values(
                        order_id=order_id, order_number=d.order.number[:255], reason=reason,
                        detail=detail, first_run=run_id, last_run=run_id, seen_at=now,
                    )
                )  # fmt: skip
                news += 1
            elif before.reason != reason:
                conn.execute(
                    update(self.problems)
                    .where(p.order_id == order_id)
                    .values(reason=reason, detail=detail, first_run=run_id, last_run=run_id,
                            seen_at=now, ignored_reason=None, ignored_at=None)
                )  # fmt: skip
                news += 1
            else:
                conn.execute(
                    update(self.problems)
                    .where(p.order_id == order_id)
                    .values(last_run=run_id, seen_at=now, detail=detail)
                )
        return news

    def open_problems(self, conn: Connection) -> list[Problem]:
        p = self.problems.c
        rows = conn.execute(select(self.problems).order_by(p.order_id))
        return [Problem(**row._mapping) for row in rows]

    def ignore(self, conn: Connection, order_id: int, reason: str, now: datetime) -> bool:
        p = self.problems.c
        done = conn.execute(
            update(self.problems)
            .where(p.order_id == order_id)
            .values(ignored_reason=reason[:255], ignored_at=now)
        )
        return done.rowcount == 1

    def beat(self, conn: Connection, run_id: int, now: datetime) -> bool:
        """Bring a heartbeat run (a quiet poll's) up to now; False when it is not there."""
        r = self.runs.c
        moved = conn.execute(
            update(self.runs)
            .where(r.id == run_id, r.updated == 0, r.skipped == 0, r.exit_code == 0)
            .values(started_at=now, finished_at=now)
        )
        return moved.rowcount == 1

    def record(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        if entries:
            # Field by field, not dataclasses.asdict, which deep-copies every Decimal and
            # datetime: that was 0.8 s of a 10,000-order backfill.
            names = [f.name for f in fields(JournalEntry)]
            if self.legacy:
                names = [n for n in names if n not in ADDED_COLUMNS["changes"]]
            rows = [{n: getattr(e, n) for n in names} for e in entries]
            insert_many(conn, self.changes, names, rows)

    def last_written(self, conn: Connection, order_ids: Iterable[int]) -> dict[int, LastWrite]:
        """What orderamt last wrote to each of these orders, where it ever wrote, and what
        Odoo said the last time a sync (not a revert) wrote it."""
        ids = list(order_ids)
        if not ids:
            return {}
        c = self.changes.c
        latest = (
            select(func.max(c.id))
            .where(among(conn, c.order_id, ids), *self._amounts())
            .group_by(c.order_id)
            .scalar_subquery()
        )
        rows = conn.execute(select(c.order_id, c.new_amount).where(c.id.in_(latest)))
        odoo_said = self._sync_amounts(conn, ids)
        return {
            int(order_id): LastWrite(amount, odoo_said.get(int(order_id)))
            for order_id, amount in rows
        }

    def _sync_amounts(self, conn: Connection, ids: list[int]) -> dict[int, Decimal | None]:
        c, r = self.changes.c, self.runs.c
        from_sync = (
            select(func.max(c.id))
            .join_from(self.changes, self.runs, r.id == c.run_id)
            .where(among(conn, c.order_id, ids), r.kind == "sync", *self._amounts())
            .group_by(c.order_id)
            .scalar_subquery()
        )
        rows = conn.execute(select(c.order_id, c.new_amount).where(c.id.in_(from_sync)))
        return {int(order_id): amount for order_id, amount in rows}

    def _amounts(self, table: Table | None = None) -> list[Any]:
        """Only the amount's rows (a legacy journal has no others)."""
        table = self.changes if table is None else table
        return [] if self.legacy else [table.c.field.is_(None)]

    def last_values(
        self, conn: Connection, order_ids: Iterable[int]
    ) -> dict[tuple[int, str], LastValue]:
        """What orderamt last wrote to each mapped field of these orders, and what a sync
        (so Odoo, through the map) last wrote to it."""
        ids = list(order_ids)
        if not ids or self.legacy:
            return {}
        c, r = self.changes.c, self.runs.c
        key = (c.order_id, c.field)
        mine = [among(conn, c.order_id, ids), c.field.is_not(None)]
        latest = select(func.max(c.id)).where(*mine).group_by(*key).scalar_subquery()
        from_sync = (
            select(func.max(c.id))
            .join_from(self.changes, self.runs, r.id == c.run_id)
            .where(*mine, r.kind == "sync")
            .group_by(*key)
            .scalar_subquery()
        )
        # One round trip for both: the latest entry of each field, and the latest a sync made.
        both = union_all(
            select(literal(True).label("latest"), *key, c.new_value).where(c.id.in_(latest)),
            select(literal(False).label("latest"), *key, c.new_value).where(c.id.in_(from_sync)),
        )
        last: dict[tuple[int, str], str | None] = {}
        said: dict[tuple[int, str], str | None] = {}
        for is_latest, order_id, field, value in conn.execute(both):
            (last if is_latest else said)[(int(order_id), field)] = value
        return {k: LastValue(v, said.get(k)) for k, v in last.items()}

    def touched_after(
        self, conn: Connection, run_id: int, order_ids: Iterable[int]
    ) -> set[tuple[int, str | None]]:
        """Which (order, field) of these orders a run later than `run_id` wrote to (None:
        the amount)."""
        c = self.changes.c
        ids = list(order_ids)
        if not ids:
            return set()
        field = null() if self.legacy else c.field
        rows = conn.execute(
            select(c.order_id, field)
            .where(among(conn, c.order_id, ids), c.run_id > run_id)
            .distinct()
        )
        return {(int(order_id), name) for order_id, name in rows}

    def revert_of(self, conn: Connection, run_id: int) -> RunRecord | None:
        """The revert that completed for this run, if one did (exit 0 or 1)."""
        r = self.runs.c
        row = conn.execute(
            select(self.runs)
            .where(
                r.kind == "revert",
                r.mode == "revert",
                r.reverts_run == run_id,
                r.exit_code.in_((0, 1)),
            )
            .order_by(r.id)
            .limit(1)
        ).first()
        return RunRecord(**row._mapping) if row is not None else None

    def place_holds(self, conn: Connection, holds: Sequence[Hold]) -> None:
        if holds:
            conn.execute(
                insert(self.holds),
                [
                    {
                        "order_id": h.order_id,
                        "amount": h.amount,
                        "odoo_write_date": h.odoo_write_date,
                        "reverted_run": h.reverted_run,
                        "revert_run": h.revert_run,
                        "held_at": h.held_at,
                        **({} if self.legacy else {"field": h.field, "value": h.value}),
                    }
                    for h in holds
                ],
            )

    def release_holds(
        self,
        conn: Connection,
        order_ids: Iterable[int],
        now: datetime,
        why: str,
        field: str | None = None,
        *,
        every: bool = False,
    ) -> list[Hold]:
        """Release the active holds of these orders on the amount (or on `field`; with
        `every`, all of them); returns what was released."""
        ids = list(order_ids)
        if not ids:
            return []
        h = self.holds.c
        which = [among(conn, h.order_id, ids), h.released_at.is_(None)]
        if not every and not self.legacy:
            which.append(h.field.is_(None) if field is None else h.field == field)
        released = [_hold(row._mapping) for row in conn.execute(select(self.holds).where(*which))]
        if released:
            conn.execute(update(self.holds).where(*which).values(released_at=now, released_why=why))
        return released

    def all_holds(self, conn: Connection, order_id: int) -> list[Hold]:
        h = self.holds.c
        rows = conn.execute(select(self.holds).where(h.order_id == order_id).order_by(h.id))
        return [_hold(row._mapping) for row in rows]

    def active_holds(self, conn: Connection, order_ids: Iterable[int]) -> dict[int, Hold]:
        """The hold in force on each of these orders, the latest where there are several."""
        ids = list(order_ids)
        if not ids:
            return {}
        h = self.holds.c
        rows = conn.execute(
            select(self.holds)
            .where(
                among(conn, h.order_id, ids), h.released_at.is_(None), *self._amounts(self.holds)
            )
            .order_by(h.id)
        )
        return {int(row.order_id): _hold(row._mapping) for row in rows}

    def field_holds(
        self, conn: Connection, order_ids: Iterable[int]
    ) -> dict[tuple[int, str], Hold]:
        """The hold in force on each mapped field of these orders."""
        ids = list(order_ids)
        if not ids or self.legacy:
            return {}
        h = self.holds.c
        rows = conn.execute(
            select(self.holds)
            .where(among(conn, h.order_id, ids), h.released_at.is_(None), h.field.is_not(None))
            .order_by(h.id)
        )
        return {(int(row.order_id), row.field): _hold(row._mapping) for row in rows}

    def recent_runs(self, conn: Connection, limit: int) -> list[RunRecord]:
        r = self.runs.c
        rows = conn.execute(select(self.runs).order_by(r.id.desc()).limit(limit))
        return [RunRecord(**row._mapping) for row in rows]

    def overview(self, conn: Connection) -> RunOverview:
        """What `status` shows: the last run, the last success, the runs still going."""
        r = self.runs.c
        newest = (
            select(self.runs)
            .where(r.kind != "listen")  # the listener's own record: serving, not syncing
            .order_by(r.finished_at.desc(), r.id.desc())
        )
        last = conn.execute(newest.where(r.finished_at.is_not(None)).limit(1)).first()
        success = conn.execute(
            newest.where(r.finished_at.is_not(None), r.exit_code.in_((0, 1))).limit(1)
        ).first()
        polled = conn.execute(
            newest.where(r.finished_at.is_not(None), r.mode == "changed").limit(1)
        ).first()
        going = conn.execute(
            select(self.runs).where(r.finished_at.is_(None)).order_by(r.id.desc()).limit(20)
        )
        return RunOverview(
            last=RunRecord(**last._mapping) if last else None,
            last_success=RunRecord(**success._mapping) if success else None,
            last_poll=RunRecord(**polled._mapping) if polled else None,
            unfinished=tuple(RunRecord(**row._mapping) for row in going),
        )

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


def _hold(row: Any) -> Hold:
    return Hold(
        order_id=int(row["order_id"]),
        amount=row["amount"],
        odoo_write_date=row["odoo_write_date"],
        reverted_run=int(row["reverted_run"]),
        revert_run=int(row["revert_run"]),
        held_at=row["held_at"],
        released_at=row["released_at"],
        released_why=row["released_why"],
        field=row.get("field"),
        value=row.get("value"),
    )


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
        field=row.get("field"),
        old_value=row.get("old_value"),
        new_value=row.get("new_value"),
    )


T = TypeVar("T")


class PortalJournal:
    """The journal as the sync sees it: runs recorded, entries and holds read back.

    Before the first run there are no tables: every read answers "nothing yet" instead.
    """

    def __init__(self, db: Database, name: str = DEFAULT_JOURNAL_TABLE) -> None:
        self.db = db
        self.tables = JournalTables(name)
        self._fit = TableFit()
        self._found: set[str] | None = None
        self._created = False
        """Whether this process created (or upgraded) the tables already."""
        self._shape_known = False
        """Whether the changes and holds tables were looked at for the mapped fields'
        columns (a journal from before them is read as it is until its first write)."""

    def _has(self, table: Table) -> bool:
        if self._found is None:
            with self.db.doing("looking for the journal"), self.db.engine.connect() as conn:
                names = inspect(conn).get_table_names()
            wanted = {t.name for t in self.tables.metadata.sorted_tables}
            self._found = {n for n in names if n in wanted}
        return table.name in self._found

    def exists(self) -> bool:
        return self._has(self.tables.changes)

    def _read(self, table: Table, what: str, nothing: T, read: Callable[[Connection], T]) -> T:
        if not self._has(table):
            return nothing
        with self.db.doing(what), self.db.engine.connect() as conn:
            if table.name in (self.tables.changes.name, self.tables.holds.name):
                self._learn_shape(conn)
            return read(conn)

    def _learn_shape(self, conn: Connection) -> None:
        """Once: whether the journal predates mapped fields, so it is read as it is."""
        if self._shape_known:
            return
        self._shape_known = True
        for table, added in ((self.tables.changes, "field"), (self.tables.holds, "field")):
            if self._has(table):
                have = {c["name"] for c in inspect(conn).get_columns(table.name)}
                if added not in have:
                    self.tables = JournalTables(self.tables.name, self._fit, legacy=True)
                    return

    def _upgraded(self) -> None:
        """The tables were just created or upgraded in place: read them whole from now on,
        and do not look again (a listener records a run per batch)."""
        self._shape_known = True
        self._created = True
        if self.tables.legacy:
            self.tables = JournalTables(self.tables.name, self._fit)

    def last_written(self, order_ids: Sequence[int]) -> dict[int, LastWrite]:
        """What orderamt last wrote to each order, per the journal (empty before the first)."""
        return self._read(
            self.tables.changes,
            "reading the journal",
            {},
            lambda conn: self.tables.last_written(conn, order_ids),
        )

    def holds(self, order_ids: Sequence[int]) -> dict[int, Hold]:
        """The revert holds in force on these orders."""
        return self._read(
            self.tables.holds,
            "reading the journal's holds",
            {},
            lambda conn: self.tables.active_holds(conn, order_ids),
        )

    def field_state(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], LastValue], dict[tuple[int, str], Hold]]:
        """What orderamt last wrote to each mapped field of these orders, and their holds."""
        last: dict[tuple[int, str], LastValue] = self._read(
            self.tables.changes,
            "reading the journal",
            {},
            lambda conn: self.tables.last_values(conn, order_ids),
        )
        holds: dict[tuple[int, str], Hold] = self._read(
            self.tables.holds,
            "reading the journal's holds",
            {},
            lambda conn: self.tables.field_holds(conn, order_ids),
        )
        return last, holds

    def touched_after(self, run_id: int, order_ids: Sequence[int]) -> set[tuple[int, str | None]]:
        """Which (order, field) of these orders a later run wrote to."""
        return self._read(
            self.tables.changes,
            "reading the journal",
            set(),
            lambda conn: self.tables.touched_after(conn, run_id, order_ids),
        )

    def revert_of(self, run_id: int) -> RunRecord | None:
        """The completed revert of this run, if there is one."""
        return self._read(
            self.tables.runs,
            "reading the journal's runs",
            None,
            lambda conn: self.tables.revert_of(conn, run_id),
        )

    def release(self, order_id: int, now: datetime) -> list[Hold]:
        """An operator lets the sync take Odoo's amount for this order again."""
        if not self._has(self.tables.holds):
            return []
        with self.db.doing("releasing the hold"), self.db.engine.begin() as conn:
            self._learn_shape(conn)
            return self.tables.release_holds(conn, [order_id], now, "released by hand", every=True)

    def fit(self, fit: TableFit) -> None:
        """Create the tables like the orders table, when they are created.

        Rebuilt only when the fit changes: new Table objects make new statements, and a
        listener checks the schema before every batch (its memory grew with SQLAlchemy's
        statement cache until this)."""
        if fit != self._fit:
            self._fit = fit
            self.tables = JournalTables(self.tables.name, fit, legacy=self.tables.legacy)
            self._created = False

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int:
        """Record a run (creating the journal's tables on first use); returns its id."""
        try:
            with self.db.doing("recording the run in the journal"), self.db.engine.begin() as conn:
                if not self._created:
                    self.tables.create(conn)
                    self._upgraded()
                self._found = {t.name for t in self.tables.metadata.sorted_tables}
                return self.tables.start_run(conn, kind, mode, now, reverts)
        except BaseException:
            self._created = False  # the tables may be gone (migrate:fresh): look next time
            raise

    def finish_run(
        self, run_id: int, now: datetime, counts: RunCounts, code: int, error: str | None = None
    ) -> None:
        values = {
            "found": counts.found,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": counts.skipped,
        }
        with self.db.doing("recording the end of the run"), self.db.engine.begin() as conn:
            self.tables.finish_run(conn, run_id, now, values, code, error)

    def note_problems(self, run_id: int, decisions: Sequence[Decision], now: datetime) -> int:
        with self.db.doing("keeping the orders that need a look"), self.db.engine.begin() as conn:
            return self.tables.note_problems(conn, run_id, decisions, now)

    def problems(self) -> list[Problem]:
        """The orders that need a look, as the last run that saw each left them."""
        return self._read(
            self.tables.problems, "reading the problems", [], self.tables.open_problems
        )

    def ignore(self, order_id: int, reason: str, now: datetime) -> bool:
        """Acknowledge one order's problem until its reason changes; False if it has none."""
        if not self._has(self.tables.problems):
            return False
        with self.db.doing("ignoring the problem"), self.db.engine.begin() as conn:
            return self.tables.ignore(conn, order_id, reason, now)

    def heartbeat(self, checkpoint: Checkpoint | None, mode: str, now: datetime) -> int:
        """A quiet poll's record: its heartbeat run brought up to now (one statement), or,
        the first time, a new one, remembered with the checkpoint. Returns the run's id."""
        if checkpoint is not None and checkpoint.heartbeat_run is not None:
            with self.db.doing("recording the poll"), self.db.engine.begin() as conn:
                if self.tables.beat(conn, checkpoint.heartbeat_run, now):
                    return checkpoint.heartbeat_run
        run_id = self.start_run("sync", mode, now)
        self.finish_run(run_id, now, RunCounts(), 0)
        if checkpoint is not None:
            with self.db.doing("recording the poll"), self.db.engine.begin() as conn:
                self.tables.save_checkpoint(conn, replace(checkpoint, heartbeat_run=run_id), now)
        return run_id

    def runs(self, limit: int) -> list[RunRecord]:
        return self._read(
            self.tables.runs,
            "reading the journal's runs",
            [],
            lambda conn: self.tables.recent_runs(conn, limit),
        )

    def run(self, run_id: int) -> RunRecord | None:
        return self._read(
            self.tables.runs,
            "reading the journal's runs",
            None,
            lambda conn: self.tables.get_run(conn, run_id),
        )

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None, limit: int | None = None
    ) -> list[JournalEntry]:
        return self._read(
            self.tables.changes,
            "reading the journal",
            [],
            lambda conn: self.tables.entries(conn, run_id=run_id, order_id=order_id, limit=limit),
        )

    def blank(self) -> bool:
        """No entry and no hold yet (one query): a first backfill's batches need not ask."""
        if not self._has(self.tables.changes):
            return True
        c, h = self.tables.changes.c, self.tables.holds.c
        any_change = select(c.id).limit(1).scalar_subquery()
        with self.db.doing("reading the journal"), self.db.engine.connect() as conn:
            if not self._has(self.tables.holds):
                return bool(conn.execute(select(any_change.is_(None))).scalar_one())
            any_hold = select(h.id).limit(1).scalar_subquery()
            found = conn.execute(select(any_change.is_(None), any_hold.is_(None))).one()
        return bool(found[0]) and bool(found[1])

    def checkpoint(self) -> Checkpoint | None:
        """How far the catch-up poll has read Odoo; None before its first run."""
        return self._read(self.tables.state, "reading the checkpoint", None, self.tables.checkpoint)

    def ensure_tables(self) -> None:
        """Create whichever of the journal's tables are missing (never in a dry run)."""
        if all(self._has(t) for t in self.tables.metadata.sorted_tables):
            return
        with self.db.doing("creating the journal"), self.db.engine.begin() as conn:
            self.tables.create(conn)
        self._upgraded()
        self._found = {t.name for t in self.tables.metadata.sorted_tables}

    def know_tables(self, names: Iterable[str]) -> None:
        """The tables the schema check saw, so the journal need not look again."""
        wanted = {t.name for t in self.tables.metadata.sorted_tables}
        self._found = {n for n in names if n in wanted}

    def overview(self) -> RunOverview:
        return self._read(
            self.tables.runs, "reading the journal's runs", RunOverview(), self.tables.overview
        )

    def holds_of(self, order_id: int) -> list[Hold]:
        """Every hold ever placed on this order, in force or released, oldest first."""
        return self._read(
            self.tables.holds,
            "reading the journal's holds",
            [],
            lambda conn: self.tables.all_holds(conn, order_id),
        )
