"""The run as operators read it, in a terminal or in cron mail, rendered with rich."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.control import strip_control_codes
from rich.progress import Progress, TaskID
from rich.text import Text

from orderamt import money
from orderamt.models import (
    Action,
    Changed,
    Checkpoint,
    CheckResult,
    Contest,
    Decision,
    FieldChange,
    Hold,
    JournalEntry,
    OneOrder,
    PortalOrder,
    Problem,
    Reason,
    Recent,
    RunCounts,
    RunOverview,
    RunRecord,
    Selection,
)
from orderamt.money import format_amount
from orderamt.reasons import field_issue, skip_reason


@dataclass(frozen=True)
class Glyphs:
    """The decorations of the report; plain ASCII for terminals that cannot show emoji."""

    start: str
    updated: str
    skipped: str
    warning: str
    arrow: str
    done: str
    attention: str


EMOJI = Glyphs("🔄 ", "✅ ", "⏭️  ", "⚠️  ", "→", "✅ ", "⚠️  ")
PLAIN = Glyphs("", "[updated] ", "[unchanged] ", "[warning] ", "->", "", "[warning] ")


COERCED_LOCALES = ("C.UTF-8", "C.utf8", "UTF-8")
"""What Python writes into LC_CTYPE when it coerces a C locale at start-up (PEP 538)."""


def can_show_emoji(
    stream: TextIO, environ: Mapping[str, str], *, locale_coerced: bool = False
) -> bool:
    """Whether the output can carry emoji: its encoding takes them and the locale is UTF-8.

    Under a C locale Python switches to UTF-8 (and sets LC_CTYPE itself, which
    `locale_coerced` says to see through), so the stream encodes emoji fine, but the
    terminal or the mail reader behind it still shows garbage: the user's locale decides.
    """
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        (EMOJI.start + EMOJI.skipped + EMOJI.warning + EMOJI.arrow).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    settings = {name: environ.get(name, "") for name in ("LC_ALL", "LC_CTYPE", "LANG")}
    if locale_coerced and not settings["LC_ALL"] and settings["LC_CTYPE"] in COERCED_LOCALES:
        settings["LC_CTYPE"] = ""
    locale = next((value for value in settings.values() if value), "")
    if not locale:
        # Windows has no LANG; its console encoding, checked above, is what counts there.
        return "WINDIR" in environ or "windir" in environ
    return "UTF8" in locale.upper().replace("-", "")


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


CHUNK_LINES = 1000
CHUNK_SECONDS = 0.5
"""Under a progress bar, lines are printed at most this many, or this often, at a time."""

PROGRESS_FROM = 500
"""A terminal run over at least this many orders shows a progress bar."""


class ConsoleReport:
    """Prints a sync run line by line, as decisions are made, onto the console it is given.

    `quiet` prints nothing for a run that changed nothing and found nothing wrong, and
    otherwise only the changed or skipped orders and the summary: cron mails only news.
    """

    def __init__(
        self,
        console: Console,
        *,
        emoji: bool = True,
        quiet: bool = False,
        progress_from: int = PROGRESS_FROM,
        dry_run: bool = False,
        reverting: int | None = None,
        selection: Selection | None = None,
    ) -> None:
        self.console = console
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
        # Without colour (a pipe, a file, cron mail) a line is just its text, and rich's
        # rendering of it (about 40 us) was a third of a 100,000-order backfill.
        self._plain = not console.is_terminal and console.color_system is None

    def _line(self, text: str, style: str = "") -> None:
        if self._plain and self._progress is None:
            self.console.file.write(strip_control_codes(text) + "\n")
            return
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
        if self.console.is_terminal and count >= self.progress_from:
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

    def decided(self, decision: Decision) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
        mapped = bool(decision.fields or decision.issues)
        if decision.action is not Action.UNCHANGED or not (mapped or self.quiet):
            self._amount_line(decision)
        for change in decision.fields:
            self._field_line(decision, change)
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
            held = format_amount(decision.hold.amount, cur)
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
        if self._said_all or (self.quiet and not counts.updated and not counts.skipped):
            return
        updated = "would be updated" if self.dry_run else "updated"
        parts = [f"{counts.updated} {updated}", f"{counts.unchanged} unchanged"]
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
        elif counts.skipped:
            needing = plural(counts.skipped, "order")
            verb = "needs" if counts.skipped == 1 else "need"
            what = "Revert" if self.reverting is not None else "Sync"
            self._line(
                f"{self.glyphs.attention}{what} complete; {needing} {verb} a look (see above)",
                "bold yellow",
            )
        else:
            done = "Revert complete!" if self.reverting is not None else "Sync complete!"
            self._line(f"{self.glyphs.done}{done}", "bold green")


class JsonReport:
    """The run as one JSON document, for monitoring: counts and every decision.

    With `stream`, each decision is written out as it is made ("orders" comes first, the
    counts after it), so a million-order backfill holds none of them in memory; without,
    they are gathered for `document`.
    """

    def __init__(
        self, selection: Selection | None, *, dry_run: bool = False, stream: TextIO | None = None
    ) -> None:
        self.dry_run = dry_run
        self.selection = selection
        self.run_id: int | None = None
        self.already: int | None = None
        self.since: str | None = None
        self.orders: list[dict[str, object]] = []
        self.stream = stream
        self._streamed = 0

    def found(self, count: int, order: PortalOrder | None) -> None:
        pass

    def recorded(self, run_id: int) -> None:
        self.run_id = run_id

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        self.already = by.id

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        self.since = since

    def decided(self, decision: Decision) -> None:
        order = decision.order
        entry: dict[str, object] = {
            "id": order.id,
            "order_number": order.number,
            "odoo_id": order.odoo_ref if isinstance(order.odoo_ref, (int, str)) else None,
            "action": decision.action.value,
            "reason": decision.reason.value if decision.reason else None,
            "old_amount": money.plain(order.amount),
            "new_amount": money.plain(decision.new_amount),
            "detail": _detail(decision),
            "conflict": decision.conflict,
            "contest": decision.contest.value if decision.contest else None,
            "held_by_revert_of": decision.hold.reverted_run
            if decision.reason is Reason.HELD and decision.hold
            else None,
            "fields": [
                {
                    "field": f.field,
                    "old": f.old,
                    "new": f.new,
                    "contest": f.contest.value if f.contest else None,
                }
                for f in decision.fields
            ],
            "field_issues": [
                {
                    "field": i.field,
                    "reason": i.reason.value,
                    "odoo_value": i.odoo_value or None,
                    "portal_value": i.portal_value,
                    "detail": field_issue(i),
                }
                for i in decision.issues
            ],
        }
        if self.stream is None:
            self.orders.append(entry)
            return
        opening = '{\n  "orders": [\n    ' if not self._streamed else ",\n    "
        self.stream.write(opening + json.dumps(entry, ensure_ascii=False))
        self._streamed += 1

    def document(
        self, counts: RunCounts | None, exit_code: int, error: str | None = None
    ) -> dict[str, object]:
        selection = self.selection
        return {
            "run_id": self.run_id,
            "mode": selection.mode.value if selection else None,
            "already_reverted_by": self.already,
            "changed_since": self.since,
            "dry_run": self.dry_run,
            "days": selection.days if isinstance(selection, (Recent, Changed)) else None,
            "found": counts.found if counts else None,
            "updated": counts.updated if counts else 0,
            "unchanged": counts.unchanged if counts else 0,
            "skipped": counts.skipped if counts else 0,
            "exit_code": exit_code,
            "error": error,
            "orders": self.orders,
        }

    def print(self, counts: RunCounts | None, exit_code: int, error: str | None = None) -> None:
        document = self.document(counts, exit_code, error)
        if self.stream is None or not self._streamed:
            print_json(document)
            return
        del document["orders"]
        rest = json.dumps(document, indent=2, ensure_ascii=False)
        self.stream.write("\n  ],\n" + rest.removeprefix("{\n") + "\n")
        self.stream.flush()


def _detail(decision: Decision) -> str | None:
    """The one value behind a skip, as the JSON document has always carried it."""
    if decision.bad_value is not None:
        return decision.bad_value
    if decision.reason is Reason.NOT_IN_ODOO and decision.odoo_id is not None:
        return str(decision.odoo_id)
    if decision.largest is not None:
        return str(decision.largest)
    if decision.last_written is not None:
        return money.plain(decision.last_written)
    return None


def print_json(document: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def make_console(stream: TextIO | None = None) -> tuple[Console, bool]:
    """A console for the report: colour only on a terminal, emoji only where they show."""
    stream = stream if stream is not None else sys.stdout
    emoji = can_show_emoji(stream, os.environ, locale_coerced=bool(sys.flags.utf8_mode))
    if not emoji and isinstance(stream, io.TextIOWrapper):
        # An order number the code page cannot encode must not crash the report.
        stream.reconfigure(errors="replace")
    console = Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)
    return console, emoji


def _jsonable(value: object) -> object:
    """Amounts as exact strings, times as 'YYYY-MM-DD HH:MM:SS', the rest as it is."""
    if isinstance(value, Decimal):
        return money.plain(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def entry_json(e: JournalEntry) -> dict[str, Any]:
    fields = asdict(e)
    del fields["old_updated_at"]  # the journal's own bookkeeping for a revert
    return {name: _jsonable(value) for name, value in fields.items()}


def run_json(r: RunRecord) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in asdict(r).items()}


def print_runs(runs: Sequence[RunRecord], *, as_json: bool) -> None:
    """`orderamt history`: the latest runs, newest first."""
    if as_json:
        print_json({"runs": [run_json(r) for r in runs]})
        return
    console, emoji = make_console()
    arrow = "→" if emoji else "->"
    if not runs:
        console.print("No runs in the journal yet.")
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
        console.print(
            f"run {r.id}  {r.started_at:%Y-%m-%d %H:%M:%S} UTC {arrow} {ended}  {what}  {tally}",
            soft_wrap=True,
        )


def hold_json(h: Hold) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in asdict(h).items()}


def _hold_line(h: Hold) -> str:
    line = (
        f"{h.held_at:%Y-%m-%d %H:%M:%S} UTC  run {h.revert_run}  held by the revert of run "
        f"{h.reverted_run}: Odoo's "
        + (format_amount(h.amount) if h.field is None else f"{h.field} {h.value}")
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
    console, emoji = make_console()
    arrow = "→" if emoji else "->"
    if not entries:
        console.print(f"No changes to order {order_id} in the journal.")
    for e in entries:
        if e.field is not None:
            what = f"{e.field} {e.old_value or '(empty)'} {arrow} {e.new_value or '(empty)'}"
        else:
            what = f"{format_amount(e.old_amount)} {arrow} {format_amount(e.new_amount)}"
        line = f"{e.changed_at:%Y-%m-%d %H:%M:%S} UTC  run {e.run_id}  {e.order_number}  {what}"
        if e.odoo_write_date:
            line += f"  (Odoo write_date {e.odoo_write_date})"
        if e.conflict:
            line += "  conflict"
        console.print(line, soft_wrap=True)
    for h in holds:
        console.print(_hold_line(h), soft_wrap=True)


def print_released(order_id: int, released: Sequence[Hold]) -> None:
    """`orderamt release`: what was released, or that there was nothing to release."""
    console, _ = make_console()
    if not released:
        console.print(f"Order {order_id} has no hold; nothing to release.")
    for h in released:
        console.print(
            f"Released order {order_id} from the hold of the revert of run {h.reverted_run}: "
            "the next sync takes Odoo's amount.",
            soft_wrap=True,
        )


def print_check_header(lines: Sequence[str]) -> None:
    """What `check` is about to try, printed before it tries."""
    console, _ = make_console()
    for line in lines:
        console.print(line, soft_wrap=True)


def print_checks(results: Sequence[CheckResult], *, as_json: bool, exit_code: int) -> None:
    """`orderamt check`: one line per part and a verdict (or one JSON document)."""
    if as_json:
        print_json(
            {
                "exit_code": exit_code,
                "checks": [
                    {"label": r.label, "passed": r.passed, "warning": r.warning,
                     "detail": r.detail, "exit_code": r.exit_code}
                    for r in results
                ],
            }
        )  # fmt: skip
        return
    console, emoji = make_console()
    console.print("")
    marks = {True: ("✅ ", "[ok]   "), False: ("❌ ", "[FAIL] "), None: ("⏭️  ", "[--]   ")}
    for result in results:
        mark = marks[result.passed][0 if emoji else 1]
        style = {True: "green", False: "red", None: "dim"}[result.passed]
        if result.warning:
            mark, style = ("⚠️  " if emoji else "[warn] "), "yellow"
        console.print(Text(f"{mark}{result.label}: {result.detail}", style=style), soft_wrap=True)
    failures = [r for r in results if r.passed is False]
    warnings = [r for r in results if r.warning]
    console.print("")
    if not failures and warnings:
        console.print(
            Text(f"All checks passed; {plural(len(warnings), 'warning')}.", style="bold yellow")
        )
    elif not failures:
        console.print(Text("All checks passed.", style="bold green"))
    else:
        console.print(Text(f"{plural(len(failures), 'check')} failed.", style="bold red"))


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            return f"{plural(seconds // size, unit)} ago"
    return f"{plural(seconds, 'second')} ago"


def _run_words(r: RunRecord, now: datetime) -> str:
    what = f"revert of run {r.reverts_run}" if r.kind == "revert" else f"{r.kind} {r.mode}"
    text = f"run {r.id}, {what}, {r.started_at:%Y-%m-%d %H:%M:%S} UTC ({_ago(r.started_at, now)})"
    if r.finished_at is not None:
        took = (r.finished_at - r.started_at).total_seconds()
        text += f", took {took:.0f} s, exit {r.exit_code}"
        if r.found is not None and r.error is None:
            text += (
                f": found {r.found}, {r.updated} updated, {r.unchanged} unchanged, "
                f"{r.skipped} skipped"
            )
    if r.error:
        text += f": {r.error}"
    return text


def status_document(
    overview: RunOverview,
    problems: Sequence[Problem],
    going: Sequence[tuple[RunRecord, str]],
    now: datetime,
) -> dict[str, Any]:
    """`orderamt status --json`."""
    last, success = overview.last, overview.last_success
    return {
        "now": _jsonable(now),
        "last_run": run_json(last) if last else None,
        "last_success": run_json(success) if success else None,
        "last_success_age_seconds": int((now - success.finished_at).total_seconds())
        if success and success.finished_at
        else None,
        "last_poll": _jsonable(overview.last_poll.finished_at) if overview.last_poll else None,
        "going": [{**run_json(r), "state": state} for r, state in going],
        "needing_a_look": [
            {name: _jsonable(value) for name, value in asdict(p).items()}
            for p in problems
            if p.ignored_reason is None
        ],
        "ignored": [
            {name: _jsonable(value) for name, value in asdict(p).items()}
            for p in problems
            if p.ignored_reason is not None
        ],
    }


def print_status(
    overview: RunOverview,
    problems: Sequence[Problem],
    going: Sequence[tuple[RunRecord, str]],
    now: datetime,
    *,
    as_json: bool,
) -> None:
    """`orderamt status`: the last run, the last success, what is going now, what needs a look."""
    if as_json:
        print_json(status_document(overview, problems, going, now))
        return
    console, _ = make_console()
    last, success = overview.last, overview.last_success
    console.print(f"Last run:      {_run_words(last, now) if last else 'none yet'}", soft_wrap=True)
    if success is None:
        console.print("Last success:  never", soft_wrap=True)
    elif last is not None and success.id == last.id:
        console.print(f"Last success:  the last run, {_ago(success.started_at, now)}")
    else:
        console.print(f"Last success:  {_run_words(success, now)}", soft_wrap=True)
    if overview.last_poll is not None and overview.last_poll.finished_at is not None:
        polled = overview.last_poll.finished_at
        console.print(
            f"Last poll:     {polled:%Y-%m-%d %H:%M:%S} UTC ({_ago(polled, now)})", soft_wrap=True
        )
    if not going:
        console.print("Running now:   nothing")
    for r, state in going:
        where = f"on {r.host or 'an unknown host'}, pid {r.pid}" if r.pid else ""
        console.print(
            f"Running now:   run {r.id}, {r.kind} {r.mode} {where}, since "
            f"{r.started_at:%H:%M:%S} UTC ({state})",
            soft_wrap=True,
        )
    needing = [p for p in problems if p.ignored_reason is None]
    ignored = [p for p in problems if p.ignored_reason is not None]
    verb = "needs" if len(needing) == 1 else "need"
    console.print(f"Needing a look: {plural(len(needing), 'order')} {verb} a look" if needing
                  else "Needing a look: none")  # fmt: skip
    for p in needing:
        console.print(
            f"  order {p.order_id} ({p.order_number}): {p.detail} (since run {p.first_run})",
            soft_wrap=True,
        )
    for p in ignored:
        console.print(
            f"  ignored: order {p.order_id} ({p.order_number}): {p.detail} "
            f"(ignored: {p.ignored_reason})",
            soft_wrap=True,
        )


def metrics_text(overview: RunOverview, needing: int, now: datetime) -> str:
    """The Prometheus text format node_exporter's textfile collector reads."""
    last, success = overview.last, overview.last_success
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: Sequence[tuple[str, float]]) -> None:
        lines.append(f"# HELP orderamt_{name} {help_text}")
        lines.append(f"# TYPE orderamt_{name} gauge")
        lines.extend(f"orderamt_{name}{labels} {value:g}" for labels, value in samples)

    if last is not None and last.finished_at is not None:
        gauge("last_run_timestamp_seconds", "When the last run ended (Unix time).",
              [("", last.finished_at.timestamp())])  # fmt: skip
        gauge("last_run_duration_seconds", "How long the last run took.",
              [("", (last.finished_at - last.started_at).total_seconds())])  # fmt: skip
        gauge("last_run_exit_code", "The exit code of the last run.",
              [("", float(last.exit_code or 0))])  # fmt: skip
        gauge(
            "last_run_orders",
            "Orders of the last run, by outcome.",
            [(f'{{outcome="{outcome}"}}', float(getattr(last, outcome) or 0))
             for outcome in ("updated", "unchanged", "skipped")],
        )  # fmt: skip
    if success is not None and success.finished_at is not None:
        gauge("last_success_timestamp_seconds",
              "When the last completed run (exit 0 or 1) ended (Unix time).",
              [("", success.finished_at.timestamp())])  # fmt: skip
    gauge("orders_needing_a_look", "Orders that need a look (not ignored).", [("", needing)])
    return "\n".join(lines) + "\n"
