"""`sync --changed`: the catch-up poll reads what Odoo changed since its checkpoint."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, event, inspect, text

from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RECENT = NOW.replace(tzinfo=None) - timedelta(days=2)


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's own now: the margins here are seconds, and a whole matrix run reaches a
    test minutes after this module was imported."""
    global NOW, RECENT
    NOW = datetime.now(timezone.utc).replace(microsecond=0)
    RECENT = NOW.replace(tzinfo=None) - timedelta(days=2)


def stamp(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%d %H:%M:%S")


def fill(portal: PortalDb, odoo: OdooDouble, count: int, write_date: str) -> None:
    """`count` portal orders at 1.00; Odoo has them at 10.00, 20.00, ... written at one time."""
    portal.insert(
        *(
            {"order_number": f"SO-{i}", "total_amount": Decimal("1.00"), "odoo_order_id": i,
             "created_at": RECENT, "updated_at": RECENT}
            for i in range(1, count + 1)
        )
    )  # fmt: skip
    odoo.add_orders(
        {"id": i, "amount_total": 10.0 * i, "write_date": write_date} for i in range(1, count + 1)
    )


def journal_orders(portal: PortalDb) -> list[int]:
    with portal.engine.connect() as conn:
        rows = conn.execute(text("SELECT order_id FROM orderamt_journal ORDER BY id"))
        return [int(r[0]) for r in rows]


def checkpoint(portal: PortalDb) -> tuple[str, int] | None:
    with portal.engine.connect() as conn:
        if not inspect(conn).has_table("orderamt_journal_state"):
            return None
        row = conn.execute(
            text("SELECT write_date, odoo_id FROM orderamt_journal_state WHERE name = 'changed'")
        ).first()
    return (str(row[0]), int(row[1])) if row is not None else None


def test_a_change_in_odoo_reaches_the_portal(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The first poll covers the window and sets the checkpoint; the next takes only what
    Odoo changed since, by write_date, and passes over Odoo orders the portal lacks. The
    checkpoint an hour old is settled (Odoo's clock is two margins past it): its second is
    not read back again."""
    fill(portal, odoo, 3, stamp(3600))
    odoo.add_order(id=99, amount_total=5.0, write_date=stamp(3600))  # not in the portal
    first = orderamt("sync", "--changed")
    assert first.exit_code == 0, first.stderr
    assert "Synced: 3 (3 updated, 0 unchanged)" in first.lines
    assert checkpoint(portal) == (stamp(3600), 99)
    odoo.change(2, amount_total=25.0)
    second = orderamt("sync", "--changed")
    assert "  ✅ SO-2: $20.00 → $25.00" in second.lines
    assert "Synced: 1 (1 updated, 0 unchanged)" in second.lines
    assert portal.amounts() == {"SO-1": Decimal("10.00"), "SO-2": Decimal("25.00"),
                                "SO-3": Decimal("30.00")}  # fmt: skip
    assert journal_orders(portal) == [1, 2, 3, 2]
    assert checkpoint(portal) == (odoo.orders[2]["write_date"], 2)


def test_orders_sharing_one_second_are_read_whole(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Seven orders written in the same second, read two at a time: each is taken exactly
    once. The first page, full of that second, is read again by id (on 18.0 a second's
    orders come in the order of microseconds Odoo does not show), then the second by id
    in pages of two, then one read past it."""
    fill(portal, odoo, 7, stamp(60))
    run = orderamt("sync", "--changed", ORDERAMT_BATCH_SIZE="2")
    assert run.exit_code == 0
    assert "Synced: 7 (7 updated, 0 unchanged)" in run.lines
    assert sorted(journal_orders(portal)) == [1, 2, 3, 4, 5, 6, 7]
    assert odoo.calls["search_read"] == 1 + 4 + 1


def test_a_late_commit_inside_the_margin_is_caught(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Odoo stamps write_date when its transaction starts: an order that commits after a
    later one was polled carries an older write_date, and the margin reads it back."""
    fill(portal, odoo, 2, stamp(600))
    orderamt("sync", "--changed")
    odoo.change(1, amount_total=11.0)  # now: the checkpoint moves here
    assert "  ✅ SO-1: $10.00 → $11.00" in orderamt("sync", "--changed").lines
    odoo.change(2, amount_total=22.0, write_date=stamp(90))  # began 90 s ago, committed now
    late = orderamt("sync", "--changed")
    assert "  ✅ SO-2: $20.00 → $22.00" in late.lines
    beyond = orderamt("sync", "--changed", ORDERAMT_CHANGED_MARGIN="30")
    assert beyond.exit_code == 0
    odoo.change(2, amount_total=23.0, write_date=stamp(90))
    missed = orderamt("sync", "--changed", ORDERAMT_CHANGED_MARGIN="30")
    assert not any("SO-2" in line for line in missed.lines)


def floor(portal: PortalDb) -> str | None:
    with portal.engine.connect() as conn:
        row = conn.execute(
            text("SELECT write_date FROM orderamt_journal_state WHERE name = 'changed:floor'")
        ).first()
    return str(row[0]) if row is not None else None


def test_a_mass_write_is_read_back_until_odoo_s_clock_settles_it(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A mass write (an import, a module install): five orders in one second, just now.
    Polls read them back while a transaction stamped in that second could still commit;
    once Odoo's clock (its answers' Date) reads two margins past it, a poll keeps a floor,
    and the polls after it read none of them again all night, while a later change still
    comes through."""
    fill(portal, odoo, 5, stamp(0))
    assert "Synced: 5 (5 updated, 0 unchanged)" in orderamt("sync", "--changed").lines
    assert "Synced: 5 (0 updated, 5 unchanged)" in orderamt("sync", "--changed").lines
    assert floor(portal) is None
    written = NOW.replace(tzinfo=None)
    # Two margins past the end of that second, and a little for the calls themselves.
    with freeze_time(written + timedelta(minutes=10, seconds=5), tick=True):
        dry = orderamt("sync", "--changed", "--dry-run")
        assert "Would sync: 5 (0 would be updated, 5 unchanged)" in dry.lines
        assert floor(portal) is None  # a dry run writes nothing
        settling = orderamt("sync", "--changed")
        assert "Synced: 5 (0 updated, 5 unchanged)" in settling.lines
        after = (written + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
        assert floor(portal) == after
    with freeze_time(written + timedelta(hours=8), tick=True):
        quiet = orderamt("sync", "--changed")
        assert quiet.exit_code == 0, quiet.stderr
        assert (
            f"Orders changed in Odoo since {after} UTC (the checkpoint is {stamp(0)}; "
            "Odoo's clock is well past it, so no further back)"
        ) in quiet.lines
        assert not any(line.startswith("Synced: 5") for line in quiet.lines), quiet.lines
        odoo.change(3, amount_total=33.0)
        later = orderamt("sync", "--changed")
        assert "  ✅ SO-3: $30.00 → $33.00" in later.lines
        assert "Synced: 1 (1 updated, 0 unchanged)" in later.lines
    assert floor(portal) == after


def count_statements(engine_class: type[Engine]) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine_class, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine_class, "before_cursor_execute", note)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine in this process sends, while the test runs."""
    yield from count_statements(Engine)


def test_a_quiet_poll_is_cheap_and_silent(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, statements: list[str]
) -> None:
    """Nothing changed: at most three Odoo calls, two portal reads beyond the schema check
    and one write (its heartbeat run brought up to date, not a run added), no output."""
    fill(portal, odoo, 3, stamp(86_400))
    assert orderamt("sync", "--changed").exit_code == 0
    assert orderamt("sync", "--changed", "--quiet").stdout == ""  # the first heartbeat
    runs_before = json.loads(orderamt("history", "--json").stdout)["runs"]
    odoo.reset_calls()
    statements.clear()
    quiet = orderamt("sync", "--changed", "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stdout == ""
    assert sum(odoo.calls.values()) <= 3
    beyond_schema = [
        s.lstrip().split()[0].upper() for s in statements
        if not s.lstrip().upper().startswith(("PRAGMA", "SHOW", "SELECT @@"))
        and "information_schema" not in s.lower() and "pg_catalog" not in s.lower()
        and "sqlite_master" not in s.lower() and "sqlite_temp_master" not in s.lower()
        and "advisory" not in s.lower() and "_LOCK(" not in s.upper()  # the run lock
    ]  # fmt: skip
    assert beyond_schema.count("SELECT") <= 2, statements
    assert beyond_schema.count("UPDATE") == 1, statements
    assert len(beyond_schema) == beyond_schema.count("SELECT") + 1, statements
    runs_after = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [r["id"] for r in runs_after] == [r["id"] for r in runs_before]


@pytest.mark.parametrize("batch", ["3", "1000"])
def test_a_mass_write_of_more_orders_than_a_batch_is_read_through(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, batch: str
) -> None:
    """Eight orders repriced by one write call (one second, one write_date; 18.0 compares
    its hidden microseconds) and four more in that second by separate saves whose
    microseconds run against their ids, polled three at a time: the poll ends, every order
    is synced once (18.0's keyset on (write_date, id) read the same page for good)."""
    fill(portal, odoo, 12, stamp(3600))
    second = odoo.write(range(1, 9), amount_total=99.0)
    for i in range(9, 13):
        odoo.change(i, amount_total=99.0, write_date=f"{second}.{999_999 - i:06d}")
    run = orderamt("sync", "--changed", ORDERAMT_BATCH_SIZE=batch)
    assert run.exit_code == 0, run.stderr
    assert "Synced: 12 (12 updated, 0 unchanged)" in run.lines
    assert sorted(journal_orders(portal)) == list(range(1, 13))
    assert set(portal.amounts().values()) == {Decimal("99.00")}
    assert checkpoint(portal) == (second, 12)


def test_killed_mid_poll_neither_skips_nor_repeats(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """kill -9 while Odoo is asked for the second page: the first page's writes and its
    checkpoint are committed together, and the next poll finishes the rest, journaling
    each order once. (Four orders of one second read two at a time: the first read is that
    second's head, read again by id, so the first page is the second read.)"""
    fill(portal, odoo, 4, stamp(120))
    reached, release = threading.Event(), threading.Event()

    def hold(method: str) -> None:
        if method == "search_read" and odoo.calls["search_read"] >= 3:
            reached.set()
            release.wait(30)

    odoo.on_call = hold
    process = start(orderamt, "sync", "--changed", ORDERAMT_BATCH_SIZE="2")
    try:
        assert reached.wait(30)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        release.set()
    odoo.on_call = None
    assert journal_orders(portal) == [1, 2]
    assert checkpoint(portal) == (stamp(120), 2)
    assert orderamt("sync", "--changed", ORDERAMT_BATCH_SIZE="2").exit_code == 0
    assert journal_orders(portal) == [1, 2, 3, 4]
    assert portal.amounts() == {f"SO-{i}": Decimal(f"{10 * i}.00") for i in range(1, 5)}


def test_changed_goes_with_days_only(orderamt_sqlite: Orderamt) -> None:
    """--changed takes --days (its first window) but not --all or --order-id."""
    run = orderamt_sqlite("sync", "--changed", "--all")
    assert run.exit_code == 2
    assert "--all and --changed cannot be used together" in run.stderr


def test_a_dry_run_poll_moves_nothing(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """--changed --dry-run reports what would change and neither writes nor moves the
    checkpoint."""
    fill(portal, odoo, 2, stamp(60))
    run = orderamt("sync", "--changed", "--dry-run")
    assert "Would sync: 2 (2 would be updated, 0 unchanged)" in run.lines
    assert portal.amounts() == {"SO-1": Decimal("1.00"), "SO-2": Decimal("1.00")}
    assert checkpoint(portal) is None
