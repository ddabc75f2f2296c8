"""`orderamt sync` end to end: the real command, a real database on each engine, Odoo over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time

from orderamt.testing import OdooDouble
from tests.conftest import LOGIN_CALL, Orderamt, PortalDb

pytestmark = pytest.mark.every_engine  # in the quick run too (tests/conftest.py)

NOW = datetime(2026, 11, 24, 12, 0, 0)
LAST_WEEK = NOW - timedelta(days=7)

SCENARIO_LINES = [
    "🔄 Syncing order amounts from Odoo...",
    "",
    "Found 3 recent orders (last 30 days)",
    "",
    "  ✅ AFINET-SO-699C2E7046573: $857.87 → $950.00",
    "  ⏭️  AFINET-SO-699C2E20AFF48: No change ($857.87)",
    "  ⏭️  AFINET-SO-699C2DF59FE0D: Still $0.00 in Odoo (keeping portal amount: $857.87)",
    "",
    "Synced: 3 (1 updated, 2 unchanged)",
    "",
    "✅ Sync complete!",
]


def order_row(
    number: str, amount: str | None, odoo_id: object, created: datetime = LAST_WEEK
) -> dict[str, object]:
    return {
        "order_number": number,
        "total_amount": None if amount is None else Decimal(amount),
        "odoo_order_id": odoo_id,
        "created_at": created,
        "updated_at": created,
    }


@pytest.fixture
def scenario(portal: PortalDb, odoo: OdooDouble) -> PortalDb:
    """The three orders operators know: one repriced in Odoo, one unchanged, one without lines."""
    portal.insert(
        order_row("AFINET-SO-699C2E7046573", "857.87", 41),
        order_row("AFINET-SO-699C2E20AFF48", "857.87", 42),
        order_row("AFINET-SO-699C2DF59FE0D", "857.87", 43),
    )
    odoo.add_order(id=41, name="S00041", amount_total=950.0, state="sale")
    odoo.add_order(id=42, name="S00042", amount_total=857.87, state="sale")
    odoo.add_order(id=43, name="S00043", amount_total=0.0, state="draft")
    return portal


@freeze_time(NOW)
def test_three_order_scenario(scenario: PortalDb, orderamt: Orderamt) -> None:
    """The repriced order takes Odoo's amount and a new updated_at; the others are untouched."""
    before = scenario.rows()
    run = orderamt("sync")
    assert run.exit_code == 0, run.stderr
    assert run.lines == SCENARIO_LINES
    assert run.stderr == ""
    after = scenario.rows()
    assert after[0]["total_amount"] == Decimal("950.00")
    assert after[0]["updated_at"] == NOW
    assert after[1:] == before[1:]


@freeze_time(NOW)
def test_update_is_logged_as_one_record(scenario: PortalDb, orderamt: Orderamt) -> None:
    """The log file holds one 'Synced order amount from Odoo' record with the order's figures."""
    orderamt("sync")
    lines = orderamt.log_file.read_text().splitlines()
    synced = [line for line in lines if "Synced order amount from Odoo" in line]
    assert len(synced) == 1
    context = json.loads(synced[0].split("Synced order amount from Odoo ", 1)[1])
    assert context == {
        "order_id": 1,
        "order_number": "AFINET-SO-699C2E7046573",
        "old_amount": "857.87",
        "new_amount": "950.00",
    }
    assert any("Run finished" in line and '"updated": 1' in line for line in lines)


@freeze_time(NOW)
def test_second_run_writes_nothing(scenario: PortalDb, orderamt: Orderamt) -> None:
    """Run twice over the same data: the second run reports no change and leaves every row."""
    orderamt("sync")
    after_first = scenario.rows()
    run = orderamt("sync")
    assert run.exit_code == 0
    assert "Synced: 3 (0 updated, 3 unchanged)" in run.lines
    assert scenario.rows() == after_first


