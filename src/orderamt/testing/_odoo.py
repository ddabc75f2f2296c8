"""The Odoo side of the double: one database with its user, models, records and services.

Only what orderamt needs is here, but what is here answers as Odoo 17, 18 and 19 do, down
to the wording of the errors (see odoo-facts.md and the recordings it refers to). Both
protocols share this module, so XML-RPC and JSON-2 cannot drift apart. The database's
parts live beside it: its errors (_faults), fields (_schema), ORM methods (_orm) and their
domains (_domain), logins (_auth) and automation rules (_automation).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from orderamt.testing._auth import Logins
from orderamt.testing._automation import (
    AUTOMATION_FIELDS,
    IR_FIELD_FIELDS,
    IR_MODEL_FIELDS,
    SERVER_ACTION_FIELDS,
    AutomationRules,
    Automations,
)
from orderamt.testing._faults import access_error, python_error
from orderamt.testing._lines import SALE_ORDER_LINE_FIELDS, OrderLines, SaleOrderLine
from orderamt.testing._orm import BaseModel, Model, ResUsers, public_names
from orderamt.testing._sale import SaleOrder
from orderamt.testing._schema import (
    CURRENCIES,
    CURRENCY_FIELDS,
    NO_SALE_STOCK,
    SALE_ORDER_DERIVED,
    SALE_ORDER_FIELDS,
    USER_FIELDS,
    Field,
)

DEFAULT_WRITE_DATE = "2026-11-24 18:15:57"


def version_info(version: int) -> dict[str, Any]:
    """What `common.version()` and `/web/webclient/version_info` answer."""
    serie = f"{version}.0"
    return {
        "server_version": serie,
        "server_version_info": [version, 0, 0, "final", 0, ""],
        "server_serie": serie,
        "protocol_version": 1,
    }


# -- the database -----------------------------------------------------------------------------


class Database(Logins, AutomationRules):
    """One Odoo database: its user, its sale orders, and the RPC services over them."""

    def __init__(
        self,
        version: int,
        name: str,
        login: str,
        password: str,
        uid: int,
        api_key: str | None,
        sale_stock: bool = True,
    ) -> None:
        self.version = version
        self.name = name
        self.login = login
        self.password = password
        self.uid = uid
        self.api_key = api_key
        self.orders: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._login_failures: dict[str, tuple[int, float]] = {}
        self.hash_seconds = 0.0
        self.hashes = 0
        self._checked: set[tuple[int, str]] = set()
        self._order_fields = dict(SALE_ORDER_FIELDS)
        self.sale_stock = sale_stock
        """Whether the module sale_stock is installed: without it, delivery_status does not
        exist, and reading it is Odoo's invalid-field error."""
        if not sale_stock:
            del self._order_fields["delivery_status"]
        self.models = {
            "sale.order": Model(
                "sale.order",
                self._order_fields,
                lambda: self.orders,
                order="date_order desc, id desc",
                derived=SALE_ORDER_DERIVED,
                methods=SaleOrder,
            ),
            "res.currency": Model(
                "res.currency", CURRENCY_FIELDS, self._currencies, order="active desc, name, id"
            ),
            "res.users": Model(
                "res.users", USER_FIELDS, self._users, order="name, id", methods=ResUsers
            ),
            "sale.order.line": Model(
                "sale.order.line",
                SALE_ORDER_LINE_FIELDS,
                lambda: OrderLines(self.orders),
                order="order_id, id",
                methods=SaleOrderLine,
            ),
        }
        self.admin = True
        self.draft_invoices: set[int] = set()
        """The orders that have a draft invoice: a user without invoicing rights (not
        `admin`) may not cancel them."""
        """Whether the user is in base.group_system (may read models and create rules)."""
        self.automations: dict[int, dict[str, Any]] = {}
        self.server_actions: dict[int, dict[str, Any]] = {}
        self._ir_models = {
            i: {"id": i, "model": name, "name": label}
            for i, (name, label) in enumerate(
                (("sale.order", "Sales Order"), ("res.currency", "Currency"),
                 ("res.users", "User"), ("sale.order.line", "Sales Order Line")), start=1)
        }  # fmt: skip
        self._ir_fields = {
            i: {"id": i, "model": model.name, "name": name,
                "field_description": fld.string, "ttype": fld.type}
            for i, (model, name, fld) in enumerate(
                ((m, n, f) for m in self.models.values() for n, f in m.fields.items()), start=1)
        }  # fmt: skip
        self.models.update(
            {
                "ir.model": Model("ir.model", IR_MODEL_FIELDS, lambda: self._ir_models,
                                  admin_only=True),
                "ir.model.fields": Model("ir.model.fields", IR_FIELD_FIELDS,
                                         lambda: self._ir_fields, admin_only=True),
                "base.automation": Model("base.automation", AUTOMATION_FIELDS,
                                         lambda: self.automations, methods=Automations,
                                         admin_only=True),
                "ir.actions.server": Model("ir.actions.server", SERVER_ACTION_FIELDS,
                                           lambda: self.server_actions, admin_only=True),
            }
        )  # fmt: skip

    # -- records --

    def add_order(
        self,
        id: int,
        name: str | None = None,
        amount_total: Any = 0.0,
        state: str = "draft",
        currency: Any = (1, "USD"),
        write_date: str = DEFAULT_WRITE_DATE,
        date_order: str | None = None,
        invoice_status: Any = "no",
        delivery_status: Any = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Store one sale order, its values exactly as given (bad data included)."""
        order = {
            "id": id,
            "name": f"S{id:05d}" if name is None else name,
            "amount_total": amount_total,
            "state": state,
            "invoice_status": invoice_status,
            "currency_id": _as_many2one(fields.pop("currency_id", currency)),
            "write_date": write_date,
            "date_order": write_date if date_order is None else date_order,
        }
        if self.sale_stock:
            order["delivery_status"] = delivery_status
        elif delivery_status is not False:
            raise ValueError(NO_SALE_STOCK)
        if fields:
            self._add_fields(fields)
            order.update(fields)
        self.orders[id] = order
        return order

    def add_orders(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Many orders at once: the same records as add_order, built without a call each."""
        orders = self.orders
        fast = _ADD_ORDER_ARGS if self.sale_stock else _ADD_ORDER_ARGS - {"delivery_status"}
        for row in rows:
            if not row.keys() <= fast:
                self.add_order(**row)
                continue
            order_id = row["id"]
            name = row.get("name")
            write_date = row.get("write_date", DEFAULT_WRITE_DATE)
            date_order = row.get("date_order")
            order = {
                "id": order_id,
                "name": f"S{order_id:05d}" if name is None else name,
                "amount_total": row.get("amount_total", 0.0),
                "state": row.get("state", "draft"),
                "invoice_status": row.get("invoice_status", "no"),
                "currency_id": _as_many2one(row.get("currency", (1, "USD"))),
                "write_date": write_date,
                "date_order": write_date if date_order is None else date_order,
            }
            if self.sale_stock:
                order["delivery_status"] = row.get("delivery_status", False)
            orders[order_id] = order

    def check_statuses(self, values: Mapping[str, Any]) -> None:
        """A change may only set a status to a value of its selection (delivery_status also
        False: no picking), so a test cannot reach a state Odoo never shows."""
        for name in ("state", "invoice_status", "delivery_status"):
            if name not in values:
                continue
            value = values[name]
            fld = self._order_fields.get(name)
            if fld is None:
                raise ValueError(NO_SALE_STOCK)
            allowed = [key for key, _ in fld.extra["selection"]]
            if name == "delivery_status" and value is False:
                continue
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(
                    f"{name} {value!r} is not one of sale.order's: {', '.join(allowed)}"
                    + (", or False" if name == "delivery_status" else "")
                )

    def _add_fields(self, values: Mapping[str, Any]) -> None:
        """A test may give orders fields the double does not know; make them readable."""
        for name, value in values.items():
            if name not in self._order_fields:
                self._order_fields[name] = Field(_guess_type(value), name)

    def _currencies(self) -> dict[int, dict[str, Any]]:
        """res.currency: USD (id 1, as on the recorded servers) and every currency an order uses."""
        found: dict[int, str] = {1: "USD"}
        for order in list(self.orders.values()):
            currency = order.get("currency_id")
            if isinstance(currency, (list, tuple)) and len(currency) == 2:
                found.setdefault(currency[0], str(currency[1]))
        rows = {}
        for currency_id, code in found.items():
            symbol, places, position = CURRENCIES.get(code, (code, 2, "after"))
            rows[currency_id] = {
                "id": currency_id,
                "name": code,
                "symbol": symbol,
                "decimal_places": places,
                "rounding": round(10.0**-places, places),
                "position": position,
                "active": True,
                "display_name": code,
            }
        return rows

    def _users(self) -> dict[int, dict[str, Any]]:
        return {
            self.uid: {
                "id": self.uid,
                "name": "Administrator",
                "login": self.login,
                "active": True,
                "lang": "en_US",
                "tz": False,
                "company_id": [1, "My Company"],
                "display_name": "Administrator",
            }
        }

    # -- models and methods --

    def refuse_private(self, model_name: str, name: str) -> None:
        """Methods starting with an underscore are private to the server."""
        if not name.startswith("_"):
            return
        if self.version == 17:
            raise access_error(f"Private methods (such as {name}) cannot be called remotely.")
        raise access_error(
            f"Private methods (such as '{model_name}.{name}') cannot be called remotely."
        )

    def public_method(self, model: Model, name: str) -> None:
        """Odoo's `get_public_method`: private names are refused, unknown ones missing."""
        self.refuse_private(model.name, name)
        if name not in public_names(model.methods):
            if self.version == 17:
                message = f"The method '{name}' does not exist on the model '{model.name}'"
            else:
                message = f"The method '{model.name}.{name}' does not exist"
            raise python_error("AttributeError", message)

    def records(self, model: Model, ids: Any, context: Any = None) -> BaseModel:
        """`env[model].browse(ids)`, with the call's context."""
        if isinstance(ids, bool) or not isinstance(ids, (list, tuple)):
            ids = [] if ids is False or ids is None else [ids]
        return model.methods(self, model, list(ids), context if isinstance(context, dict) else {})


_ADD_ORDER_ARGS = frozenset(
    (
        *("id", "name", "amount_total", "state", "invoice_status", "delivery_status"),
        *("currency", "write_date", "date_order"),
    )
)


def _as_many2one(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return False if value is None else value


def _guess_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (list, tuple)):
        return "many2one"
    return "char"
