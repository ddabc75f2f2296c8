"""The portal layer on each engine: the engine, the schema check, reads, writes, the journal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from orderamt.config import PortalSchema
from orderamt.errors import ConfigError, ExitCode, PortalError
from orderamt.models import AMOUNT, Change, Everything, OneOrder, PortalOrder, Recent, RunCounts
from orderamt.portal import PortalJournal, PortalOrders, create_portal_engine, open_portal
from orderamt.testing.portal import create_orders_table, insert_orders
from tests.conftest import PortalDb

pytestmark = pytest.mark.every_engine  # in the quick run too (tests/conftest.py)

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 22, 0, 0, tzinfo=UTC)
"""The run's clock, aware UTC as the sync gives it."""
CREATED = datetime(2026, 11, 20, 9, 30, 0)
"""When the orders were made, naive, as Laravel stores it (in UTC unless a test says)."""
LAST_WEEK = Recent(since=NOW - timedelta(days=7), days=7)

Open = Callable[..., tuple[PortalOrders, PortalJournal]]

PIP = Path(sys.executable).parent / "pip"
"""The pip of the venv under test, which the missing-driver hint names."""


@pytest.fixture
def open_(portal: PortalDb) -> Iterator[Open]:
    """Opens the real portal objects on the test's database, through the tool's own engine."""
    engines: list[Engine] = []

    def opener(schema: PortalSchema | None = None) -> tuple[PortalOrders, PortalJournal]:
        engine = create_portal_engine(portal.url)
        engines.append(engine)
        return open_portal(engine, schema or PortalSchema())

    yield opener
    for engine in engines:
        engine.dispose()


def row(
    id: int,
    amount: str | None = "10.00",
    odoo: object = None,
    created: datetime | None = CREATED,
    number: str | None = None,
) -> dict[str, Any]:
    """An orders row with an explicit id; the Odoo id defaults to the portal id."""
    return {
        "id": id,
        "order_number": number or f"SO-{id}",
        "total_amount": None if amount is None else Decimal(amount),
        "odoo_order_id": id if odoo is None else odoo,
        "created_at": created,
        "updated_at": created,
    }


def no_odoo(id: int) -> dict[str, Any]:
    """An order with NULL in its Odoo id column."""
    return {**row(id), "odoo_order_id": None}


def ids(batches: Iterator[list[PortalOrder]]) -> list[list[int]]:
    return [[order.id for order in batch] for batch in batches]


def execute(portal: PortalDb, sql: str) -> None:
    with portal.engine.begin() as conn:
        conn.execute(text(sql))


def create_table(portal: PortalDb, amount_type: str) -> None:
    """An orders table whose amount column has the given SQL type."""
    execute(
        portal,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_number VARCHAR(50), "
        f"total_amount {amount_type}, odoo_order_id INTEGER, created_at TIMESTAMP NULL, "
        "updated_at TIMESTAMP NULL)",
    )


# --- create_portal_engine ---------------------------------------------------------------


def test_missing_sqlite_file_is_named_and_not_created(tmp_path: Path) -> None:
    """A SQLite URL to a file that is not there is a portal error naming it; no file appears."""
    path = tmp_path / "data" / "portal.db"
    with pytest.raises(PortalError) as caught:
        create_portal_engine(f"sqlite:///{path}")
    assert str(caught.value) == f"the portal database file {path} does not exist"
    assert caught.value.exit_code is ExitCode.PORTAL
    assert list(tmp_path.iterdir()) == []


def test_missing_relative_sqlite_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative SQLite path is looked for from the current directory, and named as given."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PortalError) as caught:
        create_portal_engine("sqlite:///portal.db")
    assert str(caught.value) == "the portal database file portal.db does not exist"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_needs_no_file(url: str) -> None:
    """An in-memory SQLite database is opened without looking for a file."""
    engine = create_portal_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["portal.db", "not a url at all", "://"])
