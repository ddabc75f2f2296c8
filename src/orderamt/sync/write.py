"""A batch's decisions written compare-and-set, then confirmed: what the database did not
take was raced by the portal and is reported as such; every change and conflict logged."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from orderamt import money
from orderamt.models import (
    AMOUNT,
    Action,
    Change,
    Checkpoint,
    Contest,
    Decision,
    PortalOrder,
    Push,
    Reason,
    Value,
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
    """Every field the decisions change, written compare-and-set (with the journal's
    entries, and the checkpoint); the decisions as the database took them, each change
    and each contest in the log."""
    changes = [
        change_of(d, f.field, f.old, f.new, f.contest is not None,
                  release_hold="Odoo changed" if f.hold is not None else None)
        for d in decisions
        for f in d.field_changes
    ]  # fmt: skip
    changes += [push_change(d, p) for d in decisions for p in d.pushes]
    written = orders.apply(changes, now, run_id, checkpoint)
    lines = _Lines()
    try:
        return [_confirm(decision, written, lines) for decision in decisions]
    finally:
        lines.flush()  # the batch is committed: its lines are kept, whatever comes next


def change_of(
    decision: Decision, field: str, old: Value, new: Value, conflict: bool, **more: Any
) -> Change:
    """One field of a decision as a change of the batch."""
    return Change(decision.order, field, old, new, odoo_id=str(decision.odoo_id),
                  write_date=decision.write_date, conflict=conflict, **more)  # fmt: skip


def push_change(decision: Decision, push: Push) -> Change:
    """A push as one more change of the batch: the portal's value is kept (old and new are
    it), the journal keeps Odoo's values before and after beside it."""
    return change_of(decision, push.field, push.portal, push.portal, push.contest is not None,
                     push=push)  # fmt: skip


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


def _confirm(decision: Decision, written: set[tuple[int, str]], lines: _Lines) -> Decision:
    """Keep the changes the database took, and log each; a change it did not take was raced
    by a portal change and is left alone (for the amount, the order is then a skip). A
    contest kept under --on-conflict skip is logged too."""
    order = decision.order
    for issue in decision.issues:
        if issue.reason in (Reason.CONFLICT, Reason.DRIFT, Reason.FLAGGED):
            outcome = "flagged" if issue.reason is Reason.FLAGGED else "skipped"
            _log_contest(lines, order, issue.field, issue.portal_value, issue.last_written,
                         issue.new, issue.reason is not Reason.DRIFT, outcome)  # fmt: skip
        elif issue.reason is Reason.PUSH_REFUSED:
            lines.warning("Odoo refused the portal's change; the portal keeps it", {
                **_about(order, issue.field), "portal_value": issue.portal_value,
                "odoo_value": issue.odoo_value, "refused": issue.detail,
            })  # fmt: skip
    for push in decision.pushes:
        if push.contest is not None:
            _log_contest(lines, order, push.field, push.portal, push.last_seen,
                         push.odoo_old, True, "the portal wins")  # fmt: skip
        lines.info("Pushed order field to Odoo", {
            **_about(order, push.field), "portal_value": push.portal, "action": push.action,
            "odoo_old": push.odoo_old, "odoo_new": push.odoo_new,
        })  # fmt: skip
    kept = []
    for f in decision.field_changes:
        if (order.id, f.field) not in written:
            lines.warning(_RACED[f.field == AMOUNT], _about(order, f.field))
            continue
        if f.contest is not None:
            _log_contest(lines, order, f.field, f.old, f.last_written, f.new,
                         f.contest is Contest.CONFLICT, "Odoo wins")  # fmt: skip
        lines.info(*_synced(order, f.field, f.old, f.new))
        kept.append(f)
    if decision.action is not Action.UPDATE and decision.conflict:
        conflict = decision.contest is Contest.CONFLICT
        _log_contest(lines, order, AMOUNT, order.amount, decision.last_written,
                     decision.new_amount, conflict, "skipped")  # fmt: skip
    fields = tuple(f for f in kept if f.field != AMOUNT)
    if decision.action is Action.UPDATE and all(f.field != AMOUNT for f in kept):
        return Decision(
            order,
            Action.SKIP,
            new_amount=decision.new_amount,
            reason=Reason.CHANGED_IN_PORTAL,
            currency=decision.currency,
            odoo_id=decision.odoo_id,
            fields=fields,
            issues=decision.issues,
            held=decision.held,
        )
    return decision if fields == decision.fields else replace(decision, fields=fields)


_RACED = {
    True: "Order changed in the portal during the run; not overwritten",
    False: "Order field changed in the portal during the run; not overwritten",
}


def _about(order: PortalOrder, field: str) -> dict[str, object]:
    """The order a log line is about, and the field where it is a mapped one."""
    about: dict[str, object] = {"order_id": order.id, "order_number": order.number}
    if field != AMOUNT:
        about["field"] = field
    return about


def _synced(
    order: PortalOrder, field: str, old: Value, new: Value
) -> tuple[str, dict[str, object]]:
    if field == AMOUNT:
        return "Synced order amount from Odoo", {
            **_about(order, field), "old_amount": _plain(old), "new_amount": _plain(new),
        }  # fmt: skip
    return "Synced order field from Odoo", {**_about(order, field), "old_value": old,
                                            "new_value": new}  # fmt: skip


def _log_contest(
    lines: _Lines,
    order: PortalOrder,
    field: str,
    portal: Value,
    wrote: Value,
    odoo: Value,
    both: bool,
    outcome: str,
) -> None:
    """A field the portal changed since orderamt wrote it: with Odoo (a conflict) or alone
    (a drift), and what became of it."""
    values: dict[str, object]
    if field == AMOUNT:
        values = {"orderamt_wrote": _plain(wrote), "portal_amount": _plain(portal),
                  "odoo_amount": _plain(odoo)}  # fmt: skip
    else:
        values = {"orderamt_wrote": wrote, "portal_value": portal, "odoo_value": odoo}
    lines.warning(
        f"Conflict: {field} changed in the portal and in Odoo"
        if both
        else f"Drift: {field} changed in the portal while Odoo did not change",
        {**_about(order, field), **values, "outcome": outcome},
    )


def _plain(amount: Value) -> str | None:
    return money.plain(money.as_amount(amount))
