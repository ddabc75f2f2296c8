"""The rule, as a pure function: given a portal order and what Odoo says, decide.

No I/O, no clock, no logging: everything it needs comes in as arguments.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from orderamt.models import Action, Decision, OdooTotal, PortalOrder, Reason

MONEY_DECIMALS = 2
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


def to_money(value: object, decimals: int = MONEY_DECIMALS) -> Decimal | None:
    """A non-negative amount as a Decimal rounded to the currency's decimals, else None.

    Odoo sends money as a float that may carry binary noise (12.120000000000001); its shortest
    repr is the value Odoo meant, so that is what gets rounded.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
        amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    if amount < 0:
        return None
    return amount + 0  # folds -0.00 into 0.00


def reconcile(
    order: PortalOrder,
    odoo: OdooTotal | None,
    *,
    max_amount: Decimal | None = None,
    decimals: int = MONEY_DECIMALS,
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
    if isinstance(order.amount, Decimal) and not order.amount.is_finite():
        return Decision(order, Action.SKIP, reason=Reason.BAD_PORTAL_AMOUNT)
    odoo_id = parse_odoo_id(order.odoo_ref)
    if odoo_id is None:
        return Decision(order, Action.SKIP, reason=Reason.BAD_ODOO_ID, detail=repr(order.odoo_ref))
    if odoo is None:
        return Decision(order, Action.SKIP, reason=Reason.NOT_IN_ODOO, detail=str(odoo_id))
    amount = to_money(odoo.amount_total, decimals)
    if amount is None:
        return Decision(
            order,
            Action.SKIP,
            reason=Reason.BAD_ODOO_AMOUNT,
            detail=repr(odoo.amount_total),
            currency=odoo.currency,
        )
    if amount == 0:
        return Decision(order, Action.UNCHANGED, reason=Reason.ZERO_IN_ODOO, currency=odoo.currency)
    current = to_money(order.amount, decimals) if order.amount is not None else None
    if current == amount:
        return Decision(order, Action.UNCHANGED, reason=Reason.SAME_AMOUNT, currency=odoo.currency)
    if max_amount is not None and amount > max_amount:
        return Decision(
            order,
            Action.SKIP,
            new_amount=amount,
            reason=Reason.TOO_LARGE,
            detail=str(max_amount),
            currency=odoo.currency,
        )
    written = to_money(last_written, decimals) if last_written is not None else None
    conflict = written is not None and current != written
    if conflict and skip_conflicts:
        return Decision(
            order,
            Action.SKIP,
            new_amount=amount,
            reason=Reason.CONFLICT,
            detail=str(written),
            currency=odoo.currency,
            conflict=True,
            write_date=odoo.write_date,
        )
    return Decision(
        order,
        Action.UPDATE,
        new_amount=amount,
        currency=odoo.currency,
        conflict=conflict,
        detail=str(written) if conflict else "",
        write_date=odoo.write_date,
    )
