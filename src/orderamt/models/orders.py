"""An order as each side holds it, and what a run decides for it: the portal's row, Odoo's
answer, a decision with typed fields, the changes it writes and the pushes it makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from orderamt.models.fields import AMOUNT, Value


@dataclass(frozen=True, slots=True)
class PortalOrder:
    """One row of the portal's orders table, as read."""

    id: int
    number: str
    amount: Decimal | None
    """Exactly as stored, at the column's scale; NaN when the column holds no number."""
    odoo_ref: object
    """The Odoo id column exactly as stored: an int, a string such as '  42 ', or junk."""
    updated_at: datetime | None = None
    """As read, where the table has the column: what a revert puts back."""
    currency: str | None = None
    """The currency of `amount` where the portal says (PORTAL_CURRENCY, PORTAL_COL_CURRENCY)."""
    values: Mapping[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    """Each mapped field's column as read (by field name, e.g. "status"), as text."""


@dataclass(frozen=True, slots=True)
class OdooTotal:
    """What Odoo says about one sale order."""

    id: int
    name: str
    amount_total: object
    """As Odoo sent it: normally a float; anything else is judged by reconcile."""
    state: str
    currency: str | None
    write_date: str | None
    values: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)
    """The mapped fields as Odoo sent them, by Odoo field name (a selection's text, or False)."""


class Action(Enum):
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"


class Reason(Enum):
    """Why an order was left alone; each has its own line in the report."""

    SAME_AMOUNT = "same_amount"
    ZERO_IN_ODOO = "zero_in_odoo"
    NOT_IN_ODOO = "not_in_odoo"
    BAD_ODOO_AMOUNT = "bad_odoo_amount"
    BAD_ODOO_ID = "bad_odoo_id"
    TOO_LARGE = "too_large"
    CHANGED_IN_PORTAL = "changed_in_portal"
    BAD_PORTAL_AMOUNT = "bad_portal_amount"
    """The portal's amount column holds something that is not a number."""
    CHANGED_SINCE = "changed_since"
    """A revert found the row no longer holding what the reverted run wrote."""
    CONFLICT = "conflict"
    """Changed in the portal since orderamt last wrote it, and changed in Odoo too."""
    DRIFT = "drift"
    """Changed in the portal since orderamt last wrote it, while Odoo did not change."""
    HELD = "held"
    """A revert put the portal's amount back; Odoo still says what was reverted."""
    CURRENCY = "currency"
    """Odoo's order is in another currency than the portal's amount."""
    UNMAPPED = "unmapped"
    """A mapped field: Odoo's value has no portal value in the map."""
    FLAGGED = "flagged"
    """A pushed field both sides changed, left as it is on both (its ON_CONFLICT is flag)."""
    PUSH_REFUSED = "push_refused"
    """Odoo refused the portal's change (a locked order, missing rights): the portal keeps it."""


class Contest(Enum):
    """How the portal's amount came to differ from what orderamt last wrote to it."""

    CONFLICT = "conflict"
    """Both sides changed since orderamt wrote."""
    DRIFT = "drift"
    """The portal changed; Odoo still says what orderamt wrote."""


@dataclass(frozen=True, slots=True)
class Known:
    """What the journal knows of one field of an order: the value orderamt last wrote, and
    the one a sync (not a revert) last wrote, which is what Odoo said."""

    value: Value
    odoo_value: Value = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A reverted change kept from coming back: while Odoo still says `value` for `field` at
    `odoo_write_date`, the sync leaves it alone."""

    order_id: int
    value: Value
    """The value the revert took back (what the reverted run wrote)."""
    odoo_write_date: str | None
    reverted_run: int
    revert_run: int | None = None
    held_at: datetime | None = None
    released_at: datetime | None = None
    released_why: str | None = None
    field: str = AMOUNT


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One mapped field of an order to write: the portal's value read, and Odoo's mapped."""

    field: str
    old: Value
    new: Value
    """None only where a revert puts back a column that was NULL."""
    contest: Contest | None = None
    """The portal changed the field since orderamt wrote it (with Odoo, or alone)."""
    last_written: Value = None
    hold: Hold | None = None
    """The stale hold this change releases."""


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """A mapped field left alone for a reason that needs a look (an Odoo value the map
    lacks, or a contest under --on-conflict skip)."""

    field: str
    odoo_value: str
    reason: Reason
    portal_value: str | None = None
    last_written: str | None = None
    new: str | None = None
    """For a contest: the map's value for Odoo's, which was not written."""
    detail: str | None = None
    """For a refused push: the action and Odoo's own words."""


