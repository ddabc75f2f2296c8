"""What only a real database server can prove: races, crashes part-way, exact amounts, types."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb, child_environment

pytestmark = pytest.mark.every_engine  # in the quick run too (tests/conftest.py)

CREATED = datetime.now().replace(microsecond=0) - timedelta(days=1)
CREATED_TEXT = {"at": f"{CREATED:%Y-%m-%d %H:%M:%S}"}
"""CREATED as the :at of a statement by hand (Python 3.12's sqlite3 adapts no datetime)."""

PIP = Path(sys.executable).parent / "pip"
"""The pip of the venv under test, which the missing-driver hint names."""


def row(number: str, amount: str | None, odoo_id: object) -> dict[str, object]:
    return {
        "order_number": number,
        "total_amount": None if amount is None else Decimal(amount),
        "odoo_order_id": odoo_id,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def test_portal_change_between_read_and_write_survives(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A second connection commits a new amount while the sync waits on Odoo; it is kept."""
    portal.insert(row("RACED", "10.00", 1), row("CALM", "10.00", 2))
    odoo.add_order(id=1, name="S00001", amount_total=99.0)
    odoo.add_order(id=2, name="S00002", amount_total=99.0)

    def portal_edits_meanwhile(method: str) -> None:
        if method == "search_read":
            with portal.engine.begin() as conn:
                conn.execute(
                    text("UPDATE orders SET total_amount = 55.55 WHERE order_number = 'RACED'")
                )

    odoo.on_call = portal_edits_meanwhile
    run = orderamt("sync")
    assert run.exit_code == 1
    assert (
        "  ⚠️  RACED: Changed in the portal during the run; the portal's change was kept"
        in run.lines
    )
    assert "Synced: 2 (1 updated, 0 unchanged, 1 skipped)" in run.lines
    assert portal.amounts() == {"RACED": Decimal("55.55"), "CALM": Decimal("99.00")}


@contextmanager
def orders_by_hand(portal: PortalDb, id_type: str, amount_type: str) -> Iterator[Connection]:
    """An orders table with the Laravel columns but this id and amount, made by hand; the
    connection (in a transaction) to fill it."""
    when = "DATETIME" if portal.kind == "mariadb" else "TIMESTAMP"
    with portal.engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE orders (id {id_type}, order_number VARCHAR(255) NOT NULL, "
            f"total_amount {amount_type} NULL, odoo_order_id BIGINT NULL, "
            f"created_at {when} NULL, updated_at {when} NULL)"
        ))  # fmt: skip
        yield conn


def test_an_id_that_is_not_unique_never_passes_a_raced_order_as_written(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A portal table whose id has no unique key, with a second row under id 1 that the sync
    does not select: an order the portal edits meanwhile is still reported as raced and not
    journaled (one UPDATE's count of rows matched says nothing about which orders here)."""
    with orders_by_hand(portal, "BIGINT NOT NULL", "DECIMAL(10, 2)") as conn:
        for values in ("1, 'SO-1', 10.00, 1", "1, 'SO-1-COPY', 10.00, NULL",
                       "2, 'SO-2', 10.00, 2"):  # fmt: skip
            conn.execute(text(f"INSERT INTO orders VALUES ({values}, :at, :at)"), CREATED_TEXT)
    odoo.add_order(id=1, name="S00001", amount_total=99.0)
    odoo.add_order(id=2, name="S00002", amount_total=99.0)

    def portal_edits_meanwhile(method: str) -> None:
        if method == "search_read":
            with portal.engine.begin() as conn:
                conn.execute(text("UPDATE orders SET total_amount = 55.55 WHERE id = 2"))

    odoo.on_call = portal_edits_meanwhile
    run = orderamt("sync", "--all")
    assert (
        "  ⚠️  SO-2: Changed in the portal during the run; the portal's change was kept" in run.lines
    ), run.lines
    with portal.engine.connect() as conn:
        journaled = conn.execute(text("SELECT order_id FROM orderamt_journal")).scalars().all()
        kept = conn.execute(text("SELECT total_amount FROM orders WHERE id = 2")).scalar_one()
    assert 2 not in [int(order_id) for order_id in journaled]
    assert Decimal(str(kept)) == Decimal("55.55")


def test_a_wide_amount_is_compared_and_journaled_to_its_last_digit(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A DECIMAL(20, 4) portal amount of 17 significant digits: as a float it would be
    another number, the compare-and-set would never match and the order would be skipped
    as changed in the portal on every run. It is written, and journaled exactly."""
    if portal.kind == "sqlite":
        pytest.skip("SQLite keeps such a number as a REAL: it cannot hold 17 digits")
    with orders_by_hand(portal, "BIGINT NOT NULL PRIMARY KEY", "DECIMAL(20, 4)") as conn:
        conn.execute(
            text("INSERT INTO orders VALUES (1, 'WIDE', 1234567890123.4567, 1, :at, :at)"),
            CREATED_TEXT,
        )
    odoo.add_order(id=1, name="S00001", amount_total=5.0)
    run = orderamt("sync", "--all")
    assert run.exit_code == 0, run.lines
    with portal.engine.connect() as conn:
        amount = conn.execute(text("SELECT total_amount FROM orders")).scalar_one()
        old = conn.execute(text("SELECT old_amount FROM orderamt_journal")).scalar_one()
    assert (amount, old) == (Decimal("5.0000"), Decimal("1234567890123.4567"))


def test_run_dying_part_way_resumes_without_double_writes(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Odoo fails on the third batch: two batches stay committed, the next run writes the rest."""
    portal.insert(*(row(f"SO-{i:02}", "1.00", i) for i in range(1, 36)))
    odoo.add_orders({"id": i, "name": f"S{i:05}", "amount_total": 2.0} for i in range(1, 36))
    odoo.fail("http", status=502, after=2, on="search_read")
    first = orderamt("sync", ORDERAMT_BATCH_SIZE="10")
    assert first.exit_code == 3
    assert "HTTP 502" in first.stderr
    amounts = portal.amounts()
    assert sorted(amounts.values()).count(Decimal("2.00")) == 20
    assert all(amounts[f"SO-{i:02}"] == Decimal("2.00") for i in range(1, 21))
    odoo.clear_failures()
    second = orderamt("sync", ORDERAMT_BATCH_SIZE="10")
    assert second.exit_code == 0, second.stderr
    assert "Synced: 35 (15 updated, 20 unchanged)" in second.lines
    assert set(portal.amounts().values()) == {Decimal("2.00")}
    synced = [
        json.loads(line.split("Synced order amount from Odoo ", 1)[1])["order_id"]
        for line in orderamt.log_file.read_text().splitlines()
        if "Synced order amount from Odoo" in line
    ]
    assert sorted(synced) == list(range(1, 36))


@pytest.mark.parametrize("amount", ["0.01", "857.87", "99999999.99"])
def test_amounts_round_trip_exactly(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, amount: str
) -> None:
    """The smallest, a typical and the largest DECIMAL(10,2) amount are stored exactly."""
    portal.insert(row("X", "5.00", 1))
    odoo.add_order(id=1, name="S00001", amount_total=float(amount))
    run = orderamt("sync")
    assert run.exit_code == 0, run.stderr
    assert portal.amounts() == {"X": Decimal(amount)}
    again = orderamt("sync")
    assert "Synced: 1 (0 updated, 1 unchanged)" in again.lines


def test_amount_too_large_for_column_is_skipped(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An Odoo amount over DECIMAL(10,2) is skipped with its reason, never truncated."""
    portal.insert(row("BIG", "5.00", 1))
    odoo.add_order(id=1, name="S00001", amount_total=100_000_000.0)
    run = orderamt("sync")
    assert run.exit_code == 1
    assert (
        "  ⚠️  BIG: Odoo amount $100,000,000.00 does not fit the portal column "
        "(largest $99,999,999.99; keeping portal amount: $5.00)"
    ) in run.lines
    assert portal.amounts() == {"BIG": Decimal("5.00")}


@pytest.mark.parametrize("odoo_id_type", ["int", "bigint", "varchar"])
def test_odoo_id_column_types(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, odoo_id_type: str
) -> None:
    """INT, BIGINT and VARCHAR Odoo id columns all sync; odd strings are handled, not guessed."""
    portal.create(odoo_id_type=odoo_id_type)  # type: ignore[arg-type]
    rows = [row("PLAIN", "1.00", 42), row("NULL", "1.00", None)]
    if odoo_id_type == "varchar":
        rows += [
            row("PADDED", "1.00", "  43 "),
            row("NAME", "1.00", "S00042"),
            row("EMPTY", "1.00", ""),
        ]
    portal.insert(*rows)
    odoo.add_order(id=42, name="S00042", amount_total=5.0)
    odoo.add_order(id=43, name="S00043", amount_total=6.0)
    run = orderamt("sync")
    amounts = portal.amounts()
    assert amounts["PLAIN"] == Decimal("5.00")
    assert amounts["NULL"] == Decimal("1.00")
    if odoo_id_type == "varchar":
        assert run.exit_code == 1
        assert "Found 3 recent orders (last 30 days)" in run.lines
        assert amounts["PADDED"] == Decimal("6.00")
        assert amounts["NAME"] == Decimal("1.00")
        assert "  ⚠️  NAME: Odoo id 'S00042' is not a usable sale order id (skipped)" in run.lines
    else:
        assert run.exit_code == 0
        assert "Found 1 recent order (last 30 days)" in run.lines


def test_identifiers_are_quoted(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """Table and column names that are SQL keywords or mixed case work: they are quoted."""
    quote = "`" if portal.kind == "mariadb" else '"'

    def q(name: str) -> str:
        return f"{quote}{name}{quote}"

    with portal.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {q('Order')} ({q('select')} INTEGER PRIMARY KEY, "
                f"{q('Number')} VARCHAR(20), {q('from')} DECIMAL(10,2), "
                f"{q('where')} INTEGER, {q('group')} TIMESTAMP NULL)"
            )
        )
        conn.execute(
            text(f"INSERT INTO {q('Order')} VALUES (1, 'Q', 1.00, 7, :created)"),
            {"created": CREATED.strftime("%Y-%m-%d %H:%M:%S")},
        )
    odoo.add_order(id=7, name="S00007", amount_total=8.0)
    run = orderamt(
        "sync",
        PORTAL_ORDERS_TABLE="Order",
        PORTAL_COL_ID="select",
        PORTAL_COL_NUMBER="Number",
        PORTAL_COL_AMOUNT="from",
        PORTAL_COL_ODOO_ID="where",
        PORTAL_COL_CREATED="group",
        PORTAL_COL_UPDATED="",
    )
    assert run.exit_code == 0, run.stderr
    assert "  ✅ Q: $1.00 → $8.00" in run.lines


def test_missing_driver_names_the_extra(orderamt_sqlite: Orderamt) -> None:
    """A PostgreSQL URL without psycopg installed says which extra to install, exit 2."""
    env = {k: v for k, v in orderamt_sqlite.env.items() if v}
    env["PORTAL_DATABASE_URL"] = "postgresql+psycopg://portal@127.0.0.1/portal"
    blocked = "import sys; sys.modules['psycopg'] = None; from orderamt.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "sync"],
        env=child_environment(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "orderamt: PORTAL_DATABASE_URL needs the database driver 'psycopg', which is not "
        f"installed; install it with: {PIP} install 'orderamt[postgres]'"
    )
