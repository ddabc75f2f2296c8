"""The orchestration: read a batch of portal orders, ask Odoo, decide, write, report.

Knows no database, no HTTP and no terminal: it meets them through the Protocols below.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from orderamt import money
from orderamt.errors import ExitCode, OrderamtError, UsageError, exit_code_of
from orderamt.models import (
    Action,
    Change,
    Changed,
    Checkpoint,
    Contest,
    Decision,
    FieldChange,
    FieldIssue,
    FieldSpec,
    Hold,
    JournalEntry,
    LastValue,
    LastWrite,
    OdooOrders,
    OdooTotal,
    OneOrder,
    PortalOrder,
    Reason,
    RunCounts,
    RunRecord,
    Selection,
)
from orderamt.reconcile import has_odoo_id, parse_odoo_id, reconcile, reconcile_fields
from orderamt.times import EPOCH, odoo_time, parse_odoo_time, window_start

log = logging.getLogger("orderamt")


class TableLimits(Protocol):
    @property
    def max_amount(self) -> Decimal | None: ...

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The mapped fields, each column spelled as the table spells it."""
        ...


class OrderStore(Protocol):
    """Where portal orders are read and written (the portal's orders table meets this)."""

    def check(self) -> TableLimits: ...

    def get(self, order_id: int) -> PortalOrder | None: ...

    def get_many(self, order_ids: Sequence[int]) -> dict[int, PortalOrder]: ...

    def count(self, selection: Selection) -> int: ...

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]: ...

    def by_odoo_ids(self, odoo_ids: Sequence[int]) -> dict[int, list[PortalOrder]]: ...

    def apply(
        self,
        changes: Sequence[Change],
        now: datetime,
        run_id: int | None,
        checkpoint: Checkpoint | None = None,
    ) -> set[tuple[int, str | None]]:
        """Write compare-and-set, each column over the value read; with `run_id`, journal
        each write in the same transaction; with `checkpoint`, move the catch-up poll's
        checkpoint in it too. Returns the (order id, field) written; None is the amount."""
        ...


class JournalStore(Protocol):
    """What orderamt did before: its runs and the changes it made (the journal meets this)."""

    def last_written(self, order_ids: Sequence[int]) -> dict[int, LastWrite]: ...

    def holds(self, order_ids: Sequence[int]) -> dict[int, Hold]: ...

    def field_state(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], LastValue], dict[tuple[int, str], Hold]]:
        """For the mapped fields: what orderamt last wrote to each (order, field), and the
        revert holds in force on them."""
        ...

    def touched_after(self, run_id: int, order_ids: Sequence[int]) -> set[tuple[int, str | None]]:
        """The (order, field) a run later than `run_id` wrote to; None is the amount."""
        ...

    def revert_of(self, run_id: int) -> RunRecord | None: ...

    def checkpoint(self) -> Checkpoint | None: ...

    def blank(self) -> bool:
        """No change journaled and no hold placed yet: nothing the journal could say
        changes a decision (a first backfill need not ask it batch by batch)."""
        ...

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int: ...

    def finish_run(
        self, run_id: int, now: datetime, counts: RunCounts, code: int, error: str | None = None
    ) -> None: ...

    def heartbeat(self, checkpoint: Checkpoint | None, mode: str, now: datetime) -> int: ...

    def note_problems(self, run_id: int, decisions: Sequence[Decision], now: datetime) -> int:
        """Keep the orders that need a look; returns how many are news (not known before
        with the same reason, and not ignored)."""
        ...

    def run(self, run_id: int) -> RunRecord | None: ...

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None, limit: int | None = None
    ) -> list[JournalEntry]: ...


class TotalsSource(Protocol):
    """Where Odoo's totals come from (each Odoo adapter meets this)."""

    def login(self) -> None: ...

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]: ...


class ChangesSource(TotalsSource, Protocol):
    """Odoo, asked what changed (each Odoo adapter meets this)."""

    def changed_since(
        self, since: str, after: tuple[str, int] | None, limit: int
    ) -> list[OdooTotal]: ...


