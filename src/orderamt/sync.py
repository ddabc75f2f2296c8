"""The orchestration: read a batch of portal orders, ask Odoo, decide, write, report."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from orderamt.errors import ExitCode, OrderamtError, UsageError
from orderamt.journal import JournalEntry, RunRecord
from orderamt.models import (
    Action,
    Change,
    Decision,
    Mode,
    OdooTotal,
    PortalOrder,
    Reason,
    RunCounts,
    Selection,
)
from orderamt.reconcile import has_odoo_id, parse_odoo_id, reconcile

log = logging.getLogger("orderamt")


class TableLimits(Protocol):
    @property
    def max_amount(self) -> Decimal | None: ...


class OrderStore(Protocol):
    """Where portal orders are read and written, with their journal (the repository meets this)."""

    def check(self) -> TableLimits: ...

    def get(self, order_id: int) -> PortalOrder | None: ...

    def count(self, selection: Selection) -> int: ...

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]: ...

    def last_written(self, order_ids: Sequence[int]) -> dict[int, Decimal | None]: ...

    def apply(self, changes: Sequence[Change], now: datetime, run_id: int | None) -> set[int]: ...

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int: ...

    def finish_run(self, run_id: int, now: datetime, counts: RunCounts, code: int) -> None: ...

    def run(self, run_id: int) -> RunRecord | None: ...

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None
    ) -> list[JournalEntry]: ...


class TotalsSource(Protocol):
    """Where Odoo's totals come from (each Odoo adapter meets this)."""

    def login(self) -> None: ...

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]: ...


class Reporter(Protocol):
    """Who is told about the run as it goes (the console and JSON reports meet this)."""

    def found(self, count: int, selection: Selection, order: PortalOrder | None) -> None: ...

    def decided(self, decision: Decision) -> None: ...


def exit_code_for(counts: RunCounts) -> ExitCode:
    return ExitCode.PARTIAL if counts.skipped else ExitCode.OK


def sync_orders(
    portal: OrderStore,
    odoo: TotalsSource,
    selection: Selection,
    *,
    batch_size: int,
    clock: Callable[[], datetime],
    reporter: Reporter,
    dry_run: bool = False,
    skip_conflicts: bool = False,
) -> RunCounts:
    """Bring the selected portal orders in line with Odoo, one committed batch at a time.

    The portal's schema is checked before Odoo is asked anything, and Odoo's login before any
    order is read, so a bad setup writes nothing. A failure part-way leaves the batches before
    it committed (with their journal entries) and the current one untouched; the next run
    picks up the rest. A dry run decides everything and writes nothing anywhere.
    """
    limits = portal.check()
    single: PortalOrder | None = None
    if selection.mode is Mode.ONE:
        single = _single_order(portal, selection)
    odoo.login()
    counts = RunCounts(found=portal.count(selection))
    started = clock()
    run_id: int | None = None

    def record_run() -> int | None:
        # The run is recorded once Odoo has answered: a run that fails before writes nothing.
        nonlocal run_id
        if run_id is None and not dry_run:
            run_id = portal.start_run("sync", selection.mode.value, started)
        return run_id

    reporter.found(counts.found, selection, single)
    log.info(
        "Run started",
        extra={"context": {"mode": selection.mode.value, "dry_run": dry_run,
                           "found": counts.found}},
    )  # fmt: skip
    try:
        for batch, totals in _with_totals(portal.batches(selection, batch_size), odoo):
            decisions = _decide(portal, batch, totals, limits.max_amount, skip_conflicts)
            if not dry_run:
                decisions = _write(portal, decisions, clock(), record_run())
            for decision in decisions:
                counts.add(decision)
                reporter.decided(decision)
    except OrderamtError as exc:
        if run_id is not None:
            _finish(portal, run_id, clock(), counts, int(exc.exit_code))
        raise
    if record_run() is not None:
        assert run_id is not None
        _finish(portal, run_id, clock(), counts, int(exit_code_for(counts)))
    log.info("Run finished", extra={"context": {"run": run_id, **_tally(selection, counts)}})
    return counts


