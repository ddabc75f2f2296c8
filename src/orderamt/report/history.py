"""`orderamt history` and `orderamt release`: the runs, one order's changes, its holds."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from orderamt.models import AMOUNT, Hold, JournalEntry, RunRecord
from orderamt.money import as_amount, format_amount
from orderamt.report.jsondoc import entry_json, hold_json, print_json, run_json
from orderamt.report.terminal import EMOJI, PLAIN, prepare_output, print_lines


def print_runs(runs: Sequence[RunRecord], *, as_json: bool) -> None:
    """`orderamt history`: the latest runs, newest first."""
    if as_json:
        print_json({"runs": [run_json(r) for r in runs]})
        return
    arrow = (EMOJI if prepare_output(sys.stdout) else PLAIN).arrow
    lines = [] if runs else ["No runs in the journal yet."]
    for r in runs:
        what = f"revert of run {r.reverts_run}" if r.kind == "revert" else f"sync {r.mode}"
        ended = f"{r.finished_at:%H:%M:%S}" if r.finished_at else "did not finish"
        if r.finished_at is None or r.found is None:
            tally = "no counts (stopped before it finished)"
        else:
            tally = (
                f"found {r.found}: {r.updated} updated, {r.unchanged} unchanged, "
                f"{r.skipped} skipped  exit {r.exit_code}"
            )
        lines.append(
            f"run {r.id}  {r.started_at:%Y-%m-%d %H:%M:%S} UTC {arrow} {ended}  {what}  {tally}"
        )
    print_lines(lines)


def _hold_line(h: Hold) -> str:
    line = (
        f"{h.held_at:%Y-%m-%d %H:%M:%S} UTC  run {h.revert_run}  held by the revert of run "
        f"{h.reverted_run}: Odoo's "
        + (format_amount(as_amount(h.value)) if h.field == AMOUNT else f"{h.field} {h.value}")
    )
    if h.odoo_write_date:
        line += f" (write_date {h.odoo_write_date})"
    if h.released_at is not None:
        return f"{line} was held until {h.released_at:%Y-%m-%d %H:%M:%S} UTC ({h.released_why})"
    return f"{line} is not written again until Odoo changes it (orderamt release {h.order_id})"


def print_order_changes(
    order_id: int, entries: Sequence[JournalEntry], holds: Sequence[Hold], *, as_json: bool
) -> None:
    """`orderamt history --order-id`: every change orderamt made to one order, oldest first,
    and the holds reverts placed on it."""
    if as_json:
        print_json(
            {
                "order_id": order_id,
                "changes": [entry_json(e) for e in entries],
                "holds": [hold_json(h) for h in holds],
            }
        )
        return
    arrow = (EMOJI if prepare_output(sys.stdout) else PLAIN).arrow
    lines = [] if entries else [f"No changes to order {order_id} in the journal."]
    for e in entries:
        if e.direction is not None:
            what = (
                f"{e.field} {e.new_value or '(empty)'} {arrow} Odoo ({e.odoo_old or '(empty)'} "
                f"{arrow} {e.odoo_new or '(empty)'})"
                + ("" if e.direction == "push" else ": not confirmed (orderamt stopped before "
                   "Odoo answered; the next sync resolves it from what Odoo says)")
            )  # fmt: skip
        elif e.field is not None:
            what = f"{e.field} {e.old_value or '(empty)'} {arrow} {e.new_value or '(empty)'}"
        else:
            what = f"{format_amount(e.old_amount)} {arrow} {format_amount(e.new_amount)}"
        line = f"{e.changed_at:%Y-%m-%d %H:%M:%S} UTC  run {e.run_id}  {e.order_number}  {what}"
        if e.odoo_write_date:
            line += f"  (Odoo write_date {e.odoo_write_date})"
        if e.conflict:
            line += "  conflict"
        lines.append(line)
    print_lines([*lines, *(_hold_line(h) for h in holds)])


def print_released(order_id: int, released: Sequence[Hold]) -> None:
    """`orderamt release`: what was released, or that there was nothing to release."""
    print_lines(
        [
            f"Released order {order_id} from the hold of the revert of run {h.reverted_run}: "
            "the next sync takes Odoo's amount."
            for h in released
        ]
        or [f"Order {order_id} has no hold; nothing to release."]
    )
