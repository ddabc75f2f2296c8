"""Mapped fields (ORDERAMT_<NAME>_MAP): Odoo's order status, invoicing and delivery reach the
portal's own columns through the real command, on each engine and each protocol."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from orderamt.errors import ExitCode
from orderamt.portal.journal import JournalTables
from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import API_KEY, Orderamt, PortalDb
from tests.listen.test_listener_process import SECRET, Listener, wait_for
from tests.portal.test_field_columns import laravel_enum

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)
STATUS_MAP = "draft:pending,sent:pending,sale:confirmed,cancel:cancelled"
MAPS = {
    "ORDERAMT_STATUS_MAP": STATUS_MAP,
    "ORDERAMT_INVOICE_STATUS_MAP": "no:none,to invoice:due,invoiced:invoiced,upselling:invoiced",
    "PORTAL_COL_INVOICE_STATUS": "invoicing",
}
"""Status by the known name and its default column; invoicing with a column of its own."""


def old_journal(portal: PortalDb, old: JournalTables, **entry: Any) -> int:
    """A journal of an earlier version's shape (`old`) in the portal: one run two days ago
    (its id returned) that changed order 1 (SO-1) as `entry` says."""
    then = datetime.now(timezone.utc) - timedelta(days=2)
    with portal.engine.begin() as conn:
        old.metadata.create_all(conn)
        run_id = old.start_run(conn, "sync", "all", then)
        conn.execute(
            old.changes.insert().values(run_id=run_id, order_id=1, odoo_id="1",
                                        order_number="SO-1", changed_at=then, **entry)
        )  # fmt: skip
    return run_id


def listener_settings(**extra: str) -> dict[str, str]:
    """A listener on a free port that gathers for 0.2 s and polls only at its start."""
    return {
        "ORDERAMT_LISTEN": "127.0.0.1:0",
        "ORDERAMT_WEBHOOK_SECRET": SECRET,
        "ORDERAMT_WEBHOOK_DELAY": "0.2",
        "ORDERAMT_POLL_INTERVAL": "3600",
        **extra,
    }


def portal_with_fields(portal: PortalDb) -> None:
    """The Laravel orders table with `status` (an enum, as Laravel writes one on each engine)
    and `invoicing` (a plain string column)."""
    status = laravel_enum(portal.kind, "'pending', 'confirmed', 'cancelled'")
    quoted = "`status`" if portal.kind == "mariadb" else '"status"'
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE orders ADD COLUMN {quoted} {status}"))
        conn.execute(text("ALTER TABLE orders ADD COLUMN invoicing varchar(20) NULL"))


def fill(portal: PortalDb, odoo: OdooDouble, states: dict[int, dict[str, Any]]) -> None:
    """Orders 1.. at 10.00 in the portal, pending; in Odoo at 10.00 with `states`."""
    portal.insert(
        *(
            {"order_number": f"SO-{i}", "total_amount": Decimal("10.00"), "odoo_order_id": i,
             "created_at": RECENT, "updated_at": RECENT}
            for i in states
        )
    )  # fmt: skip
    for i, values in states.items():
        odoo.add_order(i, amount_total=10.0, **values)


def columns(portal: PortalDb, *names: str) -> dict[str, tuple[Any, ...]]:
    with portal.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT order_number, {', '.join(names)} FROM orders ORDER BY id")
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def field_entries(portal: PortalDb) -> list[tuple[int, str, str | None, str | None]]:
    with portal.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT order_id, field, old_value, new_value FROM orderamt_journal "
                "WHERE field IS NOT NULL ORDER BY id"
            )
        )
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]


def test_status_and_invoicing_follow_odoo_through_sync(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Each mapped field takes the map's value for Odoo's, journaled field by field; the
    amount's rule is unchanged (a cancelled order keeps its total in Odoo and in the portal)."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale", "invoice_status": "to invoice"},
                        2: {"state": "cancel"}, 3: {"state": "draft"}})  # fmt: skip
    odoo.change(2, amount_total=12.5)
    run = orderamt("sync", **MAPS)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert columns(portal, "status", "invoicing", "total_amount") == {
        "SO-1": ("confirmed", "due", Decimal("10.00")),
        "SO-2": ("cancelled", "none", Decimal("12.50")),
        "SO-3": ("pending", "none", Decimal("10.00")),
    }
    assert "  ✅ SO-1: status pending → confirmed" in run.lines
    assert "  ✅ SO-1: invoice_status (empty) → due" in run.lines
    assert "  ✅ SO-2: $10.00 → $12.50" in run.lines
    assert "Synced: 3 (3 updated, 0 unchanged)" in run.lines
    assert sorted(field_entries(portal)) == [
        (1, "invoice_status", None, "due"), (1, "status", "pending", "confirmed"),
        (2, "invoice_status", None, "none"), (2, "status", "pending", "cancelled"),
        (3, "invoice_status", None, "none"),
    ]  # fmt: skip
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert '"field": "status", "old_value": "pending", "new_value": "confirmed"' in log
    again = orderamt("sync", "--quiet", **MAPS)
    assert (again.exit_code, again.stdout) == (0, "")


def test_an_unmapped_value_is_never_written_and_is_news_once(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Odoo's 'cancel' without a mapping: the status is left as it is and the order reported
    (exit 1 the first time only); its other fields and its amount still sync."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "cancel", "invoice_status": "no"}})
    odoo.change(1, amount_total=11.0)
    maps = {**MAPS, "ORDERAMT_STATUS_MAP": "draft:pending,sale:confirmed"}
    first = orderamt("sync", "--json", **maps)
    assert first.exit_code == ExitCode.PARTIAL
    document = json.loads(first.stdout)
    (order,) = document["orders"]
    assert (order["action"], order["new_amount"]) == ("update", "11.00")
    assert order["fields"] == [
        {"field": "invoice_status", "old": None, "new": "none", "contest": None}
    ]
    assert [(i["field"], i["reason"], i["odoo_value"]) for i in order["field_issues"]] == [
        ("status", "unmapped", "cancel")
    ]
    assert columns(portal, "status", "invoicing", "total_amount") == {
        "SO-1": ("pending", "none", Decimal("11.00"))
    }
    second = orderamt("sync", **maps)
    assert second.exit_code == ExitCode.OK
    assert (
        "  ⚠️  SO-1: status: Odoo says 'cancel', which ORDERAMT_STATUS_MAP does not map "
        "(keeping 'pending')"
    ) in second.lines


def test_a_field_odoo_lacks_stops_the_run_before_anything_is_written(
    portal: PortalDb, protocol: str, orderamt: Orderamt
) -> None:
    """delivery_status without sale_stock: check and sync exit 3 naming the module; nothing
    is written, the amount neither."""
    portal_with_fields(portal)
    with OdooDouble(version=19 if protocol == "json2" else 18, db="odoo", login="admin",
                    password="admin", api_key=API_KEY, sale_stock=False) as bare:  # fmt: skip
        fill(portal, bare, {1: {"state": "sale"}})
        bare.change(1, amount_total=11.0)
        maps = {
            "ODOO_URL": bare.url,
            "ORDERAMT_DELIVERY_STATUS_MAP": "false:pending,full:confirmed",
            "PORTAL_COL_DELIVERY_STATUS": "status",
        }
        run = orderamt("sync", **maps)
        check = orderamt("check", **maps)
    why = "Odoo's sale.order has no field 'delivery_status': install the Odoo module sale_stock"
    assert run.exit_code == ExitCode.ODOO
    assert why in run.stderr
    assert "Traceback" not in run.stderr
    assert check.exit_code == ExitCode.ODOO
    assert why in check.stdout
    assert columns(portal, "status", "total_amount") == {"SO-1": ("pending", Decimal("10.00"))}


def test_a_column_that_cannot_hold_a_mapped_value_stops_the_sync(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A map value the column's enum lacks: exit 4 before Odoo is read, nothing written."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    odoo.change(1, amount_total=11.0)
    run = orderamt("sync", **{**MAPS, "ORDERAMT_STATUS_MAP": "sale:shipped"})
    assert run.exit_code == ExitCode.PORTAL
    assert "cannot hold 'shipped' from ORDERAMT_STATUS_MAP" in run.stderr
    assert columns(portal, "status", "total_amount") == {"SO-1": ("pending", Decimal("10.00"))}


def test_revert_of_one_field_of_one_order_and_its_hold(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`revert RUN --order-id 1 --field status` puts back that status alone; the next sync
    leaves it while Odoo says the same; when Odoo changes, the sync takes it again."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}, 2: {"state": "sale"}})
    odoo.change(1, amount_total=11.0)
    assert orderamt("sync", **MAPS).exit_code == 0
    reverted = orderamt("revert", "1", "--order-id", "1", "--field", "status", **MAPS)
    assert reverted.exit_code == 0, reverted.stdout + reverted.stderr
    assert "  ✅ SO-1: status confirmed → pending" in reverted.lines
    assert columns(portal, "status", "total_amount") == {
        "SO-1": ("pending", Decimal("11.00")),
        "SO-2": ("confirmed", Decimal("10.00")),
    }
    held = orderamt("sync", **MAPS)
    assert held.exit_code == 0
    assert (
        "  ⏭️  SO-1: status held by the revert of run 1 (Odoo still says confirmed; keeping "
        "pending; release with: orderamt release 1)"
    ) in held.lines
    assert columns(portal, "status")["SO-1"] == ("pending",)
    history = orderamt("history", "--order-id", "1", **MAPS)
    assert any("status confirmed → pending" in line for line in history.lines)
    assert any("held by the revert of run 1: Odoo's status confirmed" in line
               for line in history.lines)  # fmt: skip
    odoo.change(1, state="cancel")
    assert orderamt("sync", **MAPS).exit_code == 0
    assert columns(portal, "status")["SO-1"] == ("cancelled",)
    bad = orderamt("revert", "1", "--field", "colour", **MAPS)
    assert bad.exit_code == ExitCode.USAGE
    assert "--field must be one of amount, invoice_status, status, got 'colour'" in bad.stderr


def test_a_status_changed_in_the_portal_and_in_odoo_is_a_conflict(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A status the portal changed since orderamt wrote it: Odoo wins by default (said), and
    --on-conflict skip keeps the portal's (news)."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}, 2: {"state": "sale"}})
    assert orderamt("sync", **MAPS).exit_code == 0
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'pending'"))
    odoo.change(1, state="cancel")
    odoo.change(2, state="cancel")
    skipped = orderamt("sync", "--order-id", "1", "--on-conflict", "skip", **MAPS)
    assert skipped.exit_code == ExitCode.PARTIAL
    assert any("status: conflict: changed in the portal since orderamt wrote 'confirmed'" in line
               for line in skipped.lines)  # fmt: skip
    wins = orderamt("sync", "--order-id", "2", **MAPS)
    assert wins.exit_code == 0
    assert (
        "  ✅ SO-2: status pending → cancelled (conflict: changed in the portal since orderamt "
        "wrote confirmed; Odoo wins)"
    ) in wins.lines
    assert columns(portal, "status") == {"SO-1": ("pending",), "SO-2": ("cancelled",)}


def test_a_field_the_portal_changes_during_the_run_is_kept_even_by_case_alone(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, tmp_path: Any
) -> None:
    """The portal writes `None` over `none` while orderamt waits on Odoo: a case-insensitive
    collation calls them equal, orderamt does not; the portal's edit stays and the order's
    other field is still written."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale", "invoice_status": "to invoice"},
                        2: {"state": "sale", "invoice_status": "to invoice"}})  # fmt: skip
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET invoicing = 'none'"))

    def portal_edits_meanwhile(method: str) -> None:
        if method == "search_read":
            with portal.engine.begin() as conn:
                conn.execute(text("UPDATE orders SET invoicing = 'None' WHERE id = 1"))

    odoo.on_call = portal_edits_meanwhile
    run = orderamt("sync", **MAPS)
    assert run.exit_code == 0, run.stderr
    assert columns(portal, "status", "invoicing") == {
        "SO-1": ("confirmed", "None"),
        "SO-2": ("confirmed", "due"),
    }
    assert (1, "invoice_status", "none", "due") not in field_entries(portal)
    assert (2, "invoice_status", "none", "due") in field_entries(portal)
    assert "Order field changed in the portal during the run; not overwritten" in (
        orderamt.log_file.read_text()
    )


