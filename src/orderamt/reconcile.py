"""The rule, as a pure function: given a portal order and what Odoo says, decide.

No I/O, no clock, no logging: everything it needs comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from orderamt import money
from orderamt.models import (
    AMOUNT,
    PUSH_ACTIONS,
    PUSH_FROM,
    WRITE,
    Action,
    Contest,
    Decision,
    FieldChange,
    FieldIssue,
    FieldSpec,
    Hold,
    Known,
    OdooTotal,
    PortalOrder,
    Push,
    Reason,
    Value,
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


def same_value(field: str, a: Value, b: Value) -> bool:
    """Two values of `field` are the same: the amount as money (857.870 is 857.87, NaN is
    nothing), a mapped field as text."""
    if field == AMOUNT:
        return money.same(a, b)  # type: ignore[arg-type]
    return a == b


def contest(field: str, portal: Value, odoo: Value, known: Known | None) -> Contest | None:
    """How the portal came to differ from what orderamt last wrote to `field`: changed there
    since (a drift while Odoo still says what orderamt wrote, a conflict when Odoo changed
    too), or not at all (None)."""
    if known is None or same_value(field, portal, known.value):
        return None
    odoo_unchanged = known.odoo_value is not None and same_value(field, odoo, known.odoo_value)
    return Contest.DRIFT if odoo_unchanged else Contest.CONFLICT


def held(hold: Hold, value: Value, write_date: str | None) -> bool:
    """Odoo still says what the revert took back: the same value at the same write_date."""
    return same_value(hold.field, hold.value, value) and hold.odoo_write_date == write_date


def reconcile(
    order: PortalOrder,
    odoo: OdooTotal | None,
    specs: Sequence[FieldSpec] = (),
    *,
    max_amount: Decimal | None = None,
    known: Mapping[str, Known] | None = None,
    holds: Mapping[str, Hold] | None = None,
    skip_conflicts: bool = False,
    yielded: bool = False,
) -> Decision:
    """Decide each field of this order: the amount, then each mapped field in `specs`.

    `odoo` is None when Odoo has no sale order with the portal's id. `known` and `holds` are
    the journal's, by field name (AMOUNT for the amount): a portal value that differs from
    what orderamt last wrote was changed in the portal since; with Odoo changed too that is
    a conflict, with Odoo unchanged a drift. Odoo wins either way (the sync is one-way)
    unless `skip_conflicts`. A revert's hold keeps a field while Odoo still says the
    reverted value at the same write_date. Every field goes this one way; each kind adds
    its own rules before it (`_amount`, `_mapped`). `yielded`: an operator ignored this
    order's refused push, so nothing of it is pushed and Odoo's values are taken.
    """
    decision = _amount(order, odoo, max_amount, known or {}, holds or {}, skip_conflicts)
    if odoo is None or not specs or decision.reason in _NO_FIELDS:
        return decision
    changes, issues, kept, pushes = _mapped(
        order, odoo, specs, known or {}, holds or {}, skip_conflicts, yielded
    )
    if not (changes or issues or kept or pushes):
        return decision
    return Decision(
        order, decision.action, new_amount=decision.new_amount, reason=decision.reason,
        currency=decision.currency, odoo_id=decision.odoo_id, bad_value=decision.bad_value,
        largest=decision.largest, last_written=decision.last_written,
        contest=decision.contest, write_date=decision.write_date, hold=decision.hold,
        odoo_currency=decision.odoo_currency, fields=changes, issues=issues, held=kept,
        pushes=pushes,
    )  # fmt: skip


_NO_FIELDS = (Reason.BAD_ODOO_ID, Reason.NOT_IN_ODOO)
"""An order Odoo has no sale order for has no fields to take either."""


def _amount(
    order: PortalOrder,
    odoo: OdooTotal | None,
    max_amount: Decimal | None,
    known: Mapping[str, Known],
    holds: Mapping[str, Hold],
    skip_conflicts: bool,
) -> Decision:
    """The amount, a field of money kind. Its own rules come first: a portal amount that is
    no number, an Odoo id that is none, another currency, Odoo's 0.00 (the portal's is
    kept), an amount too large for the column (skipped, never truncated). Odoo's amount is
    rounded to its currency's decimals."""
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
    hold = holds.get(AMOUNT)
    if hold is not None and held(hold, amount, odoo.write_date):
        return seen(Action.UNCHANGED, reason=Reason.HELD, hold=hold)
    if money.same(order.amount, amount):
        return seen(Action.UNCHANGED, reason=Reason.SAME_AMOUNT)
    if max_amount is not None and amount > max_amount:
        return seen(new_amount=amount, reason=Reason.TOO_LARGE, largest=max_amount)
    last = known.get(AMOUNT)
    contested = contest(AMOUNT, order.amount, amount, last)
    if contested is None:
        return seen(Action.UPDATE, new_amount=amount, hold=hold)
    assert last is not None
    wrote = last.value
    assert wrote is None or isinstance(wrote, Decimal)
    if skip_conflicts:
        return seen(new_amount=amount, last_written=wrote, contest=contested,
                    reason=_SKIPPED[contested])  # fmt: skip
    return seen(Action.UPDATE, new_amount=amount, last_written=wrote, contest=contested,
                hold=hold)  # fmt: skip


