"""The change journal: entries written in the sync's own transaction, and read back for
what orderamt last wrote (the amount, each mapped field) and what was touched since."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)

from orderamt.models import AMOUNT, JournalEntry, Known
from orderamt.portal.bulk import among, insert_many
from orderamt.portal.journal.entries import INTENT
from orderamt.portal.journal.schema import ADDED_COLUMNS, PUSH_COLUMNS, JournalSchema


class ChangesSQL(JournalSchema):
    """The changes table's SQL, in the caller's transaction."""

    def record(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        if entries:
            # Field by field, not dataclasses.asdict, which deep-copies every Decimal and
            # datetime: that was 0.8 s of a 10,000-order backfill.
            names = [f.name for f in fields(JournalEntry)]
            if self.legacy:
                names = [n for n in names if n not in ADDED_COLUMNS["changes"]]
            if self.pushless:
                names = [n for n in names if n not in PUSH_COLUMNS]
            rows = [{n: getattr(e, n) for n in names} for e in entries]
            insert_many(conn, self.changes, names, rows)

    def last_written(self, conn: Connection, order_ids: Iterable[int]) -> dict[int, Known]:
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
            int(order_id): Known(amount, odoo_said.get(int(order_id))) for order_id, amount in rows
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

    def last_values(
        self, conn: Connection, order_ids: Iterable[int]
    ) -> dict[tuple[int, str], Known]:
        """What orderamt last wrote to each mapped field of these orders, and what a sync
        (so Odoo, through the map) last wrote to it."""
        ids = list(order_ids)
        if not ids or self.legacy:
            return {}
        c, r = self.changes.c, self.runs.c
        key = (c.order_id, c.field)
        mine = [among(conn, c.order_id, ids), c.field.is_not(None), *self._done()]
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
        return {k: Known(v, said.get(k)) for k, v in last.items()}

    def _done(self) -> list[Any]:
        """Only what was done: not a push's intent that Odoo's answer never confirmed."""
        if self.pushless:
            return []
        c = self.changes.c
        return [or_(c.direction.is_(None), c.direction != INTENT)]

    def open_intents(self, conn: Connection) -> list[JournalEntry]:
        """Every intent left behind, oldest first."""
        if self.pushless:
            return []
        c = self.changes.c
        rows = conn.execute(select(self.changes).where(c.direction == INTENT).order_by(c.id))
        return [_entry(row._mapping) for row in rows]

    def resolve_intents(
        self, conn: Connection, confirmed: Sequence[JournalEntry], dropped: Sequence[JournalEntry]
    ) -> None:
        """Intents become pushes (Odoo took them) or go (Odoo never got them), by their
        run, order and field."""
        c = self.changes.c
        for entries, done in ((confirmed, True), (dropped, False)):
            for e in entries:
                mine = (c.run_id == e.run_id, c.order_id == e.order_id, c.field == e.field,
                        c.direction == INTENT)  # fmt: skip
                if done:
                    conn.execute(update(self.changes).where(*mine).values(direction="push"))
                else:
                    conn.execute(delete(self.changes).where(*mine))

    def settle_intents(self, conn: Connection, run_id: int) -> None:
        """Odoo answered this run's pushes (each confirmed by an entry of its own, or
        refused): their intents are done with. A run's batches go one after the other, so
        its open intents are those of the batch being written."""
        if not self.pushless:
            c = self.changes.c
            conn.execute(delete(self.changes).where(c.run_id == run_id, c.direction == INTENT))

    def pushed_by(self, conn: Connection, run_id: int) -> tuple[int, int]:
        """How many fields this run pushed to Odoo (confirmed by Odoo's answer), and how
        many of its changes, either way, settled a conflict."""
        c = self.changes.c
        pushed = (
            literal(0) if self.pushless else func.sum(case((c.direction == "push", 1), else_=0))
        )
        conflicts = func.sum(case((c.conflict.is_(True), 1), else_=0))
        row = conn.execute(select(pushed, conflicts).where(c.run_id == run_id)).one()
        return int(row[0] or 0), int(row[1] or 0)

    def touched_after(
        self, conn: Connection, run_id: int, order_ids: Iterable[int]
    ) -> set[tuple[int, str]]:
        """Which (order, field) of these orders a run later than `run_id` wrote to (AMOUNT
        for the amount)."""
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
        return {(int(order_id), name or AMOUNT) for order_id, name in rows}

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
        field=row.get("field"),
        old_value=row.get("old_value"),
        new_value=row.get("new_value"),
        direction=row.get("direction"),
        odoo_old=row.get("odoo_old"),
        odoo_new=row.get("odoo_new"),
    )