class Reporter(Protocol):
    """Who is told about the run as it goes (the console and JSON reports meet this)."""

    def found(self, count: int, order: PortalOrder | None) -> None: ...

    def recorded(self, run_id: int) -> None:
        """The run now has this id in the journal (for history and revert)."""
        ...

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        """A revert found its run reverted before, and does nothing."""
        ...

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        """A catch-up poll reads the orders Odoo wrote since `since` (Odoo's UTC)."""
        ...

    def decided(self, decision: Decision) -> None: ...


def exit_code_for(counts: RunCounts) -> ExitCode:
    """1 only for news: an order that needs a look and did not last time (or for another
    reason), or, with --strict (`counts.strict`), any order that needs a look."""
    if counts.strict or counts.new_problems is None:
        return ExitCode.PARTIAL if counts.skipped else ExitCode.OK
    return ExitCode.PARTIAL if counts.new_problems else ExitCode.OK


class _Run:
    """A run's record in the journal: started when first needed, always finished."""

    def __init__(
        self,
        journal: JournalStore,
        reporter: Reporter,
        kind: str,
        mode: str,
        started: datetime,
        *,
        dry_run: bool,
        reverts: int | None = None,
    ) -> None:
        self.journal = journal
        self.reporter = reporter
        self.kind, self.mode, self.started, self.reverts = kind, mode, started, reverts
        self.dry_run = dry_run
        self.id: int | None = None

    def start(self) -> int | None:
        if self.id is None and not self.dry_run:
            self.id = self.journal.start_run(self.kind, self.mode, self.started, self.reverts)
            self.reporter.recorded(self.id)
        return self.id

    def note(self, decisions: Sequence[Decision], now: datetime, counts: RunCounts) -> None:
        """Keep the orders that need a look, and count those that are news."""
        if self.dry_run:
            return
        run_id = self.start()
        assert run_id is not None
        new = self.journal.note_problems(run_id, decisions, now)
        counts.new_problems = (counts.new_problems or 0) + new

    def finish(self, now: datetime, counts: RunCounts, code: int, error: str = "") -> None:
        """Record the end (a run stopped before it was recorded is recorded now)."""
        if self.dry_run:
            return
        try:
            self.start()
            assert self.id is not None
            self.journal.finish_run(self.id, now, counts, code, error or None)
        except Exception as exc:  # the run's own outcome matters more than its record
            log.error("Could not record the end of the run", extra={"context": {"error": str(exc)}})

    def failed(self, exc: BaseException, now: datetime, counts: RunCounts) -> None:
        code = exit_code_of(exc)
        if isinstance(exc, OrderamtError):
            error = exc.message
        elif code is ExitCode.INTERRUPTED:
            error = "stopped by Ctrl-C"
        elif code is ExitCode.TERMINATED:
            error = "stopped by SIGTERM"
        else:
            error = f"{type(exc).__name__}: {exc}"
        self.finish(now, counts, int(code), error)


