"""The report as operators read it: each line, in emoji and plain text, quiet, dry run and JSON."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import datetime
from decimal import Decimal

import pytest
from rich.console import Console

from orderamt.models import (
    Action,
    CheckResult,
    Contest,
    Decision,
    Everything,
    FieldChange,
    FieldIssue,
    Hold,
    JournalEntry,
    OneOrder,
    PortalOrder,
    Push,
    Reason,
    Recent,
    RunCounts,
    RunRecord,
    Selection,
)
from orderamt.report import (
    ConsoleReport,
    JsonReport,
    can_show_emoji,
    print_check_header,
    print_checks,
    print_order_changes,
    print_released,
    print_runs,
)
from orderamt.report.jsondoc import print_json

SINCE = datetime(2026, 11, 17, 22, 0, 0)
WRITE_DATE = "2026-11-24 18:15:57"


def order(
    amount: str | None = "857.87", number: str = "AFINET-SO-1", odoo_ref: object = 42, id: int = 1
) -> PortalOrder:
    return PortalOrder(
        id=id, number=number, amount=None if amount is None else Decimal(amount), odoo_ref=odoo_ref
    )


def update(
    new: str = "950.00",
    *,
    amount: str | None = "857.87",
    currency: str | None = "USD",
    last_written: str | None = None,
    contest: Contest | None = None,
    number: str = "AFINET-SO-1",
) -> Decision:
    return Decision(
        order(amount, number),
        Action.UPDATE,
        new_amount=Decimal(new),
        currency=currency,
        odoo_id=42,
        last_written=None if last_written is None else Decimal(last_written),
        contest=contest,
    )


def unchanged(reason: Reason = Reason.SAME_AMOUNT, number: str = "AFINET-SO-2") -> Decision:
    return Decision(
        order(number=number), Action.UNCHANGED, reason=reason, currency="USD", odoo_id=42
    )


HOLD = Hold(order_id=1, value=Decimal("950.00"), odoo_write_date=WRITE_DATE, reverted_run=3)


def held() -> Decision:
    """Odoo still says what run 3's revert took back: the order is left alone."""
    return Decision(
        order(), Action.UNCHANGED, reason=Reason.HELD, currency="USD", odoo_id=42, hold=HOLD
    )


def skip(reason: Reason, **facts: object) -> Decision:
    fields: dict[str, object] = {"currency": "USD", **facts}
    return Decision(order(), Action.SKIP, reason=reason, **fields)  # type: ignore[arg-type]


class Screen:
    """A report rendered onto a plain 100-column console, read back line by line."""

    def __init__(self, *, terminal: bool = False) -> None:
        self.out = io.StringIO()
        self.console = Console(
            file=self.out,
            width=100,
            color_system="standard" if terminal else None,
            force_terminal=terminal,
        )

    def report(
        self,
        *,
        emoji: bool = True,
        quiet: bool = False,
        dry_run: bool = False,
        reverting: int | None = None,
        selection: Selection | None = None,
    ) -> ConsoleReport:
        return ConsoleReport(
            lambda: self.console,
            emoji=emoji,
            quiet=quiet,
            dry_run=dry_run,
            reverting=reverting,
            selection=selection if selection is not None else Everything(),
        )

    @property
    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()


def run(report: ConsoleReport, *decisions: Decision) -> RunCounts:
    """Drive the report through a whole run of these decisions, as the sync does."""
    counts = RunCounts(found=len(decisions))
    report.started()
    report.found(len(decisions), None)
    for decision in decisions:
        report.decided(decision)
        counts.add(decision)
    report.finished(counts)
    return counts


def test_a_whole_run_in_emoji() -> None:
    """A run with an update and an unchanged order reads, line for line, as the README shows."""
    screen = Screen()
    run(screen.report(), update(), unchanged())
    assert screen.lines == [
        "🔄 Syncing order amounts from Odoo...",
        "",
        "Found 2 orders with Odoo IDs",
        "",
        "  ✅ AFINET-SO-1: $857.87 → $950.00",
        "  ⏭️  AFINET-SO-2: No change ($857.87)",
        "",
        "Synced: 2 (1 updated, 1 unchanged)",
        "",
        "✅ Sync complete!",
    ]


def test_a_whole_run_in_plain_text() -> None:
    """Without emoji, the same run has ASCII markers and arrows, and no decorations."""
    screen = Screen()
    run(screen.report(emoji=False), update(), unchanged())
    assert screen.lines == [
        "Syncing order amounts from Odoo...",
        "",
        "Found 2 orders with Odoo IDs",
        "",
        "  [updated] AFINET-SO-1: $857.87 -> $950.00",
        "  [unchanged] AFINET-SO-2: No change ($857.87)",
        "",
        "Synced: 2 (1 updated, 1 unchanged)",
        "",
        "Sync complete!",
    ]
    assert screen.out.getvalue().isascii()


