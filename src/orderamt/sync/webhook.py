"""A webhook batch: the portal orders of the Odoo ids the listener gathered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from orderamt.models import OdooOrders, RunCounts, RunOptions
from orderamt.sync.decide import lookup
from orderamt.sync.ports import JournalStore, OrderStore, Reporter, TotalsSource
from orderamt.sync.record import recorded
from orderamt.sync.sweep import settle


def sync_odoo_orders(
    orders: OrderStore,
    journal: JournalStore,
    odoo: TotalsSource,
    selection: OdooOrders,
    options: RunOptions,
    *,
    clock: Callable[[], datetime],
    reporter: Reporter,
) -> RunCounts:
    """A webhook batch: the portal orders of these Odoo ids, read from Odoo (never from the
    webhook's payload, which can be stale or forged) and synced as `sync --order-id` would,
    in one batch and one journaled run (an Odoo failure included)."""
    limits = orders.check()
    portal = orders.by_odoo_ids(selection.odoo_ids)
    found = [order for ids in portal.values() for order in ids]
    if not found:
        return RunCounts()
    mode = selection.mode.value
    with recorded(journal, reporter, "sync", mode, clock=clock, options=options) as run:
        run.counts.found = len(found)
        totals = odoo.fetch_totals(sorted(portal))
        pairs = [(order, lookup(totals, order)) for order in found]
        settle(orders, journal, run, pairs, limits, odoo=odoo)
    return run.counts
