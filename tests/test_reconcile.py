"""The rule, as a table of cases and as properties that hold for any amounts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderamt.models import (
    AMOUNT,
    Action,
    Contest,
    FieldChange,
    FieldIssue,
    FieldPolicy,
    FieldSpec,
    Hold,
    Known,
    OdooTotal,
    PortalOrder,
    Reason,
)
from orderamt.reconcile import has_odoo_id, parse_odoo_id, reconcile


def order(amount: str | None = "857.87", odoo_ref: object = 42) -> PortalOrder:
    return PortalOrder(
        id=1,
        number="AFINET-SO-1",
        amount=None if amount is None else Decimal(amount),
        odoo_ref=odoo_ref,
    )


def odoo(amount: object, odoo_id: int = 42) -> OdooTotal:
    return OdooTotal(
        id=odoo_id,
        name="S00042",
        amount_total=amount,
        state="sale",
        currency="USD",
        write_date="2026-11-24 18:15:57",
    )


@pytest.mark.parametrize(
    ("portal", "odoo_amount", "action", "reason", "new"),
    [
        ("857.87", 950.0, Action.UPDATE, None, "950.00"),
        ("857.87", 857.87, Action.UNCHANGED, Reason.SAME_AMOUNT, None),
        ("857.87", 0.0, Action.UNCHANGED, Reason.ZERO_IN_ODOO, None),
        ("857.87", 0, Action.UNCHANGED, Reason.ZERO_IN_ODOO, None),
        ("857.87", 0.004, Action.UNCHANGED, Reason.ZERO_IN_ODOO, None),
        ("12.12", 12.120000000000001, Action.UNCHANGED, Reason.SAME_AMOUNT, None),
        ("12.10", 12.120000000000001, Action.UPDATE, None, "12.12"),
        ("857.87", 857.875, Action.UPDATE, None, "857.88"),
        ("0.00", 0.01, Action.UPDATE, None, "0.01"),
        (None, 950.0, Action.UPDATE, None, "950.00"),
        ("857.87", -5.0, Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.87", "950.00", Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.87", False, Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.87", None, Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.87", float("nan"), Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.87", float("inf"), Action.SKIP, Reason.BAD_ODOO_AMOUNT, None),
        ("857.8749", 857.87, Action.UPDATE, None, "857.87"),
        ("857.8700", 857.87, Action.UNCHANGED, Reason.SAME_AMOUNT, None),
        ("NaN", 950.0, Action.SKIP, Reason.BAD_PORTAL_AMOUNT, None),
    ],
)
def test_rule_table(
    portal: str | None, odoo_amount: object, action: Action, reason: Reason | None, new: str | None
) -> None:
    """Each row of the rule: update above 0.00 and different, keep on 0.00, refuse bad amounts."""
    decision = reconcile(order(portal), odoo(odoo_amount))
    assert decision.action is action
    assert decision.reason is reason
    assert decision.new_amount == (Decimal(new) if new else None)


def test_sale_order_missing_in_odoo_keeps_portal_amount() -> None:
    """An id Odoo does not know is skipped, naming the id."""
    decision = reconcile(order(), None)
    assert (decision.action, decision.reason, decision.odoo_id) == (
        Action.SKIP,
        Reason.NOT_IN_ODOO,
        42,
    )


@pytest.mark.parametrize("ref", ["S00042", "4 2", "-3", "0", 0, "4.5", 2**31, True, 1.5, "٤٢"])
def test_unusable_odoo_id_is_skipped_with_its_value(ref: object) -> None:
    """A portal Odoo id that is not a positive integer is skipped and shown as stored."""
    decision = reconcile(order(odoo_ref=ref), odoo(950.0))
    assert decision.action is Action.SKIP
    assert decision.reason is Reason.BAD_ODOO_ID
    assert decision.bad_value == repr(ref)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [(42, 42), ("42", 42), ("  42 ", 42), (Decimal("42"), 42), ("S00042", None), ("", None)],
)
def test_parse_odoo_id(ref: object, expected: int | None) -> None:
    """Strings with padding are ids; sale order names and blanks are not."""
    assert parse_odoo_id(ref) == expected


@pytest.mark.parametrize(("ref", "has"), [(None, False), ("", False), ("   ", False), (0, True)])
def test_has_odoo_id(ref: object, has: bool) -> None:
    """NULL and blank mean no Odoo order; anything else is an id to judge."""
    assert has_odoo_id(ref) is has


def test_amount_too_large_for_the_column_is_skipped_not_truncated() -> None:
    """An amount over the column's largest value is refused with that limit."""
    decision = reconcile(order(), odoo(100_000_000.0), max_amount=Decimal("99999999.99"))
    assert decision.action is Action.SKIP
    assert decision.reason is Reason.TOO_LARGE
    assert decision.largest == Decimal("99999999.99")
    fits = reconcile(order(), odoo(99_999_999.99), max_amount=Decimal("99999999.99"))
    assert fits.new_amount == Decimal("99999999.99")


