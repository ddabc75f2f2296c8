"""The values that flow between the layers: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import ClassVar, Literal, TypeAlias
from zoneinfo import ZoneInfo


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


FieldPolicy: TypeAlias = Literal["odoo", "portal", "flag"]
"""Who wins a pushed field both sides changed: Odoo (pulled over the portal's, named), the
portal (pushed over Odoo's, named), or neither (both left, flagged for a look)."""

PUSH_ACTIONS = {"cancel": "cancel", "draft": "draft"}
"""The Odoo actions a status push may make (ORDERAMT_STATUS_PUSH), and the sale order state
each leaves: `cancel` calls action_cancel, `draft` action_draft (back to quotation)."""

PLAIN_FIELDS = {"client_order_ref": "text", "note": "html", "commitment_date": "datetime"}
"""The sale.order fields a portal column may hold as they are, without a map (a customer's
PO number, the order's note, a requested delivery date), and their kind: `html` is an
Html field, which Odoo keeps as `<p>text</p>` and which the portal's column holds as the
text; `datetime` is Odoo's naive UTC 'YYYY-MM-DD HH:MM:SS' (the only form Odoo takes),
which the portal's DATETIME column holds as a naive time in the portal's zone."""

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"

WRITE = "write"
"""The push action of a plain field (ORDERAMT_<NAME>_PUSH=write): Odoo's `write`."""

PUSH_FROM = {"draft": ("cancel",)}
"""The states an action acts on, where not every one: Odoo's action_draft leaves any order
but a cancelled (or sent) one as it is, and a sent one is a quotation already."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One Odoo field synced to a portal column through a map of values (ORDERAMT_<NAME>_MAP).

    `name` is the setting's name in lower case ("status" for ORDERAMT_STATUS_MAP): the
    journal, the report and the log call the field by it.
    """

    name: str
    odoo_field: str
    column: str
    mapping: tuple[tuple[str, str], ...]
    """(Odoo's value, the portal's value) pairs; Odoo's False is spelled "false"."""
    push: tuple[tuple[str, str], ...] = ()
    """(the portal's value, the Odoo action that makes it Odoo's) pairs (ORDERAMT_<NAME>_PUSH):
    the portal's changes to these values go back to Odoo. Empty: the field is only pulled."""
    on_conflict: FieldPolicy = "odoo"
    """Both sides changed a pushed field since orderamt last saw it: who wins."""
    kind: str = "map"
    """"map" (Odoo's value through `mapping`), or a plain field's kind (PLAIN_FIELDS)."""
    zone: str = "UTC"
    """A datetime field's portal zone (PORTAL_TIMEZONE)."""
    _lookup: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _actions: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", dict(self.mapping))
        object.__setattr__(self, "_actions", dict(self.push))

    def portal_value(self, odoo_value: str) -> str | None:
        """The portal's value for Odoo's, or None where the map has none."""
        return self._lookup.get(odoo_value)

    def push_action(self, portal_value: str | None) -> str | None:
        """The Odoo action that makes this portal value Odoo's, where it is pushed: a plain
        field's every value (an empty one clears Odoo's), a mapped one's listed values."""
        if self.kind != "map":
            return WRITE if self.push else None
        return None if portal_value is None else self._actions.get(portal_value)

    def to_odoo(self, portal: str | None) -> str | None:
        """What Odoo's `write` takes for the portal's value: a datetime in UTC."""
        if portal is None or self.kind != "datetime":
            return portal
        return self._moved(portal, ZoneInfo(self.zone), ZoneInfo("UTC"))

    def same(self, portal: str | None, odoo_form: str | None) -> bool:
        """The portal's value and Odoo's (in the portal's form) are one: a datetime as a
        time (the column's text may show microseconds, or a date alone)."""
        if self.kind != "datetime" or portal is None or odoo_form is None:
            return portal == odoo_form
        return self._moved(portal, ZoneInfo(self.zone), ZoneInfo(self.zone)) == odoo_form

    @staticmethod
    def _moved(text: str, source: ZoneInfo, target: ZoneInfo) -> str:
        """A naive 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' read in one zone, written in another, to
        the second (text that is no time is kept as it is, to be named where it is used)."""
        try:
            moment = datetime.fromisoformat(text.strip().replace("T", " "))
        except ValueError:
            return text
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=source)
        return moment.astimezone(target).strftime(ODOO_DATETIME)

    def from_odoo(self, raw: object) -> str | None:
        """A plain field's portal value for Odoo's: as it is, an Html field's text without
        its one paragraph (entities undone); Odoo's False is NULL."""
        if raw is False or raw is None:
            return None
        text = str(raw)
        if self.kind == "datetime":
            return self._moved(text, ZoneInfo("UTC"), ZoneInfo(self.zone))
        if self.kind == "html":
            inner = _PARAGRAPH.fullmatch(text.strip())
            if inner is not None and "<" not in inner.group(1):
                return html.unescape(inner.group(1))
        return text

    @property
    def portal_values(self) -> tuple[str, ...]:
        """Every value the portal column must be able to hold."""
        return tuple(dict.fromkeys(portal for _, portal in self.mapping))


_PARAGRAPH = re.compile(r"<p>(.*)</p>", re.DOTALL)

ODOO_MODULE_OF_FIELD = {"delivery_status": "sale_stock"}
"""The Odoo module that adds a sale order field which a bare `sale` lacks."""


def odoo_text(value: object) -> str:
    """An Odoo value as a map spells it: False (no value, or a boolean's false) is "false",
    a boolean's True "true"."""
    if value is False or value is None:
        return "false"
    if value is True:
        return "true"
    return str(value)


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


AMOUNT = "amount"
"""The amount's name as a field: the one field of money kind (`revert --field amount`); every
other field is a mapped one of text kind (FieldSpec)."""

Value: TypeAlias = "Decimal | str | None"
"""A field's value: a Decimal for the amount, text for a mapped field (None: NULL)."""


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


class Mode(Enum):
    RECENT = "recent"
    ALL = "all"
    ONE = "one"
    CHANGED = "changed"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Recent:
    """Orders created since `since`, the start of a window of `days` days."""

    mode: ClassVar[Mode] = Mode.RECENT
    since: datetime
    days: int


@dataclass(frozen=True, slots=True)
class Everything:
    """Every order with an Odoo id (a backfill)."""

    mode: ClassVar[Mode] = Mode.ALL


@dataclass(frozen=True, slots=True)
class OneOrder:
    """One order, by its portal id (a spot fix)."""

    mode: ClassVar[Mode] = Mode.ONE
    order_id: int


@dataclass(frozen=True, slots=True)
class Changed:
    """The orders Odoo changed since the checkpoint (less a margin), or, before the first,
    in the last `days` days (a catch-up poll)."""

    mode: ClassVar[Mode] = Mode.CHANGED
    days: int
    margin: timedelta


@dataclass(frozen=True, slots=True)
class OdooOrders:
    """The portal orders of these Odoo sale orders (a webhook batch)."""

    mode: ClassVar[Mode] = Mode.WEBHOOK
    odoo_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a catch-up poll's reading of Odoo stands within one run.

    Odoo returns write_date in whole seconds while 18.0 compares a domain against its stored
    microseconds, so a page never continues with "the same second and a higher id": within
    one second orders are read by id alone (`within`), past it from the next second on.
    """

    second: str
    """Odoo's naive UTC 'YYYY-MM-DD HH:MM:SS'."""
    after_id: int = 0
    within: bool = True
    """True: the orders of `second` with an id above `after_id`; False: from the next second."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far the catch-up poll has read Odoo: the newest (write_date, id) it synced."""

    write_date: str
    """Odoo's naive UTC 'YYYY-MM-DD HH:MM:SS', whole seconds."""
    odoo_id: int
    heartbeat_run: int | None = None
    """The run a quiet poll brings up to date instead of adding one that changed nothing."""

    def key(self) -> tuple[str, int]:
        return (self.write_date, self.odoo_id)


Selection: TypeAlias = "Recent | Everything | OneOrder | Changed | OdooOrders"
"""Which portal orders a run looks at; each kind carries exactly what it needs."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run goes, as the command line and the settings ask: built once where the
    command line is read, handed down whole."""

    batch_size: int
    """Portal orders read, asked of Odoo and written a transaction at a time."""
    dry_run: bool = False
    """Decide everything, write nothing anywhere (no journal, no run record)."""
    skip_conflicts: bool = False
    """--on-conflict skip: an order the portal changed since orderamt wrote it is kept."""
    strict: bool = False
    """--strict: any order that needs a look makes the exit 1, news or not."""


@dataclass(slots=True)
class RunCounts:
    """A tally, counted up as a run goes; `skipped` orders are the ones that need a human."""

    found: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    new_problems: int | None = None
    """Of the skipped, those that are news since the last run (None: not known, a dry run)."""
    pushed: int = 0
    """Fields whose portal value went back to Odoo (of the orders counted updated or skipped)."""

    @property
    def synced(self) -> int:
        return self.updated + self.unchanged + self.skipped

    def add(self, decision: Decision) -> None:
        """Each order in one bucket: one that needs a look is skipped even where a mapped
        field of it was written (the report shows both)."""
        self.pushed += len(decision.pushes)
        if decision.needs_look:
            self.skipped += 1
        elif decision.writes:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One amount orderamt wrote, as the journal keeps it."""

    run_id: int
    order_id: int
    odoo_id: str | None
    order_number: str
    old_amount: Decimal | None
    new_amount: Decimal | None
    odoo_write_date: str | None
    changed_at: datetime
    conflict: bool = False
    old_updated_at: datetime | None = None
    """The row's updated_at before the change (kept for the record: a revert is a write
    and takes the time of now)."""
    field: str | None = None
    """A mapped field's change (None: the amount's), with its values as text."""
    old_value: str | None = None
    new_value: str | None = None
    direction: str | None = None
    """None: a write to the portal (a pull); "push": the portal's value Odoo took (old and
    new are the portal's, `odoo_old` and `odoo_new` Odoo's); "intent": a push about to be
    made, kept until Odoo's answer confirms it (an intent left behind: orderamt stopped)."""
    odoo_old: str | None = None
    odoo_new: str | None = None

    @property
    def name(self) -> str:
        """The field changed: AMOUNT or a mapped field's name."""
        return self.field or AMOUNT

    @property
    def old(self) -> Value:
        return self.old_amount if self.field is None else self.old_value

    @property
    def new(self) -> Value:
        return self.new_amount if self.field is None else self.new_value


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run (a sync or a revert) as the journal's run log keeps it."""

    id: int
    kind: str
    mode: str
    reverts_run: int | None
    started_at: datetime
    finished_at: datetime | None
    found: int | None
    updated: int | None
    unchanged: int | None
    skipped: int | None
    exit_code: int | None
    error: str | None = None
    """The one line a failed run ended with."""
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One part of `orderamt check`: passed, failed (with its exit code) or not tried."""

    label: str
    passed: bool | None
    """None: not tried, because something it needs failed first."""
    detail: str
    exit_code: int = 0
    warning: bool = False
    """Passed, but with something an operator should look at (shown with a warning mark)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """An order that needs a look, as the journal keeps it between runs."""

    order_id: int
    order_number: str
    reason: str
    detail: str | None
    first_run: int
    last_run: int
    seen_at: datetime
    ignored_reason: str | None = None
    ignored_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunOverview:
    """The journal's runs at a glance, for `orderamt status` and the metrics file."""

    last: RunRecord | None = None
    last_success: RunRecord | None = None
    """The newest run that completed (exit 0 or 1, and no error: a run stopped by a bug or
    a full disk exits 1 too, with its error)."""
    last_poll: RunRecord | None = None
    unfinished: tuple[RunRecord, ...] = ()
    """Runs without an end: going now, or killed before they could record one."""
    last_pushed: int = 0
    """Fields the last run pushed to Odoo."""
    last_conflicts: int = 0
    """Fields of the last run's changes that settled a conflict (Odoo's or the portal's won)."""