def test_bad_url_is_a_config_error(url: str) -> None:
    """Something that is not a database URL is a configuration error, exit 2."""
    with pytest.raises(ConfigError) as caught:
        create_portal_engine(url)
    assert str(caught.value) == "PORTAL_DATABASE_URL is not a database URL"
    assert caught.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize(
    ("url", "module", "message"),
    [
        (
            "postgresql+psycopg://portal@127.0.0.1/portal",
            "psycopg",
            "PORTAL_DATABASE_URL needs the database driver 'psycopg', which is not installed; "
            f"install it with: {PIP} install 'orderamt[postgres]'",
        ),
        (
            "mysql+pymysql://portal@127.0.0.1/portal",
            "pymysql",
            "PORTAL_DATABASE_URL needs the database driver 'pymysql', which is not installed; "
            f"install it with: {PIP} install 'orderamt[mysql]'",
        ),
        (
            "mysql+mysqldb://portal@127.0.0.1/portal",
            "MySQLdb",
            "PORTAL_DATABASE_URL needs the database driver 'mysqldb', which is not installed",
        ),
    ],
)
def test_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, message: str
) -> None:
    """A URL whose driver is not installed says which extra installs it, where one does; exit 2."""
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError) as caught:
        create_portal_engine(url)
    assert str(caught.value) == message
    assert caught.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize("url", ["postgres://portal@127.0.0.1/portal", "mssqll://x@host/db"])
def test_unknown_database_kind_is_a_config_error(url: str) -> None:
    """A URL naming a database kind SQLAlchemy does not know is a one-line ConfigError."""
    with pytest.raises(ConfigError) as caught:
        create_portal_engine(url)
    assert "PORTAL_DATABASE_URL" in str(caught.value)


# --- check_table ------------------------------------------------------------------------


def test_missing_table_is_named(portal: PortalDb, open_: Open) -> None:
    """Without the orders table the check names it and its variable, exit 4."""
    with portal.engine.connect():
        pass  # the database exists (SQLite: its file), the table does not
    orders, _ = open_()
    with pytest.raises(PortalError) as caught:
        orders.check()
    message = str(caught.value)
    assert message.startswith("portal database ")
    assert message.endswith(": table 'orders' does not exist (check PORTAL_ORDERS_TABLE)")
    assert caught.value.exit_code is ExitCode.PORTAL


def test_missing_columns_are_all_named_with_their_variables(portal: PortalDb, open_: Open) -> None:
    """Every configured column the table lacks is named at once, each with its variable."""
    portal.create()
    orders, _ = open_(PortalSchema(number="ref", odoo_id="erp_id", updated="modified_at"))
    with pytest.raises(PortalError) as caught:
        orders.check()
    assert str(caught.value).endswith(
        ": table 'orders' has no column 'ref' (PORTAL_COL_NUMBER), "
        "no column 'erp_id' (PORTAL_COL_ODOO_ID), no column 'modified_at' (PORTAL_COL_UPDATED)"
    )
    assert caught.value.exit_code is ExitCode.PORTAL


def test_check_lists_the_columns_found(portal: PortalDb, open_: Open) -> None:
    """A good table passes the check, which lists every configured column in order."""
    portal.create()
    orders, _ = open_()
    info = orders.check()
    assert [name for name, _ in info.columns] == [
        "id",
        "order_number",
        "total_amount",
        "odoo_order_id",
        "created_at",
        "updated_at",
    ]


@pytest.mark.parametrize("amount_type", ["FLOAT", "DOUBLE PRECISION", "REAL", "INTEGER"])
def test_inexact_or_whole_amount_columns_are_refused(
    portal: PortalDb, open_: Open, amount_type: str
) -> None:
    """A FLOAT, DOUBLE, REAL or INTEGER amount column holds no exact cents: refused, exit 4."""
    create_table(portal, amount_type)
    orders, _ = open_()
    with pytest.raises(PortalError) as caught:
        orders.check()
    message = str(caught.value)
    assert message.startswith("column 'total_amount' (PORTAL_COL_AMOUNT) of table 'orders' is ")
    assert message.endswith(", not a DECIMAL or NUMERIC column that can hold an amount")
    assert caught.value.exit_code is ExitCode.PORTAL