amounts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.decimals(min_value=-(10**9), max_value=10**9, places=3),
    st.none(),
    st.booleans(),
    st.text(max_size=5),
)
portal_amounts = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**8, places=2))


@settings(deadline=None)  # a loaded CI machine is no bug in the rule
@given(portal_amounts, amounts)
def test_never_writes_zero_or_negative(portal: Decimal | None, odoo_amount: object) -> None:
    """Whatever Odoo sends, an update carries an amount above 0.00 with two decimals."""
    p = PortalOrder(1, "X", portal, 42)
    decision = reconcile(p, odoo(odoo_amount))
    if decision.action is Action.UPDATE:
        assert decision.new_amount is not None
        assert decision.new_amount > 0
        assert decision.new_amount.as_tuple().exponent == -2


@settings(deadline=None)  # a loaded CI machine is no bug in the rule
@given(portal_amounts, amounts)
def test_second_run_changes_nothing(portal: Decimal | None, odoo_amount: object) -> None:
    """After an update is applied, deciding again over the same data leaves the order alone."""
    p = PortalOrder(1, "X", portal, 42)
    first = reconcile(p, odoo(odoo_amount))
    after = PortalOrder(1, "X", first.new_amount, 42) if first.action is Action.UPDATE else p
    again = reconcile(after, odoo(odoo_amount))
    assert again.action is not Action.UPDATE


@pytest.mark.parametrize(
    ("portal", "wrote", "odoo_said", "contest"),
    [
        ("857.87", "857.87", "857.87", None),
        ("857.8700", "857.87", "857.87", None),
        ("857.8749", "857.87", "900.00", Contest.CONFLICT),
        ("900.00", "857.87", "857.87", Contest.CONFLICT),
        ("900.00", "857.87", None, Contest.CONFLICT),
        ("900.00", "950.00", "950.00", Contest.DRIFT),
        ("950.0049", "950.00", "950.00", Contest.DRIFT),
    ],
)
def test_a_portal_edit_is_a_conflict_or_a_drift(
    portal: str, wrote: str, odoo_said: str | None, contest: Contest | None
) -> None:
    """The portal changed since orderamt wrote, by as little as a sub-cent: with Odoo changed
    too (950.00 now) that is a conflict; with Odoo still saying what was written, a drift.
    Odoo's amount is written either way, unless conflicts are skipped."""
    last = {AMOUNT: Known(Decimal(wrote), None if odoo_said is None else Decimal(odoo_said))}
    decision = reconcile(order(portal), odoo(950.0), known=last)
    assert decision.action is Action.UPDATE
    assert decision.contest is contest
    assert decision.last_written == (Decimal(wrote) if contest else None)
    skipped = reconcile(order(portal), odoo(950.0), known=last, skip_conflicts=True)
    if contest is None:
        assert skipped.action is Action.UPDATE
    else:
        assert skipped.action is Action.SKIP
        assert (
            skipped.reason
            is {Contest.CONFLICT: Reason.CONFLICT, Contest.DRIFT: Reason.DRIFT}[contest]
        )


def test_a_hold_keeps_the_reverted_amount_out_until_odoo_changes() -> None:
    """While Odoo says the reverted amount at the same write_date the order is held; a new
    amount or a new write_date ends the hold."""
    hold = Hold(1, Decimal("950.00"), "2026-11-24 18:15:57", reverted_run=1)
    held = reconcile(order("857.87"), odoo(950.0), holds={AMOUNT: hold})
    assert (held.action, held.reason, held.hold) == (Action.UNCHANGED, Reason.HELD, hold)
    repriced = reconcile(order("857.87"), odoo(960.0), holds={AMOUNT: hold})
    assert (repriced.action, repriced.new_amount) == (Action.UPDATE, Decimal("960.00"))
    assert repriced.hold == hold  # to be released with the write
    rewritten = OdooTotal(42, "S00042", 950.0, "sale", "USD", "2026-11-25 08:00:00")
    assert reconcile(order("857.87"), rewritten, holds={AMOUNT: hold}).action is Action.UPDATE


