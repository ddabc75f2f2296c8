"""The portal's orders table: read in batches, written compare-and-set with the journal."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    String,
    TableClause,
    bindparam,
    case,
    column,
    func,
    literal,
    null,
    select,
    table,
    text,
    update,
)

from orderamt import money
from orderamt.config import PortalSchema
from orderamt.models import (
    AMOUNT,
    Change,
    Checkpoint,
    Everything,
    Hold,
    JournalEntry,
    OneOrder,
    PortalOrder,
    Recent,
    Selection,
)
from orderamt.portal.bulk import bind_processor, json_rows, json_source, json_table, pg_array
from orderamt.portal.coltypes import LaravelTimestamp, Money, parse_timestamp
from orderamt.portal.engine import Database
from orderamt.portal.journal import PortalJournal
from orderamt.portal.schema import TableInfo, check_table
from orderamt.reconcile import parse_odoo_id


class PortalOrders:
    """Reads portal orders as models and writes new amounts only over what was read.

    Each write and its journal entry share one transaction, so the two always agree.
    """

    def __init__(self, db: Database, schema: PortalSchema, journal: PortalJournal) -> None:
        self.db = db
        self.schema = schema
        self.journal = journal
        self._info: TableInfo | None = None
        self._build(schema)

    def _build(self, schema: PortalSchema) -> None:
        self.schema = s = schema
        columns: list[Any] = [
            column(s.id),
            column(s.number),
            column(s.amount, Money()),
            column(s.odoo_id),
            column(s.created, LaravelTimestamp(s.zone)),
        ]
        if s.updated:
            columns.append(column(s.updated, LaravelTimestamp(s.zone)))
        if s.currency_column:
            columns.append(column(s.currency_column))
        columns += [column(spec.column) for spec in s.fields]
        self.table: TableClause = table(s.table, *columns)
        self._by_amount, self._while_null = self._update_statements()

    def _update_statements(self) -> tuple[Any, Any]:
        """The compare-and-set UPDATE, built once: over the amount read, or while still NULL.

        Built anew for each row, assembling the statement and its cache key cost more than
        running it; built once, only the parameters change.
        """
        c = self.table.c
        s = self.schema
        amount = c[s.amount]
        values: dict[Any, Any] = {amount: bindparam("b_new", type_=amount.type)}
        if s.updated:
            values[c[s.updated]] = bindparam("b_now", type_=c[s.updated].type)
        base = update(self.table).values(values)
        this_row = c[s.id] == bindparam("b_id")
        return (
            base.where(this_row, amount == bindparam("b_old", type_=amount.type)),
            base.where(this_row, amount.is_(None)),
        )

    def check(self) -> TableInfo:
        """Reflect the live table (see `check_table`); remembered for the run."""
        self._info = check_table(self.db, self.schema)
        if self._info.schema is not None and self._info.schema != self.schema:
            self._build(self._info.schema)  # the table's own spelling of each column
        self.journal.fit(self._info.fit)
        self.journal.know_tables(self._info.tables)
        return self._info

    @property
    def info(self) -> TableInfo:
        return self._info if self._info is not None else self.check()

    def _filters(self, selection: Selection) -> list[ColumnElement[bool]]:
        c = self.table.c
        odoo_id = c[self.schema.odoo_id]
        filters: list[ColumnElement[bool]] = [odoo_id.is_not(None)]
        if self.info.odoo_id_is_text:
            filters.append(func.trim(odoo_id) != "")
        if isinstance(selection, Recent):
            filters.append(c[self.schema.created] >= selection.since)
        elif isinstance(selection, OneOrder):
            filters.append(c[self.schema.id] == selection.order_id)
        else:
            assert isinstance(selection, Everything)
        return filters

    def count(self, selection: Selection) -> int:
        stmt = select(func.count()).select_from(self.table).where(*self._filters(selection))
        with self.db.doing("counting orders"), self.db.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def _select(self) -> Any:
        c = self.table.c
        s = self.schema
        columns: list[Any] = [c[s.id], c[s.number], c[s.amount], c[s.odoo_id]]
        columns.append(c[s.updated] if s.updated else null())
        columns.append(c[s.currency_column] if s.currency_column else null())
        columns += [c[spec.column] for spec in s.fields]
        return select(*columns).select_from(self.table)

    def newest_created(self) -> datetime | None:
        """The latest `created_at` in the table, as stored (the portal's wall-clock time)."""
        created = self.table.c[self.schema.created]
        with self.db.doing("reading the newest order"), self.db.engine.connect() as conn:
            value = conn.execute(select(func.max(created))).scalar()
        if isinstance(value, str):  # SQLite's max() of text comes back untyped
            return parse_timestamp(value)
        return value if isinstance(value, datetime) else None

    def get(self, order_id: int) -> PortalOrder | None:
        """One order by its portal id, whatever its Odoo id holds."""
        return self.get_many([order_id]).get(order_id)

    def get_many(self, order_ids: Sequence[int]) -> dict[int, PortalOrder]:
        """These orders by portal id, in one query; ids not in the table are absent."""
        if not order_ids:
            return {}
        stmt = self._select().where(self.table.c[self.schema.id].in_(sorted(set(order_ids))))
        what = f"reading order {order_ids[0]}" if len(order_ids) == 1 else "reading orders"
        with self.db.doing(what), self.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return {order.id: order for order in map(self._to_order, rows)}

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]:
        """The selected orders by ascending id, `size` at a time, each batch its own query.

        Keyset pagination keeps memory flat and holds no transaction open while Odoo is asked.
        """
        id_col = self.table.c[self.schema.id]
        base = self._select().where(*self._filters(selection)).order_by(id_col).limit(size)
        last: Any = None
        while True:
            stmt = base if last is None else base.where(id_col > last)
            with self.db.doing("reading orders"), self.db.engine.connect() as conn:
                rows = conn.execute(stmt).all()
            if not rows:
                return
            yield [self._to_order(row) for row in rows]
            if len(rows) < size:
                return
            last = rows[-1][0]

    def _to_order(self, row: Any) -> PortalOrder:
        order_id, number, amount, odoo_ref, updated, currency = row[:6]  # then the fields
        fields = self.schema.fields
        return PortalOrder(
            id=int(order_id),
            number="" if number is None else str(number),
            amount=amount,
            odoo_ref=odoo_ref,
            updated_at=updated,
            currency=_currency(currency) if self.schema.currency_column else self.schema.currency,
            values={s.name: _text(v) for s, v in zip(fields, row[6:], strict=True)},
        )

    def by_odoo_ids(self, odoo_ids: Sequence[int]) -> dict[int, list[PortalOrder]]:
        """The portal orders that point at these Odoo sale orders, in one query."""
        if not odoo_ids:
            return {}
        column_ = self.table.c[self.schema.odoo_id]
        wanted = sorted(set(odoo_ids))
        if self.info.odoo_id_is_text:
            where = func.trim(column_).in_([str(i) for i in wanted])
        else:
            where = column_.in_(wanted)
        stmt = self._select().where(where).order_by(self.table.c[self.schema.id])
        with self.db.doing("reading orders"), self.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        found: dict[int, list[PortalOrder]] = {}
        for order in map(self._to_order, rows):
            odoo_id = parse_odoo_id(order.odoo_ref)
            if odoo_id is not None:
                found.setdefault(odoo_id, []).append(order)
        return found

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
            self.journal.ensure_tables()
        written: set[tuple[int, str]] = set()
        entries: list[JournalEntry] = []
        holds: list[Hold] = []
        released: dict[tuple[str, str], list[int]] = {}
        with self.db.doing("writing a batch (rolled back)"), self.db.engine.begin() as conn:
            taken = self._compare_and_set(conn, changes, now)
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
                    entries.append(_entry(change, run_id, now))
            self.journal.tables.record(conn, entries)
            if checkpoint is not None:
                self.journal.tables.save_checkpoint(conn, checkpoint, now)
            if run_id is not None:
                self.journal.tables.place_holds(conn, holds)
                for (why, field), ids in released.items():
                    self.journal.tables.release_holds(conn, ids, now, why, field)
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

    def _target(self, field: str) -> _Target:
        """The column a group of changes writes, and how its values are read and sent."""
        if field == AMOUNT:
            return _Target(self.schema.amount, Money(), "NUMERIC[]", amount=True)
        column_ = next(spec.column for spec in self.schema.fields if spec.name == field)
        return _Target(column_, String(), "TEXT[]", amount=False)

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
                    taken |= self._set_based(conn, chunk, now, target)
                else:
                    taken |= self._lock_and_set(conn, chunk, now, target)
            return taken
        if not target.amount:
            return self._field_by_row(conn, changes, now, target)
        taken = set()
        for change in changes:
            order = change.order
            params = {
                "b_id": order.id,
                "b_new": change.new,
                "b_now": change.updated_at if change.restore_updated_at else now,
            }
            if change.old is None:
                result = conn.execute(self._while_null, params)
            else:
                result = conn.execute(self._by_amount, {**params, "b_old": change.old})
            if result.rowcount == 1:
                taken.add(order.id)
        return taken

    def _field_by_row(
        self, conn: Connection, changes: Sequence[Change], now: datetime, target: _Target
    ) -> set[int]:
        """An older SQLite: a mapped field's changes one UPDATE each, each rowcount read."""
        c = self.table.c
        s = self.schema
        col = c[target.column]
        taken = set()
        for change in changes:
            values: dict[Any, Any] = {col: change.new}
            if s.updated:
                values[c[s.updated]] = change.updated_at if change.restore_updated_at else now
            same = col.is_(None) if change.old is None else col == change.old
            stmt = update(self.table).where(c[s.id] == change.order.id, same).values(values)
            if conn.execute(stmt).rowcount == 1:
                taken.add(change.order.id)
        return taken

    def _set_based(
        self, conn: Connection, changes: Sequence[Change], now: datetime, target: _Target
    ) -> set[int]:
        """One UPDATE ... FROM (the changes) ... RETURNING for a chunk of changes: on
        PostgreSQL the changes are four arrays unnested (four parameters, however many rows,
        each sent as the array's text), on SQLite a VALUES list."""
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        s = self.schema
        send = bind_processor(target.type, dialect) or _same
        stamp = LaravelTimestamp(s.zone)
        rows = [
            {
                "id": change.order.id,
                "old": send(target.old(change)),
                "new": send(target.new(change)),
                "now": stamp.process_bind_param(
                    change.updated_at if change.restore_updated_at else now, dialect
                ),
            }
            for change in changes
        ]
        columns = ["id", "old", "new"] + (["now"] if s.updated else [])
        table, amount, id_ = quote(s.table), quote(target.column), quote(s.id)
        sets = [f"{amount} = v.new"] + ([f"{quote(s.updated)} = v.now"] if s.updated else [])
        params: dict[str, Any] = {}
        if dialect.name == "postgresql":
            kinds = {"id": "BIGINT[]", "old": target.pg_array, "new": target.pg_array,
                     "now": "TIMESTAMP[]"}  # fmt: skip
            arrays = []
            for column_name in columns:
                params[column_name] = pg_array(row[column_name] for row in rows)
                arrays.append(f"CAST(:{column_name} AS {kinds[column_name]})")
            source = f"unnest({', '.join(arrays)}) AS v({', '.join(columns)})"
            same = "IS NOT DISTINCT FROM"
        else:
            # SQLite names VALUES' columns column1, column2, ...; the driver takes the values
            # as they are (qmark), so SQLAlchemy need not parse 2,000 named parameters.
            rows += [rows[-1]] * (_bucket(len(rows)) - len(rows))
            one = f"({', '.join('?' for _ in columns)})"
            named = ", ".join(f"column{n + 1} AS {c}" for n, c in enumerate(columns))
            source = f"(SELECT {named} FROM (VALUES {', '.join([one] * len(rows))})) AS v"
            sql = self._set_sql(table, sets, source, id_, amount, "IS")
            values = tuple(row[name] for row in rows for name in columns)
            return {int(row[0]) for row in conn.exec_driver_sql(sql, values)}
        sql = self._set_sql(table, sets, source, id_, amount, same)
        return {int(row[0]) for row in conn.execute(text(sql), params)}

    @staticmethod
    def _set_sql(table: str, sets: list[str], source: str, id_: str, col: str, same: str) -> str:
        return (
            f"UPDATE {table} SET {', '.join(sets)} FROM {source} "
            f"WHERE {table}.{id_} = v.id AND {table}.{col} {same} v.old "
            f"RETURNING {table}.{id_}"
        )

    def _lock_and_set(
        self, conn: Connection, changes: Sequence[Change], now: datetime, target: _Target
    ) -> set[int]:
        """Lock the rows, keep those that still hold the value read, write them in one UPDATE.

        Where the server has JSON_TABLE, one UPDATE that also compares each row with the
        value read is tried first, inside a savepoint: when it matched every row of the chunk
        (the count MySQL's dialects report is of rows matched), those are the rows written and
        nothing needs reading. When it matched fewer, a portal edit raced the chunk: the
        savepoint is rolled back and the rows are locked, checked and written as below. The
        count says which orders were written only where the id column is unique.
        """
        c = self.table.c
        s = self.schema
        col = c[target.column]
        by_id = {change.order.id: change for change in changes}
        if json_table(conn) and self.info.id_unique and len(by_id) == len(changes):
            attempt = conn.begin_nested()
            if self._set_from_json(conn, changes, now, target, held=True) == len(changes):
                attempt.commit()
                return set(by_id)
            attempt.rollback()
        locked = conn.execute(
            select(c[s.id], col).where(c[s.id].in_(list(by_id))).with_for_update()
        ).all()
        taken = [
            order_id
            for order_id, value in locked
            if order_id in by_id and target.holds(value, by_id[order_id])
        ]
        if not taken:
            return set()
        if json_table(conn):
            self._set_from_json(conn, [by_id[oid] for oid in taken], now, target)
            return {int(order_id) for order_id in taken}
        ids = c[s.id]
        kind = c[s.amount].type if target.amount else String()
        # Padded with ids no row has (-1, -2, ...): the statement's shape, and so its cache
        # entry, is one per bucket, not one per chunk size.
        pads = range(-1, -1 - (_bucket(len(taken)) - len(taken)), -1)
        last = taken[-1]
        values: dict[Any, Any] = {
            col: case(
                {
                    **{oid: literal(target.new(by_id[oid]), kind) for oid in taken},
                    **{pad: literal(target.new(by_id[last]), kind) for pad in pads},
                },
                value=ids,
                else_=col,
            )
        }
        if s.updated:
            stamp = LaravelTimestamp(s.zone)  # the portal's wall clock, as a row-by-row write
            stamps = {
                oid: literal(
                    stamp.process_bind_param(
                        by_id[oid].updated_at if by_id[oid].restore_updated_at else now,
                        conn.dialect,
                    ),
                    DateTime(),
                )
                for oid in taken
            }
            values[c[s.updated]] = case(
                {**stamps, **{pad: stamps[last] for pad in pads}}, value=ids, else_=c[s.updated]
            )
        conn.execute(update(self.table).where(ids.in_(taken)).values(values))
        return {int(order_id) for order_id in taken}

    def _set_from_json(
        self,
        conn: Connection,
        changes: Sequence[Change],
        now: datetime,
        target: _Target,
        held: bool = False,
    ) -> int:
        """Rows written by one UPDATE joined to JSON_TABLE over one parameter: the new values
        as a JSON array, escaped once by the driver instead of value by value, and matched
        by id instead of a CASE of every id for every row; the number of rows matched.

        With `held`, only where the row still holds the value read: compared as numbers for
        the amount (a DECIMAL column), byte for byte for a field (a case-insensitive
        collation would take `Pending` for `pending`), the column's text first converted to
        the document's utf8mb4 (a latin1 column's `cafÃ©` has the bytes of `café`)."""
        s = self.schema
        quote = conn.dialect.identifier_preparer.quote
        stamp = LaravelTimestamp(s.zone)
        rows = [
            [
                change.order.id,
                target.new(change),
                stamp.process_bind_param(
                    change.updated_at if change.restore_updated_at else now, conn.dialect
                ),
                target.old(change) if held else None,
            ]
            for change in changes
        ]
        kind = "DECIMAL(65, 30)" if target.amount else "LONGTEXT"
        table, col, id_ = quote(s.table), quote(target.column), quote(s.id)
        sets = [f"{table}.{col} = v.new"]
        if s.updated:
            sets.append(f"{table}.{quote(s.updated)} = v.stamp")
        columns = [("id", "BIGINT"), ("new", kind), ("stamp", "DATETIME(6)"), ("old", kind)]
        on = f"{table}.{id_} = v.id"
        if held and target.amount:
            on += f" AND {table}.{col} <=> v.old"
        elif held:
            on += (
                f" AND CAST(CONVERT({table}.{col} USING utf8mb4) AS BINARY)"
                " <=> CAST(v.old AS BINARY)"
            )
        sql = f"UPDATE {table} JOIN {json_source(columns)} ON {on} SET {', '.join(sets)}"
        return int(conn.execute(text(sql), json_rows(rows)).rowcount)


