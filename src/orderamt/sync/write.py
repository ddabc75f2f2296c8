"""A batch's decisions written compare-and-set, then confirmed: what the database did not
take was raced by the portal and is reported as such; every change and conflict logged."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from orderamt import money
from orderamt.models import (
    Action,
    Change,
    Checkpoint,
    Contest,
    Decision,
    PortalOrder,
    Reason,
)
from orderamt.sync.ports import OrderStore

log = logging.getLogger("orderamt")


def flush_log() -> None:
    """A batch is done: its log lines go to disk with it (the log buffers between batches)."""
    for handler in log.handlers:
        handler.flush()


def write(
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