def test_a_field_changed_to_the_bytes_of_the_value_read_is_kept(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A latin1 column on MariaDB: the portal writes `cafÃ©` over `café` while orderamt
    waits on Odoo. Stored, `cafÃ©` has the very bytes `café` has in UTF-8; orderamt compares
    text, not bytes, and keeps the portal's edit (on every engine)."""
    portal_with_fields(portal)
    if portal.kind == "mariadb":
        with portal.engine.begin() as conn:
            conn.execute(text(
                "ALTER TABLE orders MODIFY invoicing varchar(20) CHARACTER SET latin1 NULL"
            ))  # fmt: skip
    fill(portal, odoo, {1: {"state": "sale", "invoice_status": "to invoice"},
                        2: {"state": "sale", "invoice_status": "to invoice"}})  # fmt: skip
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET invoicing = :v WHERE id = 1"), {"v": "café"})
        conn.execute(text("UPDATE orders SET invoicing = 'none' WHERE id = 2"))

    def portal_edits_meanwhile(method: str) -> None:
        if method == "search_read":
            with portal.engine.begin() as conn:
                conn.execute(text("UPDATE orders SET invoicing = :v WHERE id = 1"), {"v": "cafÃ©"})

    odoo.on_call = portal_edits_meanwhile
    run = orderamt("sync", **MAPS)
    assert run.exit_code == 0, run.stderr
    assert columns(portal, "invoicing") == {"SO-1": ("cafÃ©",), "SO-2": ("due",)}
    assert [entry[0] for entry in field_entries(portal) if entry[1] == "invoice_status"] == [2]


def test_a_journal_from_before_mapped_fields_is_upgraded_with_its_history(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A journal without the field columns is read as it is (history, a dry run), and gains
    them on the first write, its entries kept."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    run_id = old_journal(portal, JournalTables(legacy=True),
                         old_amount=Decimal("9.00"), new_amount=Decimal("10.00"))  # fmt: skip
    history = orderamt("history", "--order-id", "1", **MAPS)
    assert history.exit_code == 0, history.stderr
    assert any("$9.00 → $10.00" in line for line in history.lines)
    dry = orderamt("sync", "--dry-run", **MAPS)
    assert "  ✅ SO-1: would update status pending → confirmed" in dry.lines
    with portal.engine.connect() as conn:
        assert "field" not in {c["name"] for c in inspect(conn).get_columns("orderamt_journal")}
    assert orderamt("sync", **MAPS).exit_code == 0
    with portal.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT run_id, new_amount, field, new_value FROM orderamt_journal ORDER BY id")
        ).all()
    assert [(r[0], Decimal(str(r[1])) if r[1] is not None else None, r[2], r[3])
            for r in rows] == [
        (run_id, Decimal("10.00"), None, None),
        (run_id + 1, None, "invoice_status", "none"),
        (run_id + 1, None, "status", "confirmed"),
    ]  # fmt: skip


