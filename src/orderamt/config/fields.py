"""Field maps: Odoo fields synced to portal columns (ORDERAMT_<NAME>_MAP, PORTAL_COL_<NAME>,
ORDERAMT_<NAME>_FIELD)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from orderamt.config.collector import Collector
from orderamt.models import PLAIN_FIELDS, PUSH_ACTIONS, WRITE, FieldPolicy, FieldSpec

KNOWN_FIELDS = {
    "STATUS": "state",
    "INVOICE_STATUS": "invoice_status",
    "DELIVERY_STATUS": "delivery_status",
}
"""The Odoo field a mapped field reads unless ORDERAMT_<NAME>_FIELD names another."""
_BUILTIN_COLUMNS = frozenset(
    {"ID", "NUMBER", "AMOUNT", "ODOO_ID", "CREATED", "UPDATED", "CURRENCY"}
)


_FIELD_SETTINGS = (
    ("ORDERAMT_", "_MAP"),
    ("ORDERAMT_", "_FIELD"),
    ("ORDERAMT_", "_PUSH"),
    ("ORDERAMT_", "_ON_CONFLICT"),
    ("PORTAL_COL_", ""),
)


def field_name(setting: str) -> str | None:
    """The mapped field a setting belongs to (ORDERAMT_STATUS_MAP, ORDERAMT_STATUS_FIELD,
    PORTAL_COL_STATUS: "STATUS"), or None."""
    for prefix, suffix in _FIELD_SETTINGS:
        if setting.startswith(prefix) and setting.endswith(suffix):
            name = setting[len(prefix) : len(setting) - len(suffix)]
            if name and (prefix != "PORTAL_COL_" or name not in _BUILTIN_COLUMNS):
                return name
    return None


def read_fields(
    c: Collector, values: Mapping[str, str], zone: str = "UTC"
) -> tuple[FieldSpec, ...]:
    """Each mapped field: ORDERAMT_<NAME>_MAP (Odoo value:portal value, comma-separated),
    PORTAL_COL_<NAME> (default: the name in lower case) and, for a field other than
    STATUS, INVOICE_STATUS and DELIVERY_STATUS, ORDERAMT_<NAME>_FIELD."""
    names = sorted({n for n in (field_name(k) for k in values if values[k].strip()) if n})
    specs = []
    for name in names:
        raw_map = values.get(f"ORDERAMT_{name}_MAP", "").strip()
        plain = values.get(f"ORDERAMT_{name}_FIELD", "").strip()
        if not raw_map and plain in PLAIN_FIELDS:
            specs.append(_plain(c, name, plain, values, zone))
            continue
        if not raw_map:
            others = (f"PORTAL_COL_{name}", f"ORDERAMT_{name}_FIELD", f"ORDERAMT_{name}_PUSH",
                      f"ORDERAMT_{name}_ON_CONFLICT")  # fmt: skip
            set_ = [k for k in others if k in values]
            c.problems.append(
                f"{' and '.join(set_)} set, but ORDERAMT_{name}_MAP is not (only "
                f"{', '.join(PLAIN_FIELDS)} are copied without a map)"
            )
            continue
        odoo_field = values.get(f"ORDERAMT_{name}_FIELD", "").strip() or KNOWN_FIELDS.get(name)
        if not odoo_field:
            c.problems.append(
                f"ORDERAMT_{name}_FIELD is not set (the Odoo field of ORDERAMT_{name}_MAP; "
                f"known without it: {', '.join(KNOWN_FIELDS)})"
            )
            continue
        mapping = _mapping(c, f"ORDERAMT_{name}_MAP", raw_map)
        column_ = values.get(f"PORTAL_COL_{name}", "").strip() or name.lower()
        push = _push(c, name, odoo_field, mapping, values.get(f"ORDERAMT_{name}_PUSH", ""))
        policy = _policy(c, name, push, values.get(f"ORDERAMT_{name}_ON_CONFLICT", ""))
        specs.append(FieldSpec(name.lower(), odoo_field, column_, mapping, push, policy))
    return tuple(specs)


def _plain(
    c: Collector, name: str, odoo_field: str, values: Mapping[str, str], zone: str
) -> FieldSpec:
    """A plain field (ORDERAMT_<NAME>_FIELD=client_order_ref, note, commitment_date; no map,
    a datetime in the portal's `zone`): the column
    holds Odoo's value as it is; ORDERAMT_<NAME>_PUSH=write makes it the portal's."""
    raw = values.get(f"ORDERAMT_{name}_PUSH", "").strip().lower()
    push: tuple[tuple[str, str], ...] = ()
    if raw == WRITE:
        push = (("*", WRITE),)
    elif raw:
        c.problems.append(
            f"ORDERAMT_{name}_PUSH of a plain field ({odoo_field}) must be {WRITE}, got {raw!r}"
        )
    policy = _policy(c, name, push, values.get(f"ORDERAMT_{name}_ON_CONFLICT", ""))
    column_ = values.get(f"PORTAL_COL_{name}", "").strip() or name.lower()
    return FieldSpec(
        name.lower(), odoo_field, column_, (), push, policy, kind=PLAIN_FIELDS[odoo_field],
        zone=zone,
    )  # fmt: skip


def _push(
    c: Collector, name: str, odoo_field: str, mapping: tuple[tuple[str, str], ...], raw: str
) -> tuple[tuple[str, str], ...]:
    """ORDERAMT_<NAME>_PUSH: portal_value:action pairs, for the status only (the Odoo field
    `state`); each action's state must map back to the portal value it is pushed for, so
    that once Odoo has taken it both sides agree."""
    setting = f"ORDERAMT_{name}_PUSH"
    if not raw.strip():
        return ()
    if odoo_field != "state":
        c.problems.append(
            f"{setting}: only the status (Odoo's field state) can be pushed, not {odoo_field!r}"
        )
        return ()
    pairs: dict[str, str] = {}
    to_portal = dict(mapping)
    for item in raw.split(","):
        if not item.strip():
            continue
        portal, colon, action = (part.strip() for part in item.partition(":"))
        if not colon or not portal or action not in PUSH_ACTIONS:
            c.problems.append(
                f"{setting} must be portal_value:action pairs separated by commas, the action "
                f"one of {', '.join(PUSH_ACTIONS)} (e.g. cancelled:cancel), got {item.strip()!r}"
            )
            continue
        if portal in pairs:
            c.problems.append(f"{setting} pushes the portal's {portal!r} twice")
            continue
        state = PUSH_ACTIONS[action]
        if to_portal and to_portal.get(state) != portal:
            c.problems.append(
                f"{setting}: {portal}:{action} leaves Odoo's state {state!r}, which "
                f"ORDERAMT_{name}_MAP maps to {to_portal.get(state)!r}, not {portal!r}"
            )
            continue
        pairs[portal] = action
    return tuple(pairs.items())


def _policy(c: Collector, name: str, push: tuple[tuple[str, str], ...], raw: str) -> FieldPolicy:
    """ORDERAMT_<NAME>_ON_CONFLICT: odoo (the default), portal or flag; for a pushed field."""
    setting = f"ORDERAMT_{name}_ON_CONFLICT"
    value = raw.strip().lower()
    if not value:
        return "odoo"
    choices = get_args(FieldPolicy)
    if value not in choices:
        c.problems.append(f"{setting} must be one of {', '.join(choices)}, got {value!r}")
        return "odoo"
    if not push:
        c.problems.append(f"{setting} is set, but ORDERAMT_{name}_PUSH is not (nothing is pushed)")
    policy: FieldPolicy = value  # type: ignore[assignment]
    return policy


def _mapping(c: Collector, setting: str, raw: str) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        odoo, colon, portal = (part.strip() for part in item.partition(":"))
        if not item.strip():
            continue
        if not colon or not odoo or not portal:
            c.problems.append(
                f"{setting} must be odoo_value:portal_value pairs separated by commas "
                f"(e.g. draft:pending,sale:confirmed), got {item.strip()!r}"
            )
            return ()
        if odoo in pairs:
            c.problems.append(f"{setting} maps Odoo's {odoo!r} twice")
            return ()
        pairs[odoo] = portal
    return tuple(pairs.items())