@pytest.mark.parametrize(
    ("decision", "emoji", "plain"),
    [
        (
            update(),
            "  ✅ AFINET-SO-1: $857.87 → $950.00",
            "  [updated] AFINET-SO-1: $857.87 -> $950.00",
        ),
        (
            update(amount=None),
            "  ✅ AFINET-SO-1: (empty) → $950.00",
            "  [updated] AFINET-SO-1: (empty) -> $950.00",
        ),
        (
            update("1579.56", amount="857.8749"),
            "  ✅ AFINET-SO-1: $857.8749 → $1,579.56",
            "  [updated] AFINET-SO-1: $857.8749 -> $1,579.56",
        ),
        (
            update(currency="EUR"),
            "  ✅ AFINET-SO-1: 857.87 EUR → 950.00 EUR",
            "  [updated] AFINET-SO-1: 857.87 EUR -> 950.00 EUR",
        ),
        (
            update(last_written="800.00", contest=Contest.DRIFT),
            "  ✅ AFINET-SO-1: $857.87 → $950.00 (the portal drifted: changed there since "
            "orderamt wrote $800.00, while Odoo did not change; Odoo's amount is put back)",
            "  [updated] AFINET-SO-1: $857.87 -> $950.00 (the portal drifted: changed there since "
            "orderamt wrote $800.00, while Odoo did not change; Odoo's amount is put back)",
        ),
        (
            update(last_written="800.00", contest=Contest.CONFLICT),
            "  ✅ AFINET-SO-1: $857.87 → $950.00 (conflict: changed in the portal since "
            "orderamt wrote $800.00; Odoo wins)",
            "  [updated] AFINET-SO-1: $857.87 -> $950.00 (conflict: changed in the portal since "
            "orderamt wrote $800.00; Odoo wins)",
        ),
        (
            update(number=""),
            "  ✅ order 1: $857.87 → $950.00",
            "  [updated] order 1: $857.87 -> $950.00",
        ),
        (
            unchanged(Reason.ZERO_IN_ODOO),
            "  ⏭️  AFINET-SO-2: Still $0.00 in Odoo (keeping portal amount: $857.87)",
            "  [unchanged] AFINET-SO-2: Still $0.00 in Odoo (keeping portal amount: $857.87)",
        ),
        (
            unchanged(Reason.SAME_AMOUNT),
            "  ⏭️  AFINET-SO-2: No change ($857.87)",
            "  [unchanged] AFINET-SO-2: No change ($857.87)",
        ),
        (
            held(),
            "  ⏭️  AFINET-SO-1: Held by the revert of run 3 (Odoo still says $950.00; keeping "
            "portal amount: $857.87; release with: orderamt release 1)",
            "  [unchanged] AFINET-SO-1: Held by the revert of run 3 (Odoo still says $950.00; "
            "keeping portal amount: $857.87; release with: orderamt release 1)",
        ),
    ],
)
def test_update_and_unchanged_lines(decision: Decision, emoji: str, plain: str) -> None:
    """Each update and each kind of unchanged order has its own line, in both glyph sets."""
    for use_emoji, expected in ((True, emoji), (False, plain)):
        screen = Screen()
        screen.report(emoji=use_emoji).decided(decision)
        assert screen.lines == [expected]


SKIPS = [
    (
        skip(Reason.BAD_ODOO_ID, bad_value="'S00042'"),
        "Odoo id 'S00042' is not a usable sale order id (skipped)",
    ),
    (
        skip(Reason.NOT_IN_ODOO, odoo_id=42),
        "Sale order 42 not found in Odoo (keeping portal amount: $857.87)",
    ),
    (
        skip(Reason.BAD_ODOO_AMOUNT, bad_value="'950.00'"),
        "Odoo sent an unusable amount '950.00' (keeping portal amount: $857.87)",
    ),
    (
        skip(Reason.TOO_LARGE, new_amount=Decimal("123456789.00"), largest=Decimal("99999999.99")),
        "Odoo amount $123,456,789.00 does not fit the portal column "
        "(largest $99,999,999.99; keeping portal amount: $857.87)",
    ),
    (
        skip(Reason.CHANGED_IN_PORTAL, new_amount=Decimal("950.00")),
        "Changed in the portal during the run; the portal's change was kept",
    ),
    (
        skip(Reason.BAD_PORTAL_AMOUNT),
        "The portal's amount is not a number; fix it in the portal (skipped)",
    ),
    (
        skip(Reason.CHANGED_SINCE, new_amount=Decimal("800.00")),
        "Changed since that run (now $857.87); left alone",
    ),
    (
        skip(
            Reason.DRIFT,
            new_amount=Decimal("800.00"),
            last_written=Decimal("800.00"),
            contest=Contest.DRIFT,
        ),
        "Changed in the portal since orderamt wrote $800.00, while Odoo still says so: the "
        "portal drifted from Odoo (keeping portal amount: $857.87; --on-conflict skip)",
    ),
    (
        skip(Reason.CURRENCY, currency="EUR", odoo_currency="USD"),
        "Odoo's order is in USD, the portal's amount in EUR: not written "
        "(keeping portal amount: 857.87 EUR)",
    ),
    (
        skip(Reason.CONFLICT, new_amount=Decimal("950.00"), last_written=Decimal("800.00")),
        "Conflict: changed in the portal since orderamt wrote $800.00, and Odoo now says "
        "$950.00 (keeping portal amount: $857.87; --on-conflict skip)",
    ),
]


@pytest.mark.parametrize(("decision", "why"), SKIPS)
def test_each_skip_reason_has_its_own_words(decision: Decision, why: str) -> None:
    """Every reason to leave an order alone is spelled out, with a warning marker."""
    emoji, plain = Screen(), Screen()
    emoji.report().decided(decision)
    plain.report(emoji=False).decided(decision)
    assert emoji.lines == [f"  ⚠️  AFINET-SO-1: {why}"]
    assert plain.lines == [f"  [warning] AFINET-SO-1: {why}"]