def test_text_amount_column_is_refused(portal: PortalDb, open_: Open) -> None:
    """A VARCHAR amount column is refused the same way."""
    create_table(portal, "VARCHAR(20)")
    orders, _ = open_()
    with pytest.raises(PortalError, match=r"not a DECIMAL or NUMERIC column"):
        orders.check()


@pytest.mark.parametrize("amount_type", ["DECIMAL(10,0)", "DECIMAL(10,1)", "NUMERIC(12,0)"])
def test_amount_columns_without_cents_are_refused(
    portal: PortalDb, open_: Open, amount_type: str
) -> None:
    """A DECIMAL with fewer than two decimals cannot hold cents: refused, exit 4."""
    create_table(portal, amount_type)
    orders, _ = open_()
    with pytest.raises(PortalError) as caught:
        orders.check()
    message = str(caught.value)
    assert message.startswith("column 'total_amount' (PORTAL_COL_AMOUNT) of table 'orders' is ")
    assert message.endswith(", which cannot hold cents")


@pytest.mark.parametrize(("scale", "largest"), [(2, "99999999.99"), (4, "99999999.9999")])
def test_largest_amount_of_the_column(
    portal: PortalDb, open_: Open, scale: int, largest: str
) -> None:
    """DECIMAL(10,2) holds at most 99,999,999.99; DECIMAL(12,4) four more decimals of it."""
    create_orders_table(portal.engine, amount_scale=scale)
    orders, _ = open_()
    assert orders.check().max_amount == Decimal(largest)


def test_bare_numeric_column(portal: PortalDb, open_: Open) -> None:
    """A NUMERIC without precision is unbounded, except on MariaDB where it means DECIMAL(10,0)."""
    create_table(portal, "NUMERIC")
    orders, _ = open_()
    if portal.kind == "mariadb":
        with pytest.raises(PortalError, match=r"which cannot hold cents$"):
            orders.check()
    else:
        assert orders.check().max_amount is None


@pytest.mark.parametrize("portal", ["postgresql"], indirect=True)
def test_column_in_another_case_is_refused_or_works(portal: PortalDb, open_: Open) -> None:
    """A column configured as Total_Amount for total_amount is refused by the check, or works."""
    portal.insert(row(1))
    orders, _ = open_(PortalSchema(amount="Total_Amount"))
    try:
        orders.check()
    except PortalError as exc:
        assert "PORTAL_COL_AMOUNT" in str(exc)
        return
    assert ids(orders.batches(Everything(), 10)) == [[1]]


# --- reading orders ---------------------------------------------------------------------


def test_batches_go_by_ascending_id(portal: PortalDb, open_: Open) -> None:
    """Orders come in batches of the given size by ascending id, whatever the insert order."""
    portal.insert(row(5), row(1), row(3), row(9), row(7))
    orders, _ = open_()
    assert ids(orders.batches(Everything(), 2)) == [[1, 3], [5, 7], [9]]


def test_a_full_last_batch_is_not_followed_by_an_empty_one(portal: PortalDb, open_: Open) -> None:
    """When the orders fill the batches exactly, no empty batch follows."""
    portal.insert(row(1), row(2), row(3), row(4))
    orders, _ = open_()
    assert ids(orders.batches(Everything(), 2)) == [[1, 2], [3, 4]]


def test_no_orders_no_batches(portal: PortalDb, open_: Open) -> None:
    """An empty table gives no batch at all."""
    portal.create()
    orders, _ = open_()
    assert ids(orders.batches(Everything(), 10)) == []