@pytest.mark.parametrize(
    ("portal_currency", "odoo_currency", "amount", "action", "new"),
    [
        ("USD", "USD", 950.0, Action.UPDATE, "950.00"),
        ("USD", "EUR", 950.0, Action.SKIP, None),
        (None, "EUR", 950.0, Action.UPDATE, "950.00"),
        ("JPY", "JPY", 1234.5, Action.UPDATE, "1235"),
        ("KWD", "KWD", 12.3456, Action.UPDATE, "12.346"),
        ("USD", None, 950.0, Action.SKIP, None),
    ],
)
def test_currency_decides_what_is_written_and_how_it_is_rounded(
    portal_currency: str | None,
    odoo_currency: str | None,
    amount: float,
    action: Action,
    new: str | None,
) -> None:
    """An order in another currency than the portal's is never written; an amount is rounded
    to its currency's own decimals (JPY none, KWD three)."""
    p = PortalOrder(1, "X", Decimal("1"), 42, currency=portal_currency)
    total = OdooTotal(42, "S00042", amount, "sale", odoo_currency, "2026-11-24 18:15:57")
    decision = reconcile(p, total)
    assert decision.action is action
    assert decision.new_amount == (Decimal(new) if new else None)
    if action is Action.SKIP:
        assert (decision.reason, decision.currency, decision.odoo_currency) == (
            Reason.CURRENCY,
            portal_currency,
            odoo_currency,
        )


STATUS = FieldSpec(
    "status", "state", "status", (("draft", "pending"), ("sale", "confirmed"), ("cancel", "x"))
)
DELIVERY = FieldSpec("delivery_status", "delivery_status", "shipping", (("false", "none"),))
WRITTEN_AT = "2026-11-24 18:15:57"


def with_fields(status: str | None, delivery: str | None = "none") -> PortalOrder:
    return PortalOrder(1, "SO-1", Decimal("1.00"), 42,
                       values={"status": status, "delivery_status": delivery})  # fmt: skip


def odoo_fields(state: object, delivery: object = False) -> OdooTotal:
    return OdooTotal(42, "S00042", 1.0, "sale", "USD", WRITTEN_AT,
                     values={"state": state, "delivery_status": delivery})  # fmt: skip


def reconcile_fields(
    order: PortalOrder,
    odoo: OdooTotal,
    specs: list[FieldSpec],
    *,
    last: dict[str, Known] | None = None,
    holds: dict[str, Hold] | None = None,
    skip_conflicts: bool = False,
) -> tuple[tuple[FieldChange, ...], tuple[FieldIssue, ...], tuple[Hold, ...]]:
    """The mapped fields' part of the one decision: their changes, issues and holds."""
    d = reconcile(order, odoo, specs, known=last, holds=holds, skip_conflicts=skip_conflicts)
    return d.fields, d.issues, d.held


@pytest.mark.parametrize(
    ("portal", "odoo_state", "changes", "issues"),
    [
        ("pending", "sale", [("status", "pending", "confirmed")], []),
        ("confirmed", "sale", [], []),
        (None, "draft", [("status", None, "pending")], []),
        ("pending", "done", [], [("status", "done", Reason.UNMAPPED)]),
        ("pending", False, [], [("status", "false", Reason.UNMAPPED)]),
    ],
)
def test_each_field_takes_the_map_s_value_or_is_left_alone(
    portal: str | None,
    odoo_state: object,
    changes: list[tuple[str, str | None, str]],
    issues: list[tuple[str, str, Reason]],
) -> None:
    """The map's value for Odoo's is written; Odoo's value without one never is; a field
    already in line, and the other fields, are not touched."""
    found, problems, held = reconcile_fields(
        with_fields(portal), odoo_fields(odoo_state), [STATUS, DELIVERY]
    )
    assert [(c.field, c.old, c.new) for c in found] == changes
    assert [(i.field, i.odoo_value, i.reason) for i in problems] == issues
    assert held == ()