FIELD_ISSUES = [
    (
        FieldIssue("status", "done", Reason.UNMAPPED, portal_value="pending"),
        "status: Odoo says 'done', which ORDERAMT_STATUS_MAP does not map (keeping 'pending')",
    ),
    (
        FieldIssue("status", "sale", Reason.CONFLICT, "on hold", "pending", new="confirmed"),
        "status: conflict: changed in the portal since orderamt wrote 'pending', and Odoo now "
        "says 'confirmed' (keeping 'on hold'; --on-conflict skip)",
    ),
    (
        FieldIssue("status", "sale", Reason.DRIFT, "on hold", "confirmed", new="confirmed"),
        "status: changed in the portal since orderamt wrote 'confirmed', while Odoo still says "
        "so (keeping 'on hold'; --on-conflict skip)",
    ),
    (
        FieldIssue("delivery_status", "", Reason.CHANGED_SINCE, portal_value=None),
        "delivery_status: changed since that run (now NULL); left alone",
    ),
    (
        FieldIssue("status", "sale", Reason.FLAGGED, "cancelled", "pending", new="confirmed"),
        "status: conflict: changed in the portal (now 'cancelled') and in Odoo (now "
        "'confirmed') since orderamt last saw 'pending'; both left as they are "
        "(ORDERAMT_STATUS_ON_CONFLICT=flag)",
    ),
    (
        FieldIssue(
            "status",
            "sale",
            Reason.PUSH_REFUSED,
            "cancelled",
            detail="cancel: You cannot cancel a locked order. Please unlock it first.",
        ),
        "status: Odoo refused the portal's 'cancelled': cancel: You cannot cancel a locked "
        "order. Please unlock it first. (keeping 'cancelled' in the portal; Odoo still says "
        "'sale')",
    ),
]


@pytest.mark.parametrize(("issue", "why"), FIELD_ISSUES)
def test_each_field_issue_has_its_own_words(issue: FieldIssue, why: str) -> None:
    """A mapped field left alone is said on a line of its own, after the amount's."""
    screen = Screen()
    decision = Decision(order(), Action.UPDATE, new_amount=Decimal("950.00"), issues=(issue,))
    screen.report().decided(decision)
    assert screen.lines == ["  ✅ AFINET-SO-1: $857.87 → $950.00", f"  ⚠️  AFINET-SO-1: {why}"]


def test_a_field_change_has_its_line_and_an_unchanged_amount_none() -> None:
    """`S00042: status pending → confirmed`; the amount's "No change" is not said beside it."""
    screen = Screen()
    change = FieldChange("status", "pending", "confirmed")
    decision = Decision(order(), Action.UNCHANGED, reason=Reason.SAME_AMOUNT, fields=(change,))
    screen.report().decided(decision)
    screen.report(emoji=False, dry_run=True).decided(decision)
    assert screen.lines == [
        "  ✅ AFINET-SO-1: status pending → confirmed",
        "  [updated] AFINET-SO-1: would update status pending -> confirmed",
    ]


def test_every_reason_is_covered() -> None:
    """The tables above have a line for every skip reason, so a new reason cannot go unworded."""
    covered = {decision.reason for decision, _ in SKIPS}
    covered |= {issue.reason for issue, _ in FIELD_ISSUES}
    covered |= {Reason.SAME_AMOUNT, Reason.ZERO_IN_ODOO, Reason.HELD}
    assert covered == set(Reason)


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize(
    ("junk", "left"),
    [("\r", ""), ("\x1b[2J", "[2J"), ("\x1b]0;pwned\x07", "]0;pwned"), ("\x9b2J", "2J"),
     ("\x7f", ""), ("\n  ✅ forged", "   ✅ forged"), ("\u202e9-OS", "9-OS"),
     ("\u200b", "")],
    ids=["carriage-return", "clear-screen", "window-title", "c1-csi", "delete", "newline",
         "right-to-left-override", "zero-width-space"],
)  # fmt: skip
def test_control_characters_in_an_order_number_cannot_touch_the_screen(
    junk: str, left: str, terminal: bool
) -> None:
    """Control characters from the portal are dropped, in a terminal and in cron mail alike:
    a CR would overwrite the line, ESC [2J clear the operator's screen, OSC 0 retitle the
    window; a newline becomes a space, so that no line of its own is forged."""
    screen = Screen(terminal=terminal)
    screen.report().decided(update(number=f"AFINET-SO-1{junk}"))
    assert junk not in screen.out.getvalue()
    if not terminal:
        assert screen.lines == [f"  ✅ AFINET-SO-1{left}: $857.87 → $950.00"]


@pytest.mark.parametrize(
    ("selection", "count", "found", "expected"),
    [
        (Everything(), 2, None, "Found 2 orders with Odoo IDs"),
        (Everything(), 1, None, "Found 1 order with Odoo IDs"),
        (Everything(), 0, None, "Found 0 orders with Odoo IDs"),
        (Recent(since=SINCE, days=7), 3, None, "Found 3 recent orders (last 7 days)"),
        (Recent(since=SINCE, days=1), 1, None, "Found 1 recent order (last 1 day)"),
        (OneOrder(order_id=5), 1, order(id=5, number="AFINET-SO-5"), "Found order 5 (AFINET-SO-5)"),
    ],
)
def test_found_line_names_the_selection(
    selection: Selection, count: int, found: PortalOrder | None, expected: str
) -> None:
    """What was found is said in the terms of what was asked for, with the right plurals."""
    screen = Screen()
    screen.report(selection=selection).found(count, found)
    assert screen.lines == [expected, ""]


def test_dry_run_wording() -> None:
    """A dry run says so at the start, says 'would update', and ends saying nothing was written."""
    screen = Screen()
    run(screen.report(dry_run=True), update(), unchanged())
    assert screen.lines == [
        "🔄 Syncing order amounts from Odoo... (dry run: nothing will be written)",
        "",
        "Found 2 orders with Odoo IDs",
        "",
        "  ✅ AFINET-SO-1: would update $857.87 → $950.00",
        "  ⏭️  AFINET-SO-2: No change ($857.87)",
        "",
        "Would sync: 2 (1 would be updated, 1 unchanged)",
        "",
        "✅ Dry run complete: nothing was written.",
    ]