def sync_orders(
    orders: OrderStore,
    journal: JournalStore,
    odoo: TotalsSource,
    selection: Selection,
    *,
    batch_size: int,
    clock: Callable[[], datetime],
    reporter: Reporter,
    dry_run: bool = False,
    skip_conflicts: bool = False,
    strict: bool = False,
) -> RunCounts:
    """Bring the selected portal orders in line with Odoo, one committed batch at a time.

    The portal's schema is checked before Odoo is asked anything, and Odoo's login before any
    order is read, so a bad setup writes nothing. A failure part-way leaves the batches before
    it committed (with their journal entries) and the current one untouched; the next run
    picks up the rest. A dry run decides everything and writes nothing anywhere.
    """
    limits = orders.check()
    # Every run that reaches the portal is recorded, one that fails too (an Odoo outage is
    # a run with exit 3 and its error, not a gap in the history).
    run = _Run(journal, reporter, "sync", selection.mode.value, clock(), dry_run=dry_run)
    counts = RunCounts(strict=strict)
    try:
        run.start()
        single: PortalOrder | None = None
        if isinstance(selection, OneOrder):
            single = _single_order(orders, selection.order_id)
        odoo.login()
        counts.found = orders.count(selection)
        # Blank before this run: its own entries are for orders of earlier batches (each
        # order comes once), and a concurrent run's write is still caught by the
        # compare-and-set.
        knows = None if journal.blank() else journal
    except BaseException as exc:
        run.failed(exc, clock(), counts)
        raise
    reporter.found(counts.found, single)
    log.info(
        "Run started",
        extra={"context": {"mode": selection.mode.value, "dry_run": dry_run,
                           "found": counts.found}},
    )  # fmt: skip
    try:
        for batch, totals in _with_totals(orders.batches(selection, batch_size), odoo):
            pairs = [(order, _lookup(totals, order)) for order in batch]
            decisions = _decide(knows, pairs, limits, skip_conflicts)
            if not dry_run:
                decisions = _write(orders, decisions, clock(), run.start())
            run.note(decisions, clock(), counts)
            for decision in decisions:
                counts.add(decision)
                reporter.decided(decision)
            _flush_log()
    except BaseException as exc:
        run.failed(exc, clock(), counts)
        raise
    run.finish(clock(), counts, int(exit_code_for(counts)))
    log.info("Run finished", extra={"context": {"run": run.id, **_tally(selection, counts)}})
    return counts


def _flush_log() -> None:
    """A batch is done: its log lines go to disk with it (the log buffers between batches)."""
    for handler in log.handlers:
        handler.flush()


def _decide(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    limits: TableLimits,
    skip_conflicts: bool,
) -> list[Decision]:
    """The rule for each order, the amount and each mapped field."""
    decisions = _decide_amounts(journal, pairs, limits.max_amount, skip_conflicts)
    specs = limits.fields
    if not specs:
        return decisions
    return _decide_fields(journal, pairs, decisions, specs, skip_conflicts)


def _decide_fields(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    decisions: list[Decision],
    specs: Sequence[FieldSpec],
    skip_conflicts: bool,
) -> list[Decision]:
    """Each mapped field of the orders Odoo has; as for the amount, the journal is read only
    for the orders whose fields would change."""

    names = [spec.name for spec in specs]

    def fields_of(
        order: PortalOrder,
        odoo: OdooTotal,
        last: dict[tuple[int, str], LastValue] | None = None,
        holds: dict[tuple[int, str], Hold] | None = None,
    ) -> tuple[tuple[FieldChange, ...], tuple[FieldIssue, ...], tuple[Hold, ...]]:
        return reconcile_fields(
            order,
            odoo,
            specs,
            last={f: last[(order.id, f)] for f in names if (order.id, f) in last} if last else None,
            holds={f: holds[(order.id, f)] for f in names if (order.id, f) in holds}
            if holds
            else None,
            skip_conflicts=skip_conflicts,
        )

    usable = [
        (i, order, odoo)
        for i, ((order, odoo), d) in enumerate(zip(pairs, decisions, strict=True))
        if odoo is not None and d.reason not in _NO_FIELDS
    ]
    first = {i: fields_of(order, odoo) for i, order, odoo in usable}
    moving = [decisions[i].order.id for i, (changes, _, _) in first.items() if changes]
    if moving and journal is not None:
        last, holds = journal.field_state(moving)
        if last or holds:
            first.update(
                {i: fields_of(order, odoo, last, holds) for i, order, odoo in usable if first[i][0]}
            )
    out = list(decisions)
    for i, (changes, issues, held) in first.items():
        if changes or issues or held:
            out[i] = replace(out[i], fields=changes, issues=issues, held=held)
    return out


_NO_FIELDS = (Reason.BAD_ODOO_ID, Reason.NOT_IN_ODOO)
"""An order Odoo has no sale order for has no fields to take either."""


