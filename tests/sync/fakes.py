"""Small in-memory stand-ins for the Protocols the sync meets (`orderamt.sync.ports`), for
fast tests of the orchestration; the end-to-end tests use the real stores and adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from orderamt.errors import PushRefused
from orderamt.models import (
    AMOUNT,
    PUSH_ACTIONS,
    Change,
    Checkpoint,
    Cursor,
    Decision,
    FieldSpec,
    Hold,
    JournalEntry,
    Known,
    OdooTotal,
    PortalOrder,
    RunCounts,
    RunRecord,
    Selection,
)
from orderamt.odoo.records import changed_query
from orderamt.times import UTC

START = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


class Ticking:
    """A clock that moves one second each time it is read."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Fail:
    """Raises `exc` when the named call is made for the `nth` time (1: the first)."""

    def __init__(self, at: str | None = None, exc: BaseException | None = None, nth: int = 1):
        self.at, self.exc, self.nth = at, exc, nth
        self.seen: dict[str, int] = {}

    def __call__(self, name: str) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1
        if name == self.at and self.seen[name] == self.nth:
            assert self.exc is not None
            raise self.exc


@dataclass
class Limits:
    max_amount: Decimal | None = None
    fields: tuple[FieldSpec, ...] = ()


@dataclass
class FakeOrders:
    """The portal's orders table: rows by id, written compare-and-set like the real one."""

    rows: dict[int, PortalOrder]
    fail: Fail = field(default_factory=Fail)
    journal: FakeJournal | None = None
    fields: tuple[FieldSpec, ...] = ()

    def check(self) -> Limits:
        self.fail("check")
        return Limits(fields=self.fields)

    def get(self, order_id: int) -> PortalOrder | None:
        return self.rows.get(order_id)

    def get_many(self, order_ids: Sequence[int]) -> dict[int, PortalOrder]:
        return {i: self.rows[i] for i in order_ids if i in self.rows}

    def count(self, selection: Selection) -> int:
        return len(self.rows)

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]:
        ids = sorted(self.rows)
        for start in range(0, len(ids), size):
            self.fail("batch")
            yield [self.rows[i] for i in ids[start : start + size]]

    def by_odoo_ids(self, odoo_ids: Sequence[int]) -> dict[int, list[PortalOrder]]:
        out: dict[int, list[PortalOrder]] = {}
        for order in self.rows.values():
            if order.odoo_ref in odoo_ids:
                out.setdefault(int(str(order.odoo_ref)), []).append(order)
        return out

    def apply(
        self,
        changes: Sequence[Change],
        now: datetime,
        run_id: int | None,
        checkpoint: Checkpoint | None = None,
    ) -> set[tuple[int, str]]:
        self.fail("apply")
        written: set[tuple[int, str]] = set()
        for change in changes:
            row = self.rows[change.order.id]
            same = row.values.get(change.field) == change.old
            if change.field != AMOUNT and (change.push or same):
                if change.push is None:
                    assert change.new is None or isinstance(change.new, str)
                    values = {**row.values, change.field: change.new}
                    self.rows[row.id] = replace(row, values=values, updated_at=now)
                written.add((row.id, change.field))
                if run_id is not None and self.journal is not None:
                    self.journal.entries.append(field_entry(change, run_id, now))
            if change.field == AMOUNT and row.amount == change.old:
                assert isinstance(change.new, Decimal)
                self.rows[row.id] = replace(row, amount=change.new, updated_at=now)
                written.add((row.id, AMOUNT))
                if run_id is not None and self.journal is not None:
                    self.journal.entries.append(
                        JournalEntry(
                            run_id,
                            row.id,
                            change.odoo_id,
                            row.number,
                            row.amount,
                            change.new,
                            change.write_date,
                            now,
                            old_updated_at=row.updated_at,
                        )
                    )
        if checkpoint is not None and self.journal is not None:
            self.journal.saved = checkpoint
        if run_id is not None and self.journal is not None and any(c.push for c in changes):
            self.journal.settle_intents(run_id)
        return written


