"""orderamt's own state beside the journal: the catch-up poll's checkpoint, the revert
holds, and the orders that need a look (problems) with their acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from orderamt.models import AMOUNT, Checkpoint, Decision, Hold, Problem, Reason
from orderamt.portal.bulk import among
from orderamt.portal.journal.schema import JournalSchema
from orderamt.reasons import problem_detail, problem_reason

CHECKPOINT = "changed"
"""The state row of the catch-up poll's checkpoint."""

FLOOR = "changed:floor"
"""The state row of the catch-up poll's floor (`Checkpoint.floor`), in its write_date."""

LOGIN_PREFIX = "login:"
"""The state row of a kept Odoo login: this, then a digest of what it is for."""


class StateSQL(JournalSchema):
    """The state, holds and problems tables' SQL, in the caller's transaction."""

    def checkpoint(self, conn: Connection) -> tuple[Checkpoint | None, dict[str, int]]:
        """The catch-up poll's checkpoint with its floor, and the kept Odoo logins by key, in
        one query: a poll needs them all, and a quiet one little else."""
        s = self.state.c
        rows = conn.execute(
            select(s.name, s.write_date, s.odoo_id, s.heartbeat_run).where(
                s.name.in_([CHECKPOINT, FLOOR]) | s.name.startswith(LOGIN_PREFIX, autoescape=True)
            )
        )
        found, floor, logins = None, None, {}
        for row in rows:
            if row.name == FLOOR:
                floor = str(row.write_date)
            elif row.name != CHECKPOINT:
                logins[str(row.name)] = int(row.odoo_id)
            else:
                beat = int(row.heartbeat_run) if row.heartbeat_run is not None else None
                found = Checkpoint(row.write_date, int(row.odoo_id), heartbeat_run=beat)
        if found is not None and floor:
            found = replace(found, floor=floor)
        return found, logins

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

    def raise_floor(self, conn: Connection, floor: str, now: datetime) -> None:
        """Keep the catch-up poll's floor (insert it the first time)."""
        s = self.state.c
        raised = conn.execute(
            update(self.state).where(s.name == FLOOR).values(write_date=floor, moved_at=now)
        )
        if raised.rowcount == 0:
            conn.execute(
                insert(self.state).values(name=FLOOR, write_date=floor, odoo_id=0, moved_at=now)
            )

    def login(self, conn: Connection, key: str) -> int | None:
        """The Odoo user id kept under `key` (see `keep_login`), if any."""
        s = self.state.c
        uid = conn.execute(select(s.odoo_id).where(s.name == key)).scalar()
        return int(uid) if uid is not None else None

    def keep_login(self, conn: Connection, key: str, uid: int | None, now: datetime) -> None:
        """Keep one Odoo login: its user id under `key` (a digest of Odoo's address, database
        and user; never a secret), every other one forgotten; None forgets them all."""
        s = self.state.c
        conn.execute(delete(self.state).where(s.name.startswith(LOGIN_PREFIX, autoescape=True)))
        if uid is not None:
            conn.execute(insert(self.state).values(name=key, write_date="", odoo_id=uid,
                                                   moved_at=now))  # fmt: skip

    def note_problems(
        self, conn: Connection, run_id: int, decisions: Sequence[Decision], now: datetime
    ) -> set[int]:
        """Keep each skipped order as a problem and forget the others; the orders that are
        news (not known before with the same reason)."""
        p = self.problems.c
        needing = {d.order.id: d for d in decisions if d.needs_look}
        fine = [d.order.id for d in decisions if not d.needs_look]
        if fine:
            conn.execute(delete(self.problems).where(among(conn, p.order_id, fine)))
        if not needing:
            return set()
        known = {
            int(row.order_id): row
            for row in conn.execute(
                select(p.order_id, p.reason, p.ignored_reason).where(
                    among(conn, p.order_id, needing)
                )
            )
        }
        news: set[int] = set()
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
                news.add(order_id)
            elif before.reason != reason:
                conn.execute(
                    update(self.problems)
                    .where(p.order_id == order_id)
                    .values(reason=reason, detail=detail, first_run=run_id, last_run=run_id,
                            seen_at=now, ignored_reason=None, ignored_at=None)
                )  # fmt: skip
                news.add(order_id)
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

    def yielded(self, conn: Connection, order_ids: Iterable[int]) -> set[int]:
        """Of these orders, those whose refused push an operator ignored (`orderamt ignore`):
        Odoo's value stands for them."""
        ids = list(order_ids)
        if not ids:
            return set()
        p = self.problems.c
        rows = conn.execute(
            select(p.order_id).where(
                among(conn, p.order_id, ids),
                p.reason == Reason.PUSH_REFUSED.value,
                p.ignored_reason.is_not(None),
            )
        )
        return {int(order_id) for (order_id,) in rows}

    def ignore(self, conn: Connection, order_id: int, reason: str, now: datetime) -> bool:
        p = self.problems.c
        done = conn.execute(
            update(self.problems)
            .where(p.order_id == order_id)
            .values(ignored_reason=reason[:255], ignored_at=now)
        )
        return done.rowcount == 1

    def place_holds(self, conn: Connection, holds: Sequence[Hold]) -> None:
        if holds:
            conn.execute(
                insert(self.holds),
                [
                    {
                        "order_id": h.order_id,
                        "amount": h.value if h.field == AMOUNT else None,
                        "odoo_write_date": h.odoo_write_date,
                        "reverted_run": h.reverted_run,
                        "revert_run": h.revert_run,
                        "held_at": h.held_at,
                        **({} if self.legacy else _stored_field(h)),
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
        field: str = AMOUNT,
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
            which.append(h.field.is_(None) if field == AMOUNT else h.field == field)
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


def _hold(row: Any) -> Hold:
    """A hold as stored: the amount's value in its own column (no field), a mapped field's
    as text beside its name."""
    field = row.get("field")
    return Hold(
        order_id=int(row["order_id"]),
        value=row["amount"] if field is None else row.get("value"),
        odoo_write_date=row["odoo_write_date"],
        reverted_run=int(row["reverted_run"]),
        revert_run=int(row["revert_run"]),
        held_at=row["held_at"],
        released_at=row["released_at"],
        released_why=row["released_why"],
        field=field or AMOUNT,
    )


def _stored_field(h: Hold) -> dict[str, object]:
    if h.field == AMOUNT:
        return {"field": None, "value": None}
    return {"field": h.field, "value": h.value}