def _decide_amounts(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    max_amount: Decimal | None,
    skip_conflicts: bool,
) -> list[Decision]:
    """The rule for each order's amount; the journal is read only for the orders that would
    change (what orderamt last wrote, and a revert's hold), so a batch in line with Odoo
    costs no journal query; None: a journal known to be blank."""
    first = [reconcile(order, odoo, max_amount=max_amount) for order, odoo in pairs]
    moving = [d.order.id for d in first if d.action is Action.UPDATE]
    if not moving or journal is None:
        return first
    last, holds = journal.last_written(moving), journal.holds(moving)
    if not last and not holds:
        return first  # a first backfill: nothing in the journal can change a decision
    return [
        reconcile(
            order,
            odoo,
            max_amount=max_amount,
            last=last.get(order.id),
            hold=holds.get(order.id),
            skip_conflicts=skip_conflicts,
        )
        if decided.action is Action.UPDATE and (order.id in last or order.id in holds)
        else decided
        for (order, odoo), decided in zip(pairs, first, strict=True)
    ]


def sync_changed(
    orders: OrderStore,
    journal: JournalStore,
    odoo: ChangesSource,
    selection: Changed,
    *,
    batch_size: int,
    clock: Callable[[], datetime],
    reporter: Reporter,
    dry_run: bool = False,
    skip_conflicts: bool = False,
    strict: bool = False,
) -> RunCounts:
    """The catch-up poll: the orders Odoo wrote since the checkpoint, in (write_date, id)
    order, a batch at a time, each batch written with its journal entries and the moved
    checkpoint in one transaction.

    Each poll reads back over `selection.margin` before the checkpoint: Odoo stamps
    write_date when its transaction starts, so a slow one can commit after a later one was
    read; reading it again costs nothing when nothing changed. Before the first checkpoint,
    the last `selection.days` days. Odoo orders the portal does not have are passed over. A
    poll that changed nothing and found nothing wrong records no run.
    """
    limits = orders.check()
    checkpoint = journal.checkpoint()
    now = clock()
    run = _Run(journal, reporter, "sync", selection.mode.value, now, dry_run=dry_run)
    counts = RunCounts(strict=strict)
    try:
        odoo.login()
    except BaseException as exc:
        run.failed(exc, clock(), counts)
        raise
    if checkpoint is None:
        since = odoo_time(window_start(now, selection.days))
    else:
        since = odoo_time(parse_odoo_time(checkpoint.write_date) - selection.margin)
    reporter.polling(since, checkpoint)
    newest = checkpoint
    after: tuple[str, int] | None = None
    try:
        while True:
            page = odoo.changed_since(since, after, batch_size)
            if not page:
                break
            portal = orders.by_odoo_ids([total.id for total in page])
            pairs = [(order, total) for total in page for order in portal.get(total.id, [])]
            counts.found += len(pairs)
            decisions = _decide(journal, pairs, limits, skip_conflicts)
            reached = _cursor(page)
            moved = reached if newest is None or reached.key() > newest.key() else None
            news = any(d.writes or d.needs_look for d in decisions)
            if not dry_run:
                decisions = _write(
                    orders, decisions, clock(), run.start() if news else run.id, moved
                )
            if news:
                run.note(decisions, clock(), counts)
            newest = moved or newest
            for decision in decisions:
                counts.add(decision)
                reporter.decided(decision)
            after = reached.key()
            if len(page) < batch_size:
                break
    except BaseException as exc:
        run.failed(exc, clock(), counts)
        raise
    if run.id is not None:
        run.finish(clock(), counts, int(exit_code_for(counts)))
    elif not dry_run:
        # Nothing changed and nothing wrong: bring one heartbeat run up to date instead of
        # adding a run that did nothing (status shows when the last poll was).
        run.id = journal.heartbeat(newest, selection.mode.value, clock())
        reporter.recorded(run.id)
    log.info(
        "Catch-up poll finished",
        extra={"context": {"run": run.id, "since": since, **_tally(selection, counts)}},
    )
    return counts


def _cursor(page: Sequence[OdooTotal]) -> Checkpoint:
    """Where a page of changed orders ends: its last (write_date, id)."""
    last = page[-1]
    return Checkpoint(last.write_date or EPOCH, last.id)


