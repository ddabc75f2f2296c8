"""The rule, as a pure function: given a portal order and what Odoo says, decide.

No I/O, no clock, no logging: everything it needs comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from orderamt import money
from orderamt.models import (
    Action,
    Contest,
    Decision,
    FieldChange,
    FieldIssue,
    FieldSpec,
    Hold,
    LastValue,
    LastWrite,
    OdooTotal,
    PortalOrder,
    Reason,
    odoo_text,
)

ODOO_MAX_ID = 2**31 - 1
"""Odoo ids are PostgreSQL integers, and XML-RPC cannot carry a larger int anyway."""


def parse_odoo_id(raw: object) -> int | None:
    """The Odoo id a portal column holds, or None when it is not a usable positive integer.

    The column is often a string: '  42 ' is 42, but 'S00042' is a sale order's name, not its
    id, and is not guessed at.
    """
    value: int | None = None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, Decimal):
        value = int(raw) if raw.is_finite() and raw == raw.to_integral_value() else None
    elif isinstance(raw, str):
        text = raw.strip()
        value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or not 0 < value <= ODOO_MAX_ID:
        return None
    return value


def has_odoo_id(raw: object) -> bool:
    """Whether the column holds anything at all: NULL and blank strings mean 'no Odoo order'."""
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def reconcile(
    order: PortalOrder,
    odoo: OdooTotal | None,
    *,
    max_amount: Decimal | None = None,
    last: LastWrite | None = None,
    hold: Hold | None = None,
    skip_conflicts: bool = False,
) -> Decision:
    """Decide whether the portal takes Odoo's amount for this order.

    `odoo` is None when Odoo has no sale order with the portal's id. `max_amount` is the
    largest value the portal column can hold; a larger amount is skipped, never truncated.
    `order.currency`, when the portal says, is the currency of its amount: an Odoo order in
    another is skipped, never written. Odoo's amount is rounded to its currency's decimals.
    `last` is what the journal knows: a portal amount that differs from what orderamt last
    wrote was changed in the portal since; with Odoo changed too that is a conflict, with
    Odoo unchanged a drift. Odoo wins either way (the sync is one-way) unless
    `skip_conflicts`. `hold` is a revert's hold: while Odoo still says the reverted amount at
    the same write_date, the order is left alone.
    """
    if order.amount is not None and not money.is_number(order.amount):
        return Decision(order, Action.SKIP, reason=Reason.BAD_PORTAL_AMOUNT)
    odoo_id = parse_odoo_id(order.odoo_ref)
    if odoo_id is None:
        return Decision(
            order, Action.SKIP, reason=Reason.BAD_ODOO_ID, bad_value=repr(order.odoo_ref)
        )
    if odoo is None:
        return Decision(order, Action.SKIP, reason=Reason.NOT_IN_ODOO, odoo_id=odoo_id)

    def seen(action: Action = Action.SKIP, **more: Any) -> Decision:
        """A decision on an order Odoo answered for (built at once: dataclasses.replace
        costs as much again, once per order of a backfill)."""
        return Decision(order, action, odoo_id=odoo_id, currency=odoo.currency,
                        write_date=odoo.write_date, **more)  # fmt: skip

    if order.currency is not None and odoo.currency != order.currency:
        return Decision(order, Action.SKIP, odoo_id=odoo_id, reason=Reason.CURRENCY,
                        currency=order.currency, odoo_currency=odoo.currency,
                        write_date=odoo.write_date)  # fmt: skip
    amount = money.from_odoo(odoo.amount_total, money.currency_decimals(odoo.currency))
    if amount is None:
        return seen(reason=Reason.BAD_ODOO_AMOUNT, bad_value=repr(odoo.amount_total))
    if amount == 0:
        return seen(Action.UNCHANGED, reason=Reason.ZERO_IN_ODOO)
    if hold is not None and held(hold, amount, odoo.write_date):
        return seen(Action.UNCHANGED, reason=Reason.HELD, hold=hold)
    if money.same(order.amount, amount):
        return seen(Action.UNCHANGED, reason=Reason.SAME_AMOUNT)
    if max_amount is not None and amount > max_amount:
        return seen(new_amount=amount, reason=Reason.TOO_LARGE, largest=max_amount)
    contest = _contest(order, amount, last)
    if contest is not None:
        assert last is not None
        if skip_conflicts:
            reason = Reason.CONFLICT if contest is Contest.CONFLICT else Reason.DRIFT
            return seen(new_amount=amount, last_written=last.amount, contest=contest,
                        reason=reason)  # fmt: skip
        return seen(Action.UPDATE, new_amount=amount, last_written=last.amount,
                    contest=contest, hold=hold)  # fmt: skip
    return seen(Action.UPDATE, new_amount=amount, hold=hold)


def held(hold: Hold, amount: Decimal, write_date: str | None) -> bool:
    """Odoo still says what the revert took back: the same amount at the same write_date."""
    return money.same(hold.amount, amount) and hold.odoo_write_date == write_date


def _contest(order: PortalOrder, amount: Decimal, last: LastWrite | None) -> Contest | None:
    """Whether the portal changed the amount since orderamt wrote it, and whether Odoo did."""
    if last is None or money.same(order.amount, last.amount):
        return None
    odoo_unchanged = last.odoo_amount is not None and money.same(amount, last.odoo_amount)
    return Contest.DRIFT if odoo_unchanged else Contest.CONFLICT


def reconcile_fields(
    order: PortalOrder,
    odoo: OdooTotal,
    specs: Sequence[FieldSpec],
    *,
    last: Mapping[str, LastValue] | None = None,
    holds: Mapping[str, Hold] | None = None,
    skip_conflicts: bool = False,
) -> tuple[tuple[FieldChange, ...], tuple[FieldIssue, ...], tuple[Hold, ...]]:
    """Decide each mapped field on its own: the portal takes the map's value for Odoo's.

    An Odoo value the map lacks is never written (an issue, the other fields still go).
    `last` and `holds` are the journal's, by field name, with the amount's meaning: a
    portal value that differs from what orderamt last wrote was changed in the portal
    (a conflict, or a drift while Odoo still says what was written); a revert's hold keeps
    the field while Odoo still says the reverted value at the same write_date (returned
    with the changes and the issues, for the report to say).
    """
    changes: list[FieldChange] = []
    issues: list[FieldIssue] = []
    kept: list[Hold] = []
    for spec in specs:
        odoo_value = odoo_text(odoo.values.get(spec.odoo_field, False))
        new = spec.portal_value(odoo_value)
        old = order.values.get(spec.name)
        if new is None:
            issues.append(FieldIssue(spec.name, odoo_value, Reason.UNMAPPED, portal_value=old))
            continue
        hold = (holds or {}).get(spec.name)
        if hold is not None and hold.value == new and hold.odoo_write_date == odoo.write_date:
            if old != new:
                kept.append(hold)
            continue
        if old == new:
            continue
        known = (last or {}).get(spec.name)
        contest = None
        if known is not None and old != known.value:
            drift = known.odoo_value is not None and known.odoo_value == new
            contest = Contest.DRIFT if drift else Contest.CONFLICT
        if contest is not None and skip_conflicts:
            reason = Reason.CONFLICT if contest is Contest.CONFLICT else Reason.DRIFT
            assert known is not None
            issues.append(
                FieldIssue(
                    spec.name,
                    odoo_value,
                    reason,
                    portal_value=old,
                    last_written=known.value,
                    new=new,
                )
            )
            continue
        changes.append(
            FieldChange(
                spec.name,
                old,
                new,
                contest=contest,
                last_written=known.value if contest is not None and known else None,
                hold=hold,
            )
        )
    return tuple(changes), tuple(issues), tuple(kept)