def test_a_status_change_reaches_the_portal_through_the_poll_and_the_webhook(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`sync --changed` picks up a confirmed order; a listener takes the next change from
    Odoo's webhook, the status read from Odoo, not from the payload."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "draft"}, 2: {"state": "draft"}})
    assert orderamt("sync", "--changed", **MAPS).exit_code == 0
    odoo.change(1, state="sale")
    polled = orderamt("sync", "--changed", **MAPS)
    assert "  ✅ SO-1: status pending → confirmed" in polled.lines
    settings = listener_settings(**MAPS)
    listener = Listener(start(orderamt, "listen", **settings))
    try:
        wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
        odoo.change(2, state="cancel")
        forged = {**odoo.webhook_payload(2), "state": "sale"}
        assert odoo.send_webhook(listener.hook, forged)[0] == 202
        wait_for(lambda: columns(portal, "status")["SO-2"] == ("cancelled",), "the webhook")
    finally:
        _, err = listener.stop()
    assert listener.process.returncode == 0, err
    assert (2, "status", "pending", "cancelled") in field_entries(portal)


@pytest.mark.parametrize("portal", ["postgresql"], indirect=True)
def test_a_postgresql_enum_type_is_refused_up_front(portal: PortalDb, orderamt: Orderamt) -> None:
    """A native PostgreSQL enum column cannot be written as text: refused by the schema
    check (exit 4) instead of failing every batch."""
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text("DROP TYPE IF EXISTS order_state"))
        conn.execute(text("CREATE TYPE order_state AS ENUM ('pending', 'confirmed')"))
        conn.execute(text("ALTER TABLE orders ADD COLUMN status order_state"))
    try:
        run = orderamt("check", ORDERAMT_STATUS_MAP="draft:pending,sale:confirmed")
    finally:
        with portal.engine.begin() as conn:
            conn.execute(text("ALTER TABLE orders DROP COLUMN status"))
            conn.execute(text("DROP TYPE order_state"))
    assert run.exit_code == ExitCode.PORTAL
    assert "is the PostgreSQL enum type order_state, which orderamt cannot write" in run.stdout


