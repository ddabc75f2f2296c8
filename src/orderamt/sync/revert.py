"""A revert: one run's changes put back where nothing changed them since."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from orderamt.errors import UsageError
from orderamt.models import (
    AMOUNT,
    PUSH_ACTIONS,
    WRITE,
    Action,
    Change,
    Decision,
    FieldChange,
    FieldIssue,
    FieldSpec,
    Hold,
    JournalEntry,
    PortalOrder,
    Push,
    Reason,
    RunCounts,
    RunOptions,
    RunRecord,
    Value,
)
from orderamt.reconcile import parse_odoo_id, same_value
from orderamt.sync.ports import JournalStore, OrderStore, Reporter, TotalsSource
from orderamt.sync.push import odoo_totals, push_all, still_left
from orderamt.sync.record import Run, recorded
from orderamt.sync.write import write

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
    odoo: TotalsSource | None = None,
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
    A push the run made is undone in Odoo (`odoo`) where Odoo allows it (`_undo_pushes`).
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
        entries = [e for e in entries if e.name == field]
    pushes = [e for e in entries if e.direction == "push"]
    # A push left the portal as it was, and an intent is no change orderamt knows it made.
    entries = [e for e in entries if e.direction is None]
    mapped = {spec.name for spec in limits.fields}
    unmapped = sorted({e.field for e in entries if e.field is not None and e.field not in mapped})
    if unmapped:
        raise UsageError(
            f"run {run_id} changed {', '.join(unmapped)}, which is no longer mapped (ORDERAMT_"
            f"{unmapped[0].upper()}_MAP): map it again to put it back, or revert the rest "
            "with --field"
        )
    if pushes and odoo is None:
        raise UsageError(f"run {run_id} pushed to Odoo: reverting it needs Odoo")
    reporter.found(len(entries) + len(pushes), None)
    mode = PARTIAL_REVERT if partial else "revert"
    with recorded(
        journal, reporter, "revert", mode, clock=clock, options=options, reverts=run_id,
        eager=False,
    ) as run:  # fmt: skip
        run.counts.found = len(entries) + len(pushes)
        for start in range(0, len(entries), options.batch_size):
            batch = entries[start : start + options.batch_size]
            ids = [e.order_id for e in batch]
            current, later = orders.get_many(ids), journal.touched_after(run_id, ids)
            decisions = [
                _revert_decision(
                    entry, current.get(entry.order_id), (entry.order_id, entry.name) in later
                )
                for entry in batch
            ]
            if not options.dry_run:
                decisions = _revert_writes(orders, decisions, batch, reverted, clock(), run.start())
            run.tally(decisions)
        if pushes:
            assert odoo is not None
            specs = {spec.name: spec for spec in limits.fields}
            run.tally(_undo_pushes(orders, journal, odoo, run, pushes, run_id, specs))
        run.start()
    log.info("Revert finished", extra={"context": {"run": run.id, "reverts": run_id}})
    return run.counts


UNDO = {"cancel": "draft", "draft": "cancel"}
"""The action that undoes a push, by the state the push left: a cancellation goes back to
a quotation (action_draft), never to the confirmed order it may have been, and a cancelled
delivery stays cancelled."""


def _undo_pushes(
    orders: OrderStore,
    journal: JournalStore,
    odoo: TotalsSource,
    run: Run,
    entries: list[JournalEntry],
    run_id: int,
    specs: Mapping[str, FieldSpec],
) -> list[Decision]:
    """Undo each push where Odoo still says what it left and no later run touched the field:
    the undoing action (a plain field's old value written back), journaled as a push of the
    revert run. Anything else is left alone and said so (changed since)."""
    odoo.login()
    ids = [e.order_id for e in entries]
    current, later = orders.get_many(ids), journal.touched_after(run_id, ids)
    totals = odoo_totals(odoo, entries)
    decisions = []
    for e in entries:
        order = current.get(e.order_id)
        odoo_id = parse_odoo_id(e.odoo_id)
        total = totals.get(odoo_id) if odoo_id is not None else None
        subject = order or PortalOrder(e.order_id, e.order_number, None, e.odoo_id)
        spec = specs.get(e.name)
        plain = spec is not None and spec.kind != "map"
        undo = WRITE if plain else UNDO.get(e.odoo_new or "")
        still = still_left(e, spec, totals)
        if order is None or undo is None or not still or (e.order_id, e.name) in later:
            decisions.append(Decision(subject, Action.UNCHANGED,
                                      issues=(_changed_since(e.name, e.new_value),)))  # fmt: skip
            continue
        assert spec is not None and total is not None
        after = e.odoo_old if plain else PUSH_ACTIONS[undo]
        push = Push(e.name, e.new_value, undo, e.odoo_new, after, spec.odoo_field)
        if push.odoo_new != e.odoo_old:
            log.warning("A push is undone as far as Odoo allows", extra={"context": {
                "order_id": e.order_id, "field": e.name, "odoo_before_push": e.odoo_old,
                "odoo_after_revert": push.odoo_new,
            }})  # fmt: skip
        decisions.append(Decision(subject, Action.UNCHANGED, odoo_id=total.id,
                                  write_date=total.write_date, pushes=(push,)))  # fmt: skip
    if run.options.dry_run:
        return decisions
    revert_id = run.start()
    assert revert_id is not None
    decisions = push_all(odoo, run, decisions, revert_id)
    return write(orders, decisions, run.clock(), revert_id)


PARTIAL_REVERT = "revert-part"
"""The mode of a revert of one order (or one field) of a run: not the run's revert."""


def _revert_decision(entry: JournalEntry, order: PortalOrder | None, later: bool) -> Decision:
    """Put the old value back where the row still holds what the run wrote, untouched since.

    Every field goes this one way; only how the report is told differs: the amount as the
    order's own action, a mapped field as one of its fields."""
    subject = PortalOrder(
        entry.order_id,
        entry.order_number,
        order.amount if order is not None else None,
        entry.odoo_id,
        order.updated_at if order is not None else None,
        values=order.values if order is not None else {},
    )
    field = entry.name
    now_holds = _value(order, field)
    unchanged = order is not None and not later and same_value(field, now_holds, entry.new)
    if field == AMOUNT:
        if unchanged:
            assert entry.old is None or isinstance(entry.old, Decimal)
            return Decision(subject, Action.UPDATE, new_amount=entry.old)
        return Decision(subject, Action.SKIP, reason=Reason.CHANGED_SINCE)
    if unchanged:
        return Decision(
            subject, Action.UNCHANGED, fields=(FieldChange(field, now_holds, entry.old),)
        )
    return Decision(subject, Action.UNCHANGED, issues=(_changed_since(field, now_holds),))


def _value(order: PortalOrder | None, field: str) -> Value:
    if order is None:
        return None
    return order.amount if field == AMOUNT else order.values.get(field)


def _changed_since(field: str, value: Value) -> FieldIssue:
    assert value is None or isinstance(value, str)
    return FieldIssue(field, "", Reason.CHANGED_SINCE, portal_value=value)


def _revert_writes(
    orders: OrderStore,
    decisions: list[Decision],
    entries: list[JournalEntry],
    reverted: RunRecord,
    now: datetime,
    revert_id: int | None,
) -> list[Decision]:
    """Write the old values back; a value changed meanwhile is left alone. A revert is a
    write like any other: the rows it changes take the time of now, so updated_at never
    moves backwards and the portal's own jobs see the revert.
    Reverting a sync holds each value it put back; reverting a revert releases those holds."""
    by_key = {(e.order_id, e.name): e for e in entries}
    changes = []
    for d in decisions:
        for f in d.field_changes:
            entry = by_key[(d.order.id, f.field)]
            held = None
            if reverted.kind == "sync":
                held = Hold(d.order.id, entry.new, entry.odoo_write_date, reverted.id,
                            field=f.field)  # fmt: skip
            changes.append(
                Change(
                    d.order,
                    f.field,
                    f.old,
                    f.new,
                    odoo_id=None if d.order.odoo_ref is None else str(d.order.odoo_ref),
                    place_hold=held,
                    release_hold="its revert undone" if reverted.kind == "revert" else None,
                )
            )
    written = orders.apply(changes, now, revert_id)
    return [_confirm_revert(d, written) for d in decisions]


def _confirm_revert(decision: Decision, written: set[tuple[int, str]]) -> Decision:
    """A value the database did not take changed meanwhile: left alone, and said so."""
    order_id = decision.order.id
    (change,) = decision.field_changes or (None,)
    if change is None or (order_id, change.field) in written:
        return decision
    if change.field == AMOUNT:
        return Decision(decision.order, Action.SKIP, reason=Reason.CHANGED_SINCE)
    return replace(decision, fields=(), issues=(_changed_since(change.field, change.old),))