def field_entry(
    change: Change, run_id: int, now: datetime, direction: str = "push"
) -> JournalEntry:
    """A mapped field's entry, a push's with its direction and Odoo's values."""
    push = change.push
    return JournalEntry(
        run_id, change.order.id, change.odoo_id, change.order.number, None, None,
        change.write_date, now, conflict=change.conflict, field=change.field,
        old_value=change.old, new_value=change.new,  # type: ignore[arg-type]
        direction=direction if push else None, odoo_old=push.odoo_old if push else None,
        odoo_new=push.odoo_new if push else None,
    )  # fmt: skip


@dataclass
class FakeJournal:
    """The journal: its runs and entries in lists."""

    runs: dict[int, RunRecord] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    saved: Checkpoint | None = None
    floor: str | None = None
    fail: Fail = field(default_factory=Fail)

    def known(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], Known], dict[tuple[int, str], Hold]]:
        """A mapped field's last entry that was done (not an intent): both sides agreed on
        its new value then (the fakes journal no reverts)."""
        known: dict[tuple[int, str], Known] = {}
        for e in self.entries:
            if e.field is not None and e.direction != "intent" and e.order_id in order_ids:
                known[(e.order_id, e.field)] = Known(e.new_value, e.new_value)
        return known, {}

    def intend(self, run_id: int, changes: Sequence[Change], now: datetime) -> None:
        self.fail("intend")
        self.entries += [field_entry(c, run_id, now, "intent") for c in changes]

    def open_intents(self) -> list[JournalEntry]:
        return [e for e in self.entries if e.direction == "intent"]

    def resolve_intents(
        self, confirmed: Sequence[JournalEntry], dropped: Sequence[JournalEntry]
    ) -> None:
        gone = {id(e) for e in dropped}
        done = {id(e) for e in confirmed}
        self.entries = [
            replace(e, direction="push") if id(e) in done else e
            for e in self.entries
            if id(e) not in gone
        ]

    def settle_intents(self, run_id: int) -> None:
        self.entries = [
            e for e in self.entries if not (e.run_id == run_id and e.direction == "intent")
        ]

    def yielded(self, order_ids: Sequence[int]) -> set[int]:
        return set()

    def touched_after(self, run_id: int, order_ids: Sequence[int]) -> set[tuple[int, str]]:
        return {(e.order_id, e.name) for e in self.entries if e.run_id > run_id}

    def revert_of(self, run_id: int) -> RunRecord | None:
        return next((r for r in self.runs.values() if r.reverts_run == run_id), None)

    def checkpoint(self) -> Checkpoint | None:
        """The saved checkpoint with the floor, kept apart as the state table keeps it."""
        if self.saved is None or self.floor is None:
            return self.saved
        return replace(self.saved, floor=self.floor)

    def raise_floor(self, floor: str, now: datetime) -> None:
        self.fail("raise_floor")
        self.floor = floor

    def blank(self) -> bool:
        return not self.entries

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int:
        self.fail("start_run")
        run_id = len(self.runs) + 1
        self.runs[run_id] = RunRecord(
            run_id, kind, mode, reverts, now, None, None, None, None, None, None
        )
        return run_id

    def finish_run(
        self, run_id: int, now: datetime, counts: RunCounts, code: int, error: str | None = None
    ) -> bool:
        if self.runs[run_id].finished_at is not None:
            return False
        self.runs[run_id] = replace(
            self.runs[run_id],
            finished_at=now,
            found=counts.found,
            updated=counts.updated,
            unchanged=counts.unchanged,
            skipped=counts.skipped,
            exit_code=code,
            error=error,
        )
        return True

    def heartbeat(self, checkpoint: Checkpoint | None, mode: str, now: datetime) -> int:
        run_id = self.start_run("sync", mode, now)
        self.finish_run(run_id, now, RunCounts(), 0)
        return run_id

    def note_problems(self, run_id: int, decisions: Sequence[Decision], now: datetime) -> set[int]:
        return {d.order.id for d in decisions if d.needs_look}

    def run(self, run_id: int) -> RunRecord | None:
        return self.runs.get(run_id)

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None, limit: int | None = None
    ) -> list[JournalEntry]:
        return [
            e
            for e in self.entries
            if (run_id is None or e.run_id == run_id)
            and (order_id is None or e.order_id == order_id)
        ]