def test_revert_wording() -> None:
    """A revert names its run at the start, in what it found, and in its summary."""
    screen = Screen()
    run(screen.report(reverting=12), update("857.87", amount="950.00"))
    assert screen.lines == [
        "🔄 Reverting run 12...",
        "",
        "Found 1 change made by run 12",
        "",
        "  ✅ AFINET-SO-1: $950.00 → $857.87",
        "",
        "Reverted: 1 (1 updated, 0 unchanged)",
        "",
        "✅ Revert complete!",
    ]


def test_revert_of_a_reverted_run_says_so_and_nothing_more() -> None:
    """Reverting a run that was already reverted names the earlier revert and prints no summary."""
    screen = Screen()
    report = screen.report(reverting=3)
    report.started()
    report.already_reverted(3, RUNS[1])
    report.finished(RunCounts())
    assert screen.lines == [
        "🔄 Reverting run 3...",
        "",
        "Run 3 was already reverted by run 2 (2026-11-24 21:00:00 UTC); nothing was written.",
    ]


def test_json_names_the_earlier_revert() -> None:
    """The JSON document of a revert of a reverted run names the run that reverted it."""
    report = JsonReport(Everything())
    report.already_reverted(3, RUNS[1])
    assert report.document(RunCounts(), 0)["already_reverted_by"] == 2


def test_dry_run_revert_wording() -> None:
    """A dry-run revert says it would revert, and that nothing was written."""
    screen = Screen()
    run(screen.report(reverting=12, dry_run=True, emoji=False), update("857.87", amount="950.00"))
    assert screen.lines == [
        "Reverting run 12... (dry run: nothing will be written)",
        "",
        "Found 1 change made by run 12",
        "",
        "  [updated] AFINET-SO-1: would update $950.00 -> $857.87",
        "",
        "Would revert: 1 (1 would be updated, 0 unchanged)",
        "",
        "Dry run complete: nothing was written.",
    ]


def test_skipped_orders_end_with_a_call_to_look() -> None:
    """Skipped orders are counted in the summary and the last line asks for a look at them."""
    screen = Screen()
    run(
        screen.report(),
        update(),
        skip(Reason.NOT_IN_ODOO, odoo_id=42),
        skip(Reason.BAD_PORTAL_AMOUNT),
    )
    assert screen.lines[-4:] == [
        "",
        "Synced: 3 (1 updated, 0 unchanged, 2 skipped)",
        "",
        "⚠️  Sync complete; 2 orders need a look (see above)",
    ]


def test_call_to_look_in_plain_text_and_after_a_revert() -> None:
    """The call to look has a plain marker without emoji, and says 'Revert' for a revert."""
    screen = Screen()
    run(screen.report(emoji=False, reverting=3), skip(Reason.CHANGED_SINCE), update())
    assert screen.lines[-3:] == [
        "Reverted: 2 (1 updated, 0 unchanged, 1 skipped)",
        "",
        "[warning] Revert complete; 1 order needs a look (see above)",
    ]


def test_one_skipped_order_needs_a_look() -> None:
    """With one skipped order the last line is grammatical: '1 order needs a look'."""
    screen = Screen()
    run(screen.report(), skip(Reason.BAD_PORTAL_AMOUNT))
    assert screen.lines[-1] == "⚠️  Sync complete; 1 order needs a look (see above)"


def test_dry_run_with_skips_still_ends_as_a_dry_run() -> None:
    """A dry run's skipped orders are listed and counted, and its last line is the dry-run one."""
    screen = Screen()
    run(screen.report(dry_run=True), skip(Reason.BAD_PORTAL_AMOUNT))
    assert screen.lines[-3:] == [
        "Would sync: 1 (0 would be updated, 0 unchanged, 1 skipped)",
        "",
        "✅ Dry run complete: nothing was written.",
    ]


def test_quiet_hour_prints_nothing() -> None:
    """--quiet with nothing changed and nothing skipped prints not a single character."""
    screen = Screen()
    run(screen.report(quiet=True), unchanged(), unchanged(Reason.ZERO_IN_ODOO))
    assert screen.out.getvalue() == ""


def test_quiet_prints_only_the_news() -> None:
    """--quiet prints the changed and skipped orders and the summary, and nothing else."""
    screen = Screen()
    run(
        screen.report(quiet=True),
        update(),
        unchanged(),
        skip(Reason.NOT_IN_ODOO, odoo_id=7),
    )
    assert screen.lines == [
        "  ✅ AFINET-SO-1: $857.87 → $950.00",
        "  ⚠️  AFINET-SO-1: Sale order 7 not found in Odoo (keeping portal amount: $857.87)",
        "",
        "Synced: 3 (1 updated, 1 unchanged, 1 skipped)",
        "",
        "⚠️  Sync complete; 1 order needs a look (see above)",
    ]


def test_quiet_with_an_update_only_ends_complete() -> None:
    """--quiet with only an update shows it, the summary and 'Sync complete!'."""
    screen = Screen()
    run(screen.report(quiet=True, emoji=False), update())
    assert screen.lines == [
        "  [updated] AFINET-SO-1: $857.87 -> $950.00",
        "",
        "Synced: 1 (1 updated, 0 unchanged)",
        "",
        "Sync complete!",
    ]


def json_report(selection: Selection | None, *decisions: Decision) -> JsonReport:
    report = JsonReport(selection)
    report.found(len(decisions), None)
    for decision in decisions:
        report.decided(decision)
    return report