def test_a_long_value_is_journaled_whole_and_put_back(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A text column and a map value of 300 characters (a fourth field, by configuration):
    written, journaled whole and reverted on every engine."""
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN remark TEXT NULL"))
    fill(portal, odoo, {1: {"state": "sale"}})
    long = "confirmed " + "x" * 290
    maps = {"ORDERAMT_REMARK_FIELD": "state", "ORDERAMT_REMARK_MAP": f"sale:{long}"}
    assert orderamt("sync", **maps).exit_code == 0
    assert columns(portal, "remark") == {"SO-1": (long,)}
    assert field_entries(portal) == [(1, "remark", None, long)]
    reverted = orderamt("revert", "1", **maps)
    assert reverted.exit_code == 0, reverted.stderr
    assert columns(portal, "remark") == {"SO-1": (None,)}


def test_a_field_no_longer_mapped_is_not_reverted_blindly(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Its map gone, a run's status changes cannot be checked against the column: the
    revert says so (exit 2) and writes nothing; --field amount still works."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    odoo.change(1, amount_total=11.0)
    assert orderamt("sync", **MAPS).exit_code == 0
    refused = orderamt("revert", "1")
    assert refused.exit_code == ExitCode.USAGE
    assert (
        "run 1 changed invoice_status, status, which is no longer mapped "
        "(ORDERAMT_INVOICE_STATUS_MAP): map it again to put it back, or revert the rest with "
        "--field"
    ) in refused.stderr
    assert columns(portal, "status", "total_amount") == {"SO-1": ("confirmed", Decimal("11.00"))}
    assert orderamt("revert", "1", "--field", "amount").exit_code == 0
    assert columns(portal, "status", "total_amount") == {"SO-1": ("confirmed", Decimal("10.00"))}
