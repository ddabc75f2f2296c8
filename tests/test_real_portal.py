"""A portal as its users make it: its own time zone, and monitoring that can follow a run."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time

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
    assert rows["INSIDE"]["updated_at"] == datetime.fromisoformat(written)
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
    assert portal.rows()[2]["updated_at"] == datetime(2026, 10, 31, 12, 0)  # EDT, UTC-4
    _, lines = run_at(orderamt, "2026-11-02 17:00:00", "sync", **ny)
    assert "Found 2 recent orders (last 30 days)" in lines
    rows = {r["order_number"]: r for r in portal.rows()}
    assert rows["EARLY"]["total_amount"] == Decimal("1.00")
    assert rows["LATE"]["total_amount"] == Decimal("20.00")
    assert rows["LATE"]["updated_at"] == datetime(2026, 11, 2, 12, 0)  # EST, UTC-5


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
        "⚠️  Portal time zone: UTC: the newest created_at (2026-11-30 20:55:00) lies 9 hours in "
        "the future there; is PORTAL_TIMEZONE the portal's own (Laravel's "
        "config('app.timezone'))?"
    ) in wrong.lines
    assert wrong.lines[-1] == "All checks passed; 1 warning."
    assert right.exit_code == 0
    assert any(line.startswith("✅ Portal time zone: Asia/Tokyo (now 2026-11-30 21:00:")
               for line in right.lines)  # fmt: skip
    assert right.lines[-1] == "All checks passed."


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
