"""One chunk of one column's changes written compare-and-set in one statement, per engine.

PostgreSQL and SQLite (3.35 and later) match the rows with UPDATE ... FROM ... RETURNING;
MySQL and MariaDB, which have no UPDATE ... RETURNING, lock the rows and set them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    DateTime,
    String,
    TableClause,
    case,
    literal,
    select,
    text,
    update,
)

from orderamt import money
from orderamt.config import PortalSchema
from orderamt.models import Change
from orderamt.portal.bulk import bind_processor, json_rows, json_source, json_table, pg_array
from orderamt.portal.coltypes import LaravelTimestamp, stored_text
from orderamt.portal.engine import Database
from orderamt.portal.journal import PortalJournal
from orderamt.portal.schema import TableInfo

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


class OrdersTable(Protocol):
    """The orders table a write goes to (PortalOrders meets this). Read at each use: `check`
    may rebuild the table with the live table's own spelling of each column."""

    @property
    def db(self) -> Database: ...

    @property
    def journal(self) -> PortalJournal: ...

    @property
    def schema(self) -> PortalSchema: ...

    @property
    def table(self) -> TableClause: ...

    @property
    def info(self) -> TableInfo: ...


@dataclass(frozen=True)
class Target:
    """The column a group of changes writes: the amount (a Decimal) or a mapped field (text)."""

    column: str
    type: Any
    pg_array: str
    amount: bool
    cast: str | None = None
    """PostgreSQL: the column's own type, where it is no text (a datetime field's TIMESTAMP):
    the values, sent as text, are cast to it."""

    def old(self, change: Change) -> Any:
        return change.old

    def new(self, change: Change) -> Any:
        return change.new

    def holds(self, stored: object, change: Change) -> bool:
        """The locked row still holds what was read."""
        if self.amount:
            return money.same(stored, change.old)  # type: ignore[arg-type]
        return stored_text(stored) == change.old


def update_returning(
    conn: Connection,
    schema: PortalSchema,
    changes: Sequence[Change],
    now: datetime,
    target: Target,
) -> set[int]:
    """One UPDATE ... FROM (the changes) ... RETURNING for a chunk of changes: on
    PostgreSQL the changes are four arrays unnested (four parameters, however many rows,
    each sent as the array's text), on SQLite a VALUES list."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    s = schema
    send = bind_processor(target.type, dialect) or _same
    stamp = LaravelTimestamp(s.zone)
    rows = [
        {
            "id": change.order.id,
            "old": send(target.old(change)),
            "new": send(target.new(change)),
            "now": stamp.process_bind_param(now, dialect),
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
        sql = _set_sql(table, sets, source, id_, amount, "IS")
        values = tuple(row[name] for row in rows for name in columns)
        return {int(row[0]) for row in conn.exec_driver_sql(sql, values)}
    old = "v.old"
    if target.cast:
        sets[0] = f"{amount} = CAST(v.new AS {target.cast})"
        old = f"CAST(v.old AS {target.cast})"
    sql = _set_sql(table, sets, source, id_, amount, same, old)
    return {int(row[0]) for row in conn.execute(text(sql), params)}


def _set_sql(
    table: str, sets: list[str], source: str, id_: str, col: str, same: str, old: str = "v.old"
) -> str:
    return (
        f"UPDATE {table} SET {', '.join(sets)} FROM {source} "
        f"WHERE {table}.{id_} = v.id AND {table}.{col} {same} {old} "
        f"RETURNING {table}.{id_}"
    )


def lock_and_set(
    conn: Connection,
    orders: OrdersTable,
    changes: Sequence[Change],
    now: datetime,
    target: Target,
) -> set[int]:
    """Lock the rows, keep those that still hold the value read, write them in one UPDATE.

    Where the server has JSON_TABLE, one UPDATE that also compares each row with the
    value read is tried first, inside a savepoint: when it matched every row of the chunk
    (the count MySQL's dialects report is of rows matched), those are the rows written and
    nothing needs reading. When it matched fewer, a portal edit raced the chunk: the
    savepoint is rolled back and the rows are locked, checked and written as below. The
    count says which orders were written only where the id column is unique.
    """
    c = orders.table.c
    s = orders.schema
    col = c[target.column]
    by_id = {change.order.id: change for change in changes}
    if json_table(conn) and orders.info.id_unique and len(by_id) == len(changes):
        attempt = conn.begin_nested()
        if _set_from_json(conn, orders, changes, now, target, held=True) == len(changes):
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
        _set_from_json(conn, orders, [by_id[oid] for oid in taken], now, target)
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
        # One time for the whole batch: every write, a revert's too, is a write now.
        values[c[s.updated]] = literal(stamp.process_bind_param(now, conn.dialect), DateTime())
    conn.execute(update(orders.table).where(ids.in_(taken)).values(values))
    return {int(order_id) for order_id in taken}


def _set_from_json(
    conn: Connection,
    orders: OrdersTable,
    changes: Sequence[Change],
    now: datetime,
    target: Target,
    held: bool = False,
) -> int:
    """Rows written by one UPDATE joined to JSON_TABLE over one parameter: the new values
    as a JSON array, escaped once by the driver instead of value by value, and matched
    by id instead of a CASE of every id for every row; the number of rows matched.

    With `held`, only where the row still holds the value read: compared as numbers for
    the amount (a DECIMAL column), byte for byte for a field (a case-insensitive
    collation would take `Pending` for `pending`), the column's text first converted to
    the document's utf8mb4 (a latin1 column's `cafÃ©` has the bytes of `café`)."""
    s = orders.schema
    quote = conn.dialect.identifier_preparer.quote
    stamp = LaravelTimestamp(s.zone)
    rows = [
        [
            change.order.id,
            target.new(change),
            stamp.process_bind_param(now, conn.dialect),
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
        on += f" AND CAST(CONVERT({table}.{col} USING utf8mb4) AS BINARY) <=> CAST(v.old AS BINARY)"
    sql = f"UPDATE {table} JOIN {json_source(columns)} ON {on} SET {', '.join(sets)}"
    return int(conn.execute(text(sql), json_rows(rows)).rowcount)


def _same(value: Any) -> Any:
    return value
