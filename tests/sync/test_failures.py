"""Every known failure: one line on stderr, its exit code, no traceback, and nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

SECRET = "s3cr3t-Pa55word"
RECENT = datetime.now() - timedelta(days=1)


@pytest.fixture
def filled(portal: PortalDb, odoo: OdooDouble) -> PortalDb:
    """Two orders that a working run would update."""
    portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT},
        {"order_number": "B", "total_amount": Decimal("2.00"), "odoo_order_id": 2,
         "created_at": RECENT, "updated_at": RECENT},
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    odoo.add_order(id=2, name="S00002", amount_total=20.0)
    return portal


def assert_one_line_failure(run, code: int, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert run.exit_code == code, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("orderamt: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in run.stdout + run.stderr


REFUSED = {
    "xmlrpc": ["refused the login for 'admin'", "ODOO_PASSWORD"],
    "json2": ["refused the API key (Invalid apikey)", "ODOO_PASSWORD"],
}
NOT_RPC = {"xmlrpc": "not XML-RPC", "json2": "not JSON"}


@pytest.mark.parametrize(
    ("setup", "env", "fragments"),
    [
        ("none", {"ODOO_PASSWORD": "wrong"}, ["<refused>"]),
        ("none", {"ODOO_DB": "nodb"}, ["Odoo has no database 'nodb'", "ODOO_DB"]),
        ("http502", {}, ["HTTP 502"]),
        ("html", {}, ["with an HTML page that is not Odoo's answer", "ODOO_URL"]),
        (
            "html-late",
            {},
            ["search_read on sale.order", "<not rpc>", "an HTML page? check ODOO_URL"],
        ),
        ("hang", {"ODOO_TIMEOUT": "1"}, ["did not answer", "within 1 s"]),
        ("reset", {}, ["cannot reach Odoo"]),
        ("refused", {}, ["connection refused"]),
    ],
)
def test_odoo_failures_exit_3(
    filled: PortalDb,
    odoo: OdooDouble,
    orderamt: Orderamt,
    setup: str,
    env: dict[str, str],
    fragments: list[str],
) -> None:
    """A refused login, unknown database, proxy page, hang, reset or refusal: exit 3, no order
    written; the run is in the journal with exit 3 and the same line."""
    before = filled.rows()  # the orders; the run itself is recorded
    match setup:
        case "http502":
            odoo.fail("http", status=502)
        case "html" | "hang" | "reset":
            odoo.fail(setup)
        case "html-late":
            odoo.fail("html", on="search_read")
        case "refused":
            env = {"ODOO_URL": "http://127.0.0.1:9"}
    run = orderamt("sync", **env)
    if fragments == ["<refused>"]:
        fragments = REFUSED[orderamt.protocol]
    fragments = [NOT_RPC[orderamt.protocol] if f == "<not rpc>" else f for f in fragments]
    assert_one_line_failure(run, 3, *fragments)
    assert filled.rows() == before
    with filled.engine.connect() as conn:
        recorded = conn.execute(text("SELECT exit_code, error FROM orderamt_journal_runs")).all()
    assert [(code, f"orderamt: {error}") for code, error in recorded] == [(3, run.stderr.strip())]


@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_unknown_login_refused_over_xmlrpc(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Over XML-RPC the login names the user Odoo refused (JSON-2 keys carry no login)."""
    run = orderamt("sync", ODOO_USERNAME="nobody")
    assert_one_line_failure(run, 3, "refused the login for 'nobody'")


