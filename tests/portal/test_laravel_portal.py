"""A portal as its users make it: its own time zone, and monitoring that can follow a run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import text

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb


def order(number: str, created: str, odoo_id: int, amount: str = "1.00") -> dict[str, object]:
    when = datetime.fromisoformat(created)
    return {"order_number": number, "total_amount": Decimal(amount), "odoo_order_id": odoo_id,
            "created_at": when, "updated_at": when}  # fmt: skip


def run_at(orderamt: Orderamt, instant: str, *args: str, **env: str) -> tuple[int, list[str]]:
    """`orderamt ARGS` with the clock at `instant` (UTC) and moving on from there."""
    with freeze_time(instant, tick=True):
        run = orderamt(*args, **env)
    assert run.exit_code in (0, 1), run.stderr
    return run.exit_code, run.lines


def at_about(written: datetime, expected: datetime) -> bool:
    """The wall-clock time a run started at `expected` wrote: the frozen clock ticks on
    while the run goes (a loaded machine takes seconds), never an hour off."""
    return expected <= written < expected + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("zone", "inside", "outside", "written"),
    [
        # 2026-11-30 12:00 UTC; the window starts 2026-10-31 12:00 UTC.
        ("America/New_York", "2026-10-31 08:30:00", "2026-10-31 07:30:00", "2026-11-30 07:00:00"),
        ("Asia/Tokyo", "2026-10-31 21:30:00", "2026-10-31 20:30:00", "2026-11-30 21:00:00"),
        ("UTC", "2026-10-31 12:30:00", "2026-10-31 11:30:00", "2026-11-30 12:00:00"),
    ],
)
def test_window_and_updated_at_in_the_portal_zone(
    portal: PortalDb,
    odoo: OdooDouble,
    orderamt: Orderamt,
    zone: str,
    inside: str,
    outside: str,
    written: str,
) -> None:
    """The 30-day window is counted in the portal's zone and `updated_at` written as its wall
    clock: an order half an hour inside the window is synced, half an hour outside is not."""
    portal.insert(order("INSIDE", inside, 1), order("OUTSIDE", outside, 2))
    odoo.add_order(id=1, amount_total=10.0)
    odoo.add_order(id=2, amount_total=20.0)
    _, lines = run_at(orderamt, "2026-11-30 12:00:00", "sync", PORTAL_TIMEZONE=zone)
    assert "Found 1 recent order (last 30 days)" in lines
    rows = {r["order_number"]: r for r in portal.rows()}
    assert rows["INSIDE"]["total_amount"] == Decimal("10.00")
    assert rows["OUTSIDE"]["total_amount"] == Decimal("1.00")
    assert at_about(rows["INSIDE"]["updated_at"], datetime.fromisoformat(written))
    assert rows["OUTSIDE"]["updated_at"] == datetime.fromisoformat(outside)


def test_a_daylight_saving_change_neither_skips_nor_doubles_an_hour(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """New York leaves daylight saving on 2026-11-01: a run at noon before and at noon after
    writes noon both times, and the window after the change starts exactly 30 days back
    (13:00 EDT on 2026-10-03), not an hour early."""
    portal.insert(
        order("EARLY", "2026-10-03 12:30:00", 1),  # 30 days and half an hour before the run
        order("LATE", "2026-10-03 13:30:00", 2),
        order("BEFORE", "2026-10-20 09:00:00", 3),
    )
    odoo.add_order(id=1, amount_total=10.0)
    odoo.add_order(id=2, amount_total=20.0)
    odoo.add_order(id=3, amount_total=30.0)
    ny = {"PORTAL_TIMEZONE": "America/New_York"}
    _, lines = run_at(orderamt, "2026-10-31 16:00:00", "sync", "--order-id", "3", **ny)
    assert at_about(portal.rows()[2]["updated_at"], datetime(2026, 10, 31, 12, 0))  # EDT, UTC-4
    _, lines = run_at(orderamt, "2026-11-02 17:00:00", "sync", **ny)
    assert "Found 2 recent orders (last 30 days)" in lines
    rows = {r["order_number"]: r for r in portal.rows()}
    assert rows["EARLY"]["total_amount"] == Decimal("1.00")
    assert rows["LATE"]["total_amount"] == Decimal("20.00")
    assert at_about(rows["LATE"]["updated_at"], datetime(2026, 11, 2, 12, 0))  # EST, UTC-5


def test_unknown_time_zone_is_one_line_at_start(orderamt_sqlite: Orderamt) -> None:
    """A PORTAL_TIMEZONE that is no IANA name stops the run before anything is read."""
    run = orderamt_sqlite("sync", PORTAL_TIMEZONE="Mars/Olympus")
    assert run.exit_code == 2
    assert run.stderr.strip().splitlines() == [
        "orderamt: configuration: PORTAL_TIMEZONE: 'Mars/Olympus' is not a time zone this "
        "system knows (an IANA name such as Europe/Berlin; on Windows, install tzdata) "
        "(see .env.example)"
    ]


def test_check_warns_of_orders_from_the_future(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Orders written in Tokyo time read as nine hours ahead under PORTAL_TIMEZONE=UTC:
    `check` warns and names the setting, and is quiet with the right zone."""
    portal.insert(order("TOKYO", "2026-11-30 20:55:00", 1))
    odoo.add_order(id=1, amount_total=10.0)
    with freeze_time("2026-11-30 12:00:00", tick=True):
        wrong = orderamt("check")
        right = orderamt("check", PORTAL_TIMEZONE="Asia/Tokyo")
    assert wrong.exit_code == 0
    assert (
        "⚠️  Portal time zone: UTC (the default: neither PORTAL_TIMEZONE nor Laravel's "
        "APP_TIMEZONE is set): the newest created_at (2026-11-30 20:55:00) lies 9 hours in "
        "the future there; is PORTAL_TIMEZONE the portal's own (Laravel's "
        "config('app.timezone'))?"
    ) in wrong.lines
    assert wrong.lines[-1] == "All checks passed; 1 warning."
    assert right.exit_code == 0
    assert any(line.startswith("✅ Portal time zone: Asia/Tokyo (now 2026-11-30 21:00:")
               for line in right.lines)  # fmt: skip
    assert right.lines[-1] == "All checks passed."


