"""The portal's own status goes back to Odoo (ORDERAMT_STATUS_PUSH), through the real command
against the double, on each engine and protocol: a cancellation reaches Odoo, a refusal is
named once and the portal keeps its value, both sides changed under each policy, the echo."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import inspect, text

from orderamt.portal.journal import JournalTables
from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb
from tests.listen.test_listener_process import Listener, wait_for
from tests.sync.test_fields import (
    MAPS,
    columns,
    fill,
    listener_settings,
    old_journal,
    portal_with_fields,
)

PUSH = {**MAPS, "ORDERAMT_STATUS_PUSH": "cancelled:cancel"}


def set_status(portal: PortalDb, order_id: int, status: str) -> None:
    """The customer's own change, as the portal saves it."""
    with portal.engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET status = :s WHERE id = :i"), {"s": status, "i": order_id}
        )


def journal(portal: PortalDb) -> list[tuple[Any, ...]]:
    with portal.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT order_id, field, old_value, new_value, direction, odoo_old, odoo_new "
                "FROM orderamt_journal WHERE field = 'status' ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


@pytest.mark.every_engine
def test_a_portal_cancellation_reaches_odoo_on_the_next_sync(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A cancellation the portal made before orderamt ever wrote the status is taken into
    Odoo (action_cancel, never a state write), journaled with both sides' values, shown
    first by --dry-run and counted in --json; the next run finds both sides agreeing."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}, 2: {"state": "sale"}})
    set_status(portal, 1, "cancelled")
    dry = orderamt("sync", "--dry-run", **PUSH)
    assert dry.exit_code == 0, dry.stderr
    assert "  ✅ SO-1: would push status cancelled → Odoo (cancel: sale → cancel)" in dry.lines
    assert odoo.orders[1]["state"] == "sale" and odoo.calls["action_cancel"] == 0

    metrics = orderamt.log_file.parent / "orderamt.prom"
    run = orderamt("sync", "--json", **PUSH, ORDERAMT_METRICS_FILE=str(metrics))
    assert run.exit_code == 0, run.stderr
    assert "orderamt_last_run_pushed_fields 1\n" in metrics.read_text(encoding="utf-8")
    status = orderamt("status", **PUSH)
    assert ", 1 pushed to Odoo" in status.stdout
    assert json.loads(orderamt("status", "--json", **PUSH).stdout)["last_run_pushed"] == 1
    document = json.loads(run.stdout)
    assert document["pushed"] == 1
    (pushed,) = [o for o in document["orders"] if o["pushes"]]
    assert pushed["pushes"] == [
        {"field": "status", "portal_value": "cancelled", "action": "cancel",
         "odoo_old": "sale", "odoo_new": "cancel", "contest": None}
    ]  # fmt: skip
    assert odoo.orders[1]["state"] == "cancel" and odoo.calls["action_cancel"] == 1
    assert columns(portal, "status") == {"SO-1": ("cancelled",), "SO-2": ("confirmed",)}
    assert sorted(journal(portal)) == [
        (1, "status", "cancelled", "cancelled", "push", "sale", "cancel"),
        (2, "status", "pending", "confirmed", None, None, None),
    ]
    again = orderamt("sync", **PUSH)
    assert again.exit_code == 0, again.stderr
    assert odoo.calls["action_cancel"] == 1
    assert len(journal(portal)) == 2
    history = orderamt("history", "--order-id", "1", **PUSH)
    assert history.exit_code == 0, history.stderr
    assert history.stdout.count("status cancelled → Odoo (sale → cancel)") == 1


@pytest.mark.every_engine
def test_a_locked_order_is_refused_named_once_and_the_portal_keeps_its_value(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Odoo refuses to cancel a locked order: one line, exit 1 the first time (news), then
    a standing problem (exit 0); the portal's cancellation is never overwritten by a pull,
    and once the order is unlocked the next run takes it into Odoo."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale", "locked": True}})
    set_status(portal, 1, "cancelled")
    first = orderamt("sync", **PUSH)
    assert first.exit_code == 1, first.stderr
    refused = [line for line in first.lines if "refused" in line]
    assert refused == [
        "  ⚠️  SO-1: status: Odoo refused the portal's 'cancelled': cancel: You cannot cancel "
        "a locked order. Please unlock it first. (keeping 'cancelled' in the portal; Odoo "
        "still says 'sale')"
    ]
    second = orderamt("sync", "--quiet", **PUSH)
    assert second.exit_code == 0, second.stderr
    assert second.stdout == ""
    assert columns(portal, "status") == {"SO-1": ("cancelled",)}
    assert odoo.orders[1]["state"] == "sale"
    status = orderamt("status", **PUSH)
    assert "locked" in status.stdout
    odoo.orders[1]["locked"] = False
    third = orderamt("sync", **PUSH)
    assert third.exit_code == 0, third.stderr
    assert odoo.orders[1]["state"] == "cancel"
    assert [row[4] for row in journal(portal)] == ["push"]


