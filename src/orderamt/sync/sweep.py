"""A sweep: the selected portal orders (recent, all, one) in batches, Odoo asked for each."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from orderamt.errors import UsageError
from orderamt.models import (
    Checkpoint,
    OdooTotal,
    OneOrder,
    PortalOrder,
    RunCounts,
    RunOptions,
    Selection,
)
from orderamt.reconcile import has_odoo_id
from orderamt.sync.decide import decide, lookup
from orderamt.sync.ports import (
    JournalStore,
    OrderStore,
    Pusher,
    Reporter,
    TableLimits,
    TotalsSource,
)
from orderamt.sync.prefetch import with_totals
from orderamt.sync.push import push_all, resolve_intents
from orderamt.sync.record import Run, recorded
from orderamt.sync.write import flush_log, write

log = logging.getLogger("orderamt")


def sync_orders(
    orders: OrderStore,
    journal: JournalStore,
    odoo: TotalsSource,
    selection: Selection,
    options: RunOptions,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
) -> RunCounts:
    """Bring the selected portal orders in line with Odoo, one committed batch at a time.

    The portal's schema is checked before Odoo is asked anything, and Odoo's login before any
    order is read, so a bad setup writes nothing. A failure part-way leaves the batches before
    it committed (with their journal entries) and the current one untouched; the next run
    picks up the rest. A dry run decides everything and writes nothing anywhere.
    """
    limits = orders.check()
    # Every run that reaches the portal is recorded, one that fails too (an Odoo outage is
    # a run with exit 3 and its error, not a gap in the history).
    mode = selection.mode.value
    with recorded(journal, reporter, "sync", mode, clock=clock, options=options) as run:
        counts = run.counts
        single: PortalOrder | None = None
        if isinstance(selection, OneOrder):
            single = _single_order(orders, selection.order_id)
        odoo.login()
        resolve_intents(journal, odoo, limits.fields, options.dry_run)
        counts.found = orders.count(selection)
        # Blank before this run: its own entries are for orders of earlier batches (each
        # order comes once), and a concurrent run's write is still caught by the
        # compare-and-set.
        knows = None if journal.blank() else journal
        reporter.found(counts.found, single)
        log.info(
            "Run started",
            extra={"context": {"mode": mode, "dry_run": options.dry_run, "found": counts.found}},
        )
        for batch, totals in with_totals(orders.batches(selection, options.batch_size), odoo):
            pairs = [(order, lookup(totals, order)) for order in batch]
            settle(orders, knows, run, pairs, limits, odoo=odoo)
            flush_log()
    log.info("Run finished", extra={"context": {"run": run.id, **tally(selection, counts)}})
    return counts


def settle(
    orders: OrderStore,
    journal: JournalStore | None,
    run: Run,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    limits: TableLimits,
    *,
    checkpoint: Checkpoint | None = None,
    news_only: bool = False,
    odoo: Pusher,
) -> None:
    """One batch of any run mode: decided, written with its journal entries (and the
    catch-up poll's `checkpoint`, in the same transaction), its orders that need a look
    kept, and told (journal None: known to be blank). `news_only` (the poll): a batch that
    changes nothing and finds nothing wrong starts no run and keeps nothing. The portal's
    changes that go back to Odoo are made through `odoo` before the batch is written, and
    journaled with it (`push_all`)."""
    decisions = decide(journal, pairs, limits, run.options.skip_conflicts)
    news = not news_only or any(d.writes or d.needs_look for d in decisions)
    if not run.options.dry_run:
        run_id = run.start() if news else run.id
        if run_id is not None:
            decisions = push_all(odoo, run, decisions, run_id)
        decisions = write(orders, decisions, run.clock(), run_id, checkpoint)
    if news:
        run.note(decisions)
    run.tally(decisions)


def tally(selection: Selection, counts: RunCounts) -> dict[str, object]:
    """A run's counts as the log's closing line gives them."""
    return {
        "mode": selection.mode.value,
        "found": counts.found,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "skipped": counts.skipped,
    }


def _single_order(orders: OrderStore, order_id: int) -> PortalOrder:
    order = orders.get(order_id)
    if order is None:
        raise UsageError(f"order {order_id} does not exist in the portal")
    if not has_odoo_id(order.odoo_ref):
        raise UsageError(
            f"order {order_id} ({order.number}) has no Odoo id, so there is nothing to sync it from"
        )
    return order