def test_json_document_of_a_run() -> None:
    """The JSON document carries the mode, counts, exit code and each order's decision exactly."""
    report = json_report(Recent(since=SINCE, days=7), update("950.00", amount="857.8749"))
    counts = RunCounts(found=1, updated=1)
    document = report.document(counts, 0)
    assert document == {
        "run_id": None,
        "mode": "recent",
        "already_reverted_by": None,
        "changed_since": None,
        "dry_run": False,
        "days": 7,
        "found": 1,
        "updated": 1,
        "unchanged": 0,
        "skipped": 0,
        "pushed": 0,
        "exit_code": 0,
        "error": None,
        "orders": [
            {
                "id": 1,
                "order_number": "AFINET-SO-1",
                "odoo_id": 42,
                "action": "update",
                "reason": None,
                "old_amount": "857.8749",
                "new_amount": "950.00",
                "detail": None,
                "conflict": False,
                "contest": None,
                "held_by_revert_of": None,
                "fields": [],
                "pushes": [],
                "field_issues": [],
            }
        ],
    }
    assert json.loads(json.dumps(document)) == document


def test_json_document_of_a_failed_start() -> None:
    """A run that failed before counting anything still gives a full document with its error."""
    document = JsonReport(None, dry_run=True).document(
        None, 2, "configuration: ODOO_URL is not set"
    )
    assert document == {
        "run_id": None,
        "mode": None,
        "already_reverted_by": None,
        "changed_since": None,
        "dry_run": True,
        "days": None,
        "found": None,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "pushed": 0,
        "exit_code": 2,
        "error": "configuration: ODOO_URL is not set",
        "orders": [],
    }


def test_json_document_names_the_recorded_run() -> None:
    """Once the journal has given the run its id, the document carries it for revert."""
    report = json_report(Everything(), update())
    report.recorded(17)
    assert report.document(RunCounts(found=1, updated=1), 0)["run_id"] == 17


@pytest.mark.parametrize(
    ("selection", "mode", "days"),
    [(Everything(), "all", None), (OneOrder(order_id=3), "one", None)],
)
def test_json_mode_follows_the_selection(selection: Selection, mode: str, days: int | None) -> None:
    """A backfill is mode 'all', a spot fix 'one'; only a recent run has days."""
    document = JsonReport(selection).document(RunCounts(), 0)
    assert (document["mode"], document["days"]) == (mode, days)


@pytest.mark.parametrize(
    ("decision", "reason", "detail"),
    [
        (skip(Reason.BAD_ODOO_ID, bad_value="'S00042'"), "bad_odoo_id", "'S00042'"),
        (skip(Reason.NOT_IN_ODOO, odoo_id=42), "not_in_odoo", "42"),
        (skip(Reason.BAD_ODOO_AMOUNT, bad_value="'950.00'"), "bad_odoo_amount", "'950.00'"),
        (skip(Reason.TOO_LARGE, largest=Decimal("99999999.99")), "too_large", "99999999.99"),
        (
            skip(
                Reason.CONFLICT,
                new_amount=Decimal("950"),
                last_written=Decimal("800"),
                contest=Contest.CONFLICT,
            ),
            "conflict",
            "800.00",
        ),
        (unchanged(Reason.SAME_AMOUNT), "same_amount", None),
        (unchanged(Reason.ZERO_IN_ODOO), "zero_in_odoo", None),
        (skip(Reason.BAD_PORTAL_AMOUNT), "bad_portal_amount", None),
    ],
)
def test_json_detail_carries_the_value_behind_a_skip(
    decision: Decision, reason: str, detail: str | None
) -> None:
    """Each reason comes with the one value an operator needs to act on, as a string."""
    (entry,) = json_report(Everything(), decision).orders
    assert (entry["reason"], entry["detail"]) == (reason, detail)


def test_json_marks_a_conflict_update() -> None:
    """An update that overrode a portal change is flagged, with what orderamt had written."""
    decision = update(last_written="800.00", contest=Contest.CONFLICT)
    (entry,) = json_report(Everything(), decision).orders
    assert (entry["action"], entry["conflict"], entry["contest"], entry["detail"]) == (
        "update",
        True,
        "conflict",
        "800.00",
    )


def test_json_names_the_revert_holding_an_order() -> None:
    """A held order carries the run whose revert holds it."""
    (entry,) = json_report(Everything(), held()).orders
    assert (entry["action"], entry["reason"], entry["held_by_revert_of"]) == (
        "unchanged",
        "held",
        3,
    )


@pytest.mark.parametrize(
    ("odoo_ref", "shown"), [(42, 42), ("  42 ", "  42 "), (None, None), (4.2, None)]
)
def test_json_odoo_id_is_the_column_as_stored(odoo_ref: object, shown: object) -> None:
    """The Odoo id column is shown as stored when it is a number or text, else as null."""
    decision = Decision(order(odoo_ref=odoo_ref), Action.SKIP, reason=Reason.BAD_ODOO_ID)
    (entry,) = json_report(Everything(), decision).orders
    assert entry["odoo_id"] == shown


class Stream(io.TextIOWrapper):
    """An output stream with a given encoding, like a terminal or a pipe."""

    def __init__(self, encoding: str) -> None:
        super().__init__(io.BytesIO(), encoding=encoding)


