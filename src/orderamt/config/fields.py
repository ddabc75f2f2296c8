"""Field maps: Odoo fields synced to portal columns (ORDERAMT_<NAME>_MAP, PORTAL_COL_<NAME>,
ORDERAMT_<NAME>_FIELD)."""

from __future__ import annotations

from collections.abc import Mapping

from orderamt.config.collector import Collector
from orderamt.models import FieldSpec

KNOWN_FIELDS = {
    "STATUS": "state",
    "INVOICE_STATUS": "invoice_status",
    "DELIVERY_STATUS": "delivery_status",
}
"""The Odoo field a mapped field reads unless ORDERAMT_<NAME>_FIELD names another."""
_BUILTIN_COLUMNS = frozenset(
    {"ID", "NUMBER", "AMOUNT", "ODOO_ID", "CREATED", "UPDATED", "CURRENCY"}
)


def field_name(setting: str) -> str | None:
    """The mapped field a setting belongs to (ORDERAMT_STATUS_MAP, ORDERAMT_STATUS_FIELD,
    PORTAL_COL_STATUS: "STATUS"), or None."""
    for prefix, suffix in (("ORDERAMT_", "_MAP"), ("ORDERAMT_", "_FIELD"), ("PORTAL_COL_", "")):
        if setting.startswith(prefix) and setting.endswith(suffix):
            name = setting[len(prefix) : len(setting) - len(suffix)]
            if name and (prefix != "PORTAL_COL_" or name not in _BUILTIN_COLUMNS):
                return name
    return None


def read_fields(c: Collector, values: Mapping[str, str]) -> tuple[FieldSpec, ...]:
    """Each mapped field: ORDERAMT_<NAME>_MAP (Odoo value:portal value, comma-separated),
    PORTAL_COL_<NAME> (default: the name in lower case) and, for a field other than
    STATUS, INVOICE_STATUS and DELIVERY_STATUS, ORDERAMT_<NAME>_FIELD."""
    names = sorted({n for n in (field_name(k) for k in values if values[k].strip()) if n})
    specs = []
    for name in names:
        raw_map = values.get(f"ORDERAMT_{name}_MAP", "").strip()
        if not raw_map:
            set_ = [k for k in (f"PORTAL_COL_{name}", f"ORDERAMT_{name}_FIELD") if k in values]
            c.problems.append(f"{' and '.join(set_)} set, but ORDERAMT_{name}_MAP is not")
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
        specs.append(FieldSpec(name.lower(), odoo_field, column_, mapping))
    return tuple(specs)


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
