"""The values a field of an order takes on its way between Odoo and the portal: how a
mapped or plain field is spelled on each side (FieldSpec), which actions push it, and the
amount's own name as a field."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

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


AMOUNT = "amount"
"""The amount's name as a field: the one field of money kind (`revert --field amount`); every
other field is a mapped one of text kind (FieldSpec)."""

Value: TypeAlias = "Decimal | str | None"
"""A field's value: a Decimal for the amount, text for a mapped field (None: NULL)."""