def test_batches_continue_after_the_last_id_read(portal: PortalDb, open_: Open) -> None:
    """Rows deleted or added behind the reader between batches neither skip nor repeat orders."""
    portal.insert(row(10), row(20), row(30), row(40), row(50))
    orders, _ = open_()
    batches = orders.batches(Everything(), 2)
    assert [o.id for o in next(batches)] == [10, 20]
    execute(portal, "DELETE FROM orders WHERE id IN (10, 20)")
    portal.insert(row(15))
    assert ids(batches) == [[30, 40], [50]]


def test_orders_without_an_odoo_id_are_left_out(portal: PortalDb, open_: Open) -> None:
    """NULL and blank Odoo ids mean 'no Odoo order': not read, not counted; junk is kept."""
    portal.create(odoo_id_type="varchar")
    portal.insert(
        row(1, odoo="42"),
        row(2, odoo="  7 "),
        row(3, odoo=""),
        row(4, odoo="   "),
        no_odoo(5),
        row(6, odoo="S00042"),
    )
    orders, _ = open_()
    batches = list(orders.batches(Everything(), 10))
    assert [(o.id, o.odoo_ref) for batch in batches for o in batch] == [
        (1, "42"),
        (2, "  7 "),
        (6, "S00042"),
    ]
    assert orders.count(Everything()) == 3


def test_null_odoo_ids_are_left_out_of_a_number_column(portal: PortalDb, open_: Open) -> None:
    """With an integer Odoo id column, NULL is left out and the rest read as numbers."""
    portal.insert(row(1, odoo=101), no_odoo(2), row(3, odoo=103))
    orders, _ = open_()
    batches = list(orders.batches(Everything(), 10))
    assert [(o.id, o.odoo_ref) for batch in batches for o in batch] == [(1, 101), (3, 103)]
    assert orders.count(Everything()) == 2


def test_recent_takes_orders_created_since_the_window_start(portal: PortalDb, open_: Open) -> None:
    """Recent reads orders created at or after its start; older ones and undated ones are out."""
    start = datetime(2026, 11, 17, 22, 0, 0)
    portal.insert(
        row(1, created=start - timedelta(seconds=1)),
        row(2, created=start),
        row(3, created=start + timedelta(days=3)),
        row(4, created=None),
    )
    orders, _ = open_()
    assert ids(orders.batches(LAST_WEEK, 10)) == [[2, 3]]
    assert orders.count(LAST_WEEK) == 2


def test_recent_window_is_counted_in_the_portal_zone(portal: PortalDb, open_: Open) -> None:
    """With PORTAL_TIMEZONE=Europe/Berlin, 23:00 local is the window start of 22:00 UTC."""
    portal.insert(
        row(1, created=datetime(2026, 11, 17, 22, 30, 0)),
        row(2, created=datetime(2026, 11, 17, 23, 0, 0)),
    )
    orders, _ = open_(PortalSchema(timezone="Europe/Berlin"))
    assert ids(orders.batches(LAST_WEEK, 10)) == [[2]]


def test_one_order_reads_that_order_only(portal: PortalDb, open_: Open) -> None:
    """OneOrder reads the order with that portal id and no other."""
    portal.insert(row(1), row(2), row(3))
    orders, _ = open_()
    assert ids(orders.batches(OneOrder(order_id=2), 10)) == [[2]]
    assert orders.count(OneOrder(order_id=2)) == 1


def test_one_order_without_odoo_id_or_absent_reads_nothing(portal: PortalDb, open_: Open) -> None:
    """OneOrder of an order with no Odoo id, or of no such order, gives no batch."""
    portal.insert(row(1), no_odoo(2))
    orders, _ = open_()
    assert ids(orders.batches(OneOrder(order_id=2), 10)) == []
    assert ids(orders.batches(OneOrder(order_id=99), 10)) == []
    assert orders.count(OneOrder(order_id=2)) == 0


