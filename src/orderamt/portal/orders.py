"""The portal's orders table: read by selection, in batches; written through `write`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, TableClause, column, func, null, select, table

from orderamt.config import PortalSchema
from orderamt.models import (
    Change,
    Checkpoint,
    Everything,
    OneOrder,
    PortalOrder,
    Recent,
    Selection,
)
from orderamt.portal.coltypes import LaravelTimestamp, Money, parse_timestamp, stored_text
from orderamt.portal.engine import Database
from orderamt.portal.journal import PortalJournal
from orderamt.portal.schema import TableInfo, check_table
from orderamt.portal.write import OrderWrites
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
        self._writes = OrderWrites(self)

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
            values={s.name: stored_text(v) for s, v in zip(fields, row[6:], strict=True)},
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
        """Write compare-and-set, with the journal entries, in one transaction (see
        `OrderWrites.apply`); the (order id, field) written."""
        return self._writes.apply(changes, now, run_id, checkpoint)


def _currency(stored: object) -> str | None:
    """The portal's currency column as an ISO code; empty means "not said"."""
    text = "" if stored is None else str(stored).strip().upper()
    return text or None
