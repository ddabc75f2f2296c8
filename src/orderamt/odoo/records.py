"""Sale order records as Odoo sends them (over any transport), checked and turned into models."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from orderamt.errors import OdooError
from orderamt.models import ODOO_MODULE_OF_FIELD, Cursor, OdooTotal
from orderamt.times import odoo_time, parse_odoo_time

FIELDS = ["name", "amount_total", "state", "currency_id", "write_date"]


def fields_to_read(extra: Sequence[str]) -> list[str]:
    """The fields every read asks for, and the mapped fields' own (once each)."""
    return list(dict.fromkeys([*FIELDS, *extra]))


_INVALID_FIELD = re.compile(r"Invalid field '?([\w.]+?)'? (?:on |in )")


def missing_field_error(message: str, extra: Sequence[str]) -> OdooError | None:
    """Odoo's "Invalid field" answer for a mapped field, as what to do about it: the field
    comes with a module the server lacks (delivery_status with sale_stock), or is misspelt."""
    found = _INVALID_FIELD.search(message)
    if found is None:
        return None
    name = found.group(1).rsplit(".", 1)[-1]
    if name not in extra:
        return None
    module = ODOO_MODULE_OF_FIELD.get(name)
    fix = (
        f"install the Odoo module {module}, or stop mapping it"
        if module
        else "check the ORDERAMT_<NAME>_FIELD that names it"
    )
    return OdooError(f"Odoo's sale.order has no field '{name}': {fix}")


def parse_records(
    answer: object, asked: Collection[int], extra: Sequence[str] = ()
) -> dict[int, OdooTotal]:
    """Odoo's search_read answer as totals by id; anything that is not a record list is refused.

    Ids Odoo does not know are simply absent, as Odoo leaves them out. A record's amount is
    passed on as sent, for the rule to judge; a record without a usable id is unusable.
    """
    return {total.id: total for total in parse_record_list(answer, extra) if total.id in asked}


def parse_record_list(answer: object, extra: Sequence[str] = ()) -> list[OdooTotal]:
    """Odoo's search_read answer as totals, in the order Odoo sent them."""
    if not isinstance(answer, list):
        raise OdooError(
            f"Odoo answered search_read with {type(answer).__name__}, not a list of records"
        )
    totals: list[OdooTotal] = []
    for record in answer:
        if not isinstance(record, dict):
            raise OdooError(
                f"Odoo answered search_read with a record that is not a struct: "
                f"{str(record)[:80]!r}"
            )
        record_id = record.get("id")
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise OdooError(
                f"Odoo answered search_read with a record without an id: {str(record)[:80]!r}"
            )
        totals.append(
            OdooTotal(
                id=record_id,
                name=_text(record.get("name")) or "",
                amount_total=record.get("amount_total"),
                state=_text(record.get("state")) or "",
                currency=_many2one_name(record.get("currency_id")),
                write_date=_text(record.get("write_date")),
                values={name: record.get(name, False) for name in extra} if extra else {},
            )
        )
    return totals


CHANGED_ORDER = "write_date asc, id asc"
ONE_SECOND_ORDER = "id asc"


def changed_query(since: str, after: Cursor | None) -> tuple[list[Any], str]:
    """The domain and order of a page of changed sale orders: written at or after `since`;
    then the rest of one second by id (`after.within`), or from the second after it.

    Only `>=` and `<` on whole seconds, which 17.0, 18.0 and 19.0 answer alike: 18.0 compares
    its stored microseconds, so `=` on a second matches nothing there and `>` matches the
    same second again; a keyset of (write_date, id) would never leave a full second.
    """
    if after is None:
        return [("write_date", ">=", since)], CHANGED_ORDER
    following = odoo_time(parse_odoo_time(after.second) + timedelta(seconds=1))
    if not after.within:
        return [("write_date", ">=", following)], CHANGED_ORDER
    return [
        ("write_date", ">=", after.second),
        ("write_date", "<", following),
        ("id", ">", after.after_id),
    ], ONE_SECOND_ORDER


def _text(value: object) -> str | None:
    """Odoo sends False, never None, for an empty char or date field."""
    return value if isinstance(value, str) else None


def _many2one_name(value: object) -> str | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        return value[1]
    return None


def record_dicts(answer: object, what: str) -> list[dict[str, Any]]:
    """A search_read answer of any model: a list of structs, or an error."""
    if not isinstance(answer, list) or not all(isinstance(r, dict) for r in answer):
        raise OdooError(f"Odoo answered {what} with something that is not a list of records")
    return answer


def created_id(answer: object, what: str) -> int:
    """What `create` answers: an id (a dict was sent) or a list of one (a list was)."""
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise OdooError(f"Odoo answered {what} with something that is not an id: {answer!r:.40}")
    return answer


def summary(text: str) -> str:
    """One line a user can act on: a traceback's exception line, or a message's first line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]