@pytest.mark.parametrize(
    ("environ", "shows"),
    [
        ({"LANG": "en_US.UTF-8"}, True),
        ({"LANG": "de_DE.utf8"}, True),
        ({"LANG": "C.UTF-8"}, True),
        ({"LANG": "C"}, False),
        ({"LANG": "POSIX"}, False),
        ({"LANG": "en_US.ISO-8859-1"}, False),
        ({}, False),
        ({"LANG": ""}, False),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, False),
        ({"LANG": "C", "LC_ALL": "en_US.UTF-8"}, True),
        ({"LANG": "C", "LC_CTYPE": "en_US.UTF-8"}, True),
        ({"LANG": "en_US.UTF-8", "LC_CTYPE": "C"}, False),
        ({"LANG": "C", "LC_CTYPE": "en_US.UTF-8", "LC_ALL": "C"}, False),
        ({"LC_ALL": "", "LC_CTYPE": "", "LANG": "en_US.UTF-8"}, True),
        ({"WINDIR": "C:\\Windows"}, True),
    ],
)
def test_emoji_follow_the_locale(environ: dict[str, str], shows: bool) -> None:
    """On a UTF-8 stream, LC_ALL, then LC_CTYPE, then LANG decide; a UTF-8 one shows emoji."""
    assert can_show_emoji(Stream("utf-8"), environ) is shows


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_no_emoji_where_the_stream_cannot_encode_them(encoding: str) -> None:
    """An output encoding without emoji (a Windows code page, ASCII) gets plain text."""
    assert can_show_emoji(Stream(encoding), {"LANG": "en_US.UTF-8"}) is False


def test_no_emoji_on_a_stream_without_an_encoding() -> None:
    """A stream that declares no encoding is taken as ASCII."""
    assert can_show_emoji(io.StringIO(), {"LANG": "en_US.UTF-8"}) is False


@pytest.mark.parametrize(
    ("environ", "shows"),
    [
        ({"LC_CTYPE": "C.UTF-8"}, False),
        ({"LC_CTYPE": "C.utf8"}, False),
        ({"LC_CTYPE": "UTF-8"}, False),
        ({"LC_CTYPE": "C.UTF-8", "LANG": "en_US.UTF-8"}, True),
        ({"LC_CTYPE": "C.UTF-8", "LANG": "C"}, False),
        ({"LC_CTYPE": "en_US.UTF-8"}, True),
        ({"LC_CTYPE": "C.UTF-8", "LC_ALL": "C.UTF-8"}, True),
    ],
)
def test_coerced_c_locale_is_seen_through(environ: dict[str, str], shows: bool) -> None:
    """When Python itself set LC_CTYPE for a C locale, the user's own locale decides."""
    assert can_show_emoji(Stream("utf-8"), environ, locale_coerced=True) is shows


@pytest.fixture
def utf8_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout in a UTF-8 locale, as on an operator's terminal."""
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)


@pytest.fixture
def c_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout under LANG=C, as cron often has it."""
    monkeypatch.setenv("LANG", "C")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.delenv("WINDIR", raising=False)
    monkeypatch.delenv("windir", raising=False)


RUNS = [
    RunRecord(
        id=3,
        kind="sync",
        mode="recent",
        reverts_run=None,
        started_at=datetime(2026, 11, 24, 22, 0, 0),
        finished_at=datetime(2026, 11, 24, 22, 0, 4),
        found=10,
        updated=2,
        unchanged=7,
        skipped=1,
        exit_code=1,
    ),
    RunRecord(
        id=2,
        kind="revert",
        mode="all",
        reverts_run=1,
        started_at=datetime(2026, 11, 24, 21, 0, 0),
        finished_at=datetime(2026, 11, 24, 21, 0, 1),
        found=1,
        updated=1,
        unchanged=0,
        skipped=0,
        exit_code=0,
    ),
]

UNFINISHED = RunRecord(
    id=4,
    kind="sync",
    mode="all",
    reverts_run=None,
    started_at=datetime(2026, 11, 24, 23, 0, 0),
    finished_at=None,
    found=None,
    updated=None,
    unchanged=None,
    skipped=None,
    exit_code=None,
)


def test_json_escapes_every_control_character(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON read in a terminal carries no raw control character: C0 as json escapes it, DEL
    and C1 (a CSI would clear the screen) escaped too; letters stay letters."""
    value = "SO-é\x1b[2J\x9b2J\x7f"
    print_json({"order_number": value})
    out = capsys.readouterr().out
    assert out == '{\n  "order_number": "SO-é\\u001b[2J\\u009b2J\\u007f"\n}\n'
    assert json.loads(out) == {"order_number": value}


@pytest.mark.usefixtures("utf8_locale")
def test_history_lists_runs_newest_first(capsys: pytest.CaptureFixture[str]) -> None:
    """`orderamt history` prints one line per run with its times, kind, counts and exit code."""
    print_runs(RUNS, as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "run 3  2026-11-24 22:00:00 UTC → 22:00:04  sync recent  "
        "found 10: 2 updated, 7 unchanged, 1 skipped  exit 1",
        "run 2  2026-11-24 21:00:00 UTC → 21:00:01  revert of run 1  "
        "found 1: 1 updated, 0 unchanged, 0 skipped  exit 0",
    ]


@pytest.mark.usefixtures("c_locale")
def test_history_in_a_c_locale_is_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    """Under LANG=C the history's arrow is ASCII."""
    print_runs(RUNS[:1], as_json=False)
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "run 3  2026-11-24 22:00:00 UTC -> 22:00:04  sync recent  "
        "found 10: 2 updated, 7 unchanged, 1 skipped  exit 1",
    ]
    assert out.isascii()


@pytest.mark.usefixtures("utf8_locale")
def test_history_says_when_a_run_did_not_finish(capsys: pytest.CaptureFixture[str]) -> None:
    """A run that was killed part-way is listed as such."""
    print_runs([UNFINISHED], as_json=False)
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("run 4  2026-11-24 23:00:00 UTC → did not finish  sync all  ")