def test_get_reads_an_order_exactly(portal: PortalDb, open_: Open) -> None:
    """get gives the order as stored: number, exact amount, Odoo id and updated_at."""
    create_orders_table(portal.engine, amount_scale=4)
    insert_orders(portal.engine, [row(1, amount="857.8749", odoo=42, number="AFINET-SO-1")])
    orders, _ = open_()
    assert orders.get(1) == PortalOrder(
        id=1, number="AFINET-SO-1", amount=Decimal("857.8749"), odoo_ref=42, updated_at=CREATED
    )
    order = orders.get(1)
    assert order is not None and str(order.amount) == "857.8749"


def test_get_reads_an_order_whatever_its_odoo_id(portal: PortalDb, open_: Open) -> None:
    """get finds an order with no Odoo id and no amount, and gives None for no such order."""
    portal.insert({**no_odoo(1), "total_amount": None})
    orders, _ = open_()
    order = orders.get(1)
    assert order is not None
    assert (order.odoo_ref, order.amount) == (None, None)
    assert orders.get(2) is None


def test_get_many_reads_the_orders_that_exist(portal: PortalDb, open_: Open) -> None:
    """get_many gives the orders asked for by id, leaving out ids not in the table."""
    portal.insert(row(1), row(2), row(3))
    orders, _ = open_()
    found = orders.get_many([3, 1, 99, 1])
    assert sorted(found) == [1, 3]
    assert found[3].number == "SO-3"
    assert orders.get_many([]) == {}


# --- writing ------------------------------------------------------------------------------


def change(order: PortalOrder, new: str, **extra: Any) -> Change:
    return Change(
        order=order,
        field=AMOUNT,
        old=order.amount,
        new=Decimal(new),
        odoo_id=str(order.odoo_ref),
        write_date="2026-11-24 18:15:57",
        **extra,
    )


def read(orders: PortalOrders, *order_ids: int) -> list[PortalOrder]:
    found = orders.get_many(list(order_ids))
    return [found[i] for i in order_ids]


def amounts(portal: PortalDb) -> dict[int, Decimal | None]:
    return {int(r["id"]): r["total_amount"] for r in portal.rows()}


def test_apply_writes_and_bumps_updated_at(portal: PortalDb, open_: Open) -> None:
    """A change is written with updated_at set to the run's time; the ids written come back."""
    portal.insert(row(1, amount="857.87"), row(2, amount="5.00"))
    orders, journal = open_()
    run_id = journal.start_run("sync", "all", NOW)
    (first,) = read(orders, 1)
    assert orders.apply([change(first, "950.00")], NOW, run_id) == {(1, AMOUNT)}
    rows = {r["id"]: r for r in portal.rows()}
    assert rows[1]["total_amount"] == Decimal("950.00")
    assert rows[1]["updated_at"] == datetime(2026, 11, 24, 22, 0, 0)
    assert rows[2]["total_amount"] == Decimal("5.00")
    assert rows[2]["updated_at"] == CREATED


def test_updated_at_is_written_in_the_portal_zone(portal: PortalDb, open_: Open) -> None:
    """With PORTAL_TIMEZONE=Asia/Tokyo, 22:00 UTC is written as 07:00 the next day."""
    portal.insert(row(1))
    orders, journal = open_(PortalSchema(timezone="Asia/Tokyo"))
    (first,) = read(orders, 1)
    orders.apply([change(first, "11.00")], NOW, journal.start_run("sync", "all", NOW))
    assert portal.rows()[0]["updated_at"] == datetime(2026, 11, 25, 7, 0, 0)


def test_apply_is_compare_and_set(portal: PortalDb, open_: Open) -> None:
    """A row the portal changed after it was read keeps the portal's amount and is not journaled."""
    portal.insert(row(1, amount="10.00"), row(2, amount="20.00"))
    orders, journal = open_()
    first, second = read(orders, 1, 2)
    execute(portal, "UPDATE orders SET total_amount = 55.55 WHERE id = 2")
    run_id = journal.start_run("sync", "all", NOW)
    written = orders.apply([change(first, "11.00"), change(second, "22.00")], NOW, run_id)
    assert written == {(1, AMOUNT)}
    assert amounts(portal) == {1: Decimal("11.00"), 2: Decimal("55.55")}
    assert [e.order_id for e in journal.changes(run_id=run_id)] == [1]