@pytest.mark.parametrize(
    ("policy", "odoo_state", "portal_status", "journaled"),
    [
        ("odoo", "sale", "confirmed", [None, None]),
        ("portal", "cancel", "cancelled", [None, "push"]),
        ("flag", "sale", "cancelled", [None]),
    ],
)
def test_both_sides_changed_go_the_field_s_policy_way_and_are_named(
    sqlite_portal: PortalDb,
    odoo: OdooDouble,
    orderamt_sqlite: Orderamt,
    policy: str,
    odoo_state: str,
    portal_status: str,
    journaled: list[str | None],
) -> None:
    """orderamt wrote `pending` (Odoo's draft); then the customer cancels in the portal and
    staff confirm in Odoo: odoo wins (pulled, named a conflict), the portal wins (pushed,
    named), or both are left and the order needs a look."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "draft"}})
    set_status(portal, 1, "confirmed")
    assert orderamt("sync", **PUSH).exit_code == 0  # orderamt writes pending: history
    set_status(portal, 1, "cancelled")
    odoo.change(1, state="sale")
    run = orderamt("sync", **PUSH, ORDERAMT_STATUS_ON_CONFLICT=policy)
    assert run.exit_code == (1 if policy == "flag" else 0), run.stderr
    assert "conflict" in run.stdout
    assert odoo.orders[1]["state"] == odoo_state
    assert columns(portal, "status") == {"SO-1": (portal_status,)}
    assert [row[4] for row in journal(portal)] == journaled
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert "Conflict: status changed in the portal and in Odoo" in log
    status = orderamt("status", **PUSH).stdout
    if policy == "flag":
        assert "changed in the portal (now 'cancelled') and in Odoo" in status
    else:
        assert "1 conflict settled (see: orderamt history)" in status
        assert "conflict" in orderamt("history", "--order-id", "1", **PUSH).stdout


def test_the_echo_of_a_push_costs_one_read_and_writes_nothing(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """The push moves Odoo's write_date; the order comes back (the poll, or the webhook of
    an automation rule watching state) and is read once, with nothing written or pushed."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    assert orderamt("sync", "--changed", **PUSH).exit_code == 0
    set_status(portal, 1, "cancelled")
    assert orderamt("sync", **PUSH).exit_code == 0
    entries = journal(portal)
    odoo.reset_calls()
    echo = orderamt("sync", "--changed", **PUSH)
    assert echo.exit_code == 0, echo.stderr
    assert odoo.calls["search_read"] == 1 and odoo.calls["action_cancel"] == 0
    assert journal(portal) == entries


def test_odoo_17_takes_the_cancellation_with_the_context_key(
    sqlite_portal: PortalDb, tmp_path: Any
) -> None:
    """On 17.0 (and 18.0) action_cancel without disable_cancel_warning answers a wizard and
    cancels nothing; orderamt sends the key, so a confirmed order is cancelled."""
    from tests.conftest import _configured

    with OdooDouble(version=17) as odoo:
        orderamt = _configured(sqlite_portal, odoo, "xmlrpc", tmp_path)
        portal_with_fields(sqlite_portal)
        fill(sqlite_portal, odoo, {1: {"state": "sale"}})
        set_status(sqlite_portal, 1, "cancelled")
        run = orderamt("sync", **PUSH)
        assert run.exit_code == 0, run.stderr
        assert odoo.orders[1]["state"] == "cancel"


