"""The catch-up poll's paging: every order Odoo wrote is synced once, and the poll ends,
however many orders one second holds, on 18.0 (which compares microseconds it never
shows) as on 19.0."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from orderamt.models import Changed, OdooTotal, RunOptions
from orderamt.sync import sync_changed
from tests.sync.fakes import FakeJournal, FakeOdoo, FakeOrders, Ticking, Told, odoo_of, portal

POLL = Changed(days=30, margin=timedelta(seconds=5))


def busy_odoo(version: int, rows: int) -> tuple[FakeOrders, FakeOdoo]:
    """`rows` orders: order i's sale order repriced to 12.50; two thirds of them in one
    mass write (one second), the rest in the seconds before and after it. On 18.0 the mass
    write's microseconds run against the ids, as separate transactions in one second can."""
    orders = FakeOrders(portal(rows), journal=FakeJournal())
    totals = odoo_of(orders.rows)
    seconds = ["2026-12-01 07:59:59", "2026-12-01 08:00:00", "2026-12-01 08:00:00",
               "2026-12-01 08:00:01"]  # fmt: skip
    for i, odoo_id in enumerate(sorted(totals)):
        totals[odoo_id] = replace(totals[odoo_id], write_date=seconds[i % 4])
    micro = {odoo_id: 999_999 - odoo_id for odoo_id in totals}
    return orders, FakeOdoo(totals, version=version, micro=micro)


@pytest.mark.parametrize("version", [18, 19])
@pytest.mark.parametrize("batch", [1, 2, 3, 7, 1000])
def test_a_second_holding_more_orders_than_a_batch_is_read_through(
    version: int, batch: int
) -> None:
    """24 orders, 12 of them written in one second, polled in batches smaller and larger
    than that second: each order is synced exactly once and the poll ends."""
    orders, odoo = busy_odoo(version, 24)
    journal = orders.journal
    assert journal is not None
    told = Told()
    counts = sync_changed(orders, journal, odoo, POLL, RunOptions(batch_size=batch),
                          clock=Ticking(), reporter=told)  # fmt: skip
    assert counts.found == counts.updated == 24
    assert sorted(d.order.id for d in told.decisions) == list(range(1, 25))
    assert {o.amount for o in orders.rows.values()} == {Decimal("12.50")}
    # Bounded pages: besides the orders' own, for each of the three seconds at most its
    # head read again and a short page that closes it, then the poll's last.
    assert odoo.calls.count("changed_since") <= 24 // batch + 3 * 2 + 1
    assert journal.saved is not None and journal.saved.key() == ("2026-12-01 08:00:01", 124)


def test_a_poll_over_orders_already_in_line_changes_nothing() -> None:
    """The same busy second polled again once the portal is in line: nothing written, no
    run but the heartbeat."""
    orders, odoo = busy_odoo(18, 24)
    journal = orders.journal
    assert journal is not None
    options = RunOptions(batch_size=5)
    sync_changed(orders, journal, odoo, POLL, options, clock=Ticking(), reporter=Told())
    entries = len(journal.entries)
    again = sync_changed(orders, journal, odoo, POLL, options, clock=Ticking(), reporter=Told())
    assert (again.found, again.updated, again.unchanged) == (24, 0, 24)
    assert len(journal.entries) == entries


def test_an_odoo_order_the_portal_lacks_is_passed_over() -> None:
    """Sale orders Odoo wrote that no portal order points to are read and left alone."""
    orders, odoo = busy_odoo(19, 6)
    stranger = OdooTotal(900, "S00900", 5.0, "sale", "USD", "2026-12-01 08:00:00")
    odoo.totals[900] = stranger
    journal = orders.journal
    assert journal is not None
    counts = sync_changed(orders, journal, odoo, POLL, RunOptions(batch_size=2),
                          clock=Ticking(), reporter=Told())  # fmt: skip
    assert (counts.found, counts.updated) == (6, 6)
