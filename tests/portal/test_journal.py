"""Nothing lost: the journal, history, revert, dry runs and conflicts, on every engine."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import inspect, text

from orderamt.portal.journal.facade import JournalTables
from orderamt.testing import OdooDouble
from orderamt.testing.portal import create_orders_table, insert_orders, read_orders
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def fill(portal: PortalDb, odoo: OdooDouble, count: int = 3) -> None:
    """`count` orders at 1.00 that Odoo has at 10.25, 20.50, ... (cents catch a lossy journal)."""
    portal.insert(
        *(
            {"order_number": f"SO-{i}", "total_amount": Decimal("1.00"), "odoo_order_id": i,
             "created_at": RECENT, "updated_at": RECENT}
            for i in range(1, count + 1)
        )
    )  # fmt: skip
    odoo.add_orders(
        {"id": i, "name": f"S{i:05}", "amount_total": 10.25 * i} for i in range(1, count + 1)
    )


def journal(portal: PortalDb) -> list[dict[str, object]]:
    with portal.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT run_id, order_id, old_amount, new_amount FROM orderamt_journal ORDER BY id"
            )
        )
        return [dict(r._mapping) for r in rows]


def wait_for_journal(portal: PortalDb, entries: int) -> None:
    """Until the journal holds `entries` rows: a batch's commit, seen from outside."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with portal.engine.connect() as conn:
            if inspect(conn).has_table("orderamt_journal") and len(journal(portal)) >= entries:
                return
        time.sleep(0.05)
    raise AssertionError(f"the journal never reached {entries} entries")


def set_amount(portal: PortalDb, number: str, amount: str) -> None:
    with portal.engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET total_amount = :a WHERE order_number = :n"),
            {"a": amount, "n": number},
        )


