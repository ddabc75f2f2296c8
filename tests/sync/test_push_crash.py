"""A push that fails half-way is never made twice and never lost: the orchestration with the
Protocols' fakes, stopped at each point that matters, then run again."""

from __future__ import annotations

import signal
import threading
from dataclasses import replace

import pytest

from orderamt.errors import OdooUnavailable, Terminated
from orderamt.models import Everything, FieldSpec, OdooTotal, PortalOrder, RunOptions
from orderamt.sync import sync_orders
from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb
from tests.listen.test_listener_process import wait_for
from tests.sync.fakes import START, Fail, FakeJournal, FakeOdoo, FakeOrders, Ticking, Told
from tests.sync.test_fields import columns, fill, portal_with_fields
from tests.sync.test_push import PUSH, journal, set_status

MAP = (("draft", "pending"), ("sale", "confirmed"), ("cancel", "cancelled"))
STATUS = FieldSpec("status", "state", "status", MAP, push=(("cancelled", "cancel"),))
OPTIONS = RunOptions(batch_size=10)


def world() -> tuple[FakeOrders, FakeJournal, FakeOdoo]:
    """Order 1 cancelled in the portal, confirmed in Odoo; order 2 in line."""
    journal = FakeJournal()
    rows = {
        i: PortalOrder(i, f"SO-{i}", None, 100 + i, START, values={"status": status})
        for i, status in ((1, "cancelled"), (2, "confirmed"))
    }
    orders = FakeOrders(rows, journal=journal, fields=(STATUS,))
    totals = {
        100 + i: OdooTotal(100 + i, f"S{i}", 0.0, "sale", "USD", "2026-12-01 08:00:00",
                           values={"state": "sale"})
        for i in (1, 2)
    }  # fmt: skip
    return orders, journal, FakeOdoo(totals)


def sweep(orders: FakeOrders, journal: FakeJournal, odoo: FakeOdoo) -> None:
    sync_orders(orders, journal, odoo, Everything(), OPTIONS, clock=Ticking(), reporter=Told())


def directions(journal: FakeJournal) -> list[str | None]:
    return [e.direction for e in journal.entries if e.field == "status"]


@pytest.mark.parametrize(
    ("where", "exc", "odoo_took_it", "left"),
    [
        # killed after the intent was journaled, before Odoo got the call
        ("push", Terminated(), False, ["intent"]),
        # Odoo gone: the call never arrived (a refused connection)
        ("push", OdooUnavailable("cannot reach Odoo"), False, ["intent"]),
        # Odoo took it, then orderamt was killed before the batch's transaction
        ("apply", Terminated(), True, ["intent"]),
    ],
)
def test_a_push_stopped_half_way_is_made_once_on_the_next_run(
    where: str, exc: BaseException, odoo_took_it: bool, left: list[str]
) -> None:
    """Stopped at each point: the intent stays behind; the next run decides again from what
    Odoo says then, so a push Odoo took is not made again and one it never got is made."""
    orders, journal, odoo = world()
    odoo.fail = Fail(where, exc)
    if where == "apply":
        orders.fail = odoo.fail
    with pytest.raises(type(exc)):
        sweep(orders, journal, odoo)
    assert directions(journal) == left
    assert (odoo.totals[101].state == "cancel") is odoo_took_it
    odoo.fail = orders.fail = Fail()
    odoo.calls.clear()
    sweep(orders, journal, odoo)
    assert odoo.totals[101].state == "cancel"
    assert odoo.calls.count("push") == (0 if odoo_took_it else 1)
    # the next sweep resolves the intent first: kept as done where Odoo took it, else
    # forgotten and the push made again (its own entry)
    assert directions(journal) == ["push"]
    assert orders.rows[1].values["status"] == "cancelled"


def test_a_refused_push_leaves_no_intent_and_is_tried_again_next_run() -> None:
    """Odoo's refusal is an answer: the intent is cleared, nothing is journaled as done, and
    the next run tries again (the portal's value kept, never pulled over)."""
    orders, journal, odoo = world()
    odoo.totals[101] = replace(odoo.totals[101], values={"state": "sale", "locked": True})
    sweep(orders, journal, odoo)
    assert directions(journal) == []
    sweep(orders, journal, odoo)
    assert odoo.calls.count("push") == 2
    assert orders.rows[1].values["status"] == "cancelled"


@pytest.mark.parametrize("odoo_takes_it", [True, False], ids=["odoo-took-it", "never-arrived"])
def test_kill_9_while_odoo_answers_the_push(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt, odoo_takes_it: bool
) -> None:
    """The real command killed with SIGKILL while Odoo holds its action_cancel: whether Odoo
    then took the call or never did, the next run leaves the order cancelled in Odoo with
    exactly one action_cancel taken, the portal's cancellation kept, and `history` shows
    where the killed run stopped."""
    portal, orderamt = sqlite_portal, orderamt_sqlite
    portal_with_fields(portal)
    fill(portal, odoo, {1: {"state": "sale"}})
    set_status(portal, 1, "cancelled")
    reached, release, dropped = threading.Event(), threading.Event(), threading.Event()
    held = [True]

    def hold(method: str) -> None:
        if method == "action_cancel" and held[0]:
            held[0] = False
            reached.set()
            release.wait(30)
            if not odoo_takes_it:
                dropped.set()
                raise RuntimeError("the call never reached Odoo's database")

    odoo.on_call = hold
    process = start(orderamt, "sync", **PUSH)
    try:
        assert reached.wait(60), process.communicate(timeout=5)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        release.set()
        process.communicate()
    if odoo_takes_it:  # the double's thread finishes the call the dead client made
        wait_for(lambda: odoo.orders[1]["state"] == "cancel", "Odoo to take the call")
    else:
        assert dropped.wait(30)
        assert odoo.orders[1]["state"] == "sale"
    assert [row[4] for row in journal(portal)] == ["intent"]
    history = orderamt("history", "--order-id", "1", **PUSH)
    assert "not confirmed" in history.stdout

    again = orderamt("sync", **PUSH)
    assert again.exit_code == 0, again.stderr
    assert odoo.orders[1]["state"] == "cancel"
    taken = 1 if odoo_takes_it else 2  # the dropped call was received, not taken
    assert odoo.calls["action_cancel"] == taken
    assert [row[4] for row in journal(portal)] == ["push"]  # the intent resolved
    assert columns(portal, "status") == {"SO-1": ("cancelled",)}
    # staff reopen the order in Odoo: only Odoo moved since the push, so it is pulled,
    # never cancelled again
    odoo.change(1, state="sale")
    reopened = orderamt("sync", **PUSH)
    assert reopened.exit_code == 0, reopened.stderr
    assert odoo.calls["action_cancel"] == taken
    assert columns(portal, "status") == {"SO-1": ("confirmed",)}