def test_laravel_s_own_time_zone_is_taken_from_its_env_file(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, tmp_path: Path
) -> None:
    """A Laravel .env with APP_TIMEZONE=America/New_York and no PORTAL_TIMEZONE, shared with
    --env-file: orderamt writes updated_at in New York time and `check` says where the zone
    came from; a PORTAL_TIMEZONE that disagrees is used, with a warning naming both."""
    portal.insert(order("NY", "2026-11-30 06:55:00", 1))
    odoo.add_order(id=1, amount_total=10.0)
    laravel = tmp_path / "laravel.env"
    laravel.write_text("APP_NAME=Portal\nAPP_TIMEZONE=America/New_York\n", encoding="utf-8")
    with freeze_time("2026-11-30 12:00:00"):
        checked = orderamt("check", "--env-file", str(laravel))
        synced = orderamt("sync", "--env-file", str(laravel))
        both = orderamt("sync", "--env-file", str(laravel), PORTAL_TIMEZONE="UTC")
    where = f"Laravel's APP_TIMEZONE in {laravel}"
    said = f"✅ Portal time zone: America/New_York ({where}) (now 2026-11-30 07:00:00 there"
    assert any(line.startswith(said) for line in checked.lines), checked.lines
    assert synced.exit_code == 0, synced.stderr
    assert synced.stderr == ""
    assert portal.rows()[0]["updated_at"] == datetime(2026, 11, 30, 7, 0, 0)
    assert both.stderr == (
        f"orderamt: warning: PORTAL_TIMEZONE is UTC but Laravel's APP_TIMEZONE in {laravel} is "
        "America/New_York: orderamt reads and writes the portal's times in UTC\n"
    )