def test_a_field_changed_in_the_portal_is_a_conflict_or_a_drift() -> None:
    """Like the amount: the portal left what orderamt wrote; Odoo changed too (conflict),
    or still says what was written (drift); --on-conflict skip keeps the portal's."""
    last = {"status": Known("confirmed", "confirmed")}
    portal = with_fields("on hold")
    (conflict,), _, _ = reconcile_fields(portal, odoo_fields("cancel"), [STATUS], last=last)
    assert (conflict.new, conflict.contest, conflict.last_written) == (
        "x", Contest.CONFLICT, "confirmed"
    )  # fmt: skip
    (drift,), _, _ = reconcile_fields(portal, odoo_fields("sale"), [STATUS], last=last)
    assert drift.contest is Contest.DRIFT
    none, (kept,), _ = reconcile_fields(
        portal, odoo_fields("sale"), [STATUS], last=last, skip_conflicts=True
    )
    assert (none, kept.reason, kept.portal_value, kept.new) == ((), Reason.DRIFT, "on hold",
                                                                "confirmed")  # fmt: skip


def test_a_held_field_is_kept_until_odoo_changes_it() -> None:
    """A revert's hold on a field: kept while Odoo says the reverted value at the same
    write_date; taken again once Odoo's write_date moves, the stale hold to be released."""
    hold = Hold(1, "confirmed", WRITTEN_AT, 3, field="status")
    portal = with_fields("pending")
    found, _, held = reconcile_fields(portal, odoo_fields("sale"), [STATUS],
                                      holds={"status": hold})  # fmt: skip
    assert (found, held) == ((), (hold,))
    later = OdooTotal(42, "S00042", 1.0, "sale", "USD", "2026-11-25 08:00:00",
                      values={"state": "sale"})  # fmt: skip
    (change,), _, held = reconcile_fields(portal, later, [STATUS], holds={"status": hold})
    assert (change.new, change.hold, held) == ("confirmed", hold, ())


PUSHED = FieldSpec(
    "status", "state", "status",
    (("draft", "pending"), ("sent", "pending"), ("sale", "confirmed"), ("cancel", "cancelled")),
    push=(("cancelled", "cancel"), ("pending", "draft")),
)  # fmt: skip


@pytest.mark.parametrize(
    ("portal", "odoo_state", "seen", "policy", "way"),
    [
        # first sight: a pushed value Odoo does not reflect is pushed; any other is pulled
        ("cancelled", "draft", None, "odoo", ("push", "cancel", None)),
        ("cancelled", "sale", None, "odoo", ("push", "cancel", None)),
        ("confirmed", "draft", None, "odoo", ("pull", "pending", None)),
        ("pending", "sale", None, "odoo", ("pull", "confirmed", None)),  # draft acts on cancel
        ("pending", "cancel", None, "odoo", ("push", "draft", None)),
        ("cancelled", "cancel", None, "odoo", ("none", None, None)),  # both agree
        # with history: only the portal moved, push; only Odoo, pull; neither, nothing
        ("cancelled", "draft", ("pending", "pending"), "odoo", ("push", "cancel", None)),
        ("pending", "sale", ("pending", "pending"), "odoo", ("pull", "confirmed", None)),
        ("cancelled", "cancel", ("pending", "pending"), "odoo", ("none", None, None)),
        # both moved: the field's policy, always named
        ("cancelled", "sale", ("pending", "pending"), "odoo",
         ("pull", "confirmed", Contest.CONFLICT)),
        ("cancelled", "sale", ("pending", "pending"), "portal",
         ("push", "cancel", Contest.CONFLICT)),
        ("cancelled", "sale", ("pending", "pending"), "flag", ("flag", "confirmed", None)),
    ],
)  # fmt: skip
def test_a_pushed_field_goes_the_way_its_last_sight_says(
    portal: str,
    odoo_state: str,
    seen: tuple[str, str] | None,
    policy: FieldPolicy,
    way: tuple[str, str | None, Contest | None],
) -> None:
    """Per field: on first sight a pushed value Odoo does not reflect is pushed (a
    cancellation is never overwritten); then the side that moved since orderamt last saw the
    field wins, and where both moved the field's policy decides, named as a conflict."""
    spec = replace(PUSHED, on_conflict=policy)
    last = None if seen is None else {"status": Known(*seen)}
    d = reconcile(with_fields(portal), odoo_fields(odoo_state), [spec], known=last)
    kind, value, contested = way
    if kind == "push":
        (push,) = d.pushes
        assert (push.action, push.portal, push.odoo_old, push.contest) == (
            value, portal, odoo_state, contested
        )  # fmt: skip
        assert (d.fields, d.issues) == ((), ())
    elif kind == "pull":
        (change,) = d.fields
        assert (change.new, change.contest, d.pushes) == (value, contested, ())
    elif kind == "flag":
        (issue,) = d.issues
        assert (issue.reason, issue.portal_value, issue.new) == (Reason.FLAGGED, portal, value)
        assert (d.fields, d.pushes) == ((), ())
        assert d.needs_look
    else:
        assert (d.fields, d.issues, d.pushes) == ((), (), ())
    assert d.writes is (kind in ("push", "pull"))