_SKIPPED = {Contest.CONFLICT: Reason.CONFLICT, Contest.DRIFT: Reason.DRIFT}
"""Why a contested field is left alone under --on-conflict skip."""


def _mapped(
    order: PortalOrder,
    odoo: OdooTotal,
    specs: Sequence[FieldSpec],
    known: Mapping[str, Known],
    holds: Mapping[str, Hold],
    skip_conflicts: bool,
    yielded: bool = False,
) -> tuple[tuple[FieldChange, ...], tuple[FieldIssue, ...], tuple[Hold, ...], tuple[Push, ...]]:
    """Each mapped field, a field of text kind: the portal takes the map's value for Odoo's.
    Its own rule comes first: an Odoo value the map lacks is never written (an issue; the
    other fields still go). A pushed field (ORDERAMT_<NAME>_PUSH) may go the other way
    (`_pushed`). Returns the changes, the issues, the holds that keep a field (for the
    report to say), and the pushes."""
    changes: list[FieldChange] = []
    issues: list[FieldIssue] = []
    kept: list[Hold] = []
    pushes: list[Push] = []
    for spec in specs:
        name = spec.name
        raw = odoo.values.get(spec.odoo_field, False)
        odoo_value = odoo_text(raw)
        old = order.values.get(name)
        if spec.kind == "map":
            new = spec.portal_value(odoo_value)
            if new is None:
                issues.append(FieldIssue(name, odoo_value, Reason.UNMAPPED, portal_value=old))
                continue
        else:
            new = spec.from_odoo(raw)
            odoo_value = "" if raw is False or raw is None else str(raw)
        hold = holds.get(name)
        if hold is not None and held(hold, new, odoo.write_date):
            if old != new:
                kept.append(hold)
            continue
        if spec.same(old, new):
            continue
        last = known.get(name)
        way = None if yielded else _pushed(spec, old, odoo_value, new, last)
        if isinstance(way, Push):
            pushes.append(way)
            continue
        if isinstance(way, FieldIssue):
            issues.append(way)
            continue
        contested = way if way is not None else contest(name, old, new, last)
        wrote = None if last is None or contested is None else last.value
        assert wrote is None or isinstance(wrote, str)
        if contested is not None and skip_conflicts:
            issues.append(FieldIssue(name, odoo_value, _SKIPPED[contested], portal_value=old,
                                     last_written=wrote, new=new))  # fmt: skip
            continue
        changes.append(FieldChange(name, old, new, contest=contested, last_written=wrote,
                                   hold=hold))  # fmt: skip
    return tuple(changes), tuple(issues), tuple(kept), tuple(pushes)


def _pushed(
    spec: FieldSpec,
    portal: str | None,
    odoo_value: str,
    odoo_mapped: str | None,
    last: Known | None,
) -> Push | FieldIssue | Contest | None:
    """Which way a field the two sides disagree on goes, where the portal's value is one
    that is pushed (and Odoo's state is one its action acts on): a Push, a FieldIssue (both
    changed, flagged), Contest.CONFLICT (both changed, Odoo wins) or None (pulled, as any
    field: the portal's value is not pushed, or only Odoo changed).

    Without history (`last` None), the portal's value is pushed: the operator declared it
    the portal's, so a cancellation is never overwritten. With history, what each side
    said when orderamt last saw the field tells who changed it."""
    action = spec.push_action(portal)
    if action is None or odoo_value not in PUSH_FROM.get(action, (odoo_value,)):
        return None
    if action == WRITE:  # a plain field: Odoo's value as it is, and the portal's written
        push = Push(spec.name, portal, action, odoo_value or None, spec.to_odoo(portal),
                    spec.odoo_field)  # fmt: skip
    else:
        push = Push(spec.name, portal, action, odoo_value, PUSH_ACTIONS[action])
    if last is None:
        # First sight: an empty portal value is no declaration (the portal never had one).
        return push if portal is not None else None
    seen = last.value if isinstance(last.value, str) or last.value is None else str(last.value)
    portal_moved = not spec.same(portal, seen)
    odoo_moved = last.odoo_value is None or not spec.same(odoo_mapped, str(last.odoo_value))
    if not portal_moved:
        return None  # only Odoo moved (or neither, after a revert): pulled as any field
    if not odoo_moved:
        return push
    if spec.on_conflict == "portal":
        return replace(push, contest=Contest.CONFLICT, last_seen=last.value)
    if spec.on_conflict == "flag":
        seen = last.value if isinstance(last.value, str) else None
        return FieldIssue(spec.name, odoo_value, Reason.FLAGGED, portal_value=portal,
                          last_written=seen, new=odoo_mapped)  # fmt: skip
    return Contest.CONFLICT
