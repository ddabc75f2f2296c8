"""The portal orders' write path: new values set only over what was read, each write
journaled in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, update

from orderamt.models import AMOUNT, Change, Checkpoint, Hold, JournalEntry
from orderamt.portal.coltypes import Money
from orderamt.portal.journal.entries import journal_entry
from orderamt.portal.write_chunk import (
    SET_CHUNK,
    OrdersTable,
    Target,
    lock_and_set,
    update_returning,
)


class OrderWrites:
    """Writes changes to the orders table compare-and-set, with their journal entries.

    Built anew whenever the table is (see `PortalOrders.check`).
    """

    def __init__(self, orders: OrdersTable) -> None:
        self.orders = orders
        self._by_amount, self._while_null = self._update_statements()

    def _update_statements(self) -> tuple[Any, Any]:
        """The compare-and-set UPDATE, built once: over the amount read, or while still NULL.

        Built anew for each row, assembling the statement and its cache key cost more than
        running it; built once, only the parameters change.
        """
        c = self.orders.table.c
        s = self.orders.schema
        amount = c[s.amount]
        values: dict[Any, Any] = {amount: bindparam("b_new", type_=amount.type)}
        if s.updated:
            values[c[s.updated]] = bindparam("b_now", type_=c[s.updated].type)
        base = update(self.orders.table).values(values)
        this_row = c[s.id] == bindparam("b_id")
        return (
            base.where(this_row, amount == bindparam("b_old", type_=amount.type)),
            base.where(this_row, amount.is_(None)),
        )

    def apply(
        self,
        changes: Sequence[Change],
        now: datetime,
        run_id: int | None,
        checkpoint: Checkpoint | None = None,
    ) -> set[tuple[int, str]]:
        """Write new amounts (and mapped fields) and their journal entries in one
        transaction; returns the (order id, field) written (AMOUNT for the amount).

        A column is written only while it still holds the value that was read, so a change
        the portal made meanwhile is never overwritten. With `run_id`, each write is journaled in
        the same transaction, so the journal and the orders always agree, and so are the
        holds a revert places and a sync releases. With `checkpoint`, the catch-up poll's
        checkpoint moves in that transaction too: a crash never skips or repeats a batch.
        """
        if not changes and checkpoint is None:
            return set()
        if checkpoint is not None:
            self.orders.journal.ensure_tables()
        written: set[tuple[int, str]] = set()
        entries: list[JournalEntry] = []
        holds: list[Hold] = []
        released: dict[tuple[str, str], list[int]] = {}
        with (
            self.orders.db.doing("writing a batch (rolled back)"),
            self.orders.db.engine.begin() as conn,
        ):
            pushed = [change for change in changes if change.push is not None]
            taken = self._compare_and_set(conn, [c for c in changes if c.push is None], now)
            taken |= {(change.order.id, change.field) for change in pushed}
            for change in changes:
                order = change.order
                key = (order.id, change.field)
                if key not in taken:
                    continue
                written.add(key)
                if change.place_hold is not None:
                    holds.append(replace(change.place_hold, revert_run=run_id, held_at=now))
                if change.release_hold:
                    released.setdefault((change.release_hold, change.field), []).append(order.id)
                if run_id is not None:
                    entries.append(journal_entry(change, run_id, now))
            self.orders.journal.tables.record(conn, entries)
            if pushed and run_id is not None:
                self.orders.journal.tables.settle_intents(conn, run_id)
            if checkpoint is not None:
                self.orders.journal.tables.save_checkpoint(conn, checkpoint, now)
            if run_id is not None:
                self.orders.journal.tables.place_holds(conn, holds)
                for (why, field), ids in released.items():
                    self.orders.journal.tables.release_holds(conn, ids, now, why, field)
        return written

    def _compare_and_set(
        self, conn: Connection, changes: Sequence[Change], now: datetime
    ) -> set[tuple[int, str]]:
        """Write each change only where its column still holds the value read, column by
        column; the (id, field) taken."""
        by_field: dict[str, list[Change]] = {}
        for change in changes:
            by_field.setdefault(change.field, []).append(change)
        taken: set[tuple[int, str]] = set()
        for field, group in by_field.items():
            taken |= {(order_id, field) for order_id in self._set_column(conn, group, now)}
        return taken

    def _target(self, field: str) -> Target:
        """The column a group of changes writes, and how its values are read and sent."""
        if field == AMOUNT:
            return Target(self.orders.schema.amount, Money(), "NUMERIC[]", amount=True)
        spec = next(spec for spec in self.orders.schema.fields if spec.name == field)
        cast = None
        if spec.kind == "datetime" and self.orders.db.engine.dialect.name == "postgresql":
            live = dict(self.orders.info.columns).get(spec.column, "")
            cast = "TIMESTAMP" if "TIMESTAMP" in live.upper() else None  # sent as text
        return Target(spec.column, String(), "TEXT[]", amount=False, cast=cast)

    def _set_column(self, conn: Connection, changes: Sequence[Change], now: datetime) -> set[int]:
        """Write one column's changes only where the row still holds the value read; the ids
        taken.

        SQLite (3.35 and later) and PostgreSQL learn which rows matched from one set-based
        UPDATE ... RETURNING per chunk. MySQL and MariaDB, which have no UPDATE ... RETURNING,
        lock the chunk's rows (SELECT ... FOR UPDATE), keep those that still hold the amount
        read, and write them with one UPDATE: the locks hold until the batch commits, so
        nothing can change a row between its check and its write. An older SQLite runs the
        prepared single-row UPDATE per change and reads each rowcount.
        """
        dialect = conn.dialect.name
        set_based = dialect == "postgresql" or (
            dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)
        )
        locking = dialect in ("mysql", "mariadb")
        target = self._target(changes[0].field)
        if set_based or locking:
            taken: set[int] = set()
            for start in range(0, len(changes), SET_CHUNK):
                chunk = changes[start : start + SET_CHUNK]
                if set_based:
                    taken |= update_returning(conn, self.orders.schema, chunk, now, target)
                else:
                    taken |= lock_and_set(conn, self.orders, chunk, now, target)
            return taken
        if not target.amount:
            return self._field_by_row(conn, changes, now, target)
        taken = set()
        for change in changes:
            order = change.order
            params = {
                "b_id": order.id,
                "b_new": change.new,
                "b_now": now,
            }
            if change.old is None:
                result = conn.execute(self._while_null, params)
            else:
                result = conn.execute(self._by_amount, {**params, "b_old": change.old})
            if result.rowcount == 1:
                taken.add(order.id)
        return taken

    def _field_by_row(
        self, conn: Connection, changes: Sequence[Change], now: datetime, target: Target
    ) -> set[int]:
        """An older SQLite: a mapped field's changes one UPDATE each, each rowcount read."""
        c = self.orders.table.c
        s = self.orders.schema
        col = c[target.column]
        taken = set()
        for change in changes:
            values: dict[Any, Any] = {col: change.new}
            if s.updated:
                values[c[s.updated]] = now
            same = col.is_(None) if change.old is None else col == change.old
            stmt = update(self.orders.table).where(c[s.id] == change.order.id, same).values(values)
            if conn.execute(stmt).rowcount == 1:
                taken.add(change.order.id)
        return taken
