"""The rule applied to a batch: every field of each order decided one way, the journal asked
only about the orders that would change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from orderamt.models import AMOUNT, Action, Decision, Hold, Known, OdooTotal, PortalOrder
from orderamt.reconcile import parse_odoo_id, reconcile
from orderamt.sync.ports import JournalStore, TableLimits

Pair = tuple[PortalOrder, OdooTotal | None]


def decide(
    journal: JournalStore | None,
    pairs: Sequence[Pair],
    limits: TableLimits,
    skip_conflicts: bool,
) -> list[Decision]:
    """The rule for each order, every field of it. Decided first without the journal; only
    the orders that would change are asked about (what orderamt last wrote to each field,
    and a revert's holds) and decided again, so a batch in line with Odoo costs no journal
    query (None: a journal known to be blank)."""
    specs, largest = limits.fields, limits.max_amount
    first = [reconcile(order, odoo, specs, max_amount=largest) for order, odoo in pairs]
    moving = [d.order.id for d in first if d.writes]
    if not moving or journal is None:
        return first
    known, holds = journal.known(moving)
    pushing = [d.order.id for d in first if d.pushes]
    yielded = journal.yielded(pushing) if pushing else set()
    if not known and not holds and not yielded:
        return first  # a first backfill: nothing in the journal can change a decision
    out = []
    for (order, odoo), decided in zip(pairs, first, strict=True):
        if not decided.writes:
            out.append(decided)
            continue
        # What the journal says counts only for the fields that would change: the amount's
        # hold is not news for an amount Odoo and the portal agree on.
        moved = {change.field for change in decided.fields}
        moved |= {push.field for push in decided.pushes}
        if decided.action is Action.UPDATE:
            moved.add(AMOUNT)
        out.append(
            reconcile(
                order,
                odoo,
                specs,
                max_amount=largest,
                known=_of(known, order.id, moved),
                holds=_of(holds, order.id, moved),
                skip_conflicts=skip_conflicts,
                yielded=order.id in yielded,
            )
        )
    return out


T = TypeVar("T", Known, Hold)


def _of(by_key: Mapping[tuple[int, str], T], order_id: int, fields: set[str]) -> dict[str, T]:
    """One order's entries of what the journal said, by field name, for these fields."""
    return {f: by_key[(order_id, f)] for f in fields if (order_id, f) in by_key}


def lookup(totals: dict[int, OdooTotal], order: PortalOrder) -> OdooTotal | None:
    odoo_id = parse_odoo_id(order.odoo_ref)
    return totals.get(odoo_id) if odoo_id is not None else None
