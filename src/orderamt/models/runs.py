"""A run: which orders it looks at, how it goes, what it counts, and what the journal keeps
of it (entries, run records, problems, the catch-up poll's checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import ClassVar, TypeAlias

from orderamt.models.fields import AMOUNT, Value
from orderamt.models.orders import Decision


class Mode(Enum):
    RECENT = "recent"
    ALL = "all"
    ONE = "one"
    CHANGED = "changed"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Recent:
    """Orders created since `since`, the start of a window of `days` days."""

    mode: ClassVar[Mode] = Mode.RECENT
    since: datetime
    days: int


@dataclass(frozen=True, slots=True)
class Everything:
    """Every order with an Odoo id (a backfill)."""

    mode: ClassVar[Mode] = Mode.ALL


@dataclass(frozen=True, slots=True)
class OneOrder:
    """One order, by its portal id (a spot fix)."""

    mode: ClassVar[Mode] = Mode.ONE
    order_id: int


@dataclass(frozen=True, slots=True)
class Changed:
    """The orders Odoo changed since the checkpoint (less a margin), or, before the first,
    in the last `days` days (a catch-up poll)."""

    mode: ClassVar[Mode] = Mode.CHANGED
    days: int
    margin: timedelta


@dataclass(frozen=True, slots=True)
class OdooOrders:
    """The portal orders of these Odoo sale orders (a webhook batch)."""

    mode: ClassVar[Mode] = Mode.WEBHOOK
    odoo_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a catch-up poll's reading of Odoo stands within one run.

    Odoo returns write_date in whole seconds while 18.0 compares a domain against its stored
    microseconds, so a page never continues with "the same second and a higher id": within
    one second orders are read by id alone (`within`), past it from the next second on.
    """

    second: str
    """Odoo's naive UTC 'YYYY-MM-DD HH:MM:SS'."""
    after_id: int = 0
    within: bool = True
    """True: the orders of `second` with an id above `after_id`; False: from the next second."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far the catch-up poll has read Odoo: the newest (write_date, id) it synced."""

    write_date: str
    """Odoo's naive UTC 'YYYY-MM-DD HH:MM:SS', whole seconds."""
    odoo_id: int
    heartbeat_run: int | None = None
    """The run a quiet poll brings up to date instead of adding one that changed nothing."""
    floor: str | None = None
    """Odoo's naive UTC second before which every order was read after its transaction
    committed, so that a poll reads back over its margin no further than this; None: the
    margin alone decides (kept in a state row of its own, `raise_floor`)."""

    def key(self) -> tuple[str, int]:
        return (self.write_date, self.odoo_id)


Selection: TypeAlias = "Recent | Everything | OneOrder | Changed | OdooOrders"
"""Which portal orders a run looks at; each kind carries exactly what it needs."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run goes, as the command line and the settings ask: built once where the
    command line is read, handed down whole."""

    batch_size: int
    """Portal orders read, asked of Odoo and written a transaction at a time."""
    dry_run: bool = False
    """Decide everything, write nothing anywhere (no journal, no run record)."""
    skip_conflicts: bool = False
    """--on-conflict skip: an order the portal changed since orderamt wrote it is kept."""
    strict: bool = False
    """--strict: any order that needs a look makes the exit 1, news or not."""


@dataclass(slots=True)
class RunCounts:
    """A tally, counted up as a run goes; `skipped` orders are the ones that need a human."""

    found: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    new_problems: int | None = None
    """Of the skipped, those that are news since the last run (None: not known, a dry run)."""
    pushed: int = 0
    """Fields whose portal value went back to Odoo (of the orders counted updated or skipped)."""

    @property
    def synced(self) -> int:
        return self.updated + self.unchanged + self.skipped

    def add(self, decision: Decision) -> None:
        """Each order in one bucket: one that needs a look is skipped even where a mapped
        field of it was written (the report shows both)."""
        self.pushed += len(decision.pushes)
        if decision.needs_look:
            self.skipped += 1
        elif decision.writes:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One amount orderamt wrote, as the journal keeps it."""

    run_id: int
    order_id: int
    odoo_id: str | None
    order_number: str
    old_amount: Decimal | None
    new_amount: Decimal | None
    odoo_write_date: str | None
    changed_at: datetime
    conflict: bool = False
    old_updated_at: datetime | None = None
    """The row's updated_at before the change (kept for the record: a revert is a write
    and takes the time of now)."""
    field: str | None = None
    """A mapped field's change (None: the amount's), with its values as text."""
    old_value: str | None = None
    new_value: str | None = None
    direction: str | None = None
    """None: a write to the portal (a pull); "push": the portal's value Odoo took (old and
    new are the portal's, `odoo_old` and `odoo_new` Odoo's); "intent": a push about to be
    made, kept until Odoo's answer confirms it (an intent left behind: orderamt stopped)."""
    odoo_old: str | None = None
    odoo_new: str | None = None

    @property
    def name(self) -> str:
        """The field changed: AMOUNT or a mapped field's name."""
        return self.field or AMOUNT

    @property
    def old(self) -> Value:
        return self.old_amount if self.field is None else self.old_value

    @property
    def new(self) -> Value:
        return self.new_amount if self.field is None else self.new_value


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run (a sync or a revert) as the journal's run log keeps it."""

    id: int
    kind: str
    mode: str
    reverts_run: int | None
    started_at: datetime
    finished_at: datetime | None
    found: int | None
    updated: int | None
    unchanged: int | None
    skipped: int | None
    exit_code: int | None
    error: str | None = None
    """The one line a failed run ended with."""
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One part of `orderamt check`: passed, failed (with its exit code) or not tried."""

    label: str
    passed: bool | None
    """None: not tried, because something it needs failed first."""
    detail: str
    exit_code: int = 0
    warning: bool = False
    """Passed, but with something an operator should look at (shown with a warning mark)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """An order that needs a look, as the journal keeps it between runs."""

    order_id: int
    order_number: str
    reason: str
    detail: str | None
    first_run: int
    last_run: int
    seen_at: datetime
    ignored_reason: str | None = None
    ignored_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunOverview:
    """The journal's runs at a glance, for `orderamt status` and the metrics file."""

    last: RunRecord | None = None
    last_success: RunRecord | None = None
    """The newest run that completed (exit 0 or 1, and no error: a run stopped by a bug or
    a full disk exits 1 too, with its error)."""
    last_poll: RunRecord | None = None
    unfinished: tuple[RunRecord, ...] = ()
    """Runs without an end: going now, or killed before they could record one."""
    last_pushed: int = 0
    """Fields the last run pushed to Odoo."""
    last_conflicts: int = 0
    """Fields of the last run's changes that settled a conflict (Odoo's or the portal's won)."""