def sync_odoo_orders(
    orders: OrderStore,
    journal: JournalStore,
    odoo: TotalsSource,
    selection: OdooOrders,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
    skip_conflicts: bool = False,
) -> RunCounts:
    """A webhook batch: the portal orders of these Odoo ids, read from Odoo (never from the
    webhook's payload, which can be stale or forged) and synced as `sync --order-id` would,
    in one batch and one journaled run."""
    limits = orders.check()
    portal = orders.by_odoo_ids(selection.odoo_ids)
    pairs_of = [order for ids in portal.values() for order in ids]
    counts = RunCounts(found=len(pairs_of))
    if not pairs_of:
        return counts
    totals = odoo.fetch_totals(sorted(portal))
    run = _Run(journal, reporter, "sync", selection.mode.value, clock(), dry_run=False)
    try:
        pairs = [(order, _lookup(totals, order)) for order in pairs_of]
        decisions = _decide(journal, pairs, limits, skip_conflicts)
        decisions = _write(orders, decisions, clock(), run.start())
        run.note(decisions, clock(), counts)
        for decision in decisions:
            counts.add(decision)
            reporter.decided(decision)
    except BaseException as exc:
        run.failed(exc, clock(), counts)
        raise
    run.finish(clock(), counts, int(exit_code_for(counts)))
    return counts


def _tally(selection: Selection, counts: RunCounts) -> dict[str, object]:
    return {
        "mode": selection.mode.value,
        "found": counts.found,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "skipped": counts.skipped,
    }


def _single_order(orders: OrderStore, order_id: int) -> PortalOrder:
    order = orders.get(order_id)
    if order is None:
        raise UsageError(f"order {order_id} does not exist in the portal")
    if not has_odoo_id(order.odoo_ref):
        raise UsageError(
            f"order {order_id} ({order.number}) has no Odoo id, so there is nothing to sync it from"
        )
    return order


def _odoo_ids(batch: list[PortalOrder]) -> list[int]:
    return sorted({i for i in (parse_odoo_id(o.odoo_ref) for o in batch) if i is not None})


Result = TypeVar("Result")


class _Call(Generic[Result]):
    """One call made in a daemon thread, its result (or exception) collected later.

    A daemon thread, not a pool: a Ctrl-C or a portal error in the main thread ends the
    process at once instead of waiting for an Odoo call in flight (up to its timeout and
    retries); the abandoned call dies with the process.
    """

    def __init__(self, call: Callable[[], Result]) -> None:
        self._done = threading.Event()
        self._result: Result | None = None
        self._error: BaseException | None = None
        thread = threading.Thread(target=self._run, args=(call,), name="orderamt-odoo", daemon=True)
        thread.start()

    def _run(self, call: Callable[[], Result]) -> None:
        try:
            self._result = call()
        except BaseException as exc:  # handed to the main thread, which decides
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> Result:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


def _with_totals(
    batches: Iterator[list[PortalOrder]], odoo: TotalsSource
) -> Iterator[tuple[list[PortalOrder], dict[int, OdooTotal]]]:
    """Each batch with Odoo's totals for it, Odoo already asked about the next one.

    While a batch is decided and written, the next batch's call to Odoo is under way in a
    worker thread, so Odoo's answer time and the portal's write time overlap instead of
    adding up. One call at a time still: the next is sent only once the previous answered.
    A failed call raises when its batch's turn comes, after the batches before it are written.
    """
    pending: tuple[list[PortalOrder], _Call[dict[int, OdooTotal]]] | None = None
    for batch in batches:
        totals = pending[1].result() if pending else None
        ids = _odoo_ids(batch)
        upcoming = _Call(lambda ids=ids: odoo.fetch_totals(ids))  # type: ignore[misc]
        if pending and totals is not None:
            yield pending[0], totals
        pending = (batch, upcoming)
    if pending:
        yield pending[0], pending[1].result()


