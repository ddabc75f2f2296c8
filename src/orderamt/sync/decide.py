"""The rule applied to a batch: each order's amount and mapped fields decided, the journal
asked only about the orders that would change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from orderamt.models import (
    Action,
    Decision,
    FieldChange,
    FieldIssue,
    FieldSpec,
    Hold,
    LastValue,
    OdooTotal,
    PortalOrder,
    Reason,
)
from orderamt.reconcile import parse_odoo_id, reconcile, reconcile_fields
from orderamt.sync.ports import JournalStore, TableLimits


def decide(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    limits: TableLimits,
    skip_conflicts: bool,
) -> list[Decision]:
    """The rule for each order, the amount and each mapped field."""
    decisions = _decide_amounts(journal, pairs, limits.max_amount, skip_conflicts)
    specs = limits.fields
    if not specs:
        return decisions
    return _decide_fields(journal, pairs, decisions, specs, skip_conflicts)


def _decide_fields(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    decisions: list[Decision],
    specs: Sequence[FieldSpec],
    skip_conflicts: bool,
) -> list[Decision]:
    """Each mapped field of the orders Odoo has; as for the amount, the journal is read only
    for the orders whose fields would change."""

    names = [spec.name for spec in specs]

    def fields_of(
        order: PortalOrder,
        odoo: OdooTotal,
        last: dict[tuple[int, str], LastValue] | None = None,
        holds: dict[tuple[int, str], Hold] | None = None,
    ) -> tuple[tuple[FieldChange, ...], tuple[FieldIssue, ...], tuple[Hold, ...]]:
        return reconcile_fields(
            order,
            odoo,
            specs,
            last={f: last[(order.id, f)] for f in names if (order.id, f) in last} if last else None,
            holds={f: holds[(order.id, f)] for f in names if (order.id, f) in holds}
            if holds
            else None,
            skip_conflicts=skip_conflicts,
        )

    usable = [
        (i, order, odoo)
        for i, ((order, odoo), d) in enumerate(zip(pairs, decisions, strict=True))
        if odoo is not None and d.reason not in _NO_FIELDS
    ]
    first = {i: fields_of(order, odoo) for i, order, odoo in usable}
    moving = [decisions[i].order.id for i, (changes, _, _) in first.items() if changes]
    if moving and journal is not None:
        last, holds = journal.field_state(moving)
        if last or holds:
            first.update(
                {i: fields_of(order, odoo, last, holds) for i, order, odoo in usable if first[i][0]}
            )
    out = list(decisions)
    for i, (changes, issues, held) in first.items():
        if changes or issues or held:
            out[i] = replace(out[i], fields=changes, issues=issues, held=held)
    return out


_NO_FIELDS = (Reason.BAD_ODOO_ID, Reason.NOT_IN_ODOO)
"""An order Odoo has no sale order for has no fields to take either."""


def _decide_amounts(
    journal: JournalStore | None,
    pairs: Sequence[tuple[PortalOrder, OdooTotal | None]],
    max_amount: Decimal | None,
    skip_conflicts: bool,
) -> list[Decision]:
    """The rule for each order's amount; the journal is read only for the orders that would
    change (what orderamt last wrote, and a revert's hold), so a batch in line with Odoo
    costs no journal query; None: a journal known to be blank."""
    first = [reconcile(order, odoo, max_amount=max_amount) for order, odoo in pairs]
    moving = [d.order.id for d in first if d.action is Action.UPDATE]
    if not moving or journal is None:
        return first
    last, holds = journal.last_written(moving), journal.holds(moving)
    if not last and not holds:
        return first  # a first backfill: nothing in the journal can change a decision
    return [
        reconcile(
            order,
            odoo,
            max_amount=max_amount,
            last=last.get(order.id),
            hold=holds.get(order.id),
            skip_conflicts=skip_conflicts,
        )
        if decided.action is Action.UPDATE and (order.id in last or order.id in holds)
        else decided
        for (order, odoo), decided in zip(pairs, first, strict=True)
    ]


def lookup(totals: dict[int, OdooTotal], order: PortalOrder) -> OdooTotal | None:
    odoo_id = parse_odoo_id(order.odoo_ref)
    return totals.get(odoo_id) if odoo_id is not None else None