def _tally(selection: Selection, counts: RunCounts) -> dict[str, object]:
    return {
        "mode": selection.mode.value,
        "found": counts.found,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "skipped": counts.skipped,
    }


def _finish(portal: OrderStore, run_id: int, now: datetime, counts: RunCounts, code: int) -> None:
    try:
        portal.finish_run(run_id, now, counts, code)
    except OrderamtError as exc:
        # The run's own outcome matters more than its record; say so in the log.
        log.error("Could not record the end of the run", extra={"context": {"error": exc.message}})


def _single_order(portal: OrderStore, selection: Selection) -> PortalOrder:
    assert selection.order_id is not None
    order = portal.get(selection.order_id)
    if order is None:
        raise UsageError(f"order {selection.order_id} does not exist in the portal")
    if not has_odoo_id(order.odoo_ref):
        raise UsageError(
            f"order {selection.order_id} ({order.number}) has no Odoo id, so there is "
            "nothing to sync it from"
        )
    return order


def _odoo_ids(batch: list[PortalOrder]) -> list[int]:
    return sorted({i for i in (parse_odoo_id(o.odoo_ref) for o in batch) if i is not None})


def _with_totals(
    batches: Iterator[list[PortalOrder]], odoo: TotalsSource
) -> Iterator[tuple[list[PortalOrder], dict[int, OdooTotal]]]:
    """Each batch with Odoo's totals for it, Odoo already asked about the next one.

    While a batch is decided and written, the next batch's call to Odoo is under way in a
    worker thread, so Odoo's answer time and the portal's write time overlap instead of
    adding up. One call at a time still: the next is sent only once the previous answered.
    A failed call raises when its batch's turn comes, after the batches before it are written.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderamt-odoo") as pool:
        pending: tuple[list[PortalOrder], Future[dict[int, OdooTotal]]] | None = None
        for batch in batches:
            totals = pending[1].result() if pending else None
            upcoming = pool.submit(odoo.fetch_totals, _odoo_ids(batch))
            if pending and totals is not None:
                yield pending[0], totals
            pending = (batch, upcoming)
        if pending:
            yield pending[0], pending[1].result()


def _decide(
    portal: OrderStore,
    batch: list[PortalOrder],
    totals: dict[int, OdooTotal],
    max_amount: Decimal | None,
    skip_conflicts: bool,
) -> list[Decision]:
    written = portal.last_written([o.id for o in batch])
    return [
        reconcile(
            order,
            _lookup(totals, order),
            max_amount=max_amount,
            last_written=written.get(order.id),
            skip_conflicts=skip_conflicts,
        )
        for order in batch
    ]


def _write(
    portal: OrderStore, decisions: list[Decision], now: datetime, run_id: int | None
) -> list[Decision]:
    changes = [
        Change(
            d.order,
            d.new_amount,
            odoo_id=str(parse_odoo_id(d.order.odoo_ref)),
            write_date=d.write_date,
            conflict=d.conflict,
        )
        for d in decisions
        if d.action is Action.UPDATE
    ]
    written = portal.apply(changes, now, run_id)
    return [_confirm(decision, written) for decision in decisions]


def _lookup(totals: dict[int, OdooTotal], order: PortalOrder) -> OdooTotal | None:
    odoo_id = parse_odoo_id(order.odoo_ref)
    return totals.get(odoo_id) if odoo_id is not None else None


def _confirm(decision: Decision, written: set[int]) -> Decision:
    """An update the database did not take was raced by a portal change: report it as such."""
    if decision.action is not Action.UPDATE:
        if decision.reason is Reason.CONFLICT:
            _log_conflict(decision, "skipped")
        return decision
    order = decision.order
    if order.id not in written:
        log.warning(
            "Order changed in the portal during the run; not overwritten",
            extra={"context": {"order_id": order.id, "order_number": order.number}},
        )
        return Decision(
            order,
            Action.SKIP,
            new_amount=decision.new_amount,
            reason=Reason.CHANGED_IN_PORTAL,
            currency=decision.currency,
        )
    if decision.conflict:
        _log_conflict(decision, "Odoo wins")
    log.info(
        "Synced order amount from Odoo",
        extra={
            "context": {
                "order_id": order.id,
                "order_number": order.number,
                "old_amount": None if order.amount is None else f"{order.amount:.2f}",
                "new_amount": f"{decision.new_amount:.2f}",
            }
        },
    )
    return decision


def _log_conflict(decision: Decision, outcome: str) -> None:
    order = decision.order
    log.warning(
        "Conflict: amount changed in the portal and in Odoo",
        extra={
            "context": {
                "order_id": order.id,
                "order_number": order.number,
                "orderamt_wrote": decision.detail,
                "portal_amount": None if order.amount is None else f"{order.amount:.2f}",
                "odoo_amount": f"{decision.new_amount:.2f}",
                "outcome": outcome,
            }
        },
    )


def revert_run(
    portal: OrderStore,
    run_id: int,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
    dry_run: bool = False,
) -> RunCounts:
    """Put back the old amounts of one run, only where a row still holds what that run wrote.

    The revert is a journaled run itself, so it can be reverted in turn.
    """
    portal.check()
    if portal.run(run_id) is None:
        raise UsageError(f"run {run_id} is not in the journal (see: orderamt history)")
    entries = portal.changes(run_id=run_id)
    selection = Selection(Mode.ONE)
    counts = RunCounts(found=len(entries))
    reporter.found(counts.found, selection, None)
    revert_id = None if dry_run else portal.start_run("revert", "revert", clock(), run_id)
    current = {o.id: o for o in (portal.get(e.order_id) for e in entries) if o is not None}
    decisions: list[Decision] = []
    restore: dict[int, datetime | None] = {}
    for entry in entries:
        order = current.get(entry.order_id)
        holds = order is not None and _same(order.amount, entry.new_amount)
        if holds:
            assert order is not None
            subject = PortalOrder(
                entry.order_id, entry.order_number, order.amount, entry.odoo_id, order.updated_at
            )
            decisions.append(Decision(subject, Action.UPDATE, new_amount=entry.old_amount))
            restore[entry.order_id] = entry.old_updated_at
        else:
            seen = PortalOrder(
                entry.order_id,
                entry.order_number,
                order.amount if order else None,
                entry.odoo_id,
            )
            decisions.append(Decision(seen, Action.SKIP, reason=Reason.CHANGED_SINCE))
    try:
        if not dry_run:
            decisions = _revert_writes(portal, decisions, restore, clock(), revert_id)
    except OrderamtError as exc:
        if revert_id is not None:
            _finish(portal, revert_id, clock(), counts, int(exc.exit_code))
        raise
    for decision in decisions:
        counts.add(decision)
        reporter.decided(decision)
    if revert_id is not None:
        _finish(portal, revert_id, clock(), counts, int(exit_code_for(counts)))
    log.info("Revert finished", extra={"context": {"run": revert_id, "reverts": run_id}})
    return counts


def _revert_writes(
    portal: OrderStore,
    decisions: list[Decision],
    restore: dict[int, datetime | None],
    now: datetime,
    revert_id: int | None,
) -> list[Decision]:
    """Write the old amounts (and updated_at) back; a row changed meanwhile is left alone."""
    changes = [
        Change(
            d.order,
            d.new_amount,
            odoo_id=str(d.order.odoo_ref),
            restore_updated_at=True,
            updated_at=restore[d.order.id],
        )
        for d in decisions
        if d.action is Action.UPDATE
    ]
    written = portal.apply(changes, now, revert_id)
    return [
        d
        if d.action is not Action.UPDATE or d.order.id in written
        else Decision(d.order, Action.SKIP, reason=Reason.CHANGED_SINCE)
        for d in decisions
    ]


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.quantize(Decimal("0.01")) == b.quantize(Decimal("0.01"))
