"""A revert: one run's changes put back where nothing changed them since."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from orderamt import money
from orderamt.errors import UsageError
from orderamt.models import (
    Action,
    Change,
    Decision,
    FieldChange,
    FieldIssue,
    Hold,
    JournalEntry,
    PortalOrder,
    Reason,
    RunCounts,
    RunOptions,
    RunRecord,
)
from orderamt.sync.ports import JournalStore, OrderStore, Reporter
from orderamt.sync.record import recorded

log = logging.getLogger("orderamt")


def revert_run(
    orders: OrderStore,
    journal: JournalStore,
    run_id: int,
    options: RunOptions,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
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
    reporter.found(len(entries), None)
    mode = PARTIAL_REVERT if partial else "revert"
    with recorded(
        journal, reporter, "revert", mode, clock=clock, options=options, reverts=run_id,
        eager=False,
    ) as run:  # fmt: skip
        run.counts.found = len(entries)
        for start in range(0, len(entries), options.batch_size):
            batch = entries[start : start + options.batch_size]
            ids = [e.order_id for e in batch]
            current, later = orders.get_many(ids), journal.touched_after(run_id, ids)
            decisions = [
                _revert_decision(
                    entry, current.get(entry.order_id), (entry.order_id, entry.field) in later
                )
                for entry in batch
            ]
            if not options.dry_run:
                decisions = _revert_writes(orders, decisions, batch, reverted, clock(), run.start())
            run.tally(decisions)
        run.start()
    log.info("Revert finished", extra={"context": {"run": run.id, "reverts": run_id}})
    return run.counts


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