@pytest.mark.usefixtures("utf8_locale")
def test_history_of_an_unfinished_run_shows_no_none(capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed part-way has no counts; the operator sees no Python 'None' in their place."""
    print_runs([UNFINISHED], as_json=False)
    (line,) = capsys.readouterr().out.splitlines()
    assert "None" not in line


@pytest.mark.usefixtures("utf8_locale")
def test_history_with_no_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty journal says so in words."""
    print_runs([], as_json=False)
    assert capsys.readouterr().out == "No runs in the journal yet.\n"


def test_history_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`history --json` gives every field of each run, times as 'YYYY-MM-DD HH:MM:SS'."""
    print_runs([RUNS[0], UNFINISHED], as_json=True)
    assert json.loads(capsys.readouterr().out) == {
        "runs": [
            {
                "id": 3,
                "kind": "sync",
                "mode": "recent",
                "reverts_run": None,
                "started_at": "2026-11-24 22:00:00",
                "finished_at": "2026-11-24 22:00:04",
                "found": 10,
                "updated": 2,
                "unchanged": 7,
                "skipped": 1,
                "exit_code": 1,
                "error": None,
                "host": None,
                "pid": None,
            },
            {
                "id": 4,
                "kind": "sync",
                "mode": "all",
                "reverts_run": None,
                "started_at": "2026-11-24 23:00:00",
                "finished_at": None,
                "found": None,
                "updated": None,
                "unchanged": None,
                "skipped": None,
                "exit_code": None,
                "error": None,
                "host": None,
                "pid": None,
            },
        ]
    }


CHANGES = [
    JournalEntry(
        run_id=3,
        order_id=5,
        odoo_id="42",
        order_number="AFINET-SO-5",
        old_amount=Decimal("857.87"),
        new_amount=Decimal("950.00"),
        odoo_write_date="2026-11-24 18:15:57",
        changed_at=datetime(2026, 11, 24, 22, 0, 1),
        old_updated_at=datetime(2026, 11, 20, 9, 0, 0),
    ),
    JournalEntry(
        run_id=4,
        order_id=5,
        odoo_id="42",
        order_number="AFINET-SO-5",
        old_amount=None,
        new_amount=Decimal("1579.5600"),
        odoo_write_date=None,
        changed_at=datetime(2026, 11, 25, 22, 0, 1),
        conflict=True,
    ),
]


HOLDS = [
    Hold(
        order_id=5,
        value=Decimal("950.00"),
        odoo_write_date=WRITE_DATE,
        reverted_run=3,
        revert_run=4,
        held_at=datetime(2026, 11, 25, 9, 0, 0),
    ),
    Hold(
        order_id=5,
        value=Decimal("990.00"),
        odoo_write_date=None,
        reverted_run=6,
        revert_run=7,
        held_at=datetime(2026, 11, 26, 9, 0, 0),
        released_at=datetime(2026, 11, 27, 22, 0, 0),
        released_why="Odoo changed",
    ),
]


@pytest.mark.usefixtures("utf8_locale")
def test_order_history_lists_each_change(capsys: pytest.CaptureFixture[str]) -> None:
    """`history --order-id` prints each change: when, run, order, amounts, write date, conflict."""
    print_order_changes(5, CHANGES, [], as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-24 22:00:01 UTC  run 3  AFINET-SO-5  $857.87 → $950.00  "
        "(Odoo write_date 2026-11-24 18:15:57)",
        "2026-11-25 22:00:01 UTC  run 4  AFINET-SO-5  (empty) → $1,579.56  conflict",
    ]


@pytest.mark.usefixtures("utf8_locale")
def test_order_history_shows_no_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    """An order number holding a clear-screen and a window title is shown without them."""
    entry = dataclasses.replace(CHANGES[0], order_number="AFINET-SO-5\x1b[2J\x1b]0;pwned\x07")
    print_order_changes(5, [entry], [], as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-24 22:00:01 UTC  run 3  AFINET-SO-5[2J]0;pwned  $857.87 → $950.00  "
        "(Odoo write_date 2026-11-24 18:15:57)",
    ]


@pytest.mark.usefixtures("c_locale")
def test_order_history_in_a_c_locale_is_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    """Under LANG=C an order's changes use an ASCII arrow."""
    print_order_changes(5, CHANGES[:1], [], as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-24 22:00:01 UTC  run 3  AFINET-SO-5  $857.87 -> $950.00  "
        "(Odoo write_date 2026-11-24 18:15:57)",
    ]


@pytest.mark.usefixtures("utf8_locale")
def test_order_history_of_an_untouched_order(capsys: pytest.CaptureFixture[str]) -> None:
    """An order orderamt never changed says so, naming the order."""
    print_order_changes(9, [], [], as_json=False)
    assert capsys.readouterr().out == "No changes to order 9 in the journal.\n"


def test_order_history_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON carries amounts as exact strings and leaves out the journal's bookkeeping."""
    print_order_changes(5, CHANGES, HOLDS, as_json=True)
    assert json.loads(capsys.readouterr().out) == {
        "order_id": 5,
        "changes": [
            {
                "run_id": 3,
                "order_id": 5,
                "odoo_id": "42",
                "order_number": "AFINET-SO-5",
                "old_amount": "857.87",
                "new_amount": "950.00",
                "odoo_write_date": "2026-11-24 18:15:57",
                "changed_at": "2026-11-24 22:00:01",
                "conflict": False,
                "field": None,
                "old_value": None,
                "new_value": None,
                "direction": None,
                "odoo_old": None,
                "odoo_new": None,
            },
            {
                "run_id": 4,
                "order_id": 5,
                "odoo_id": "42",
                "order_number": "AFINET-SO-5",
                "old_amount": None,
                "new_amount": "1579.56",
                "odoo_write_date": None,
                "changed_at": "2026-11-25 22:00:01",
                "conflict": True,
                "field": None,
                "old_value": None,
                "new_value": None,
                "direction": None,
                "odoo_old": None,
                "odoo_new": None,
            },
        ],
        "holds": [
            {
                "order_id": 5,
                "amount": "950.00",
                "odoo_write_date": "2026-11-24 18:15:57",
                "reverted_run": 3,
                "revert_run": 4,
                "held_at": "2026-11-25 09:00:00",
                "released_at": None,
                "released_why": None,
                "field": None,
                "value": None,
            },
            {
                "order_id": 5,
                "amount": "990.00",
                "odoo_write_date": None,
                "reverted_run": 6,
                "revert_run": 7,
                "held_at": "2026-11-26 09:00:00",
                "released_at": "2026-11-27 22:00:00",
                "released_why": "Odoo changed",
                "field": None,
                "value": None,
            },
        ],
    }


@pytest.mark.usefixtures("utf8_locale")
def test_order_history_lists_the_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """After the changes come the holds reverts placed: the one in force, and the one released."""
    print_order_changes(5, [], HOLDS, as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "No changes to order 5 in the journal.",
        "2026-11-25 09:00:00 UTC  run 4  held by the revert of run 3: Odoo's $950.00 "
        "(write_date 2026-11-24 18:15:57) is not written again until Odoo changes it "
        "(orderamt release 5)",
        "2026-11-26 09:00:00 UTC  run 7  held by the revert of run 6: Odoo's $990.00 "
        "was held until 2026-11-27 22:00:00 UTC (Odoo changed)",
    ]


@pytest.mark.usefixtures("utf8_locale")
def test_release_says_what_it_released(capsys: pytest.CaptureFixture[str]) -> None:
    """`orderamt release` names the revert whose hold it lifted, or says there was none."""
    print_released(5, HOLDS[:1])
    print_released(9, [])
    assert capsys.readouterr().out.splitlines() == [
        "Released order 5 from the hold of the revert of run 3: the next sync takes Odoo's amount.",
        "Order 9 has no hold; nothing to release.",
    ]


@pytest.mark.usefixtures("utf8_locale")
def test_checks_list_each_part_and_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """`orderamt check` prints its header, a marked line per part, and how many failed."""
    print_check_header(["Odoo: https://odoo.example.com (database odoo)"])
    print_checks(
        [
            CheckResult("Odoo", True, "Odoo 18.0, XML-RPC"),
            CheckResult("Login", False, "Odoo refused the login", exit_code=3),
            CheckResult("Sale orders", None, "not tried"),
        ],
        as_json=False,
        exit_code=3,
    )
    assert capsys.readouterr().out.splitlines() == [
        "Odoo: https://odoo.example.com (database odoo)",
        "",
        "✅ Odoo: Odoo 18.0, XML-RPC",
        "❌ Login: Odoo refused the login",
        "⏭️  Sale orders: not tried",
        "",
        "1 check failed.",
    ]


@pytest.mark.usefixtures("c_locale")
def test_checks_in_a_c_locale(capsys: pytest.CaptureFixture[str]) -> None:
    """Without emoji the checks are marked [ok], [FAIL] and [--], and all passing says so."""
    print_checks(
        [CheckResult("Odoo", True, "reachable"), CheckResult("Lock", None, "-")],
        as_json=False,
        exit_code=0,
    )
    assert capsys.readouterr().out.splitlines() == [
        "",
        "[ok]   Odoo: reachable",
        "[--]   Lock: -",
        "",
        "All checks passed.",
    ]


@pytest.mark.usefixtures("c_locale")
def test_a_check_shows_what_odoo_said_without_control_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An error Odoo or the database words (here with a clear-screen and a bell) is shown
    in its check's line without the control characters."""
    print_check_header(["Odoo: https://odoo.example.com\x1b[2J (database odoo)"])
    print_checks(
        [CheckResult("Login", False, "Odoo said: no\x1b[2J\x07", exit_code=3)],
        as_json=False,
        exit_code=3,
    )
    assert capsys.readouterr().out.splitlines() == [
        "Odoo: https://odoo.example.com[2J (database odoo)",
        "",
        "[FAIL] Login: Odoo said: no[2J",
        "",
        "1 check failed.",
    ]


@pytest.mark.usefixtures("utf8_locale")
def test_checks_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """A check that passed with a warning is marked so, and the verdict counts the warnings."""
    print_checks(
        [
            CheckResult("Odoo", True, "Odoo 18.0, XML-RPC"),
            CheckResult("Time zone", True, "newest order is 2 hours ahead", warning=True),
        ],
        as_json=False,
        exit_code=0,
    )
    assert capsys.readouterr().out.splitlines() == [
        "",
        "✅ Odoo: Odoo 18.0, XML-RPC",
        "⚠️  Time zone: newest order is 2 hours ahead",
        "",
        "All checks passed; 1 warning.",
    ]


def test_checks_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`check --json`: each part with its verdict and detail, and the exit code."""
    print_checks(
        [CheckResult("Odoo reachable", False, "refused", exit_code=3)], as_json=True, exit_code=3
    )
    assert json.loads(capsys.readouterr().out) == {
        "exit_code": 3,
        "checks": [
            {"label": "Odoo reachable", "passed": False, "warning": False, "detail": "refused",
             "exit_code": 3}
        ],
    }  # fmt: skip


def test_a_push_is_marked_as_a_push_in_plain_text() -> None:
    """A field pushed to Odoo is not a portal update: plain text marks it [pushed]."""
    push = Push("status", "cancelled", "cancel", "sale", "cancel")
    decision = dataclasses.replace(unchanged(Reason.SAME_AMOUNT), pushes=(push,))
    screen = Screen()
    screen.report(emoji=False).decided(decision)
    assert "  [pushed] AFINET-SO-2: pushed status cancelled -> Odoo (cancel: sale -> cancel)" in (
        screen.lines
    )