SET_CHUNK = 500
"""Changes per set-based UPDATE: on SQLite 2,000 parameters, far below its cap."""


def _bucket(count: int) -> int:
    """The size a chunk is padded to (its last row repeated, which writes nothing more): a
    power of two, or SET_CHUNK. A statement's text depends on its row count, and SQLAlchemy
    keeps each text it compiled: a listener's batches of every size from 1 to 500 filled
    that cache with 500 statements; padded, there are ten."""
    size = 1
    while size < count:
        size *= 2
    return min(size, SET_CHUNK)


@dataclass(frozen=True)
class _Target:
    """The column a group of changes writes: the amount (a Decimal) or a mapped field (text)."""

    column: str
    type: Any
    pg_array: str
    amount: bool

    def old(self, change: Change) -> Any:
        return change.old

    def new(self, change: Change) -> Any:
        return change.new

    def holds(self, stored: object, change: Change) -> bool:
        """The locked row still holds what was read."""
        if self.amount:
            return money.same(stored, change.old)  # type: ignore[arg-type]
        return _text(stored) == change.old


def _entry(change: Change, run_id: int, now: datetime) -> JournalEntry:
    """What the journal keeps of a change: the amount in its own columns, a mapped field's
    values as text beside its name (the journal's storage, as every version has read it)."""
    order, amount = change.order, change.field == AMOUNT
    return JournalEntry(
        run_id=run_id,
        order_id=order.id,
        odoo_id=change.odoo_id,
        order_number=order.number,
        old_amount=change.old if amount else None,  # type: ignore[arg-type]
        new_amount=change.new if amount else None,  # type: ignore[arg-type]
        old_updated_at=order.updated_at,
        odoo_write_date=change.write_date,
        changed_at=now,
        conflict=change.conflict,
        field=None if amount else change.field,
        old_value=None if amount else change.old,  # type: ignore[arg-type]
        new_value=None if amount else change.new,  # type: ignore[arg-type]
    )


def _same(value: Any) -> Any:
    return value


def _text(stored: object) -> str | None:
    """A mapped field's column as text (an ENUM, a VARCHAR, or whatever holds the value)."""
    if stored is None:
        return None
    if isinstance(stored, bytes):
        return stored.decode("utf-8", "replace")
    return str(stored)


def _currency(stored: object) -> str | None:
    """The portal's currency column as an ISO code; empty means "not said"."""
    text = "" if stored is None else str(stored).strip().upper()
    return text or None