def _write(
    orders: OrderStore,
    decisions: list[Decision],
    now: datetime,
    run_id: int | None,
    checkpoint: Checkpoint | None = None,
) -> list[Decision]:
    changes = []
    for d in decisions:
        if d.action is Action.UPDATE:
            changes.append(
                Change(
                    d.order,
                    d.new_amount,
                    odoo_id=str(d.odoo_id),
                    write_date=d.write_date,
                    conflict=d.conflict,
                    release_hold="Odoo changed" if d.hold is not None else None,
                )
            )
        changes.extend(
            Change(
                d.order,
                None,
                odoo_id=str(d.odoo_id),
                write_date=d.write_date,
                conflict=f.contest is not None,
                release_hold="Odoo changed" if f.hold is not None else None,
                field=f.field,
                old_value=f.old,
                new_value=f.new,
            )
            for f in d.fields
        )
    written = orders.apply(changes, now, run_id, checkpoint)
    lines = _Lines()
    try:
        return [_confirm(decision, written, lines) for decision in decisions]
    finally:
        lines.flush()  # the batch is committed: its lines are kept, whatever comes next


LINES_A_RECORD = 1000
"""Lines one record holds at most: a block the log's rotation can still bound."""


class _Lines:
    """A batch's log lines, in their order: the INFO lines (one per change) go out together
    as one record that the log's formatter writes a line each (`each`); a warning goes out
    in its place, after the lines before it. A LogRecord per change was most of what the
    log cost a backfill."""

    def __init__(self) -> None:
        self._each: list[tuple[str, dict[str, object]]] = []

    def info(self, message: str, context: dict[str, object]) -> None:
        self._each.append((message, context))
        if len(self._each) >= LINES_A_RECORD:
            self.flush()

    def warning(self, message: str, context: dict[str, object]) -> None:
        self.flush()
        log.warning(message, extra={"context": context})

    def flush(self) -> None:
        if self._each:
            log.info(self._each[0][0], extra={"each": self._each})
            self._each = []


def _lookup(totals: dict[int, OdooTotal], order: PortalOrder) -> OdooTotal | None:
    odoo_id = parse_odoo_id(order.odoo_ref)
    return totals.get(odoo_id) if odoo_id is not None else None


def _confirm_fields(
    decision: Decision, written: set[tuple[int, str | None]], lines: _Lines
) -> Decision:
    """Keep the field changes the database took; log each, and each one a portal change
    raced (left alone, as for the amount)."""
    order = decision.order
    for issue in decision.issues:
        if issue.reason in (Reason.CONFLICT, Reason.DRIFT):
            _log_field_conflict(lines, order, issue.field, issue.portal_value,
                                issue.last_written, issue.new, issue.reason is Reason.CONFLICT,
                                "skipped")  # fmt: skip
    if not decision.fields:
        return decision
    kept = []
    for f in decision.fields:
        context: dict[str, object] = {
            "order_id": order.id, "order_number": order.number, "field": f.field,
        }  # fmt: skip
        if (order.id, f.field) not in written:
            lines.warning(
                "Order field changed in the portal during the run; not overwritten", context
            )
            continue
        if f.contest is not None:
            _log_field_conflict(lines, order, f.field, f.old, f.last_written, f.new,
                                f.contest is Contest.CONFLICT, "Odoo wins")  # fmt: skip
        lines.info(
            "Synced order field from Odoo", {**context, "old_value": f.old, "new_value": f.new}
        )
        kept.append(f)
    return replace(decision, fields=tuple(kept))


def _log_field_conflict(
    lines: _Lines,
    order: PortalOrder,
    field: str,
    portal: str | None,
    wrote: str | None,
    odoo: str | None,
    both: bool,
    outcome: str,
) -> None:
    lines.warning(
        f"Conflict: {field} changed in the portal and in Odoo"
        if both
        else f"Drift: {field} changed in the portal while Odoo did not change",
        {
            "order_id": order.id,
            "order_number": order.number,
            "field": field,
            "orderamt_wrote": wrote,
            "portal_value": portal,
            "odoo_value": odoo,
            "outcome": outcome,
        },
    )


