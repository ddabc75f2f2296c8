"""Odd inputs found in review: each gets one line and the right exit, never a traceback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from orderamt.portal.coltypes import parse_timestamp
from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def one_order(portal: PortalDb, odoo: OdooDouble) -> None:
    portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT}
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=10.0)


def test_float_amount_column_is_refused(portal: PortalDb, orderamt: Orderamt) -> None:
    """A FLOAT amount column holds no exact cents: refused with exit 4 before anything runs."""
    with portal.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_number VARCHAR(50), "
                "total_amount FLOAT, odoo_order_id INTEGER, created_at TIMESTAMP NULL, "
                "updated_at TIMESTAMP NULL)"
            )
        )
    run = orderamt("sync")
    assert run.exit_code == 4
    assert "'total_amount' (PORTAL_COL_AMOUNT)" in run.stderr
    assert "not a DECIMAL or NUMERIC column" in run.stderr


@pytest.mark.parametrize("protocol", ["json2"])
def test_secret_with_a_newline_is_a_config_error(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """A key pasted with its trailing newline is refused by name, without printing the key."""
    one_order(sqlite_portal, odoo)
    key = orderamt_sqlite.env["ODOO_PASSWORD"]
    run = orderamt_sqlite("sync", ODOO_PASSWORD=key + "\n")
    assert run.exit_code == 2
    assert "ODOO_PASSWORD contains a control character (a trailing newline?)" in run.stderr
    assert key not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_check_masks_credentials_in_the_odoo_url(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """`check` never shows a user:password@ part of ODOO_URL."""
    one_order(sqlite_portal, odoo)
    url = odoo.url.replace("http://", "http://bob:hunter2@")
    run = orderamt_sqlite("check", ODOO_URL=url)
    assert "hunter2" not in run.stdout + run.stderr
    assert run.exit_code == 0, run.stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ODOO_URL", "http://127.0.0.1:abc", "ODOO_URL has an invalid port"),
        ("PORTAL_DATABASE_URL", "postgresql+psycopg://u@h:abc/db", "PORTAL_DATABASE_URL is not"),
    ],
)
def test_bad_ports_are_config_errors(
    orderamt_sqlite: Orderamt, name: str, value: str, message: str
) -> None:
    """A port that is not a number is a configuration error, exit 2."""
    run = orderamt_sqlite("sync", **{name: value})
    assert run.exit_code == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_json_on_a_configuration_error(orderamt_sqlite: Orderamt) -> None:
    """--json prints its document even when the configuration is wrong."""
    run = orderamt_sqlite("sync", "--json", ODOO_URL="")
    assert run.exit_code == 2
    document = json.loads(run.stdout)
    assert document["exit_code"] == 2
    assert "ODOO_URL is not set" in document["error"]


def test_portal_amount_that_is_no_number_is_skipped(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """Text in a SQLite amount column is reported and never written over."""
    one_order(sqlite_portal, odoo)
    with sqlite_portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET total_amount = 'N/A'"))
    run = orderamt_sqlite("sync")
    assert run.exit_code == 1
    assert (
        "  ⚠️  A: The portal's amount is not a number; fix it in the portal (skipped)" in run.lines
    )
    with sqlite_portal.engine.connect() as conn:
        assert conn.execute(text("SELECT total_amount FROM orders")).scalar_one() == "N/A"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-01-01 10:00:00", datetime(2026, 1, 1, 10, 0, 0)),
        ("2026-01-01T10:00:00.000000Z", datetime(2026, 1, 1, 10, 0, 0)),
        ("2026-01-01 10:00:00.12", datetime(2026, 1, 1, 10, 0, 0, 120000)),
        ("0000-00-00 00:00:00", None),
        ("yesterday", None),
    ],
)
def test_stored_timestamps_parse_on_every_python(stored: str, expected: datetime | None) -> None:
    """Timestamps as Laravel, other writers and MySQL's zero date leave them (3.10 included)."""
    assert parse_timestamp(stored) == expected
