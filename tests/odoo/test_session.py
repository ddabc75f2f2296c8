"""A run takes the login an earlier run kept (Odoo's `authenticate` pays a slow password hash
every time), and a changed password or a revoked key still ends it cleanly with exit 3."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from orderamt.testing import OdooDouble
from tests.conftest import API_KEY, LOGIN_CALL, Orderamt, PortalDb
from tests.sync.test_failures import REFUSED, assert_one_line_failure

RECENT = datetime.now() - timedelta(days=1)


@pytest.fixture
def filled(portal: PortalDb, odoo: OdooDouble) -> PortalDb:
    """One order a run updates, in step with Odoo after the first run."""
    portal.insert({"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
                   "created_at": RECENT, "updated_at": RECENT})  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    return portal


def kept_logins(portal: PortalDb) -> list[tuple[str, str, int]]:
    with portal.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT name, write_date, odoo_id FROM orderamt_journal_state "
            "WHERE name LIKE 'login:%'"))  # fmt: skip
        return [(str(name), str(stamp), int(uid)) for name, stamp, uid in rows]


def test_a_second_run_does_not_log_in_again(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The first run logs in and keeps the user id (nothing secret) in the portal's state;
    the next runs take it and go straight to the reads."""
    assert orderamt("sync").exit_code == 0
    kept = kept_logins(filled)
    assert [uid for _, _, uid in kept] == [2]
    secret = orderamt.env["ODOO_PASSWORD"]
    assert all(secret not in name + stamp for name, stamp, _ in kept)
    assert orderamt("sync").exit_code == 0
    assert orderamt("sync", "--changed", "--quiet").exit_code == 0
    assert odoo.calls[LOGIN_CALL[orderamt.protocol]] == 1
    assert odoo.calls["search_read"] >= 3
    assert filled.rows()[0]["total_amount"] == Decimal("10.00")


def test_a_changed_secret_still_fails_cleanly_with_exit_3(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The password changed (or the key was revoked) in Odoo after a run kept its login:
    the next run is refused at its first read, logs in once afresh, is refused again, and
    ends with exit 3 and one line, nothing written, recorded, the kept login forgotten."""
    assert orderamt("sync").exit_code == 0
    odoo.change(1, amount_total=20.0)
    if orderamt.protocol == "json2":
        odoo.revoke_api_key()
    else:
        odoo.change_password("changed-in-odoo")
    odoo.reset_calls()
    before = filled.rows()
    run = orderamt("sync")
    assert_one_line_failure(run, 3, *REFUSED[orderamt.protocol])
    assert filled.rows() == before
    assert odoo.calls[LOGIN_CALL[orderamt.protocol]] == 1  # the one fresh login
    assert kept_logins(filled) == []
    with filled.engine.connect() as conn:
        codes = conn.execute(text("SELECT exit_code FROM orderamt_journal_runs ORDER BY id"))
        assert [code for (code,) in codes] == [0, 3]


@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_a_new_password_takes_over_the_kept_login(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The password changed in Odoo and in the settings: the kept user id goes on working,
    with the new password checked by Odoo at each call; no new login is needed."""
    assert orderamt("sync").exit_code == 0
    odoo.change_password("changed-everywhere")
    odoo.change(1, amount_total=20.0)
    run = orderamt("sync", ODOO_PASSWORD="changed-everywhere")
    assert run.exit_code == 0, run.stderr
    assert filled.rows()[0]["total_amount"] == Decimal("20.00")
    assert odoo.calls["authenticate"] == 1


@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_another_user_is_never_taken_for_the_kept_one(
    filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A login is kept for one address, database and user: another user logs in afresh
    (and is refused here), never rides on the user id kept for admin."""
    assert orderamt("sync").exit_code == 0
    run = orderamt("sync", ODOO_USERNAME="nobody")
    assert_one_line_failure(run, 3, "refused the login for 'nobody'")
    assert odoo.calls["authenticate"] == 2
    assert kept_logins(filled) == []


def test_a_dry_run_keeps_no_login(filled: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """A dry run writes nothing to the portal database, a kept login neither; it still
    takes one an earlier run kept."""
    assert orderamt("sync", "--dry-run").exit_code == 0
    assert orderamt("sync").exit_code == 0
    kept = kept_logins(filled)
    assert orderamt("sync", "--dry-run").exit_code == 0
    assert kept_logins(filled) == kept
    assert odoo.calls[LOGIN_CALL[orderamt.protocol]] == 2
    assert API_KEY not in repr(kept)
