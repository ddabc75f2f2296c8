"""The catch-up poll: what Odoo wrote since the checkpoint, page by page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from orderamt.models import Changed, Checkpoint, Cursor, OdooTotal, RunCounts, RunOptions
from orderamt.sync.ports import (
    ChangesSource,
    JournalStore,
    OrderStore,
    Pusher,
    Reporter,
    TableLimits,
)
from orderamt.sync.record import Run, recorded
from orderamt.sync.sweep import settle, tally
from orderamt.times import EPOCH, odoo_time, parse_odoo_time, window_start

log = logging.getLogger("orderamt")


def sync_changed(
    orders: OrderStore,
    journal: JournalStore,
    odoo: ChangesSource,
    selection: Changed,
    options: RunOptions,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
) -> RunCounts:
    """The catch-up poll: the orders Odoo wrote since the checkpoint, in (write_date, id)
    order, a batch at a time, each batch written with its journal entries and the moved
    checkpoint in one transaction.

    Each poll reads back over `selection.margin` before the checkpoint: Odoo stamps
    write_date when its transaction starts, so a slow one can commit after a later one was
    read; reading it again costs nothing when nothing changed. Before the first checkpoint,
    the last `selection.days` days. Odoo orders the portal does not have are passed over. A
    poll that changed nothing and found nothing wrong records no run.

    The read-back stops at the checkpoint's floor: once Odoo's clock (its answers' Date) and
    this machine's both read two margins past the end of a checkpoint's second when the first
    page is read, every transaction stamped in it or before has committed and been read, so
    later polls start at the second after it (`_floor`, `_read_at`).
    Without that, a mass write (a module install, an import) followed by a quiet night
    had every poll read all of its orders again until Odoo wrote something newer.
    """
    limits = orders.check()
    checkpoint = journal.checkpoint()
    mode = selection.mode.value
    with recorded(
        journal, reporter, "sync", mode, clock=clock, options=options, eager=False
    ) as run:
        counts = run.counts
        odoo.login()
        since = _since(checkpoint, run.started, selection)
        reporter.polling(since, checkpoint)
        newest = checkpoint
        after: Cursor | None = None
        read_at: datetime | None = None
        while True:
            asked = run.clock() if after is None else None  # the first page reads back
            page = odoo.changed_since(since, after, options.batch_size)
            if asked is not None:
                read_at = _read_at(odoo.answered_at(), asked, run.clock())
            taken, after = _advance(page, after, options.batch_size)
            if taken:
                newest = _settle_page(orders, journal, run, taken, limits, newest, odoo)
            if after is None:
                break
        floor = _floor((newest, checkpoint), read_at, selection.margin)
        if run.recording and floor and _later(floor, checkpoint.floor if checkpoint else None):
            journal.raise_floor(floor, run.clock())
        if run.id is None:
            run.heartbeat(newest)
    log.info(
        "Catch-up poll finished",
        extra={"context": {"run": run.id, "since": since, **tally(selection, counts)}},
    )
    return counts


SETTLED_AFTER = 2
"""Margins past a second after which nothing stamped in it can still commit: one for the
transaction itself (the margin's own assumption), one for the clocks that tell the time of
the read (Odoo's web server's, which dates its answers, and this machine's) against Odoo's
database's, which stamps write_date."""

LEAST_MARGIN = timedelta(seconds=60)
"""The least margin the floor counts on, however small ORDERAMT_CHANGED_MARGIN is set: the
margin alone re-reads the checkpoint's own second at any size, the floor would not."""

ONE_SECOND = timedelta(seconds=1)


def _since(checkpoint: Checkpoint | None, started: datetime, selection: Changed) -> str:
    """Where a poll starts reading: the first poll, `selection.days` back; later ones, the
    checkpoint less the margin, but not before the checkpoint's floor (nor past the second
    after the checkpoint: a floor outlives a checkpoint put back by hand)."""
    if checkpoint is None:
        return odoo_time(window_start(started, selection.days))
    second = parse_odoo_time(checkpoint.write_date)
    back = second - selection.margin
    if checkpoint.floor is not None:
        back = max(back, min(parse_odoo_time(checkpoint.floor), second + ONE_SECOND))
    return odoo_time(back)


def _floor(
    points: Sequence[Checkpoint | None], read_at: datetime | None, margin: timedelta
) -> str | None:
    """The floor a whole poll may keep: the second after the newest of `points` (the
    checkpoint it reached, the one it started from) whose end `read_at` (`_read_at`) is
    SETTLED_AFTER margins past. None without a date from Odoo: then the margin alone goes
    on deciding, as before there was a floor."""
    if read_at is None:
        return None
    wait = SETTLED_AFTER * max(margin, LEAST_MARGIN)
    for point in points:
        if point is None:
            continue
        end = parse_odoo_time(point.write_date) + ONE_SECOND  # seconds come cut: S.95 is S
        if read_at >= end + wait:
            return odoo_time(end)
    return None


def _read_at(answered: datetime | None, asked: datetime, back: datetime) -> datetime | None:
    """A time no later than when Odoo read the page asked at `asked` and answered by `back`
    (this machine's clock), as both clocks tell it: Odoo dates its answer (the Date header)
    after the read, at most the call's whole time later; this machine asked before it. The
    earlier of the two, so that a floor needs both clocks past it: one of them running
    ahead (a proxy's clock, a wrong zone set as UTC) does not raise it early."""
    if answered is None:
        return None
    return min(answered - max(back - asked, timedelta(0)), asked)


def _later(floor: str, than: str | None) -> bool:
    return than is None or parse_odoo_time(floor) > parse_odoo_time(than)


def _advance(
    page: Sequence[OdooTotal], after: Cursor | None, limit: int
) -> tuple[Sequence[OdooTotal], Cursor | None]:
    """The orders of a page to sync now, and where the next page starts (None: done).

    A page read in (write_date, id) order that came back full may end inside a second
    that holds more orders: that second's orders are left for pages of their own, read by
    id alone (18.0 orders them by its hidden microseconds, so a page's share of that second
    is no prefix of it by id). A second read by id is done when a page comes back short.
    """
    full = len(page) >= limit
    if after is not None and after.within:
        if full:
            return page, Cursor(after.second, page[-1].id)
        return page, Cursor(after.second, within=False)
    if not full:
        return page, None
    last = _second(page[-1])
    return [t for t in page if _second(t) != last], Cursor(last)


def _second(total: OdooTotal) -> str:
    return total.write_date or EPOCH


def _settle_page(
    orders: OrderStore,
    journal: JournalStore,
    run: Run,
    page: Sequence[OdooTotal],
    limits: TableLimits,
    newest: Checkpoint | None,
    odoo: Pusher,
) -> Checkpoint | None:
    """One page of changed orders synced, with the checkpoint moved in the same transaction
    where it moves forward; a page that changes nothing and finds nothing wrong starts no
    run. Returns the checkpoint as it now stands."""
    portal = orders.by_odoo_ids([total.id for total in page])
    pairs = [(order, total) for total in page for order in portal.get(total.id, [])]
    run.counts.found += len(pairs)
    reached = max((Checkpoint(_second(t), t.id) for t in page), key=Checkpoint.key)
    moved = reached if newest is None or reached.key() > newest.key() else None
    settle(orders, journal, run, pairs, limits, checkpoint=moved, news_only=True, odoo=odoo)
    return moved or newest
