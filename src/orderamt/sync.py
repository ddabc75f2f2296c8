"""The orchestration: read a batch of portal orders, ask Odoo, decide, write, report."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from orderamt.errors import UsageError
from orderamt.models import (
    Action,
    Decision,
    Mode,
    OdooTotal,
    PortalOrder,
    Reason,
    RunCounts,
    Selection,
)
from orderamt.reconcile import has_odoo_id, parse_odoo_id, reconcile

log = logging.getLogger("orderamt")


class TableLimits(Protocol):
    @property
    def max_amount(self) -> Decimal | None: ...


class OrderStore(Protocol):
    """Where portal orders are read and written (the portal repository meets this)."""

    def check(self) -> TableLimits: ...

    def get(self, order_id: int) -> PortalOrder | None: ...

    def count(self, selection: Selection) -> int: ...

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]: ...

    def apply(self, updates: Sequence[tuple[PortalOrder, Decimal]], now: datetime) -> set[int]: ...


class TotalsSource(Protocol):
    """Where Odoo's totals come from (each Odoo adapter meets this)."""

    def login(self) -> None: ...

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]: ...


class Reporter(Protocol):
    """Who is told about the run as it goes (the console report meets this)."""

    def found(self, count: int, selection: Selection, order: PortalOrder | None) -> None: ...

    def decided(self, decision: Decision) -> None: ...


def sync_orders(
    portal: OrderStore,
    odoo: TotalsSource,
    selection: Selection,
    *,
    batch_size: int,
    clock: Callable[[], datetime],
    reporter: Reporter,
) -> RunCounts:
    """Bring the selected portal orders in line with Odoo, one committed batch at a time.

    The portal's schema is checked before Odoo is asked anything, and Odoo's login before any
    order is read, so a bad setup writes nothing. A failure part-way leaves the batches before
    it committed and the current one untouched; the next run picks up the rest.
    """
    limits = portal.check()
    single: PortalOrder | None = None
    if selection.mode is Mode.ONE:
        single = _single_order(portal, selection)
    odoo.login()
    counts = RunCounts(found=portal.count(selection))
    reporter.found(counts.found, selection, single)
    log.info(
        "Run started", extra={"context": {"mode": selection.mode.value, "found": counts.found}}
    )
    for batch in portal.batches(selection, batch_size):
        for decision in _sync_batch(portal, odoo, batch, limits.max_amount, clock):
            counts.add(decision)
            reporter.decided(decision)
    log.info(
        "Run finished",
        extra={
            "context": {
                "mode": selection.mode.value,
                "found": counts.found,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "skipped": counts.skipped,
            }
        },
    )
    return counts


def _single_order(portal: OrderStore, selection: Selection) -> PortalOrder:
    assert selection.order_id is not None
    order = portal.get(selection.order_id)
    if order is None:
        raise UsageError(f"order {selection.order_id} does not exist in the portal")
    if not has_odoo_id(order.odoo_ref):
        raise UsageError(
            f"order {selection.order_id} ({order.number}) has no Odoo id, so there is "
            "nothing to sync it from"
        )
    return order


def _sync_batch(
    portal: OrderStore,
    odoo: TotalsSource,
    batch: list[PortalOrder],
    max_amount: Decimal | None,
    clock: Callable[[], datetime],
) -> list[Decision]:
    ids = sorted({i for i in (parse_odoo_id(o.odoo_ref) for o in batch) if i is not None})
    totals = odoo.fetch_totals(ids)
    decisions = [reconcile(order, _lookup(totals, order), max_amount=max_amount) for order in batch]
    updates = [(d.order, d.new_amount) for d in decisions if d.action is Action.UPDATE]
    written = portal.apply([(o, a) for o, a in updates if a is not None], clock())
    return [_confirm(decision, written) for decision in decisions]


def _lookup(totals: dict[int, OdooTotal], order: PortalOrder) -> OdooTotal | None:
    odoo_id = parse_odoo_id(order.odoo_ref)
    return totals.get(odoo_id) if odoo_id is not None else None


def _confirm(decision: Decision, written: set[int]) -> Decision:
    """An update the database did not take was raced by a portal change: report it as such."""
    if decision.action is not Action.UPDATE:
        return decision
    order = decision.order
    if order.id not in written:
        log.warning(
            "Order changed in the portal during the run; not overwritten",
            extra={"context": {"order_id": order.id, "order_number": order.number}},
        )
        return Decision(
            order,
            Action.SKIP,
            new_amount=decision.new_amount,
            reason=Reason.CHANGED_IN_PORTAL,
            currency=decision.currency,
        )
    log.info(
        "Synced order amount from Odoo",
        extra={
            "context": {
                "order_id": order.id,
                "order_number": order.number,
                "old_amount": None if order.amount is None else f"{order.amount:.2f}",
                "new_amount": f"{decision.new_amount:.2f}",
            }
        },
    )
    return decision
