"""The fields of the models the double serves records of: sale.order, res.currency and
res.users, as `fields_get` describes them, and the values a sale order may take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    """A field of a model, as `fields_get` describes it."""

    type: str
    string: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    """selection, relation, currency_field: only for the fields that have them."""

    def description(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": self.type,
            "string": self.string,
            "readonly": name in ("id", "display_name", "create_date", "write_date"),
            "required": name in ("id", "name"),
            "store": name != "display_name",
            "searchable": True,
            "sortable": name != "display_name",
            **self.extra,
        }

    @property
    def empty(self) -> Any:
        """What Odoo sends for the field when it has no value (never None)."""
        return {"monetary": 0.0, "float": 0.0, "integer": 0}.get(self.type, False)


def monetary(string: str) -> Field:
    return Field("monetary", string, {"currency_field": "currency_id"})


def many2one(string: str, relation: str) -> Field:
    return Field("many2one", string, {"relation": relation})


SALE_ORDER_STATES = [
    ["draft", "Quotation"],
    ["sent", "Quotation Sent"],
    ["sale", "Sales Order"],
    ["cancel", "Cancelled"],
]
INVOICE_STATUSES = [
    ["upselling", "Upselling Opportunity"],
    ["invoiced", "Fully Invoiced"],
    ["to invoice", "To Invoice"],
    ["no", "Nothing to Invoice"],
]
DELIVERY_STATUSES = [
    ["pending", "Not Delivered"],
    ["started", "Started"],
    ["partial", "Partially Delivered"],
    ["full", "Fully Delivered"],
]
NO_SALE_STOCK = (
    "delivery_status comes with the Odoo module sale_stock, which this double lacks "
    "(OdooDouble(sale_stock=False))"
)

SALE_ORDER_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "name": Field("char", "Order Reference"),
    "state": Field("selection", "Status", {"selection": SALE_ORDER_STATES}),
    "invoice_status": Field(
        "selection", "Invoice Status", {"selection": INVOICE_STATUSES, "readonly": True}
    ),
    "delivery_status": Field(
        "selection", "Delivery Status", {"selection": DELIVERY_STATUSES, "readonly": True}
    ),
    "amount_untaxed": monetary("Untaxed Amount"),
    "amount_tax": monetary("Taxes"),
    "amount_total": monetary("Total"),
    "currency_id": many2one("Currency", "res.currency"),
    "partner_id": many2one("Customer", "res.partner"),
    "company_id": many2one("Company", "res.company"),
    "client_order_ref": Field("char", "Customer Reference"),
    "commitment_date": Field("datetime", "Delivery Date"),
    "note": Field("html", "Terms and conditions"),
    "date_order": Field("datetime", "Order Date"),
    "create_date": Field("datetime", "Created on"),
    "write_date": Field("datetime", "Last Updated on"),
    "locked": Field("boolean", "Locked"),
    "display_name": Field("char", "Display Name"),
    "order_line": Field("one2many", "Order Lines", {"relation": "sale.order.line"}),
}

# Values a sale order derives from its other fields when a test did not set them.
SALE_ORDER_DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "display_name": lambda order: order.get("name", False),
    "amount_untaxed": lambda order: order.get("amount_total", 0.0),
    "create_date": lambda order: order.get("date_order", False),
    "company_id": lambda order: [1, "My Company"],
    "order_line": lambda order: [order["id"]],  # its one line (testing/_lines.py)
}

CURRENCY_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "name": Field("char", "Currency"),
    "symbol": Field("char", "Symbol"),
    "decimal_places": Field("integer", "Decimal Places"),
    "rounding": Field("float", "Rounding Factor"),
    "position": Field(
        "selection",
        "Symbol Position",
        {"selection": [["after", "After Amount"], ["before", "Before Amount"]]},
    ),
    "active": Field("boolean", "Active"),
    "display_name": Field("char", "Display Name"),
}

# symbol, decimal places, symbol position; any other currency gets 2 places.
CURRENCIES = {
    "USD": ("$", 2, "before"),
    "EUR": ("€", 2, "after"),
    "GBP": ("£", 2, "before"),
    "CHF": ("CHF", 2, "after"),
    "JPY": ("¥", 0, "before"),
}

USER_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "name": Field("char", "Name"),
    "login": Field("char", "Login"),
    "active": Field("boolean", "Active"),
    "lang": Field("selection", "Language", {"selection": [["en_US", "English (US)"]]}),
    "tz": Field("selection", "Timezone", {"selection": []}),
    "company_id": many2one("Company", "res.company"),
    "display_name": Field("char", "Display Name"),
}
