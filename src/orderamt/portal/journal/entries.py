"""What the journal keeps of a change: the entry written with it, and a push's intent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from orderamt.models import AMOUNT, Change, JournalEntry

INTENT = "intent"
"""A push's direction until Odoo answered it (JournalEntry.direction)."""


def journal_entry(change: Change, run_id: int, now: datetime) -> JournalEntry:
    """What the journal keeps of a change: the amount in its own columns, a mapped field's
    values as text beside its name (the journal's storage, as every version has read it)."""
    order, amount = change.order, change.field == AMOUNT
    return JournalEntry(
        run_id=run_id,
        order_id=order.id,
        odoo_id=change.odoo_id,
        order_number=order.number,
        old_amount=change.old if amount else None,  # type: ignore[arg-type]
        new_amount=change.new if amount else None,  # type: ignore[arg-type]
        old_updated_at=order.updated_at,
        odoo_write_date=change.write_date,
        changed_at=now,
        conflict=change.conflict,
        field=None if amount else change.field,
        old_value=None if amount else change.old,  # type: ignore[arg-type]
        new_value=None if amount else change.new,  # type: ignore[arg-type]
        direction=None if change.push is None else "push",
        odoo_old=None if change.push is None else change.push.odoo_old,
        odoo_new=None if change.push is None else change.push.odoo_new,
    )


def intent_entries(changes: Sequence[Change], run_id: int, now: datetime) -> list[JournalEntry]:
    """The intents of pushes about to be made, as the journal keeps them until confirmed."""
    return [replace(journal_entry(change, run_id, now), direction=INTENT) for change in changes]
