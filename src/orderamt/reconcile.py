"""The rule, as a pure function: given a portal order and what Odoo says, decide.

No I/O, no clock, no logging: everything it needs comes in as arguments.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from orderamt import money
from orderamt.models import Action, Decision, OdooTotal, PortalOrder, Reason

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
    decimals: int = money.DEFAULT_DECIMALS,
    last_written: Decimal | None = None,
    skip_conflicts: bool = False,
) -> Decision:
    """Decide whether the portal takes Odoo's amount for this order.

    `odoo` is None when Odoo has no sale order with the portal's id. `max_amount` is the
    largest value the portal column can hold; a larger amount is skipped, never truncated.
    `last_written` is what orderamt last wrote to the order: a portal amount that differs from
    it was changed in the portal since, and with Odoo's amount differing too, that is a
    conflict. Odoo wins (the sync is one-way) unless `skip_conflicts`.
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
    seen = Decision(
        order,
        Action.SKIP,
        odoo_id=odoo_id,
        currency=odoo.currency,
        write_date=odoo.write_date,
    )
    amount = money.from_odoo(odoo.amount_total, decimals)
    if amount is None:
        return replace(seen, reason=Reason.BAD_ODOO_AMOUNT, bad_value=repr(odoo.amount_total))
    if amount == 0:
        return replace(seen, action=Action.UNCHANGED, reason=Reason.ZERO_IN_ODOO)
    if money.same(order.amount, amount):
        return replace(seen, action=Action.UNCHANGED, reason=Reason.SAME_AMOUNT)
    if max_amount is not None and amount > max_amount:
        return replace(seen, new_amount=amount, reason=Reason.TOO_LARGE, largest=max_amount)
    conflict = last_written is not None and not money.same(order.amount, last_written)
    if conflict and skip_conflicts:
        return replace(seen, new_amount=amount, reason=Reason.CONFLICT, last_written=last_written)
    return replace(
        seen,
        action=Action.UPDATE,
        new_amount=amount,
        last_written=last_written if conflict else None,
    )
