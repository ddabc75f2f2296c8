"""A portal on the Laravel schema, its rows written by Laravel's own code (Debian's
php-illuminate-database): a customer's cancellation, saved through Eloquent, reaches Odoo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb
from tests.sync.test_fields import STATUS_MAP, columns
from tests.sync.test_push import journal

PUSH = {"ORDERAMT_STATUS_MAP": STATUS_MAP, "ORDERAMT_STATUS_PUSH": "cancelled:cancel"}

ILLUMINATE = Path("/usr/share/php/Illuminate/Database/autoload.php")
SCRIPT = Path(__file__).parent / "laravel" / "orders.php"

pytestmark = pytest.mark.skipif(
    shutil.which("php") is None or not ILLUMINATE.exists(),
    reason="needs php and php-illuminate-database (Debian) to write rows the Laravel way",
)


def laravel(portal: PortalDb, *args: str) -> None:
    assert portal.path is not None
    subprocess.run(["php", str(SCRIPT), str(portal.path), *args], check=True, timeout=60)


def test_a_cancellation_saved_by_eloquent_reaches_odoo_and_nothing_is_written_over_it(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """The table made by a Laravel migration (an enum status, Laravel's timestamps), the
    customer's `$order->status = 'cancelled'; $order->save()` before orderamt ever wrote the
    status: the next sync cancels the sale order in Odoo and leaves the row as Laravel
    saved it (its updated_at too); the other order takes Odoo's status as before."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    assert portal.path is not None
    portal.path.touch()
    laravel(portal, "create", "2")
    for i in (1, 2):
        odoo.add_order(i, amount_total=10.0, state="sale")
    laravel(portal, "set", "SO-1", "cancelled")
    saved = columns(portal, "status", "updated_at")["SO-1"]
    run = orderamt("sync", "--all", **PUSH)
    assert run.exit_code == 0, run.stderr
    assert odoo.orders[1]["state"] == "cancel" and odoo.orders[2]["state"] == "sale"
    assert columns(portal, "status", "updated_at")["SO-1"] == saved
    assert columns(portal, "status")["SO-2"] == ("confirmed",)
    assert [row[4] for row in journal(portal) if row[0] == 1] == ["push"]
    entries = journal(portal)
    again = orderamt("sync", "--all", **PUSH)  # both sides agree now: nothing moves
    assert again.exit_code == 0, again.stderr
    assert (journal(portal), odoo.calls["action_cancel"]) == (entries, 1)
    assert columns(portal, "status", "updated_at")["SO-1"] == saved