@pytest.mark.every_engine
def test_a_portal_cancellation_reaches_odoo_through_the_listener_and_its_echo_writes_nothing(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """The listener's next batch with the order (Odoo's webhook of another change to it)
    takes the portal's cancellation into Odoo; the automation rule `listen --setup-odoo`
    made (watching state) then posts the push back, and that echo costs one read and
    writes nothing."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}, 2: {"state": "sale"}})
    assert orderamt("sync", "--changed", **PUSH).exit_code == 0
    settings = listener_settings(**PUSH)
    listener = Listener(start(orderamt, "listen", **settings))
    try:
        wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
        rule = orderamt("listen", "--setup-odoo", f"http://127.0.0.1:{listener.port}", **settings)
        assert rule.exit_code == 0, rule.stderr
        set_status(portal, 2, "cancelled")  # after the first poll: the webhook's batch finds it
        entries = journal(portal)
        odoo.reset_calls()
        odoo.change(2, amount_total=12.0)  # staff edit the order: Odoo's webhook
        assert odoo.send_webhook(listener.hook, odoo.webhook_payload(2))[0] == 202
        wait_for(lambda: odoo.calls["search_read"] == 2, "the batch, then the echo's batch")
        wait_for(lambda: listener.health()[1]["queue"] == 0, "the queue drained")
    finally:
        _, err = listener.stop()
    assert listener.process.returncode == 0, err
    assert odoo.orders[2]["state"] == "cancel" and odoo.calls["action_cancel"] == 1
    assert odoo.calls["search_read"] == 2  # the batch's read, and the echo's one
    pushed = journal(portal)[len(entries) :]
    assert [row[4] for row in pushed] == ["push"]  # the echo wrote nothing
    assert columns(portal, "status") == {"SO-1": ("confirmed",), "SO-2": ("cancelled",)}


def test_a_journal_from_before_pushes_is_read_as_it_is_and_upgraded_on_first_write(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """The migration "pushes": a journal without direction, odoo_old and odoo_new is read
    as it is (history, a dry run that would push), and gains them on the first write, its
    entries kept and still telling what orderamt last wrote."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    old_journal(portal, JournalTables(pushless=True),
                field="status", old_value="pending", new_value="confirmed")  # fmt: skip
    set_status(portal, 1, "cancelled")
    history = orderamt("history", "--order-id", "1", **PUSH)
    assert history.exit_code == 0, history.stderr
    assert any("status pending → confirmed" in line for line in history.lines)
    dry = orderamt("sync", "--dry-run", **PUSH)
    assert "  ✅ SO-1: would push status cancelled → Odoo (cancel: sale → cancel)" in dry.lines
    with portal.engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns("orderamt_journal")}
    assert "direction" not in names
    assert orderamt("sync", **PUSH).exit_code == 0
    assert journal(portal) == [
        (1, "status", "pending", "confirmed", None, None, None),
        (1, "status", "cancelled", "cancelled", "push", "sale", "cancel"),
    ]


def test_check_says_which_rights_a_configured_push_needs(
    sqlite_portal: PortalDb, orderamt_sqlite: Orderamt
) -> None:
    """With a push configured, `check` names the Odoo rights it needs (a warning line: it
    cannot try them without changing an order); without one it says nothing of them."""
    portal_with_fields(sqlite_portal)
    run = orderamt_sqlite("check", **PUSH)
    assert run.exit_code == 0, run.stdout
    (line,) = [line for line in run.lines if "Odoo rights for the push" in line]
    assert "ORDERAMT_STATUS_PUSH cancelled:cancel needs the Odoo user in Sales / User" in line
    assert "Invoicing / Billing" in line
    plain = orderamt_sqlite("check", **MAPS)
    assert "Odoo rights for the push" not in plain.stdout


