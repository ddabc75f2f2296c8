"""sale.order.line in the double: each order has one line, the simplest an order can have.

What a line change does is what live 18.0 and 19.0 did (odoo-facts.md, "Knowing what
changed"; odoo1{8,9}-webhook-steps.json, T2 and T5): writing a line's `price_unit`, on the
line itself or through the order's `order_line` as the form's save does, recomputes the
order's `amount_total`, moves the order's `write_date`, and fires the rules "on save" whose
trigger fields hold `amount_total`, once per order. A locked order refuses it with Odoo's
own words (odoo-facts.md, "Locking only protects order lines").

What is the double's own: the line's id is its order's, its quantity 1 and it bears no tax,
so `price_unit` is the order's `amount_total` (rounded to its currency's places). Only
`price_unit` may be written, and only with `(1, id, values)` through `order_line`; anything
else is refused with a ValueError saying so, never taken silently. A price that leaves the
total as it was moves nothing and posts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from orderamt.testing._faults import missing_error, python_error, user_error
from orderamt.testing._orm import BaseModel
from orderamt.testing._schema import CURRENCIES, Field, many2one
from orderamt.times import odoo_time, utc_now

if TYPE_CHECKING:
    from orderamt.testing._odoo import Database

SALE_ORDER_LINE_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "order_id": many2one("Order Reference", "sale.order"),
    "name": Field("text", "Description"),
    "price_unit": Field("float", "Unit Price"),
    "product_uom_qty": Field("float", "Quantity"),
    "discount": Field("float", "Discount (%)"),
    "display_type": Field(
        "selection",
        "Display Type",
        {"selection": [["line_section", "Section"], ["line_note", "Note"]]},
    ),
    "display_name": Field("char", "Display Name"),
}

WRITABLE = "price_unit"
"""The one field of a line the double writes."""
LOCKED = "It is forbidden to modify the following fields in a locked order:\n"


class OrderLines(Mapping[int, Mapping[str, Any]]):
    """Every order's one line, read off the order as it is now."""

    def __init__(self, orders: Mapping[int, Mapping[str, Any]]) -> None:
        self._orders = orders

    def __getitem__(self, id: int) -> Mapping[str, Any]:
        return _line(self._orders[id])

    def __iter__(self) -> Iterator[int]:
        return iter(self._orders)

    def __len__(self) -> int:
        return len(self._orders)


def _line(order: Mapping[str, Any]) -> dict[str, Any]:
    total = order.get("amount_total")
    price = float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else 0.0
    return {
        "id": order["id"],
        "order_id": [order["id"], order.get("name", False)],
        "name": "[FURN_0001] The order's one line",
        "price_unit": price,
        "product_uom_qty": 1.0,
        "discount": 0.0,
        "display_type": False,
        "display_name": f"{order.get('name', '')} - The order's one line",
    }


def write_lines(odoo: Database, orders: list[dict[str, Any]], commands: Any) -> dict[int, str]:
    """The lines of `sale.order.write({'order_line': commands})` on these orders: each
    `(1, id, values)` names one of their lines; all are checked before any is written. The
    orders whose total moved, with the write_date each had before."""
    changes: dict[int, Any] = {}
    ids = {order["id"] for order in orders}
    for command in commands if isinstance(commands, (list, tuple)) else [commands]:
        if not (isinstance(command, (list, tuple)) and len(command) == 3 and command[0] == 1):
            raise python_error(
                "ValueError",
                f"the double's order_line takes (1, id, {{'{WRITABLE}': price}}) only, "
                f"not {command!r}",
            )
        if command[1] not in ids:
            raise python_error("ValueError", f"no line {command[1]!r} on these orders")
        changes[command[1]] = command[2]
    return change_prices(odoo, [odoo.orders[i] for i in changes], changes)


def change_prices(
    odoo: Database, orders: list[dict[str, Any]], values: Mapping[int, Any]
) -> dict[int, str]:
    """Each order's line given its new price (`values` by line id), all checked before any
    is written. An order whose total moves (rounded to its currency's places) gets a new
    write_date; the caller fires the rules for those, which are returned with the
    write_date each had before. A price that leaves the total as it was changes nothing of
    the order, and fires nothing (Odoo's rules compare a trigger field's old and new value)."""
    for order in orders:
        vals = values[order["id"]]
        if not isinstance(vals, Mapping) or set(vals) != {WRITABLE}:
            raise python_error(
                "ValueError", f"the double's order lines take only {WRITABLE}, not {vals!r}"
            )
        price = vals[WRITABLE]
        if isinstance(price, bool) or not isinstance(price, (int, float)):
            raise python_error("ValueError", f"could not convert {price!r} to float")
        if order.get("locked"):
            raise user_error(LOCKED + SALE_ORDER_LINE_FIELDS[WRITABLE].string)
    stamp = odoo_time(utc_now())
    moved: dict[int, str] = {}
    for order in orders:
        exact = Decimal(repr(float(values[order["id"]][WRITABLE])))
        total = float(exact.quantize(Decimal(1).scaleb(-_places(order)), ROUND_HALF_UP))
        if total != order.get("amount_total"):
            moved[order["id"]] = str(order.get("write_date"))
            order["amount_total"] = total
            order["write_date"] = stamp
    return moved


def _places(order: Mapping[str, Any]) -> int:
    """The decimal places of the order's currency (2 for one the double does not know)."""
    currency = order.get("currency_id")
    code = currency[1] if isinstance(currency, (list, tuple)) and len(currency) > 1 else None
    return CURRENCIES.get(str(code), ("", 2, ""))[1]


class SaleOrderLine(BaseModel):
    """sale.order.line: the reading methods of every model, and `write` of the price."""

    def write(self, vals: Any) -> bool:
        missing = [i for i in self._ids if i not in self._odoo.orders]
        if missing:
            label = "sale.order.line(" + "".join(f"{i}," for i in missing) + ")"
            raise missing_error(
                "Record does not exist or has been deleted.\n"
                f"(Record: {label}, User: {self._odoo.uid})"
            )
        orders = [self._odoo.orders[i] for i in self._ids]
        moved = change_prices(self._odoo, orders, dict.fromkeys(self._ids, vals))
        # A change on the line alone: the webhook carries the order's write_date from before.
        self._odoo.fire(list(moved), ["amount_total"], before=moved)
        return True
