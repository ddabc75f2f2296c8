"""The catch-up poll: what Odoo wrote since the checkpoint, page by page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from orderamt.models import Changed, Checkpoint, OdooTotal, RunCounts, RunOptions
from orderamt.sync.decide import decide
from orderamt.sync.ports import ChangesSource, JournalStore, OrderStore, Reporter
from orderamt.sync.record import recorded
from orderamt.sync.sweep import tally
from orderamt.sync.write import write
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
    """
    limits = orders.check()
    checkpoint = journal.checkpoint()
    mode = selection.mode.value
    with recorded(
        journal, reporter, "sync", mode, clock=clock, options=options, eager=False
    ) as run:
        counts = run.counts
        odoo.login()
        if checkpoint is None:
            since = odoo_time(window_start(run.started, selection.days))
        else:
            since = odoo_time(parse_odoo_time(checkpoint.write_date) - selection.margin)
        reporter.polling(since, checkpoint)
        newest = checkpoint
        after: tuple[str, int] | None = None
        while True:
            page = odoo.changed_since(since, after, options.batch_size)
            if not page:
                break
            portal = orders.by_odoo_ids([total.id for total in page])
            pairs = [(order, total) for total in page for order in portal.get(total.id, [])]
            counts.found += len(pairs)
            decisions = decide(journal, pairs, limits, options.skip_conflicts)
            reached = _cursor(page)
            moved = reached if newest is None or reached.key() > newest.key() else None
            news = any(d.writes or d.needs_look for d in decisions)
            if not options.dry_run:
                run_id = run.start() if news else run.id
                decisions = write(orders, decisions, clock(), run_id, moved)
            if news:
                run.note(decisions)
            newest = moved or newest
            run.tally(decisions)
            after = reached.key()
            if len(page) < options.batch_size:
                break
        if run.id is None:
            run.heartbeat(newest)
    log.info(
        "Catch-up poll finished",
        extra={"context": {"run": run.id, "since": since, **tally(selection, counts)}},
    )
    return counts


def _cursor(page: Sequence[OdooTotal]) -> Checkpoint:
    """Where a page of changed orders ends: its last (write_date, id)."""
    last = page[-1]
    return Checkpoint(last.write_date or EPOCH, last.id)