def test_json_names_the_run_that_history_and_revert_know(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`sync --json` carries the run's id, the one `history` lists and `revert` takes."""
    portal.insert(order("A", datetime.now().strftime("%Y-%m-%d 00:00:00"), 1))
    odoo.add_order(id=1, amount_total=10.0)
    first = json.loads(orderamt("sync", "--json").stdout)
    second = json.loads(orderamt("sync", "--json").stdout)
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [first["run_id"], second["run_id"]] == [r["id"] for r in reversed(runs)]
    assert json.loads(orderamt("sync", "--json", "--dry-run").stdout)["run_id"] is None
    assert orderamt("revert", str(first["run_id"])).exit_code == 0
    assert portal.amounts() == {"A": Decimal("1.00")}


RECENT = "2026-11-29 10:00:00"
WRITTEN = "2026-11-29 11:00:00"


def one_order(portal: PortalDb, odoo: OdooDouble, amount: float = 10.0) -> None:
    portal.insert(order("SO-1", RECENT, 1))
    odoo.add_order(id=1, amount_total=amount, write_date=WRITTEN)


def reprice(odoo: OdooDouble, amount: float, write_date: str) -> None:
    """Staff change the order in Odoo: a new amount, and the write_date moves."""
    odoo.orders[1].update(amount_total=amount, write_date=write_date)


def test_revert_never_undoes_a_later_run(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A row that a later run wrote is not "unchanged since" even where it holds the amount
    the reverted run wrote: reverting run 1 after run 3 wrote 10.00 again leaves it alone."""
    one_order(portal, odoo)
    assert orderamt("sync").exit_code == 0  # run 1: 1.00 -> 10.00
    reprice(odoo, 11.0, "2026-11-29 12:00:00")
    assert orderamt("sync").exit_code == 0  # run 2: 10.00 -> 11.00
    reprice(odoo, 10.0, "2026-11-29 13:00:00")
    assert orderamt("sync").exit_code == 0  # run 3: 11.00 -> 10.00
    before = portal.rows()
    run = orderamt("revert", "1")
    assert run.exit_code == 1
    assert "  ⚠️  SO-1: Changed since that run (now $10.00); left alone" in run.lines
    assert portal.rows() == before


def test_a_reverted_change_is_held_until_odoo_changes(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """After a revert the hourly sync does not write the reverted amount again while Odoo
    still says it; history shows the hold; a new Odoo change is taken and ends the hold."""
    one_order(portal, odoo)
    assert orderamt("sync").exit_code == 0
    assert orderamt("revert", "1").exit_code == 0
    held = orderamt("sync")
    assert held.exit_code == 0
    assert (
        "  ⏭️  SO-1: Held by the revert of run 1 (Odoo still says $10.00; keeping portal "
        "amount: $1.00; release with: orderamt release 1)"
    ) in held.lines
    assert portal.amounts() == {"SO-1": Decimal("1.00")}
    shown = orderamt("history", "--order-id", "1")
    assert any(
        line.endswith(
            "run 2  held by the revert of run 1: Odoo's $10.00 (write_date 2026-11-29 11:00:00) "
            "is not written again until Odoo changes it (orderamt release 1)"
        )
        for line in shown.lines
    ), shown.lines
    reprice(odoo, 12.0, "2026-11-29 14:00:00")
    taken = orderamt("sync")
    assert "  ✅ SO-1: $1.00 → $12.00" in taken.lines
    holds = json.loads(orderamt("history", "--order-id", "1", "--json").stdout)["holds"]
    assert [(h["reverted_run"], h["released_why"]) for h in holds] == [(1, "Odoo changed")]


def test_an_operator_releases_a_hold(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`orderamt release ORDER_ID` ends the hold: the next sync takes Odoo's amount as it is."""
    one_order(portal, odoo)
    orderamt("sync")
    orderamt("revert", "1")
    released = orderamt("release", "1")
    assert released.exit_code == 0
    assert released.lines == [
        "Released order 1 from the hold of the revert of run 1: the next sync takes Odoo's amount."
    ]
    assert orderamt("release", "1").lines == ["Order 1 has no hold; nothing to release."]
    assert "  ✅ SO-1: $1.00 → $10.00" in orderamt("sync").lines


def test_reverting_twice_writes_nothing_and_a_revert_of_the_revert_ends_the_hold(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A run already reverted is said so, with exit 0 and nothing written; reverting the
    revert puts Odoo's amount back and lifts its hold."""
    one_order(portal, odoo)
    orderamt("sync")
    assert orderamt("revert", "1").exit_code == 0  # run 2
    before = portal.rows()
    again = orderamt("revert", "1")
    assert again.exit_code == 0
    assert any(line.startswith("Run 1 was already reverted by run 2 (") for line in again.lines)
    assert again.lines[-1].endswith("nothing was written.")
    assert portal.rows() == before
    assert len(json.loads(orderamt("history", "--json").stdout)["runs"]) == 2
    assert orderamt("revert", "2").exit_code == 0  # run 3
    assert portal.amounts() == {"SO-1": Decimal("10.00")}
    assert "  ⏭️  SO-1: No change ($10.00)" in orderamt("sync").lines


def test_a_portal_edit_with_odoo_unchanged_is_a_drift_not_a_conflict(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Edited in the portal while Odoo did not change: reported as the portal drifting, Odoo's
    amount put back; with --on-conflict skip the portal's edit is kept."""
    one_order(portal, odoo)
    orderamt("sync")
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET total_amount = 15 WHERE id = 1"))
    kept = orderamt("sync", "--on-conflict", "skip")
    assert kept.exit_code == 1
    assert (
        "  ⚠️  SO-1: Changed in the portal since orderamt wrote $10.00, while Odoo still says "
        "so: the portal drifted from Odoo (keeping portal amount: $15.00; --on-conflict skip)"
    ) in kept.lines
    assert portal.amounts() == {"SO-1": Decimal("15.00")}
    put_back = orderamt("sync")
    assert (
        "  ✅ SO-1: $15.00 → $10.00 (the portal drifted: changed there since orderamt wrote "
        "$10.00, while Odoo did not change; Odoo's amount is put back)"
    ) in put_back.lines
    assert not any("conflict" in line for line in put_back.lines)
    assert portal.amounts() == {"SO-1": Decimal("10.00")}


def test_an_order_in_another_currency_is_never_written(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """PORTAL_CURRENCY=USD: an Odoo order in EUR is skipped naming both currencies."""
    portal.insert(order("EURO", RECENT, 1), order("DOLLAR", RECENT, 2))
    odoo.add_order(id=1, amount_total=950.0, currency=(2, "EUR"))
    odoo.add_order(id=2, amount_total=950.0)
    run = orderamt("sync", PORTAL_CURRENCY="usd")
    assert run.exit_code == 1
    assert (
        "  ⚠️  EURO: Odoo's order is in EUR, the portal's amount in USD: not written "
        "(keeping portal amount: $1.00)"
    ) in run.lines
    assert portal.amounts() == {"EURO": Decimal("1.00"), "DOLLAR": Decimal("950.00")}


def test_amounts_take_their_currency_decimals(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Yen are written without decimals (1,234.5 -> 1,235); a two-decimal column cannot hold
    dinars, and says so before anything is read."""
    portal.insert(order("YEN", RECENT, 1))
    odoo.add_order(id=1, amount_total=1234.5, currency=(25, "JPY"))
    run = orderamt("sync", PORTAL_CURRENCY="JPY")
    assert run.exit_code == 0, run.stderr
    assert "  ✅ YEN: 1 JPY → 1,235 JPY" in run.lines
    assert portal.amounts() == {"YEN": Decimal("1235.00")}
    dinar = orderamt("sync", PORTAL_CURRENCY="KWD")
    assert dinar.exit_code == 4
    assert "which cannot hold KWD's 3 decimals" in dinar.stderr
    assert odoo.calls.get("search_read", 0) == 1


def test_a_currency_per_order(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """PORTAL_COL_CURRENCY: each order is compared with its own currency column."""
    portal.insert(order("EURO", RECENT, 1), order("DOLLAR", RECENT, 2))
    with portal.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD currency VARCHAR(3)"))
        conn.execute(text("UPDATE orders SET currency = 'EUR'"))
    odoo.add_order(id=1, amount_total=950.0, currency=(2, "EUR"))
    odoo.add_order(id=2, amount_total=950.0)
    run = orderamt("sync", PORTAL_COL_CURRENCY="currency")
    assert run.exit_code == 1
    assert "  ✅ EURO: 1.00 EUR → 950.00 EUR" in run.lines
    assert any("DOLLAR: Odoo's order is in USD, the portal's amount in EUR" in line
               for line in run.lines)  # fmt: skip
    assert portal.amounts() == {"EURO": Decimal("950.00"), "DOLLAR": Decimal("1.00")}


def test_the_journal_fits_the_orders_table(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The journal is created like Laravel's orders table (on MariaDB its collation and an
    unsigned order id): it joins the orders on the order number and takes a foreign key."""
    one_order(portal, odoo)
    assert orderamt("sync").exit_code == 0
    with portal.engine.begin() as conn:
        joined = conn.execute(
            text(
                "SELECT o.id, j.new_amount FROM orders o JOIN orderamt_journal j "
                "ON j.order_number = o.order_number"
            )
        ).all()
        assert [(row[0], Decimal(str(row[1]))) for row in joined] == [(1, Decimal("10.00"))]
        if portal.kind != "sqlite":  # SQLite cannot add a constraint to a table
            conn.execute(
                text(
                    "ALTER TABLE orderamt_journal ADD CONSTRAINT journal_order "
                    "FOREIGN KEY (order_id) REFERENCES orders (id)"
                )
            )
    assert orderamt("revert", "1").exit_code == 0
    assert portal.amounts() == {"SO-1": Decimal("1.00")}