def test_apply_leaves_a_deleted_row_alone(portal: PortalDb, open_: Open) -> None:
    """A row deleted after it was read is not written, and nothing is journaled for it."""
    portal.insert(row(1), row(2))
    orders, journal = open_()
    first, second = read(orders, 1, 2)
    execute(portal, "DELETE FROM orders WHERE id = 2")
    run_id = journal.start_run("sync", "all", NOW)
    assert orders.apply([change(first, "11.00"), change(second, "22.00")], NOW, run_id) == {
        (1, AMOUNT)
    }
    assert [e.order_id for e in journal.changes()] == [1]


def test_empty_amount_is_written_only_while_still_empty(portal: PortalDb, open_: Open) -> None:
    """An order read with no amount is filled in, unless the portal filled it in meanwhile."""
    portal.insert(row(1, amount=None), row(2, amount=None))
    orders, journal = open_()
    first, second = read(orders, 1, 2)
    execute(portal, "UPDATE orders SET total_amount = 3.00 WHERE id = 2")
    run_id = journal.start_run("sync", "all", NOW)
    assert orders.apply([change(first, "11.00"), change(second, "22.00")], NOW, run_id) == {
        (1, AMOUNT)
    }
    assert amounts(portal) == {1: Decimal("11.00"), 2: Decimal("3.00")}


def test_each_write_is_journaled(portal: PortalDb, open_: Open) -> None:
    """Each amount written has its journal entry: run, order, Odoo id, old and new, when."""
    portal.insert(row(1, amount="857.87", odoo=42, number="AFINET-SO-1"))
    orders, journal = open_()
    run_id = journal.start_run("sync", "all", NOW)
    (first,) = read(orders, 1)
    orders.apply([change(first, "950.00", conflict=True)], NOW, run_id)
    (entry,) = journal.changes()
    assert (entry.run_id, entry.order_id, entry.odoo_id, entry.order_number) == (
        run_id,
        1,
        "42",
        "AFINET-SO-1",
    )
    assert (entry.old_amount, entry.new_amount) == (Decimal("857.87"), Decimal("950.00"))
    assert entry.odoo_write_date == "2026-11-24 18:15:57"
    assert entry.changed_at == NOW
    assert entry.conflict is True
    assert entry.old_updated_at == CREATED


@pytest.mark.parametrize("portal", ["mariadb"], indirect=True)
@pytest.mark.parametrize("server", ["json_table", "before 10.6"])
def test_mariadb_writes_alike_with_and_without_json_table(
    portal: PortalDb, open_: Open, server: str
) -> None:
    """MariaDB 10.6 and later take a batch's new values and journal rows as one JSON
    document (JSON_TABLE); an older server (its version said lower here, the real server
    running the other SQL) one UPDATE ... CASE and an executemany. The rows and the
    journal come out the same: a NULL put back, a Decimal at its scale, a name with
    non-ASCII letters, updated_at and the conflict flag."""
    portal.insert(
        row(1, amount="857.87", odoo=42, number="Bestellung-Ü-😀"),
        row(2, amount=None, odoo=43),
    )
    orders, journal = open_()
    if server != "json_table":
        orders.db.engine.dialect.server_version_info = (10, 5, 0)
    run_id = journal.start_run("sync", "all", NOW)
    first, second = read(orders, 1, 2)
    undo = Change(second, AMOUNT, second.amount, None, odoo_id="43")
    written = orders.apply([change(first, "950.01", conflict=True), undo], NOW, run_id)
    assert written == {(1, AMOUNT), (2, AMOUNT)}
    rows = {r["id"]: r for r in portal.rows()}
    assert (rows[1]["total_amount"], rows[2]["total_amount"]) == (Decimal("950.01"), None)
    assert rows[2]["updated_at"] == datetime(2026, 11, 24, 22, 0, 0)  # a write's time: NOW
    entries = journal.changes()
    assert [(e.order_number, e.old_amount, e.new_amount, e.conflict) for e in entries] == [
        ("Bestellung-Ü-😀", Decimal("857.87"), Decimal("950.01"), True),
        (rows[2]["order_number"], None, None, False),
    ]
    assert entries[0].changed_at == NOW