@dataclass(frozen=True, slots=True)
class Push:
    """One field of an order the portal changed, to go back to Odoo as an action."""

    field: str
    portal: str | None
    """The portal's value, which stays as it is (NULL: a plain field cleared)."""
    action: str
    """The Odoo action (PUSH_ACTIONS): cancel, draft."""
    odoo_old: str | None
    """Odoo's value before, as Odoo spells it ("draft"; None: a plain field without one)."""
    odoo_new: str | None
    """Odoo's value the action leaves ("cancel"), or a plain field's value written."""
    odoo_field: str = "state"
    """The sale.order field: what `write` writes (a plain field), or what the action sets."""
    contest: Contest | None = None
    """CONFLICT: Odoo changed it too, and the portal wins (ORDERAMT_<NAME>_ON_CONFLICT=portal)."""
    last_seen: Value = None
    """What both sides said when orderamt last saw the field (a conflict's)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one portal order, and why, with each fact in a field of its own."""

    order: PortalOrder
    action: Action
    new_amount: Decimal | None = None
    """The amount to write (an update), or Odoo's amount that was not written (a skip)."""
    reason: Reason | None = None
    currency: str | None = None
    odoo_id: int | None = None
    """The sale order's id, where the portal's column holds a usable one."""
    bad_value: str | None = None
    """For BAD_ODOO_ID and BAD_ODOO_AMOUNT: the offending value as the user should see it."""
    largest: Decimal | None = None
    """For TOO_LARGE: the largest amount the portal's column holds."""
    last_written: Decimal | None = None
    """For a contest: what orderamt last wrote to the order, which the portal changed since."""
    contest: Contest | None = None
    """The portal changed the amount since orderamt wrote it: with Odoo (a conflict), or alone."""
    write_date: str | None = None
    """Odoo's write_date of the sale order, for the journal and for holds."""
    hold: Hold | None = None
    """HELD: the hold that keeps the order; an update: the stale hold it releases."""
    odoo_currency: str | None = None
    """CURRENCY: Odoo's currency, which the portal's (`currency`) is not."""
    fields: tuple[FieldChange, ...] = ()
    """The mapped fields to write (written, once the decision is confirmed)."""
    issues: tuple[FieldIssue, ...] = ()
    """The mapped fields left alone that need a look."""
    held: tuple[Hold, ...] = ()
    """The mapped fields a revert's hold keeps (Odoo still says what was reverted)."""
    pushes: tuple[Push, ...] = ()
    """The fields whose portal value goes back to Odoo (done, once the decision is confirmed)."""

    @property
    def conflict(self) -> bool:
        """The portal's own edit is overwritten (or, skipped, kept): a conflict or a drift."""
        return self.contest is not None

    @property
    def writes(self) -> bool:
        """Something is written: the amount, a mapped field, or a field pushed to Odoo."""
        return self.action is Action.UPDATE or bool(self.fields) or bool(self.pushes)

    @property
    def amount_change(self) -> FieldChange | None:
        """The amount as one more field to write: what was read, and what goes in."""
        if self.action is not Action.UPDATE:
            return None
        return FieldChange(AMOUNT, self.order.amount, self.new_amount, contest=self.contest,
                           last_written=self.last_written, hold=self.hold)  # fmt: skip

    @property
    def field_changes(self) -> tuple[FieldChange, ...]:
        """Every field this decision writes, the mapped ones and then the amount."""
        amount = self.amount_change
        return self.fields if amount is None else (*self.fields, amount)

    @property
    def needs_look(self) -> bool:
        """The amount was skipped, or a mapped field was left alone for a reason."""
        return self.action is Action.SKIP or bool(self.issues)


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an order to write over what was read, and what the journal keeps of it."""

    order: PortalOrder
    field: str
    """AMOUNT, or a mapped field's name."""
    old: Value
    """What was read: the column is written only while it still holds this."""
    new: Value
    odoo_id: str | None = None
    write_date: str | None = None
    conflict: bool = False
    place_hold: Hold | None = None
    """A revert: the hold to place once this is written."""
    release_hold: str | None = None
    """Why the field's hold ends once this is written (Odoo changed; its revert undone)."""
    push: Push | None = None
    """A push Odoo took: nothing is written to the portal (old and new are its value); the
    journal keeps it with Odoo's values before and after."""
