"""The run as operators read it, in a terminal or in cron mail, line by line as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from orderamt.models import (
    Action,
    Changed,
    Checkpoint,
    Contest,
    Decision,
    FieldChange,
    Hold,
    OneOrder,
    PortalOrder,
    Push,
    Reason,
    Recent,
    RunCounts,
    RunRecord,
    Selection,
)
from orderamt.money import as_amount, format_amount
from orderamt.reasons import field_issue, skip_reason
from orderamt.report.terminal import EMOJI, PLAIN, plural, printable

if TYPE_CHECKING:  # rich's console and progress bar are loaded when first needed
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text

CHUNK_LINES = 1000
CHUNK_SECONDS = 0.5
"""Under a progress bar, lines are printed at most this many, or this often, at a time."""

PROGRESS_FROM = 500
"""A terminal run over at least this many orders shows a progress bar."""


class ConsoleReport:
    """Prints a sync run line by line, as decisions are made, onto the console it is given.

    `quiet` prints nothing for a run that changed nothing and found nothing new wrong,
    and otherwise only the changes, the problems that are news, and the summary: cron
    mails only news. A problem known before (and one ignored) is left to `status` and
    the log.
    """

    def __init__(
        self,
        console: Callable[[], Console],
        *,
        emoji: bool = True,
        quiet: bool = False,
        progress_from: int = PROGRESS_FROM,
        dry_run: bool = False,
        reverting: int | None = None,
        selection: Selection | None = None,
    ) -> None:
        self._make_console = console
        """Makes the console when the report first prints: a quiet run that has nothing
        to say never loads rich's console (start-up, issue 24)."""
        self.selection = selection
        self.run_id: int | None = None
        self._said_all = False
        self.dry_run = dry_run
        self.reverting = reverting
        self.glyphs = EMOJI if emoji else PLAIN
        self.quiet = quiet
        self.progress_from = progress_from
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._pending: list[Text] = []
        self._flush_at = 0.0
        self._news: set[int] | None = None
        """The orders of the batch being told that need a look as news (None: not known,
        every one is told)."""

    @cached_property
    def console(self) -> Console:
        return self._make_console()

    @cached_property
    def _plain(self) -> bool:
        # Without colour (a pipe, a file, cron mail) a line is just its text, and rich's
        # rendering of it (about 40 us) was a third of a 100,000-order backfill.
        return not self.console.is_terminal and self.console.color_system is None

    def _line(self, text: str, style: str = "") -> None:
        text = printable(text)
        if self._plain and self._progress is None:
            self.console.file.write(text + "\n")
            return
        from rich.text import Text  # loaded once a line is styled: a quiet run never is

        if self._progress is not None:
            # Under a live progress bar every print redraws the bar: lines go out in
            # chunks, a redraw per chunk instead of per order.
            self._pending.append(Text(text, style=style))
            if len(self._pending) >= CHUNK_LINES or time.monotonic() >= self._flush_at:
                self._flush()
            return
        self.console.print(Text(text, style=style), soft_wrap=True)

    def _flush(self) -> None:
        if self._pending:
            from rich.text import Text

            self.console.print(Text("\n").join(self._pending), soft_wrap=True)
            self._pending.clear()
        self._flush_at = time.monotonic() + CHUNK_SECONDS

    def started(self) -> None:
        if self.quiet:
            return
        if self.reverting is not None:
            text = f"Reverting run {self.reverting}..."
        else:
            text = "Syncing order amounts from Odoo..."
        if self.dry_run:
            text += " (dry run: nothing will be written)"
        self._line(f"{self.glyphs.start}{text}", "bold")
        self._line("")

    def found(self, count: int, order: PortalOrder | None) -> None:
        if not self.quiet:
            selection = self.selection
            if self.reverting is not None:
                text = f"Found {plural(count, 'change')} made by run {self.reverting}"
            elif isinstance(selection, OneOrder) and order is not None:
                text = f"Found order {order.id} ({order.number})"
            elif isinstance(selection, Recent):
                days = plural(selection.days, "day")
                text = f"Found {plural(count, 'recent order')} (last {days})"
            else:
                text = f"Found {plural(count, 'order')} with Odoo IDs"
            self._line(text)
            self._line("")
        if count >= self.progress_from and self.console.is_terminal:
            from rich.progress import Progress

            # Lines printed through a live progress bar's console scroll above it.
            self._progress = Progress(console=self.console, transient=True)
            self._task = self._progress.add_task("Syncing", total=count)
            self._progress.start()

    def recorded(self, run_id: int) -> None:
        self.run_id = run_id

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        if self.quiet:
            return
        if checkpoint is None:
            days = self.selection.days if isinstance(self.selection, Changed) else 0
            text = f"Orders changed in Odoo since {since} UTC (no checkpoint yet: last {days} days)"
        elif since == checkpoint.floor:
            text = (
                f"Orders changed in Odoo since {since} UTC (the checkpoint is "
                f"{checkpoint.write_date}; Odoo's clock is well past it, so no further back)"
            )
        else:
            text = (
                f"Orders changed in Odoo since {since} UTC (the checkpoint, "
                f"{checkpoint.write_date}, less the margin)"
            )
        self._line(text)
        self._line("")

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        self._said_all = True
        self._line(
            f"Run {run_id} was already reverted by run {by.id} "
            f"({by.started_at:%Y-%m-%d %H:%M:%S} UTC); nothing was written."
        )

    def news(self, order_ids: set[int]) -> None:
        self._news = order_ids

    def _standing(self, decision: Decision) -> bool:
        """A problem known before: a quiet report does not repeat it."""
        return (
            self.quiet
            and self._news is not None
            and decision.needs_look
            and decision.order.id not in self._news
        )

    def decided(self, decision: Decision) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
        if self._standing(decision):
            if decision.action is Action.UPDATE:
                self._amount_line(decision)
            for change in decision.fields:
                self._field_line(decision, change)
            for push in decision.pushes:
                self._push_line(decision, push)
            return
        mapped = bool(decision.fields or decision.issues or decision.pushes)
        if decision.action is not Action.UNCHANGED or not (mapped or self.quiet):
            self._amount_line(decision)
        for change in decision.fields:
            self._field_line(decision, change)
        for push in decision.pushes:
            self._push_line(decision, push)
        if not self.quiet:
            for hold in decision.held:
                self._held_field_line(decision, hold)
        for issue in decision.issues:
            name = decision.order.number or f"order {decision.order.id}"
            self._line(f"  {self.glyphs.warning}{name}: {field_issue(issue)}", "yellow")

    def _held_field_line(self, decision: Decision, hold: Hold) -> None:
        order = decision.order
        name = order.number or f"order {order.id}"
        self._line(
            f"  {self.glyphs.skipped}{name}: {hold.field} held by the revert of run "
            f"{hold.reverted_run} (Odoo still says {hold.value}; keeping "
            f"{order.values.get(hold.field or '') or '(empty)'}; release with: "
            f"orderamt release {order.id})"
        )

    def _field_line(self, decision: Decision, change: FieldChange) -> None:
        """`S00042: status pending → confirmed`, a mapped field's change."""
        g = self.glyphs
        order = decision.order
        name = order.number or f"order {order.id}"
        would = "would update " if self.dry_run else ""
        old = "(empty)" if change.old is None else change.old
        new = "(empty)" if change.new is None else change.new
        text = f"  {g.updated}{name}: {would}{change.field} {old} {g.arrow} {new}"
        if change.contest is Contest.CONFLICT:
            text += (
                f" (conflict: changed in the portal since orderamt wrote "
                f"{change.last_written}; Odoo wins)"
            )
        elif change.contest is Contest.DRIFT:
            text += (
                f" (the portal drifted: changed there since orderamt wrote "
                f"{change.last_written}, while Odoo did not change; Odoo's value is put back)"
            )
        self._line(text, "yellow" if change.contest else "green")

    def _push_line(self, decision: Decision, push: Push) -> None:
        """`S00042: status cancelled → Odoo (cancel: draft → cancel)`, the portal's change
        taken into Odoo."""
        g = self.glyphs
        order = decision.order
        name = order.number or f"order {order.id}"
        would = "would push " if self.dry_run else "pushed "
        odoo_old, odoo_new = (
            v if v is not None else "(empty)" for v in (push.odoo_old, push.odoo_new)
        )
        portal = push.portal if push.portal is not None else "(empty)"
        text = (
            f"  {g.pushed}{name}: {would}{push.field} {portal} {g.arrow} Odoo "
            f"({push.action}: {odoo_old} {g.arrow} {odoo_new})"
        )
        if push.contest is not None:
            text += (
                f" (conflict: changed in Odoo too since orderamt last saw {push.last_seen}; "
                "the portal wins)"
            )
        self._line(text, "yellow" if push.contest else "green")

    def _amount_line(self, decision: Decision) -> None:
        g = self.glyphs
        order = decision.order
        name = order.number or f"order {order.id}"
        cur = decision.currency
        portal = format_amount(order.amount, cur)
        reason = decision.reason
        if decision.action is Action.UPDATE:
            new = format_amount(decision.new_amount, cur)
            would = "would update " if self.dry_run else ""
            text = f"  {g.updated}{name}: {would}{portal} {g.arrow} {new}"
            if decision.contest is not None:
                wrote = format_amount(decision.last_written, cur)
                if decision.contest is Contest.CONFLICT:
                    text += f" (conflict: changed in the portal since orderamt wrote {wrote}; "
                    text += "Odoo wins)"
                else:
                    text += (
                        f" (the portal drifted: changed there since orderamt wrote {wrote}, "
                        "while Odoo did not change; Odoo's amount is put back)"
                    )
            self._line(text, "yellow" if decision.conflict else "green")
        elif reason is Reason.ZERO_IN_ODOO:
            zero = format_amount(Decimal("0.00"), cur)
            self._line(
                f"  {g.skipped}{name}: Still {zero} in Odoo (keeping portal amount: {portal})"
            )
        elif reason is Reason.SAME_AMOUNT:
            self._line(f"  {g.skipped}{name}: No change ({portal})")
        elif reason is Reason.HELD and decision.hold is not None:
            held = format_amount(as_amount(decision.hold.value), cur)
            self._line(
                f"  {g.skipped}{name}: Held by the revert of run {decision.hold.reverted_run} "
                f"(Odoo still says {held}; keeping portal amount: {portal}; "
                f"release with: orderamt release {order.id})"
            )
        else:
            self._line(f"  {g.warning}{name}: {skip_reason(decision)}", "yellow")

    def stop_progress(self) -> None:
        if self._progress is not None:
            self._flush()
            self._progress.stop()
            self._progress = None

    def finished(self, counts: RunCounts) -> None:
        self.stop_progress()
        news = counts.skipped if counts.new_problems is None else counts.new_problems
        if self._said_all or (self.quiet and not counts.updated and not news):
            return
        updated = "would be updated" if self.dry_run else "updated"
        parts = [f"{counts.updated} {updated}", f"{counts.unchanged} unchanged"]
        if counts.pushed:
            pushed = "would be pushed" if self.dry_run else "pushed to Odoo"
            parts.append(f"{plural(counts.pushed, 'field')} {pushed}")
        if counts.skipped:
            parts.append(f"{counts.skipped} skipped")
        verb = "Reverted" if self.reverting is not None else "Synced"
        if self.dry_run:
            verb = "Would revert" if self.reverting is not None else "Would sync"
        self._line("")
        self._line(f"{verb}: {counts.synced} ({', '.join(parts)})", "bold")
        self._line("")
        if self.dry_run:
            self._line(f"{self.glyphs.done}Dry run complete: nothing was written.", "bold green")
        elif counts.skipped and (news or not self.quiet):
            told = news if self.quiet else counts.skipped
            needing = plural(told, "order")
            verb = "needs" if told == 1 else "need"
            what = "Revert" if self.reverting is not None else "Sync"
            known = counts.skipped - told
            more = f"; {known} known before (see: orderamt status)" if known else ""
            self._line(
                f"{self.glyphs.attention}{what} complete; {needing} {verb} a look (see above)"
                f"{more}",
                "bold yellow",
            )
        else:
            done = "Revert complete!" if self.reverting is not None else "Sync complete!"
            self._line(f"{self.glyphs.done}{done}", "bold green")
