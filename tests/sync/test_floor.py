"""The catch-up poll's floor: how far back a poll reads over its margin, and when a mass
write's orders stop being read again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from orderamt.models import Changed, RunCounts, RunOptions
from orderamt.sync import sync_changed
from tests.sync.fakes import FakeJournal, FakeOdoo, FakeOrders, Told, odoo_of, portal

MARGIN = timedelta(seconds=300)
POLL = Changed(days=30, margin=MARGIN)
WRITTEN = datetime(2026, 12, 1, 8, 0, 0, tzinfo=timezone.utc)
"""The second of the mass write: `odoo_of` stamps every order with it."""
SETTLED = WRITTEN + timedelta(seconds=1) + 2 * MARGIN
"""Odoo's clock two margins past the end of that second (seconds come cut: S.95 reads S)."""


def mass_write(clock: datetime | None) -> tuple[FakeOrders, FakeJournal, FakeOdoo]:
    """Six portal orders whose sale orders one write repriced in one second; Odoo's clock
    (its Date) at `clock`."""
    orders = FakeOrders(portal(6), journal=FakeJournal())
    assert orders.journal is not None
    return orders, orders.journal, FakeOdoo(odoo_of(orders.rows), clock=clock)


def poll(
    orders: FakeOrders,
    journal: FakeJournal,
    odoo: FakeOdoo,
    selection: Changed = POLL,
    step: timedelta = timedelta(0),
    here: datetime | None = None,
    **options: bool,
) -> RunCounts:
    """One poll; this machine's clock reads `here` (by default Odoo's), then moves on by
    `step` each time it is read."""
    now = [here or odoo.clock or WRITTEN]

    def clock() -> datetime:
        now[0] += step
        return now[0]

    return sync_changed(orders, journal, odoo, selection, RunOptions(batch_size=4, **options),
                        clock=clock, reporter=Told())  # fmt: skip


def test_a_mass_write_is_read_back_until_odoo_s_clock_is_two_margins_past_it() -> None:
    """A transaction stamped in the mass write's second may still commit while Odoo's clock
    is within the margin of its end, and Odoo's web server clock may be off its database's
    by as much again: polls read the second back until then, one more keeps the floor, and
    the next reads none of it."""
    orders, journal, odoo = mass_write(SETTLED - timedelta(seconds=1))
    assert poll(orders, journal, odoo).updated == 6
    again = poll(orders, journal, odoo)
    assert (again.found, again.unchanged) == (6, 6)
    assert journal.floor is None
    odoo.clock = SETTLED
    settling = poll(orders, journal, odoo)
    assert (settling.found, settling.unchanged) == (6, 6)
    assert journal.floor == "2026-12-01 08:00:01"
    assert poll(orders, journal, odoo).found == 0


def test_without_a_date_from_odoo_the_margin_alone_decides() -> None:
    """An Odoo (or a proxy before it) that sends no Date header: no floor, ever; each poll
    reads the margin back, as before there was a floor."""
    orders, journal, odoo = mass_write(None)
    for _ in range(3):
        poll(orders, journal, odoo)
    assert poll(orders, journal, odoo).found == 6
    assert journal.floor is None


def test_a_later_write_still_comes_and_the_floor_only_rises() -> None:
    """Past the floor, an order Odoo writes later is read, and read back over the margin
    until its own second settles; the floor moves up to it then, never down."""
    orders, journal, odoo = mass_write(WRITTEN + 3 * MARGIN)
    poll(orders, journal, odoo)
    assert journal.floor == "2026-12-01 08:00:01"
    later = WRITTEN + 3 * MARGIN - timedelta(seconds=10)
    odoo.totals[103] = replace(odoo.totals[103], amount_total=13.0,
                               write_date=later.strftime("%Y-%m-%d %H:%M:%S"))  # fmt: skip
    first = poll(orders, journal, odoo)
    assert (first.found, first.updated) == (1, 1)
    assert orders.rows[3].amount == 13
    back = poll(orders, journal, odoo)
    assert (back.found, back.unchanged) == (1, 1)
    assert journal.floor == "2026-12-01 08:00:01"
    odoo.clock = later + timedelta(seconds=1) + 2 * MARGIN
    poll(orders, journal, odoo)
    assert journal.floor == "2026-12-01 08:14:51"
    assert poll(orders, journal, odoo).found == 0
    odoo.clock = WRITTEN + 2 * MARGIN  # a clock gone back does not lower it
    poll(orders, journal, odoo)
    assert journal.floor == "2026-12-01 08:14:51"


def test_a_dry_run_keeps_no_floor() -> None:
    """A dry run writes nothing: it reads as a poll would, and leaves no floor behind."""
    orders, journal, odoo = mass_write(WRITTEN + 3 * MARGIN)
    assert poll(orders, journal, odoo, dry_run=True).found == 6
    assert journal.floor is None


def test_the_time_odoo_took_to_answer_is_not_counted_as_settled() -> None:
    """Odoo dates its answer after it read: a first page that took 30 s to come back is
    taken as read 30 s before its Date."""
    orders, journal, odoo = mass_write(SETTLED + timedelta(seconds=29))
    poll(orders, journal, odoo, step=timedelta(seconds=30))
    assert journal.floor is None
    odoo.clock = SETTLED + timedelta(seconds=30)
    poll(orders, journal, odoo, step=timedelta(seconds=30))
    assert journal.floor == "2026-12-01 08:00:01"


def test_a_margin_under_a_minute_still_waits_two_minutes() -> None:
    """ORDERAMT_CHANGED_MARGIN may be set to 0: the margin alone still read the checkpoint's
    own second back, so the floor counts on a minute at least."""
    at_once = Changed(days=30, margin=timedelta(0))
    second_end = WRITTEN + timedelta(seconds=1)
    orders, journal, odoo = mass_write(second_end + timedelta(seconds=119))
    poll(orders, journal, odoo, at_once)
    assert poll(orders, journal, odoo, at_once).found == 6
    assert journal.floor is None
    odoo.clock = second_end + timedelta(seconds=120)
    poll(orders, journal, odoo, at_once)
    assert journal.floor == "2026-12-01 08:00:01"
    assert poll(orders, journal, odoo, at_once).found == 0


def test_a_clock_running_ahead_on_either_side_raises_no_floor() -> None:
    """A floor needs Odoo's clock and this machine's both past the settling point: Odoo's
    Date an hour ahead of this machine (a proxy's clock, a zone taken for UTC) raises none
    until this machine's clock gets there too, and the same the other way round."""
    orders, journal, odoo = mass_write(SETTLED + timedelta(hours=1))
    poll(orders, journal, odoo, here=SETTLED - timedelta(seconds=1))
    assert poll(orders, journal, odoo, here=SETTLED - timedelta(seconds=1)).found == 6
    assert journal.floor is None
    odoo.clock = SETTLED - timedelta(seconds=1)
    poll(orders, journal, odoo, here=SETTLED + timedelta(hours=1))
    assert journal.floor is None
    odoo.clock = SETTLED
    poll(orders, journal, odoo, here=SETTLED)
    assert journal.floor == "2026-12-01 08:00:01"