def _confirm(decision: Decision, written: set[tuple[int, str | None]], lines: _Lines) -> Decision:
    """An update the database did not take was raced by a portal change: report it as such."""
    decision = _confirm_fields(decision, written, lines)
    if decision.action is not Action.UPDATE:
        if decision.conflict:
            _log_conflict(lines, decision, "skipped")
        return decision
    order = decision.order
    if (order.id, None) not in written:
        lines.warning(
            "Order changed in the portal during the run; not overwritten",
            {"order_id": order.id, "order_number": order.number},
        )
        return Decision(
            order,
            Action.SKIP,
            new_amount=decision.new_amount,
            reason=Reason.CHANGED_IN_PORTAL,
            currency=decision.currency,
            odoo_id=decision.odoo_id,
            fields=decision.fields,
            issues=decision.issues,
            held=decision.held,
        )
    if decision.conflict:
        _log_conflict(lines, decision, "Odoo wins")
    lines.info(
        "Synced order amount from Odoo",
        {
            "order_id": order.id,
            "order_number": order.number,
            "old_amount": money.plain(order.amount),
            "new_amount": money.plain(decision.new_amount),
        },
    )
    return decision


def _log_conflict(lines: _Lines, decision: Decision, outcome: str) -> None:
    order = decision.order
    lines.warning(
        "Conflict: amount changed in the portal and in Odoo"
        if decision.contest is Contest.CONFLICT
        else "Drift: amount changed in the portal while Odoo did not change",
        {
            "order_id": order.id,
            "order_number": order.number,
            "orderamt_wrote": money.plain(decision.last_written),
            "portal_amount": money.plain(order.amount),
            "odoo_amount": money.plain(decision.new_amount),
            "outcome": outcome,
        },
    )


def revert_run(
    orders: OrderStore,
    journal: JournalStore,
    run_id: int,
    *,
    batch_size: int,
    clock: Callable[[], datetime],
    reporter: Reporter,
    dry_run: bool = False,
    order_id: int | None = None,
    field: str | None = None,
) -> RunCounts:
    """Put back the old amounts (and mapped fields) of one run, only where nothing changed
    them since.

    A value is unchanged since only while the row holds exactly what the run wrote and no
    later run wrote to it. Each reverted change is held: the sync does not write the same
    Odoo value at the same write_date again (reverting a revert releases those holds). Read
    and written in batches like a sync, each batch its own transaction; the revert is a
    journaled run, recorded once the rows are read. A run reverted before is left alone.
    With `order_id` (and `field`: "amount" or a mapped field's name) only that part of the
    run is put back; such a partial revert does not count as the run's revert.
    """
    limits = orders.check()
    reverted = journal.run(run_id)
    if reverted is None:
        raise UsageError(f"run {run_id} is not in the journal (see: orderamt history)")
    partial = order_id is not None or field is not None
    done = journal.revert_of(run_id)
    if done is not None:
        reporter.already_reverted(run_id, done)
        return RunCounts()
    entries = journal.changes(run_id=run_id, order_id=order_id)
    if field is not None:
        wanted = None if field == AMOUNT else field
        entries = [e for e in entries if e.field == wanted]
    mapped = {spec.name for spec in limits.fields}
    unmapped = sorted({e.field for e in entries if e.field is not None and e.field not in mapped})
    if unmapped:
        raise UsageError(
            f"run {run_id} changed {', '.join(unmapped)}, which is no longer mapped (ORDERAMT_"
            f"{unmapped[0].upper()}_MAP): map it again to put it back, or revert the rest "
            "with --field"
        )
    counts = RunCounts(found=len(entries))
    reporter.found(counts.found, None)
    mode = PARTIAL_REVERT if partial else "revert"
    run = _Run(journal, reporter, "revert", mode, clock(), dry_run=dry_run, reverts=run_id)
    try:
        for start in range(0, len(entries), batch_size):
            batch = entries[start : start + batch_size]
            ids = [e.order_id for e in batch]
            current, later = orders.get_many(ids), journal.touched_after(run_id, ids)
            decisions = [
                _revert_decision(
                    entry, current.get(entry.order_id), (entry.order_id, entry.field) in later
                )
                for entry in batch
            ]
            if not dry_run:
                decisions = _revert_writes(orders, decisions, batch, reverted, clock(), run.start())
            for decision in decisions:
                counts.add(decision)
                reporter.decided(decision)
    except BaseException as exc:
        run.finish(clock(), counts, int(exit_code_of(exc)))
        raise
    run.start()
    run.finish(clock(), counts, int(exit_code_for(counts)))
    log.info("Revert finished", extra={"context": {"run": run.id, "reverts": run_id}})
    return counts