def test_run_history_and_revert_restore_amounts(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A sync, then its revert, puts every amount back as it was, and, a revert being a
    write, moves updated_at forward again (never back to before the sync); history shows
    both runs."""
    fill(portal, odoo)
    before = portal.rows()
    assert orderamt("sync").exit_code == 0
    assert portal.amounts() == {"SO-1": Decimal("10.25"), "SO-2": Decimal("20.50"),
                                "SO-3": Decimal("30.75")}  # fmt: skip
    synced_rows = portal.rows()
    entries = journal(portal)
    assert [(e["order_id"], Decimal(str(e["new_amount"]))) for e in entries] == [
        (1, Decimal("10.25")), (2, Decimal("20.50")), (3, Decimal("30.75"))
    ]  # fmt: skip
    reverted = orderamt("revert", "1")
    assert reverted.exit_code == 0, reverted.stderr
    assert "Reverted: 3 (3 updated, 0 unchanged)" in reverted.lines
    after = portal.rows()
    assert [(r["total_amount"], r["created_at"]) for r in after] == [
        (r["total_amount"], r["created_at"]) for r in before
    ]
    assert all(a["updated_at"] >= synced["updated_at"] > b["updated_at"]
               for a, synced, b in zip(after, synced_rows, before, strict=True))  # fmt: skip
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [(r["id"], r["kind"], r["reverts_run"], r["updated"]) for r in runs] == [
        (2, "revert", 1, 3), (1, "sync", None, 3)
    ]  # fmt: skip
    changes = json.loads(orderamt("history", "--order-id", "2", "--json").stdout)["changes"]
    assert [(c["run_id"], c["old_amount"], c["new_amount"]) for c in changes] == [
        (1, "1.00", "20.50"), (2, "20.50", "1.00")
    ]  # fmt: skip
    again = orderamt("revert", "2")
    assert again.exit_code == 0
    assert portal.amounts()["SO-2"] == Decimal("20.50")


def test_revert_leaves_a_portal_edit(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A row edited in the portal after the run is reported as changed since and kept."""
    fill(portal, odoo)
    orderamt("sync")
    set_amount(portal, "SO-2", "77.00")
    run = orderamt("revert", "1")
    assert run.exit_code == 1
    assert "  ⚠️  SO-2: Changed since that run (now $77.00); left alone" in run.lines
    assert portal.amounts() == {"SO-1": Decimal("1.00"), "SO-2": Decimal("77.00"),
                                "SO-3": Decimal("1.00")}  # fmt: skip


AWKWARD_NUMBERS = ['SO "1"', "back\\slash", "{brace,comma}", "NULL", "O'Brien", "Grüße, ß"]


def test_awkward_order_numbers_are_journaled_as_they_are(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Quotes, backslashes, braces, the word NULL and non-ASCII reach the journal unchanged
    (the journal's rows travel as one array or document per batch), and a revert by them
    restores every amount."""
    portal.insert(
        *(
            {"order_number": number, "total_amount": Decimal("1.00"), "odoo_order_id": i,
             "created_at": RECENT, "updated_at": RECENT}
            for i, number in enumerate(AWKWARD_NUMBERS, start=1)
        )
    )  # fmt: skip
    odoo.add_orders(
        {"id": i, "name": f"S{i:05}", "amount_total": 10.25 * i}
        for i in range(1, len(AWKWARD_NUMBERS) + 1)
    )
    assert orderamt("sync").exit_code == 0
    with portal.engine.connect() as conn:
        journaled = conn.execute(
            text("SELECT order_number, odoo_id, new_amount FROM orderamt_journal ORDER BY id")
        ).all()
    assert [(n, o, Decimal(str(a))) for n, o, a in journaled] == [
        (number, str(i), Decimal("10.25") * i) for i, number in enumerate(AWKWARD_NUMBERS, 1)
    ]
    for order_id in (1, 2, 4):
        shown = orderamt("history", "--order-id", str(order_id))
        assert any(AWKWARD_NUMBERS[order_id - 1] in line for line in shown.lines), shown.lines
    assert orderamt("revert", "1").exit_code == 0
    assert portal.amounts() == dict.fromkeys(AWKWARD_NUMBERS, Decimal("1.00"))


def test_revert_of_unknown_run(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """Reverting a run that is not in the journal is a usage error."""
    fill(portal, odoo)
    run = orderamt("revert", "42")
    assert run.exit_code == 2
    assert "run 42 is not in the journal" in run.stderr


def test_dry_run_writes_nothing(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """--dry-run reports what would change and leaves every byte (SQLite) or row as it was."""
    fill(portal, odoo)
    before = portal.snapshot()
    run = orderamt("sync", "--all", "--dry-run")
    assert run.exit_code == 0
    assert "  ✅ SO-1: would update $1.00 → $10.25" in run.lines
    assert "Would sync: 3 (3 would be updated, 0 unchanged)" in run.lines
    assert "✅ Dry run complete: nothing was written." in run.lines
    assert portal.snapshot() == before
    with portal.engine.connect() as conn:
        assert not inspect(conn).has_table("orderamt_journal")
    orderamt("sync")
    orderamt("revert", "1", "--dry-run")
    assert portal.amounts()["SO-1"] == Decimal("10.25")


def test_conflict_flagged_or_skipped(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Both sides changed an amount: Odoo wins and it is flagged, or --on-conflict skip."""
    fill(portal, odoo, count=2)
    orderamt("sync")
    set_amount(portal, "SO-1", "15.00")
    set_amount(portal, "SO-2", "16.00")
    odoo.orders[1]["amount_total"] = 11.0
    odoo.orders[2]["amount_total"] = 21.0
    skipped = orderamt("sync", "--order-id", "1", "--on-conflict", "skip")
    assert skipped.exit_code == 1
    assert any("SO-1: Conflict: changed in the portal since orderamt wrote $10.25" in line
               for line in skipped.lines)  # fmt: skip
    assert portal.amounts()["SO-1"] == Decimal("15.00")
    run = orderamt("sync")
    assert run.exit_code == 0
    assert (
        "  ✅ SO-2: $16.00 → $21.00 (conflict: changed in the portal since orderamt wrote "
        "$20.50; Odoo wins)"
    ) in run.lines
    assert portal.amounts() == {"SO-1": Decimal("11.00"), "SO-2": Decimal("21.00")}
    log = orderamt.log_file.read_text().splitlines()
    assert len([line for line in log if "WARNING Conflict:" in line]) == 3
    assert len([line for line in log if "WARNING Order needs a look" in line]) == 1


def test_the_log_has_a_line_per_change_and_a_conflict_before_its_write(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Each change is its own log line, in the batch's order, and a conflict's warning comes
    right before the line of the write it let through."""
    fill(portal, odoo, count=4)
    orderamt("sync")
    set_amount(portal, "SO-3", "33.00")
    for i in range(1, 5):
        odoo.orders[i]["amount_total"] = 100.0 * i
    before = len(orderamt.log_file.read_text().splitlines())
    assert orderamt("sync", ORDERAMT_BATCH_SIZE="3").exit_code == 0
    lines = orderamt.log_file.read_text().splitlines()[before:]
    said = []
    for line in lines:
        head, brace, context = line.partition(" {")
        if brace and '"order_id"' in context:
            said.append((head.split("] ", 1)[1], json.loads("{" + context)))
    assert [(message, ctx["order_id"]) for message, ctx in said] == [
        ("INFO Synced order amount from Odoo", 1),
        ("INFO Synced order amount from Odoo", 2),
        ("WARNING Conflict: amount changed in the portal and in Odoo", 3),
        ("INFO Synced order amount from Odoo", 3),
        ("INFO Synced order amount from Odoo", 4),
    ]
    assert said[3][1] == {"order_id": 3, "order_number": "SO-3", "old_amount": "33.00",
                          "new_amount": "300.00"}  # fmt: skip
    assert all(line.startswith("[") for line in lines)


def test_killed_between_batches_journal_agrees(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A run killed while waiting on Odoo for its second batch: journal and orders agree."""
    fill(portal, odoo, count=6)
    reached = threading.Event()
    release = threading.Event()

    def hold(method: str) -> None:
        if method == "search_read" and odoo.calls["search_read"] >= 2:
            reached.set()
            release.wait(30)

    odoo.on_call = hold
    process = start(orderamt, "sync", ORDERAMT_BATCH_SIZE="3")
    try:
        assert reached.wait(30)
        # Odoo is asked about the second batch while the first is written: let that commit.
        wait_for_journal(portal, 3)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        release.set()
    amounts = portal.amounts()
    changed = {n for n, a in amounts.items() if a != Decimal("1.00")}
    journaled = {f"SO-{e['order_id']}" for e in journal(portal)}
    assert changed == journaled == {"SO-1", "SO-2", "SO-3"}
    odoo.on_call = None
    assert orderamt("sync", ORDERAMT_BATCH_SIZE="3").exit_code == 0
    assert len(journal(portal)) == 6


def test_killed_inside_a_batch_leaves_nothing_half_written(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Killed while its second batch waits on a row another connection locks: that batch's
    earlier updates roll back with it, and the journal and the orders agree row for row."""
    fill(portal, odoo, count=6)
    blocker = portal.engine.connect()
    second_batch = threading.Event()

    def lock_row_six(method: str) -> None:
        # Once the first batch is committed, and before Odoo answers for the second.
        if method == "search_read" and odoo.calls["search_read"] == 2:
            wait_for_journal(portal, 3)
            blocker.begin()
            if portal.kind == "sqlite":  # SQLite locks the whole database for writing
                blocker.execute(text("UPDATE orders SET order_number = order_number WHERE id = 6"))
            else:
                blocker.execute(text("SELECT id FROM orders WHERE id = 6 FOR UPDATE"))
            second_batch.set()

    odoo.on_call = lock_row_six
    process = start(orderamt, "sync", ORDERAMT_BATCH_SIZE="3")
    try:
        assert second_batch.wait(30)
        # Give the run time to write rows 4 and 5 and wait on row 6, inside its transaction.
        time.sleep(1.5)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        if blocker.in_transaction():
            blocker.rollback()
        blocker.close()
    amounts = portal.amounts()
    changed = {n for n, a in amounts.items() if a != Decimal("1.00")}
    journaled = {f"SO-{e['order_id']}" for e in journal(portal)}
    assert changed == journaled == {"SO-1", "SO-2", "SO-3"}


def four_decimal_portal(portal: PortalDb, odoo: OdooDouble, amount: str) -> None:
    """One order in a `decimal('total_amount', 12, 4)` column, which Odoo has at 950.00."""
    create_orders_table(portal.engine, amount_scale=4)
    insert_orders(
        portal.engine,
        [{"order_number": "SO-1", "total_amount": Decimal(amount), "odoo_order_id": 1,
          "created_at": RECENT, "updated_at": RECENT}],
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=950.0)


def test_revert_on_a_four_decimal_column_puts_back_every_digit(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A revert writes back exactly what the row held, 857.8749, not 857.87."""
    four_decimal_portal(portal, odoo, "857.8749")
    before = read_orders(portal.engine)
    synced = orderamt("sync")
    assert synced.exit_code == 0, synced.stderr
    assert "  ✅ SO-1: $857.8749 → $950.00" in synced.lines
    assert read_orders(portal.engine)[0]["total_amount"] == Decimal("950.0000")
    assert orderamt("revert", "1").exit_code == 0
    assert [r["total_amount"] for r in read_orders(portal.engine)] == [
        r["total_amount"] for r in before
    ]
    assert str(read_orders(portal.engine)[0]["total_amount"]) == "857.8749"


def test_a_sub_cent_portal_edit_is_seen(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A portal edit of a fraction of a cent after a run is a change: Odoo's next change meets
    it as a conflict, and --on-conflict skip keeps the portal's edit."""
    four_decimal_portal(portal, odoo, "857.8700")
    assert orderamt("sync").exit_code == 0
    set_amount(portal, "SO-1", "950.0049")
    odoo.orders[1]["amount_total"] = 960.0
    skipped = orderamt("sync", "--on-conflict", "skip")
    assert skipped.exit_code == 1
    assert any("Conflict: changed in the portal since orderamt wrote $950.00" in line
               for line in skipped.lines)  # fmt: skip
    assert str(read_orders(portal.engine)[0]["total_amount"]) == "950.0049"
    taken = orderamt("sync")
    assert taken.exit_code == 0
    assert (
        "  ✅ SO-1: $950.0049 → $960.00 (conflict: changed in the portal since orderamt "
        "wrote $950.00; Odoo wins)" in taken.lines
    )
    assert read_orders(portal.engine)[0]["total_amount"] == Decimal("960.0000")


def test_history_of_one_order_keeps_to_its_limit(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`history --order-id N --limit M` shows the latest M changes to the order, oldest first."""
    fill(portal, odoo, count=1)
    for amount in (11.0, 12.0, 13.0):
        odoo.orders[1]["amount_total"] = amount
        assert orderamt("sync").exit_code == 0
    shown = orderamt("history", "--order-id", "1", "--limit", "2", "--json")
    assert shown.exit_code == 0
    changes = json.loads(shown.stdout)["changes"]
    assert [(c["run_id"], c["old_amount"], c["new_amount"]) for c in changes] == [
        (2, "11.00", "12.00"),
        (3, "12.00", "13.00"),
    ]
    plain = orderamt("history", "--order-id", "1", "--limit", "1")
    assert len(plain.lines) == 1
    assert "run 3  SO-1  $12.00 → $13.00" in plain.lines[0]


def test_the_runs_indexes_are_found_under_a_long_name_and_made_once_by_two_processes(
    portal: PortalDb,
) -> None:
    """A journal named past what an index name may hold has its runs indexes made under cut
    names, and found under them afterwards (no new index on every run); an index another
    process made after this one found it missing is no error."""
    long_name = "portal_" + "orders_amount_journal_" * 2  # 51 characters
    tables = JournalTables(long_name)
    with portal.engine.begin() as conn:
        tables.create(conn)
        assert tables.missing_indexes(conn) == []
    with portal.engine.begin() as conn:
        created = [str(i["name"]) for i in inspect(conn).get_indexes(tables.runs.name)]
    assert len(created) == 2
    limit = {"sqlite": 9999, "postgresql": 63, "mariadb": 64}[portal.kind]
    assert all(len(name) <= limit for name in created)
    on = f" ON {tables.runs.name}" if portal.kind == "mariadb" else ""
    with portal.engine.begin() as conn:
        for name in created:
            conn.execute(text(f"DROP INDEX {name}{on}"))
    with portal.engine.begin() as conn:
        missing = tables.missing_indexes(conn)
    assert len(missing) == 2
    for index in missing:
        for _ in ("this process", "another, which found it missing too"):
            with portal.engine.begin() as conn:
                tables.add_index(conn, index)
    with portal.engine.begin() as conn:
        assert tables.missing_indexes(conn) == []