def test_write_and_journal_share_one_transaction(portal: PortalDb, open_: Open) -> None:
    """When the journal entry cannot be written, the amount is rolled back with it, exit 4."""
    portal.insert(row(1, amount="10.00"))
    orders, journal = open_()
    run_id = journal.start_run("sync", "all", NOW)
    execute(portal, "DROP TABLE orderamt_journal")
    (first,) = read(orders, 1)
    with pytest.raises(PortalError) as caught:
        orders.apply([change(first, "11.00")], NOW, run_id)
    assert "writing a batch (rolled back) failed" in str(caught.value)
    assert caught.value.exit_code is ExitCode.PORTAL
    assert amounts(portal) == {1: Decimal("10.00")}


def test_a_revert_moves_updated_at_forward_like_any_write(portal: PortalDb, open_: Open) -> None:
    """A revert is a write: the row's updated_at becomes the revert's time, never the time
    from before the run it reverts (a job reading `updated_at >= last seen` sees it)."""
    portal.insert(row(1, amount="950.00"))
    orders, journal = open_()
    (first,) = read(orders, 1)
    later = NOW + timedelta(hours=2)
    orders.apply([change(first, "857.87")], later, journal.start_run("revert", "revert", later,
                                                                      reverts=1))  # fmt: skip
    (stored,) = portal.rows()
    assert stored["total_amount"] == Decimal("857.87")
    assert stored["updated_at"] == datetime(2026, 11, 25, 0, 0, 0)  # NOW + 2 h, the portal's UTC


def test_table_without_updated_at(portal: PortalDb, open_: Open) -> None:
    """With PORTAL_COL_UPDATED empty, amounts are written and updated_at is not touched."""
    portal.insert(row(1))
    orders, journal = open_(PortalSchema(updated=None))
    orders.check()
    (first,) = read(orders, 1)
    assert first.updated_at is None
    assert orders.apply([change(first, "12.00")], NOW, journal.start_run("sync", "all", NOW)) == {
        (1, AMOUNT)
    }
    (stored,) = portal.rows()
    assert (stored["total_amount"], stored["updated_at"]) == (Decimal("12.00"), CREATED)


# --- the journal --------------------------------------------------------------------------


def test_reading_an_absent_journal_finds_nothing_and_creates_nothing(
    portal: PortalDb, open_: Open
) -> None:
    """Before the first run, the journal reads as empty and no table is made by reading it."""
    portal.create()
    _, journal = open_()
    assert journal.runs(10) == []
    assert journal.run(1) is None
    assert journal.changes() == []
    assert journal.known([1, 2]) == ({}, {})
    assert not inspect(portal.engine).has_table("orderamt_journal")
    assert not inspect(portal.engine).has_table("orderamt_journal_runs")