AMOUNT = "amount"
"""The amount's name where a field is named (`revert --field amount`)."""
PARTIAL_REVERT = "revert-part"
"""The mode of a revert of one order (or one field) of a run: not the run's revert."""


def _revert_decision(entry: JournalEntry, order: PortalOrder | None, later: bool) -> Decision:
    """Put the old value back where the row still holds what the run wrote, untouched since."""
    now_holds = order.amount if order is not None else None
    subject = PortalOrder(
        entry.order_id,
        entry.order_number,
        now_holds,
        entry.odoo_id,
        order.updated_at if order is not None else None,
        values=order.values if order is not None else {},
    )
    if entry.field is not None:
        value = order.values.get(entry.field) if order is not None else None
        if order is not None and not later and value == entry.new_value:
            change = FieldChange(entry.field, value, entry.old_value)
            return Decision(subject, Action.UNCHANGED, fields=(change,))
        issue = FieldIssue(entry.field, "", Reason.CHANGED_SINCE, portal_value=value)
        return Decision(subject, Action.UNCHANGED, issues=(issue,))
    if order is not None and not later and money.same(order.amount, entry.new_amount):
        return Decision(subject, Action.UPDATE, new_amount=entry.old_amount)
    return Decision(subject, Action.SKIP, reason=Reason.CHANGED_SINCE)


def _revert_writes(
    orders: OrderStore,
    decisions: list[Decision],
    entries: list[JournalEntry],
    reverted: RunRecord,
    now: datetime,
    revert_id: int | None,
) -> list[Decision]:
    """Write the old values (and updated_at) back; a value changed meanwhile is left alone."""
    by_key = {(e.order_id, e.field): e for e in entries}
    changes = []
    for d in decisions:
        for f in d.fields:
            entry = by_key[(d.order.id, f.field)]
            held = None
            if reverted.kind == "sync":
                held = Hold(d.order.id, None, entry.odoo_write_date, reverted.id,
                            field=f.field, value=entry.new_value)  # fmt: skip
            changes.append(
                Change(
                    d.order,
                    None,
                    odoo_id=None if d.order.odoo_ref is None else str(d.order.odoo_ref),
                    restore_updated_at=True,
                    updated_at=entry.old_updated_at,
                    place_hold=held,
                    release_hold="its revert undone" if reverted.kind == "revert" else None,
                    field=f.field,
                    old_value=f.old,
                    new_value=f.new,
                )
            )
        if d.action is not Action.UPDATE:
            continue
        entry = by_key[(d.order.id, None)]
        hold = None
        if reverted.kind == "sync":
            hold = Hold(d.order.id, entry.new_amount, entry.odoo_write_date, reverted.id)
        changes.append(
            Change(
                d.order,
                d.new_amount,
                odoo_id=None if d.order.odoo_ref is None else str(d.order.odoo_ref),
                restore_updated_at=True,
                updated_at=entry.old_updated_at,
                place_hold=hold,
                release_hold="its revert undone" if reverted.kind == "revert" else None,
            )
        )
    written = orders.apply(changes, now, revert_id)
    return [_confirm_revert(d, written) for d in decisions]


def _confirm_revert(decision: Decision, written: set[tuple[int, str | None]]) -> Decision:
    """A value the database did not take changed meanwhile: left alone, and said so."""
    order_id = decision.order.id
    if decision.fields:
        f = decision.fields[0]
        if (order_id, f.field) in written:
            return decision
        issue = FieldIssue(f.field, "", Reason.CHANGED_SINCE, portal_value=f.old)
        return replace(decision, fields=(), issues=(issue,))
    if decision.action is not Action.UPDATE or (order_id, None) in written:
        return decision
    return Decision(decision.order, Action.SKIP, reason=Reason.CHANGED_SINCE)