def test_the_amount_is_never_pushed() -> None:
    """A pushed status leaves the amount to its own rule: Odoo's amount is taken."""
    d = reconcile(with_fields("cancelled"), odoo_fields("draft"), [PUSHED])
    assert (d.action, d.new_amount, [p.field for p in d.pushes]) == (
        Action.UNCHANGED, None, ["status"]
    )  # fmt: skip


PO = FieldSpec("po", "client_order_ref", "po_number", (), push=(("*", "write"),), kind="text")


@pytest.mark.parametrize(
    ("portal", "odoo_ref", "seen", "way"),
    [
        ("PO-7", False, None, ("push", "PO-7")),  # first sight: the portal's PO goes to Odoo
        (None, "PO-1", None, ("pull", "PO-1")),  # an empty portal value declares nothing
        ("PO-7", "PO-1", ("PO-1", "PO-1"), ("push", "PO-7")),  # only the portal moved
        (None, "PO-1", ("PO-1", "PO-1"), ("push", None)),  # cleared in the portal: cleared
        ("PO-1", "PO-2", ("PO-1", "PO-1"), ("pull", "PO-2")),  # only Odoo moved
        ("PO-1", "PO-1", None, ("none", None)),
    ],
)
def test_a_plain_field_the_portal_owns_is_written_to_odoo(
    portal: str | None, odoo_ref: object, seen: tuple[str, str] | None, way: tuple[str, str | None]
) -> None:
    """A plain field goes the same way as the status, its push being Odoo's `write` of the
    portal's value (NULL clears Odoo's)."""
    order = PortalOrder(1, "SO-1", Decimal("1.00"), 42, values={"po": portal})
    total = OdooTotal(42, "S00042", 1.0, "sale", "USD", WRITTEN_AT,
                      values={"client_order_ref": odoo_ref})  # fmt: skip
    last = None if seen is None else {"po": Known(*seen)}
    d = reconcile(order, total, [PO], known=last)
    kind, value = way
    if kind == "push":
        (push,) = d.pushes
        assert (push.action, push.odoo_field, push.odoo_new, push.portal) == (
            "write", "client_order_ref", value, portal
        )  # fmt: skip
    elif kind == "pull":
        (change,) = d.fields
        assert (change.old, change.new) == (portal, value)
    else:
        assert (d.fields, d.pushes) == ((), ())


def test_a_datetime_field_is_compared_as_a_time_and_moved_between_zones() -> None:
    """commitment_date: Odoo's naive UTC is the portal's naive local time; the column's
    text with microseconds is the same time; a push writes UTC."""
    spec = FieldSpec("delivery", "commitment_date", "requested_at", (), push=(("*", "write"),),
                     kind="datetime", zone="Asia/Tokyo")  # fmt: skip
    assert spec.from_odoo("2030-01-15 10:30:00") == "2030-01-15 19:30:00"
    assert spec.to_odoo("2030-01-15 19:30:00") == "2030-01-15 10:30:00"
    assert spec.same("2030-01-15 19:30:00.000000", "2030-01-15 19:30:00")
    order = PortalOrder(1, "SO-1", Decimal("1.00"), 42, values={"delivery": "2030-01-16 09:00:00"})
    total = OdooTotal(42, "S00042", 1.0, "sale", "USD", WRITTEN_AT,
                      values={"commitment_date": "2030-01-15 10:30:00"})  # fmt: skip
    last = {"delivery": Known("2030-01-15 19:30:00", "2030-01-15 19:30:00")}
    (push,) = reconcile(order, total, [spec], known=last).pushes
    assert (push.odoo_old, push.odoo_new) == ("2030-01-15 10:30:00", "2030-01-16 00:00:00")