def test_fault_on_search_read_exits_3(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An Odoo fault while reading shows its last line only, exit 3, nothing written."""
    before = filled.rows()  # the orders; the run itself is recorded
    odoo.fail(
        "fault",
        on="search_read",
        fault=(1, "Traceback (most recent call last):\n  File x\nValueError: boom\n"),
    )
    run = orderamt("sync")
    assert_one_line_failure(run, 3, "Odoo answered search_read on sale.order with an error: ")
    assert run.stderr.rstrip().endswith("boom")
    assert "File x" not in run.stderr
    assert filled.rows() == before


def test_secrets_never_shown(filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """The password appears in no output and no log line, whatever fails."""
    for env in ({"ODOO_PASSWORD": SECRET}, {"ODOO_PASSWORD": SECRET, "ODOO_DB": "nodb"}):
        run = orderamt("sync", **env)
        assert SECRET not in run.stdout + run.stderr
    assert SECRET not in orderamt.log_file.read_text()


def test_missing_configuration_reported_at_once(orderamt_sqlite: Orderamt) -> None:
    """Every missing or bad variable is named in one message, exit 2."""
    run = orderamt_sqlite(
        "sync",
        ODOO_URL="",
        ODOO_PASSWORD="",
        ORDERAMT_BATCH_SIZE="lots",
        ODOO_TIMEOUT="-1",
    )
    assert_one_line_failure(
        run,
        2,
        "ODOO_URL is not set",
        "ODOO_PASSWORD is not set",
        "ORDERAMT_BATCH_SIZE must be a whole number from 1 to 10000, got 'lots'",
        "ODOO_TIMEOUT must be a number of seconds from 1 to 3600, got '-1'",
    )


def test_bad_odoo_url(orderamt_sqlite: Orderamt) -> None:
    """An ODOO_URL that is not http(s) is refused before anything runs, without its password."""
    run = orderamt_sqlite("sync", ODOO_URL=f"ftp://admin:{SECRET}@odoo.example.com")
    assert_one_line_failure(run, 2, "ODOO_URL must be an http:// or https:// address")
    assert SECRET not in run.stderr


def test_env_file_is_read_and_environment_wins(
    tmp_path: Path, filled: PortalDb, orderamt: Orderamt
) -> None:
    """Settings come from --env-file; a variable set in the environment overrides the file."""
    env_file = tmp_path / "orderamt.env"
    env_file.write_text(f"ODOO_DB=nodb\nODOO_PASSWORD={orderamt.env['ODOO_PASSWORD']}\n")
    run = orderamt("sync", "--env-file", str(env_file), ODOO_PASSWORD=None)
    assert run.exit_code == 0, run.stderr
    assert filled.amounts() == {"A": Decimal("10.00"), "B": Decimal("20.00")}
    run = orderamt("sync", "--env-file", str(env_file), ODOO_DB=None)
    assert_one_line_failure(run, 3, "Odoo has no database 'nodb'")
    run = orderamt("sync", "--env-file", str(tmp_path / "nope.env"))
    assert_one_line_failure(run, 2, "the env file", "nope.env")


def test_dot_env_in_working_directory_is_read(filled: PortalDb, orderamt: Orderamt) -> None:
    """Without --env-file, ./.env is read (the tests run in a fresh temporary directory)."""
    Path(".env").write_text(f"ODOO_PASSWORD={orderamt.env['ODOO_PASSWORD']}\n")
    run = orderamt("sync", ODOO_PASSWORD=None)
    assert run.exit_code == 0, run.stderr


def test_portal_unreachable_exits_4(odoo: OdooDouble, orderamt_sqlite: Orderamt) -> None:
    """A portal database that cannot be reached: one line naming it (password masked), exit 4."""
    run = orderamt_sqlite(
        "sync",
        PORTAL_DATABASE_URL=f"postgresql+psycopg://orderamt:{SECRET}@127.0.0.1:9/portal",
    )
    assert_one_line_failure(run, 4, "cannot reach the portal database", "127.0.0.1:9")
    assert SECRET not in run.stderr
    assert not odoo.calls, "Odoo was asked something"


def test_missing_sqlite_file_is_not_created(tmp_path: Path, orderamt_sqlite: Orderamt) -> None:
    """A SQLite path that does not exist is reported, not silently created empty."""
    missing = tmp_path / "nope.db"
    run = orderamt_sqlite("sync", PORTAL_DATABASE_URL=f"sqlite:///{missing}")
    assert_one_line_failure(run, 4, f"{missing} does not exist")
    assert not missing.exists()


def test_missing_table_and_column_exit_4(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A wrong table or column name is named with its variable, before Odoo is asked anything,
    and nothing at all is written (the schema check comes before the run's record)."""
    before = filled.snapshot()
    run = orderamt("sync", PORTAL_ORDERS_TABLE="sales")
    assert_one_line_failure(run, 4, "table 'sales' does not exist", "PORTAL_ORDERS_TABLE")
    run = orderamt("sync", PORTAL_COL_AMOUNT="grand_total", PORTAL_COL_ODOO_ID="odoo_id")
    assert_one_line_failure(
        run, 4, "'grand_total' (PORTAL_COL_AMOUNT)", "'odoo_id' (PORTAL_COL_ODOO_ID)"
    )
    assert not odoo.calls, "Odoo was asked something"
    assert filled.snapshot() == before


def test_amount_column_must_be_numeric(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A text amount column is refused with exit 4 rather than written as text."""
    with portal.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_number VARCHAR(50), "
                "total_amount VARCHAR(20), odoo_order_id INTEGER, created_at TIMESTAMP NULL, "
                "updated_at TIMESTAMP NULL)"
            )
        )
    run = orderamt("sync")
    assert_one_line_failure(run, 4, "'total_amount' (PORTAL_COL_AMOUNT)", "not a DECIMAL")


def test_without_updated_at_column(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """PORTAL_COL_UPDATED= (empty) syncs a table that has no updated_at."""
    with portal.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_number VARCHAR(50), "
                "total_amount DECIMAL(10,2), odoo_order_id INTEGER, created_at TIMESTAMP NULL)"
            )
        )
        conn.execute(
            text("INSERT INTO orders VALUES (1, 'A', 1.00, 1, :created)"),
            {"created": RECENT.strftime("%Y-%m-%d %H:%M:%S")},
        )
    odoo.add_order(id=1, name="S00001", amount_total=3.0)
    run = orderamt("sync", PORTAL_COL_UPDATED="")
    assert run.exit_code == 0, run.stderr
    with portal.engine.connect() as conn:
        assert conn.execute(text("SELECT total_amount FROM orders")).scalar_one() == Decimal("3.00")