def test_a_journal_dropped_under_a_long_running_process_is_made_again(
    portal: PortalDb, open_: Open
) -> None:
    """The tables are looked for once per process (a listener records a run per batch); if
    they vanish meanwhile (`php artisan migrate:fresh`), the next run after the failed one
    makes them again."""
    portal.create()
    _, journal = open_()
    journal.start_run("sync", "webhook", NOW)
    with portal.engine.begin() as conn:
        for table in reversed(journal.tables.metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE {table.name}"))
    with pytest.raises(PortalError):
        journal.start_run("sync", "webhook", NOW)
    assert journal.start_run("sync", "webhook", NOW) == 1
    assert [r.id for r in journal.runs(10)] == [1]


def test_runs_are_recorded_and_listed_newest_first(portal: PortalDb, open_: Open) -> None:
    """Each run gets its id, its end, counts and exit code; runs(limit) lists the latest first."""
    portal.create()
    _, journal = open_()
    first = journal.start_run("sync", "recent", NOW)
    journal.finish_run(first, NOW + timedelta(seconds=4), RunCounts(10, 2, 7, 1), 1)
    second = journal.start_run("revert", "revert", NOW + timedelta(hours=1), reverts=first)
    third = journal.start_run("sync", "all", NOW + timedelta(hours=2))
    assert first < second < third
    assert [r.id for r in journal.runs(2)] == [third, second]
    assert [r.id for r in journal.runs(10)] == [third, second, first]
    done = journal.run(first)
    assert done is not None
    assert (done.kind, done.mode, done.reverts_run) == ("sync", "recent", None)
    assert (done.started_at, done.finished_at) == (NOW, NOW + timedelta(seconds=4))
    assert (done.found, done.updated, done.unchanged, done.skipped) == (10, 2, 7, 1)
    assert done.exit_code == 1
    revert = journal.run(second)
    assert revert is not None
    assert (revert.kind, revert.reverts_run, revert.finished_at) == ("revert", first, None)
    assert journal.run(third + 1) is None


def test_last_written_is_the_latest_amount_per_order(portal: PortalDb, open_: Open) -> None:
    """last_written gives, per order, what orderamt wrote last; never-written orders are absent."""
    portal.insert(row(1, amount="10.00"), row(2, amount="20.00"), row(3, amount="30.00"))
    orders, journal = open_()
    run = journal.start_run("sync", "all", NOW)
    one, two = read(orders, 1, 2)
    orders.apply([change(one, "11.00"), change(two, "21.00")], NOW, run)
    later = journal.start_run("sync", "all", NOW + timedelta(hours=1))
    (one,) = read(orders, 1)
    orders.apply([change(one, "12.00")], NOW + timedelta(hours=1), later)
    last, _ = journal.known([1, 2, 3])
    assert {key: known.value for key, known in last.items()} == {
        (1, AMOUNT): Decimal("12.00"),
        (2, AMOUNT): Decimal("21.00"),
    }
    assert journal.known([]) == ({}, {})


def test_changes_by_run_by_order_and_latest(portal: PortalDb, open_: Open) -> None:
    """changes() filters by run or order; with a limit, the latest ones, still oldest first."""
    portal.insert(row(1, amount="1.00"), row(2, amount="2.00"))
    orders, journal = open_()
    amounts_by_run: list[tuple[int, int, str]] = []
    for step in range(3):
        at = NOW + timedelta(hours=step)
        run = journal.start_run("sync", "all", at)
        one, two = read(orders, 1, 2)
        new_one, new_two = f"{step + 10}.00", f"{step + 20}.00"
        orders.apply([change(one, new_one), change(two, new_two)], at, run)
        amounts_by_run += [(run, 1, new_one), (run, 2, new_two)]
    every = [(e.run_id, e.order_id, e.new_amount) for e in journal.changes()]
    assert every == [(r, o, Decimal(a)) for r, o, a in amounts_by_run]
    assert [e.new_amount for e in journal.changes(order_id=2)] == [
        Decimal("20.00"),
        Decimal("21.00"),
        Decimal("22.00"),
    ]
    latest = journal.changes(order_id=1, limit=2)
    assert [e.new_amount for e in latest] == [Decimal("11.00"), Decimal("12.00")]
    middle_run = amounts_by_run[2][0]
    assert [e.order_id for e in journal.changes(run_id=middle_run)] == [1, 2]
    assert [e.new_amount for e in journal.changes(limit=1)] == [Decimal("22.00")]
