"""The journal's two faces: `JournalTables`, every read and write on the caller's Connection
(the orders' writes are journaled through it in their own transaction), and `PortalJournal`,
the journal as the sync sees it, each call in a connection or transaction of its own."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Table, inspect, select
from sqlalchemy.exc import IntegrityError

from orderamt.models import (
    AMOUNT,
    Change,
    Checkpoint,
    Decision,
    Hold,
    JournalEntry,
    Known,
    Problem,
    RunCounts,
    RunOverview,
    RunRecord,
)
from orderamt.portal.engine import Database
from orderamt.portal.journal.changes import ChangesSQL
from orderamt.portal.journal.entries import intent_entries
from orderamt.portal.journal.runs import RunsSQL
from orderamt.portal.journal.schema import DEFAULT_JOURNAL_TABLE
from orderamt.portal.journal.state import StateSQL
from orderamt.portal.schema import TableFit
from orderamt.times import utc_now


class JournalTables(RunsSQL, ChangesSQL, StateSQL):
    """The tables (`schema`) and their SQL: runs, changes, and orderamt's own state."""


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
        self._logins: dict[str, int] | None = None
        """The kept Odoo logins the checkpoint's read found, until the login takes them."""

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
        changes = self.tables.changes
        tables = [t for t in (changes, self.tables.holds) if self._has(t)]
        for name, have in self.tables.column_names(conn, tables).items():
            if "field" not in have:
                self.tables = JournalTables(self.tables.name, self._fit, legacy=True)
                return
            if name == changes.name and "direction" not in have:
                self.tables = JournalTables(self.tables.name, self._fit, pushless=True)

    def _upgraded(self) -> None:
        """The tables were just created or upgraded in place: read them whole from now on,
        and do not look again (a listener records a run per batch)."""
        self._shape_known = True
        self._created = True
        if self.tables.pushless:
            self.tables = JournalTables(self.tables.name, self._fit)

    def known(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], Known], dict[tuple[int, str], Hold]]:
        """By (order, field), AMOUNT for the amount: what orderamt last wrote to each field
        of these orders and what Odoo said then, and the revert holds in force on them."""

        def read_known(conn: Connection) -> dict[tuple[int, str], Known]:
            amounts = self.tables.last_written(conn, order_ids)
            fields = self.tables.last_values(conn, order_ids)
            return {**{(i, AMOUNT): k for i, k in amounts.items()}, **fields}

        def read_holds(conn: Connection) -> dict[tuple[int, str], Hold]:
            amounts = self.tables.active_holds(conn, order_ids)
            fields = self.tables.field_holds(conn, order_ids)
            return {**{(i, AMOUNT): h for i, h in amounts.items()}, **fields}

        none: dict[tuple[int, str], Known] = {}
        known = self._read(self.tables.changes, "reading the journal", none, read_known)
        no_holds: dict[tuple[int, str], Hold] = {}
        holds = self._read(self.tables.holds, "reading the journal's holds", no_holds, read_holds)
        return known, holds

    def yielded(self, order_ids: Sequence[int]) -> set[int]:
        """Of these orders, those whose refused push an operator ignored."""
        return self._read(
            self.tables.problems,
            "reading the problems",
            set(),
            lambda conn: self.tables.yielded(conn, order_ids),
        )

    def touched_after(self, run_id: int, order_ids: Sequence[int]) -> set[tuple[int, str]]:
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
            self.tables = JournalTables(
                self.tables.name, fit, legacy=self.tables.legacy, pushless=self.tables.pushless
            )
            self._created = False

    def _create(self) -> None:
        """The tables and columns missing, then each index missing in a transaction of its
        own, committed before the run's row is written: two processes upgrading at once
        never hold the runs table's lock for an index while waiting to write a row."""
        with self.db.engine.begin() as conn:
            self.tables.create(conn)
            missing = self.tables.missing_indexes(conn)
        for index in missing:
            with self.db.engine.begin() as conn:
                self.tables.add_index(conn, index)
        self._upgraded()

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int:
        """Record a run (creating the journal's tables on first use); returns its id."""
        try:
            with self.db.doing("recording the run in the journal"):
                if not self._created:
                    self._create()
                with self.db.engine.begin() as conn:
                    self._found = {t.name for t in self.tables.metadata.sorted_tables}
                    return self.tables.start_run(conn, kind, mode, now, reverts)
        except BaseException:
            self._created = False  # the tables may be gone (migrate:fresh): look next time
            raise

    def finish_run(
        self, run_id: int, now: datetime, counts: RunCounts, code: int, error: str | None = None
    ) -> bool:
        """Record the end of a run this process started; False where it is not there (the
        journal was dropped and made again meanwhile)."""
        values = {
            "found": counts.found,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": counts.skipped,
        }
        with self.db.doing("recording the end of the run"), self.db.engine.begin() as conn:
            return self.tables.finish_run(conn, run_id, now, values, code, error)

    def intend(self, run_id: int, changes: Sequence[Change], now: datetime) -> None:
        """Journal pushes about to be made, committed before Odoo is called."""
        with self.db.doing("journaling the pushes to make"), self.db.engine.begin() as conn:
            self.tables.record(conn, intent_entries(changes, run_id, now))

    def open_intents(self) -> list[JournalEntry]:
        """The intents earlier runs left behind."""
        return self._read(self.tables.changes, "reading the journal", [], self.tables.open_intents)

    def resolve_intents(
        self, confirmed: Sequence[JournalEntry], dropped: Sequence[JournalEntry]
    ) -> None:
        """Keep as pushes the intents Odoo took, forget those it never got."""
        if not (confirmed or dropped):
            return
        with self.db.doing("journaling Odoo's answers"), self.db.engine.begin() as conn:
            self.tables.resolve_intents(conn, confirmed, dropped)

    def settle_intents(self, run_id: int) -> None:
        """Odoo answered (refused) every push of the batch: their intents are done with."""
        with self.db.doing("journaling Odoo's answers"), self.db.engine.begin() as conn:
            self.tables.settle_intents(conn, run_id)

    def note_problems(self, run_id: int, decisions: Sequence[Decision], now: datetime) -> set[int]:
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

    def raise_floor(self, floor: str, now: datetime) -> None:
        """Keep the catch-up poll's new floor (see Checkpoint.floor)."""
        with self.db.doing("recording the poll"), self.db.engine.begin() as conn:
            self.tables.raise_floor(conn, floor, now)

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
        """How far the catch-up poll has read Odoo; None before its first run. The kept
        Odoo logins come with it, for the login that follows (`recall_login`)."""
        nothing: tuple[Checkpoint | None, dict[str, int]] = (None, {})
        found, self._logins = self._read(
            self.tables.state, "reading the checkpoint", nothing, self.tables.checkpoint
        )
        return found

    def recall_login(self, key: str) -> int | None:
        """The Odoo user id an earlier run kept under `key`, if any (as the checkpoint's
        read just found it, where that came first)."""
        logins, self._logins = self._logins, None
        if logins is not None:
            return logins.get(key)
        return self._read(
            self.tables.state, "reading the Odoo login", None, lambda c: self.tables.login(c, key)
        )

    def keep_login(self, key: str, uid: int | None) -> None:
        """Keep this Odoo login for the next runs (None: forget it), in a transaction of its
        own. Two runs keeping one at once: the second's insert is refused, and the one kept
        is as good."""
        if uid is None and not self._has(self.tables.state):
            return
        self.ensure_tables()
        with (
            self.db.doing("keeping the Odoo login"),
            contextlib.suppress(IntegrityError),
            self.db.engine.begin() as conn,
        ):
            self.tables.keep_login(conn, key, uid, utc_now())

    def ensure_tables(self) -> None:
        """Create whichever of the journal's tables are missing (never in a dry run)."""
        if all(self._has(t) for t in self.tables.metadata.sorted_tables):
            return
        with self.db.doing("creating the journal"), self.db.engine.begin() as conn:
            self.tables.create(conn)
        self._upgraded()
        self._found = {t.name for t in self.tables.metadata.sorted_tables}

    def look_again(self) -> None:
        """Forget which tables were seen: a long-running process asks before each batch, as
        the portal may have dropped them (php artisan migrate:fresh) since."""
        self._found = None

    def is_running(self, run_id: int) -> bool:
        """Whether `run_id` is a run this process started and has not ended."""
        run = self.run(run_id)
        return (
            run is not None
            and run.finished_at is None
            and run.pid == os.getpid()
            and run.host == socket.gethostname()[:255]
        )

    def know_tables(self, names: Iterable[str]) -> None:
        """The tables the schema check saw, so the journal need not look again."""
        wanted = {t.name for t in self.tables.metadata.sorted_tables}
        self._found = {n for n in names if n in wanted}

    def overview(self) -> RunOverview:
        """The runs at a glance, with the fields the last run pushed to Odoo and the
        conflicts it settled."""
        overview = self._read(
            self.tables.runs, "reading the journal's runs", RunOverview(), self.tables.overview
        )
        if overview.last is None:
            return overview
        last_id = overview.last.id
        pushed, conflicts = self._read(
            self.tables.changes,
            "reading the journal",
            (0, 0),
            lambda conn: self.tables.pushed_by(conn, last_id),
        )
        return replace(overview, last_pushed=pushed, last_conflicts=conflicts)

    def holds_of(self, order_id: int) -> list[Hold]:
        """Every hold ever placed on this order, in force or released, oldest first."""
        return self._read(
            self.tables.holds,
            "reading the journal's holds",
            [],
            lambda conn: self.tables.all_holds(conn, order_id),
        )