@dataclass
class FakeOdoo:
    """Odoo: a total per sale order id. Pages of changed orders are answered as the
    version does (`odoo.records.changed_query` read the way Odoo reads it): 18.0 keeps
    each write_date's microseconds (`micro`, by id) and compares a domain against them;
    19.0 compares whole seconds."""

    totals: dict[int, OdooTotal]
    fail: Fail = field(default_factory=Fail)
    calls: list[str] = field(default_factory=list)
    version: int = 19
    micro: dict[int, int] = field(default_factory=dict)
    clock: datetime | None = None
    """Odoo's clock as its answers' Date header gives it; None: no Date sent."""

    def answered_at(self) -> datetime | None:
        return self.clock

    def login(self) -> None:
        self.calls.append("login")
        self.fail("login")

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """Odoo takes the action (the state it leaves), or refuses a `locked` order."""
        self.calls.append("push")
        self.fail("push")
        total = self.totals[odoo_id]
        if action == "write":
            self.totals[odoo_id] = replace(total, values={**total.values, **(values or {})})
            return
        if total.values.get("locked"):
            raise PushRefused("You cannot cancel a locked order. Please unlock it first.")
        state = {**total.values, "state": PUSH_ACTIONS[action]}
        self.totals[odoo_id] = replace(total, state=PUSH_ACTIONS[action], values=state)

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]:
        self.calls.append("fetch_totals")
        self.fail("fetch_totals")
        return {i: self.totals[i] for i in ids if i in self.totals}

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]:
        self.calls.append("changed_since")
        self.fail("changed_since")
        domain, order = changed_query(since, after)
        rows = [t for t in self.totals.values() if all(self._matches(t, *d) for d in domain)]
        if order == "id asc":
            rows.sort(key=lambda t: t.id)
        else:
            rows.sort(key=lambda t: (self._stored(t), t.id))
        return rows[:limit]

    def _stored(self, total: OdooTotal) -> datetime:
        stamp = datetime.strptime(total.write_date or "1970-01-01 00:00:00", ODOO_FORMAT)
        if self.version == 18:
            stamp += timedelta(microseconds=self.micro.get(total.id, 0))
        return stamp

    def _matches(self, total: OdooTotal, name: str, op: str, value: object) -> bool:
        if name == "id":
            assert op == ">" and isinstance(value, int)
            return total.id > value
        assert name == "write_date" and isinstance(value, str)
        stored, given = self._stored(total), datetime.strptime(value, ODOO_FORMAT)
        return {">=": stored >= given, "<": stored < given, ">": stored > given,
                "=": stored == given}[op]  # fmt: skip


ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Told:
    """A reporter that keeps what it is told."""

    decisions: list[Decision] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)

    def found(self, count: int, order: PortalOrder | None) -> None:
        pass

    def recorded(self, run_id: int) -> None:
        self.run_ids.append(run_id)

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        pass

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        pass

    def decided(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def news(self, order_ids: set[int]) -> None:
        pass


def portal(count: int) -> dict[int, PortalOrder]:
    """`count` portal orders, order i for sale order 100 + i, each at 10.00."""
    return {
        i: PortalOrder(i, f"SO-{i}", Decimal("10.00"), 100 + i, START) for i in range(1, count + 1)
    }


def odoo_of(rows: dict[int, PortalOrder], amount: str = "12.50") -> dict[int, OdooTotal]:
    """Odoo's side of `rows`: each sale order at `amount`, written in one second."""
    return {
        int(str(o.odoo_ref)): OdooTotal(
            int(str(o.odoo_ref)), o.number, float(amount), "sale", "USD", "2026-12-01 08:00:00"
        )
        for o in rows.values()
    }


Clock = Callable[[], datetime]