@pytest.mark.every_engine
def test_a_push_is_reverted_in_odoo_where_odoo_allows_it(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`revert` of a run that cancelled an order in Odoo sets it back to quotation
    (action_draft: a confirmed order comes back as a quotation, its cancelled delivery
    stays cancelled), journaled as the revert's push; the next sync takes Odoo's value to
    the portal. A push Odoo changed since is left alone and said so."""
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}, 2: {"state": "sale"}})
    set_status(portal, 1, "cancelled")
    set_status(portal, 2, "cancelled")
    pushed = json.loads(orderamt("sync", "--json", **PUSH).stdout)
    assert pushed["pushed"] == 2
    odoo.change(2, state="sale")  # staff confirm order 2 again in Odoo
    run = orderamt("revert", str(pushed["run_id"]), **PUSH)
    assert run.exit_code == 1, run.stderr  # SO-2 needs a look
    assert "  ✅ SO-1: pushed status cancelled → Odoo (draft: cancel → draft)" in run.lines
    assert any(line.startswith("  ⚠️  SO-2: status: changed since that run") for line in run.lines)
    assert (odoo.orders[1]["state"], odoo.orders[2]["state"]) == ("draft", "sale")
    assert odoo.calls["action_draft"] == 1
    assert [r[4:] for r in journal(portal) if r[0] == 1] == [
        ("push", "sale", "cancel"), ("push", "cancel", "draft")
    ]  # fmt: skip
    after = orderamt("sync", **PUSH)
    assert after.exit_code == 0, after.stderr
    assert columns(portal, "status")["SO-1"] == ("pending",)
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert "A push is undone as far as Odoo allows" in log


PLAIN = {
    "ORDERAMT_PO_FIELD": "client_order_ref",
    "PORTAL_COL_PO": "po_number",
    "ORDERAMT_PO_PUSH": "write",
    "ORDERAMT_NOTE_FIELD": "note",
    "PORTAL_COL_NOTE": "odoo_note",
}


@pytest.mark.every_engine
def test_a_customer_s_po_number_is_written_to_odoo_and_odoo_s_note_comes_back_as_text(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A plain field the portal owns (client_order_ref) goes to Odoo with `write`; a plain
    field it does not (note, an Html field) comes back as its text; the next run moves
    nothing; clearing the PO number in the portal clears it in Odoo."""
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN po_number varchar(40) NULL"))
        conn.execute(text("ALTER TABLE orders ADD COLUMN odoo_note text NULL"))
    fill(portal, odoo, {1: {"state": "sale", "client_order_ref": False,
                            "note": "<p>Ship &amp; bill Monday</p>"}})  # fmt: skip
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET po_number = 'PO-77' WHERE id = 1"))
    run = orderamt("sync", **PLAIN)
    assert run.exit_code == 0, run.stderr
    assert "  ✅ SO-1: pushed po PO-77 → Odoo (write: (empty) → PO-77)" in run.lines
    assert odoo.orders[1]["client_order_ref"] == "PO-77" and odoo.calls["write"] == 1
    assert columns(portal, "po_number", "odoo_note") == {"SO-1": ("PO-77", "Ship & bill Monday")}
    again = orderamt("sync", **PLAIN)
    assert again.exit_code == 0 and odoo.calls["write"] == 1
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET po_number = NULL WHERE id = 1"))
    assert orderamt("sync", **PLAIN).exit_code == 0
    assert odoo.orders[1]["client_order_ref"] is False


def test_a_written_field_is_reverted_in_odoo(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """`revert` of a run that wrote the portal's PO number to Odoo writes Odoo's old value
    back (where Odoo still holds what was written)."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN po_number varchar(40) NULL"))
        conn.execute(text("ALTER TABLE orders ADD COLUMN odoo_note text NULL"))
    fill(portal, odoo, {1: {"state": "sale", "client_order_ref": "OLD-1"}})
    assert orderamt("sync", **PLAIN).exit_code == 0  # the portal takes OLD-1: history
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET po_number = 'PO-77' WHERE id = 1"))
    pushed = json.loads(orderamt("sync", "--json", **PLAIN).stdout)
    assert odoo.orders[1]["client_order_ref"] == "PO-77"
    run = orderamt("revert", str(pushed["run_id"]), **PLAIN)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert odoo.orders[1]["client_order_ref"] == "OLD-1"
    history = orderamt("history", "--order-id", "1", **PLAIN)
    assert "po PO-77 → Odoo (PO-77 → OLD-1)" in history.stdout


def test_an_ignored_refusal_lets_odoo_s_value_stand(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """Until the operator acts, a refused cancellation is kept in the portal; once they
    `orderamt ignore` it, Odoo's value is taken (named) and nothing is pushed again."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale", "locked": True}})
    set_status(portal, 1, "cancelled")
    assert orderamt("sync", **PUSH).exit_code == 1
    assert orderamt("ignore", "1", **PUSH).exit_code == 0
    run = orderamt("sync", **PUSH)
    assert run.exit_code == 0, run.stderr
    assert "  ✅ SO-1: status cancelled → confirmed" in run.lines
    assert columns(portal, "status") == {"SO-1": ("confirmed",)}
    assert odoo.calls["action_cancel"] == 1 and odoo.orders[1]["state"] == "sale"


DELIVERY = {
    "ORDERAMT_DELIVERY_FIELD": "commitment_date",
    "PORTAL_COL_DELIVERY": "requested_at",
    "ORDERAMT_DELIVERY_PUSH": "write",
    "PORTAL_TIMEZONE": "America/New_York",
}


@pytest.mark.every_engine
def test_a_requested_delivery_date_goes_to_odoo_in_utc_and_comes_back_in_the_portal_zone(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """commitment_date, a DATETIME column in the portal's zone (as Laravel's dateTime()
    keeps it): the customer's request is written to Odoo as 'YYYY-MM-DD HH:MM:SS' UTC (the
    only form Odoo takes); staff moving it in Odoo brings it back in the portal's zone."""
    kind = {"sqlite": "datetime", "postgresql": "timestamp(0) without time zone",
            "mariadb": "datetime"}[portal.kind]  # fmt: skip
    portal.create()
    with portal.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE orders ADD COLUMN requested_at {kind} NULL"))
    fill(portal, odoo, {1: {"state": "sale", "commitment_date": False}})
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET requested_at = '2030-01-15 05:30:00' WHERE id = 1"))
    run = orderamt("sync", **DELIVERY)
    assert run.exit_code == 0, run.stderr
    assert odoo.orders[1]["commitment_date"] == "2030-01-15 10:30:00"
    assert orderamt("sync", **DELIVERY).exit_code == 0 and odoo.calls["write"] == 1
    odoo.change(1, commitment_date="2030-02-01 08:00:00")
    moved = orderamt("sync", **DELIVERY)
    assert moved.exit_code == 0, moved.stderr
    (value,) = columns(portal, "requested_at")["SO-1"]
    assert str(value) == "2030-02-01 03:00:00"
    assert odoo.calls["write"] == 1
