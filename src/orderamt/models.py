"""The values that flow between the layers: plain frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum


@dataclass(frozen=True, slots=True)
class PortalOrder:
    """One row of the portal's orders table, as read."""

    id: int
    number: str
    amount: Decimal | None
    odoo_ref: object
    """The Odoo id column exactly as stored: an int, a string such as '  42 ', or junk."""
    updated_at: datetime | None = None
    """As read, where the table has the column: what a revert puts back."""


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


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one portal order, and why."""

    order: PortalOrder
    action: Action
    new_amount: Decimal | None = None
    reason: Reason | None = None
    detail: str = ""
    """For skips: the offending value, shown to the user."""
    currency: str | None = None
    conflict: bool = False
    """Both systems changed the amount; `detail` holds what orderamt last wrote."""
    write_date: str | None = None
    """Odoo's write_date of the sale order, for the journal."""


@dataclass(frozen=True, slots=True)
class Change:
    """An amount to write over what was read, and what the journal keeps of it."""

    order: PortalOrder
    new_amount: Decimal | None
    odoo_id: str | None = None
    write_date: str | None = None
    conflict: bool = False
    restore_updated_at: bool = False
    """A revert puts `updated_at` back to `updated_at` below instead of bumping it to now."""
    updated_at: datetime | None = None


class Mode(Enum):
    RECENT = "recent"
    ALL = "all"
    ONE = "one"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which portal orders a run looks at."""

    mode: Mode
    since: datetime | None = None
    days: int | None = None
    order_id: int | None = None


@dataclass(slots=True)
class RunCounts:
    """A run's tally; `skipped` orders are the ones that need a human."""

    found: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def synced(self) -> int:
        return self.updated + self.unchanged + self.skipped

    def add(self, decision: Decision) -> None:
        if decision.action is Action.UPDATE:
            self.updated += 1
        elif decision.action is Action.UNCHANGED:
            self.unchanged += 1
        else:
            self.skipped += 1