def test_thirty_day_window(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """An order created 31 days ago is not read by `sync` but is by `sync --all`."""
    portal.insert(
        order_row("RECENT", "10.00", 1, created=NOW - timedelta(days=29)),
        order_row("OLD", "10.00", 2, created=NOW - timedelta(days=31)),
    )
    odoo.add_order(id=1, name="S00001", amount_total=20.0)
    odoo.add_order(id=2, name="S00002", amount_total=30.0)
    with freeze_time(NOW):
        recent = orderamt("sync")
        assert "Found 1 recent order (last 30 days)" in recent.lines
        assert portal.amounts() == {"RECENT": Decimal("20.00"), "OLD": Decimal("10.00")}
        everything = orderamt("sync", "--all")
        assert "Found 2 orders with Odoo IDs" in everything.lines
        assert portal.amounts() == {"RECENT": Decimal("20.00"), "OLD": Decimal("30.00")}
        wider = orderamt("sync", "--days", "40")
        assert "Found 2 recent orders (last 40 days)" in wider.lines


def test_orders_without_odoo_id_are_not_read(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Orders with no Odoo id are not counted, even with --all."""
    portal.create(odoo_id_type="varchar")
    portal.insert(
        order_row("HAS", "10.00", "7"),
        order_row("NULL", "10.00", None),
        order_row("BLANK", "10.00", ""),
        order_row("SPACES", "10.00", "   "),
    )
    odoo.add_order(id=7, name="S00007", amount_total=11.0)
    run = orderamt("sync", "--all")
    assert "Found 1 order with Odoo IDs" in run.lines
    assert run.exit_code == 0


@freeze_time(NOW)
def test_order_id_syncs_one_order(scenario: PortalDb, orderamt: Orderamt) -> None:
    """`--order-id 1` and `--order-id=1` read and update only that order."""
    run = orderamt("sync", "--order-id", "1")
    assert run.exit_code == 0, run.stderr
    assert "Found order 1 (AFINET-SO-699C2E7046573)" in run.lines
    assert "Synced: 1 (1 updated, 0 unchanged)" in run.lines
    again = orderamt("sync", "--order-id=2")
    assert "  ⏭️  AFINET-SO-699C2E20AFF48: No change ($857.87)" in again.lines
    assert "Synced: 1 (0 updated, 1 unchanged)" in again.lines


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a positive whole number"),
        ("-1", "'-1' is not a positive whole number"),
        ("0", "'0' is not a positive whole number"),
        ("99", "order 99 does not exist in the portal"),
    ],
)
def test_order_id_refused(
    scenario: PortalDb, orderamt: Orderamt, odoo: OdooDouble, value: str, message: str
) -> None:
    """A bad or missing order id gives one line naming it, exit 2, and nothing written."""
    before = scenario.rows()  # the orders; the run itself is recorded
    run = orderamt("sync", "--order-id", value)
    assert run.exit_code == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
    assert scenario.rows() == before
    assert odoo.calls["search_read"] == 0


def test_order_without_odoo_id_refused(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`--order-id` on an order with no Odoo id says so, exit 2, without asking Odoo."""
    portal.insert(order_row("NO-ODOO", "10.00", None))
    run = orderamt("sync", "--order-id", "1")
    assert run.exit_code == 2
    assert run.stderr.strip() == (
        "orderamt: order 1 (NO-ODOO) has no Odoo id, so there is nothing to sync it from"
    )
    assert not odoo.calls, "Odoo was asked something"


@freeze_time(NOW)
def test_problems_are_skipped_with_reasons(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Missing sale orders, bad Odoo amounts and unusable ids are kept, named, and exit 1."""
    portal.create(odoo_id_type="varchar")
    portal.insert(
        order_row("GONE", "10.00", "404"),
        order_row("NEGATIVE", "10.00", "5"),
        order_row("NAME-NOT-ID", "10.00", "S00042"),
        order_row("PADDED", "10.00", "  6 "),
    )
    odoo.add_order(id=5, name="S00005", amount_total=-3.0)
    odoo.add_order(id=6, name="S00006", amount_total=12.5)
    before = portal.amounts()
    run = orderamt("sync")
    assert run.exit_code == 1
    assert (
        "  ⚠️  GONE: Sale order 404 not found in Odoo (keeping portal amount: $10.00)" in run.lines
    )
    assert (
        "  ⚠️  NEGATIVE: Odoo sent an unusable amount -3.0 (keeping portal amount: $10.00)"
        in run.lines
    )
    assert "  ⚠️  NAME-NOT-ID: Odoo id 'S00042' is not a usable sale order id (skipped)" in run.lines
    assert "  ✅ PADDED: $10.00 → $12.50" in run.lines
    assert "Synced: 4 (1 updated, 0 unchanged, 3 skipped)" in run.lines
    assert portal.amounts() == {**before, "PADDED": Decimal("12.50")}


def test_batches_of_500(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """1,200 orders are read from Odoo in 3 search_read calls at batch 500, 2 at the default."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal.insert(*(order_row(f"SO-{i}", "1.00", i, created=NOW) for i in range(1, 1201)))
    odoo.add_orders(
        {"id": i, "name": f"S{i:05}", "amount_total": 2.0 if i % 2 else 1.0} for i in range(1, 1201)
    )
    with freeze_time(NOW):
        run = orderamt("sync", ORDERAMT_BATCH_SIZE="500")
    assert run.exit_code == 0, run.stderr
    assert "Synced: 1200 (600 updated, 600 unchanged)" in run.lines
    assert odoo.calls["search_read"] == 3
    assert odoo.calls["version"] == 1
    assert odoo.calls[LOGIN_CALL[orderamt.protocol]] == 1
    assert sum(odoo.calls.values()) == 3 + 2
    odoo.reset_calls()
    with freeze_time(NOW):
        again = orderamt("sync")
    assert "Synced: 1200 (0 updated, 1200 unchanged)" in again.lines
    assert odoo.calls["search_read"] == 2
