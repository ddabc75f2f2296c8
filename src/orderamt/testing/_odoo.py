"""The Odoo side of the double: one database with its user, models, records and services.

Only what orderamt needs is here, but what is here answers as Odoo 17, 18 and 19 do, down
to the wording of the errors (see odoo-facts.md and the recordings it refers to). Both
protocols share this module, so XML-RPC and JSON-2 cannot drift apart.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orderamt.testing._http import phrase

TRACEBACK_HEAD = "Traceback (most recent call last):\n  (server frames left out)\n"
DEFAULT_WRITE_DATE = "2026-11-24 18:15:57"

ACCESS_ERROR_SALE_ORDER = (
    "You are not allowed to access 'Sales Order' (sale.order) records.\n\n"
    "This operation is allowed for the following groups:\n"
    "\t- Accounting/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n"
    "\t- Role / Portal\n\t- Show Accounting Features - Readonly\n"
    "\t- Show Full Accounting Features\n\n"
    "Contact your administrator to request access if necessary."
)
LOGIN_COOLDOWN = "Too many login failures, please wait a bit before trying again."
COOLDOWN_AFTER = 5  # failed logins from one address ...
COOLDOWN_SECONDS = 60.0  # ... within this delay of the last one lock that address out

_WEB_EXCEPTIONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    415: "UnsupportedMediaType",
    422: "UnprocessableEntity",
}


class OdooFault(Exception):
    """A fault Odoo answers with: an exception as Odoo raises it, each protocol reporting it
    in its own way (named apart from orderamt.errors.OdooError, what the client makes of it).

    XML-RPC sends `Fault(fault_code, fault_string)`; JSON-2 sends `status` with a JSON body
    made of `name`, `message`, `arguments` and `traceback` (as `debug`).
    """

    def __init__(
        self,
        name: str,
        message: str,
        *,
        fault_code: int = 1,
        status: int = 500,
        text: str | None = None,
        fault_string: str | None = None,
        web: bool = False,
    ) -> None:
        super().__init__(message)
        self.name = name
        """The exception's class path, as JSON-2 reports it: "builtins.ValueError"."""
        self.message = message
        self.fault_code = fault_code
        self.status = status
        self.text = message if text is None else text
        """`str()` of the exception: what the traceback's last line shows."""
        self._fault_string = fault_string
        self.web = web
        """A werkzeug HTTP exception: its `arguments` carry the status too."""

    @property
    def traceback(self) -> str:
        """The server traceback, frames left out as in the recordings."""
        return f"{TRACEBACK_HEAD}{self.name.removeprefix('builtins.')}: {self.text}\n"

    @property
    def fault_string(self) -> str:
        """Code 1 (any exception) carries the traceback; Odoo's own errors their message."""
        if self._fault_string is not None:
            return self._fault_string
        return self.traceback if self.fault_code == 1 else self.message

    @property
    def arguments(self) -> list[Any]:
        return [self.message, self.status] if self.web else [self.message]


def python_error(cls: str, message: str) -> OdooFault:
    """A Python exception in the server: `python_error("ValueError", ...)`."""
    return OdooFault(cls if "." in cls else f"builtins.{cls}", message)


def from_exception(exc: BaseException) -> OdooFault:
    """An exception the double's own code raised, reported as Odoo reports any exception."""
    cls = type(exc)
    return OdooFault(f"{cls.__module__}.{cls.__qualname__}", str(exc))


def web_error(status: int, message: str) -> OdooFault:
    """A werkzeug HTTP exception (JSON-2's routing, authentication and argument errors)."""
    return OdooFault(
        f"werkzeug.exceptions.{_WEB_EXCEPTIONS[status]}",
        message,
        status=status,
        text=f"{status} {phrase(status)}: {message}",
        web=True,
    )


def access_error(message: str) -> OdooFault:
    return OdooFault("odoo.exceptions.AccessError", message, fault_code=4, status=403)


def access_denied(message: str = "Access Denied") -> OdooFault:
    return OdooFault("odoo.exceptions.AccessDenied", message, fault_code=3, status=403)


def user_error(message: str) -> OdooFault:
    return OdooFault("odoo.exceptions.UserError", message, fault_code=2, status=422)


def validation_error(message: str) -> OdooFault:
    return OdooFault("odoo.exceptions.ValidationError", message, fault_code=2, status=422)


def missing_error(message: str) -> OdooFault:
    return OdooFault("odoo.exceptions.MissingError", message, fault_code=2, status=404)


def injected_fault(code: int, fault_string: str) -> OdooFault:
    """The error `OdooDouble.fail("fault", fault=(code, fault_string))` injects.

    XML-RPC gets the fault exactly as given; JSON-2 a 500 whose message is the fault's
    last line (without the exception class when the string is a traceback).
    """
    lines = [line for line in fault_string.splitlines() if line.strip()]
    last = lines[-1] if lines else fault_string
    names = {2: "odoo.exceptions.UserError", 3: "odoo.exceptions.AccessDenied"}
    name = names.get(code, "odoo.exceptions.AccessError" if code == 4 else "builtins.Exception")
    message = last
    if fault_string.startswith("Traceback") and ": " in last:
        cls, message = last.split(": ", 1)
        name = cls if "." in cls else f"builtins.{cls}"
    return OdooFault(name, message, fault_code=code, status=500, fault_string=fault_string)


def version_info(version: int) -> dict[str, Any]:
    """What `common.version()` and `/web/webclient/version_info` answer."""
    serie = f"{version}.0"
    return {
        "server_version": serie,
        "server_version_info": [version, 0, 0, "final", 0, ""],
        "server_serie": serie,
        "protocol_version": 1,
    }


def bind(func: Callable[..., Any], *args: Any, **kwargs: Any) -> inspect.BoundArguments:
    """Bind arguments as a Python call would, failing with the TypeError Python words."""
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except TypeError:
        try:
            func(*args, **kwargs)  # fails the same way, in CPython's own words
        except TypeError as exc:
            raise python_error("TypeError", str(exc)) from None
        raise
    bound.apply_defaults()
    return bound


# Signatures of Odoo's service functions: binding against them words argument errors as
# Odoo's server does ("exp_authenticate() missing 1 required positional argument: ...").
def exp_version() -> None:
    """odoo.service.common.exp_version"""


def exp_authenticate(db: Any, login: Any, password: Any, user_agent_env: Any) -> None:
    """odoo.service.common.exp_authenticate"""


def exp_login(db: Any, login: Any, password: Any) -> None:
    """odoo.service.common.exp_login"""


def execute_kw(db: Any, uid: Any, obj: Any, method: Any, args: Any, kw: Any = None) -> None:
    """odoo.service.model.execute_kw"""


def execute(db: Any, uid: Any, obj: Any, method: Any, *args: Any, **kw: Any) -> None:
    """odoo.service.model.execute"""


# -- fields and models ------------------------------------------------------------------------


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


def _monetary(string: str) -> Field:
    return Field("monetary", string, {"currency_field": "currency_id"})


def _many2one(string: str, relation: str) -> Field:
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
    "amount_untaxed": _monetary("Untaxed Amount"),
    "amount_tax": _monetary("Taxes"),
    "amount_total": _monetary("Total"),
    "currency_id": _many2one("Currency", "res.currency"),
    "partner_id": _many2one("Customer", "res.partner"),
    "company_id": _many2one("Company", "res.company"),
    "client_order_ref": Field("char", "Customer Reference"),
    "date_order": Field("datetime", "Order Date"),
    "create_date": Field("datetime", "Created on"),
    "write_date": Field("datetime", "Last Updated on"),
    "locked": Field("boolean", "Locked"),
    "display_name": Field("char", "Display Name"),
}

# Values a sale order derives from its other fields when a test did not set them.
_SALE_ORDER_DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "display_name": lambda order: order.get("name", False),
    "amount_untaxed": lambda order: order.get("amount_total", 0.0),
    "create_date": lambda order: order.get("date_order", False),
    "company_id": lambda order: [1, "My Company"],
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
_CURRENCIES = {
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
    "company_id": _many2one("Company", "res.company"),
    "display_name": Field("char", "Display Name"),
}


IR_MODEL_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "model": Field("char", "Model"),
    "name": Field("char", "Model Description"),
}
IR_FIELD_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "model": Field("char", "Model Name"),
    "name": Field("char", "Field Name"),
    "field_description": Field("char", "Field Label"),
    "ttype": Field("selection", "Field Type", {"selection": []}),
}
AUTOMATION_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "name": Field("char", "Automation Rule Name"),
    "model_id": _many2one("Model", "ir.model"),
    "trigger": Field("selection", "Trigger", {"selection": [["on_create_or_write", "On save"]]}),
    "trigger_field_ids": Field("many2many", "Trigger Fields", {"relation": "ir.model.fields"}),
    "action_server_ids": Field("one2many", "Actions", {"relation": "ir.actions.server"}),
    "active": Field("boolean", "Active"),
}
SERVER_ACTION_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID"),
    "name": Field("char", "Action Name"),
    "state": Field("selection", "Type", {"selection": [["webhook", "Send Webhook Notification"]]}),
    "usage": Field("selection", "Usage", {"selection": [["base_automation", "Automation Rule"]]}),
    "model_id": _many2one("Model", "ir.model"),
    "webhook_url": Field("char", "Webhook URL"),
    "webhook_field_ids": Field("many2many", "Webhook Fields", {"relation": "ir.model.fields"}),
    "base_automation_id": _many2one("Automation Rule", "base.automation"),
}
ADMIN_GROUP = {17: "Administration/Settings", 18: "Administration/Settings"}
"""The group that may touch models and automation rules, as AccessError names it (19 and
later: "Role / Administrator")."""


@dataclass
class Model:
    """A model's fields and where its records live."""

    name: str
    fields: dict[str, Field]
    rows: Callable[[], Mapping[int, Mapping[str, Any]]]
    order: str = "id"
    derived: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    methods: type[BaseModel] = field(default_factory=lambda: BaseModel)
    admin_only: bool = False
    """ir.model and the automation models: base.group_system only (an ordinary user's
    access rights on them are 0,0,0,0)."""


# -- domains and orders -----------------------------------------------------------------------

Predicate = Callable[[Mapping[str, Any]], bool]

_OPERATORS = frozenset(
    {
        *("=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in"),
        *("like", "ilike", "not like", "not ilike", "=like", "=ilike"),
    }
)
_ORDER_TERM = re.compile(r"^\s*(\w+)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


def _is_null(value: Any) -> bool:
    return value is None or value is False


def _value(model: Model, row: Mapping[str, Any], name: str) -> Any:
    """A record's value as Odoo sends it: derived or empty when unset, never None."""
    if name in row:
        value = row[name]
    elif name in model.derived:
        value = model.derived[name](row)
    else:
        fld = model.fields.get(name)
        value = fld.empty if fld is not None else False
    return False if value is None else value


def _comparable(model: Model, row: Mapping[str, Any], path: str) -> Any:
    """The value a domain leaf compares: a many2one compares by id, `x.name` by name."""
    name, _, sub = path.partition(".")
    value = _value(model, row, name)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[1] if sub in ("name", "display_name") else value[0]
    return value


def _like(pattern: Any, op: str) -> Callable[[Any], bool]:
    """SQL LIKE: `like` looks for the value anywhere, `=like` takes it as the pattern."""
    text = str(pattern)
    if not op.startswith("="):
        text = f"%{text}%"
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in text
    )
    flags = re.IGNORECASE | re.DOTALL if "ilike" in op else re.DOTALL
    compiled = re.compile(regex, flags)
    return lambda value: not _is_null(value) and compiled.fullmatch(str(value)) is not None


def _compare(op: str, value: Any, boolean: bool) -> Callable[[Any], bool]:
    """The test one leaf applies to a value, with SQL's NULL semantics as Odoo has them."""
    if op in ("=", "!=", "<>"):
        if boolean:
            equal: Callable[[Any], bool] = lambda v: bool(v) == bool(value)  # noqa: E731
        elif _is_null(value):
            equal = _is_null
        else:
            equal = lambda v: not _is_null(v) and v == value  # noqa: E731
        return equal if op == "=" else lambda v: not equal(v)
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        wanted = [v for v in values if not _is_null(v)]
        try:
            lookup: Any = frozenset(wanted)
        except TypeError:
            lookup = wanted
        nulls = len(wanted) != len(values)

        def member(v: Any) -> bool:
            return (nulls and _is_null(v)) or (not _is_null(v) and v in lookup)

        return member if op == "in" else lambda v: not member(v)
    if "like" in op:
        matches = _like(value, op.removeprefix("not "))
        return matches if not op.startswith("not ") else lambda v: not matches(v)
    ordering: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    compare = ordering[op]

    def ordered(v: Any) -> bool:
        if _is_null(v) or _is_null(value):
            return False
        try:
            return compare(v, value)
        except TypeError:
            return False

    return ordered


class Domain:
    """A search domain, checked against the model and compiled into a predicate."""

    def __init__(self, model: Model, domain: Any, version: int) -> None:
        self.model = model
        self.version = version
        if not isinstance(domain, (list, tuple)):
            raise python_error("ValueError", f"Invalid domain: {domain!r}")
        self.items = list(domain)
        self.predicate = self._compile()

    def _compile(self) -> Predicate:
        # Polish notation read from the right: a leaf pushes its test, an operator pops its
        # operands; whatever is left is ANDed (Odoo's implicit '&'). No recursion, so a long
        # chain of '|' cannot hit Python's recursion limit.
        stack: list[Predicate] = []
        for item in reversed(self.items):
            if item == "!":
                stack.append(self._negate(self._pop(stack)))
            elif item in ("&", "|"):
                first, second = self._pop(stack), self._pop(stack)
                stack.append(self._combine(item, first, second))
            else:
                stack.append(self._leaf(item))
        if len(stack) == 1:
            return stack[0]
        tests = list(reversed(stack))
        return lambda row: all(test(row) for test in tests)

    def _pop(self, stack: list[Predicate]) -> Predicate:
        if not stack:
            raise python_error("ValueError", f"Domain {self.items!r} is syntactically not correct.")
        return stack.pop()

    @staticmethod
    def _negate(test: Predicate) -> Predicate:
        return lambda row: not test(row)

    @staticmethod
    def _combine(op: str, first: Predicate, second: Predicate) -> Predicate:
        if op == "&":
            return lambda row: first(row) and second(row)
        return lambda row: first(row) or second(row)

    def _leaf(self, item: Any) -> Predicate:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise python_error("ValueError", f"Invalid leaf {item!r}")
        path, op, value = item
        leaf = tuple(item)
        if isinstance(path, int) and not isinstance(path, bool):  # (1, '=', 1) and (0, '=', 1)
            truth = bool(path) == bool(value)
            return lambda row: truth
        if not isinstance(path, str) or path.partition(".")[0] not in self.model.fields:
            where = "condition" if self.version >= 19 else "leaf"
            name = path.partition(".")[0] if isinstance(path, str) else path
            message = f"Invalid field {self.model.name}.{name} in {where} {leaf!r}"
            raise python_error("ValueError", message)
        op = op.lower() if isinstance(op, str) else op
        if op not in _OPERATORS:
            raise python_error("ValueError", f"Invalid leaf {leaf!r}")
        boolean = self.model.fields[path.partition(".")[0]].type == "boolean"
        test = _compare(op, value, boolean and "." not in path)
        model = self.model
        return lambda row: test(_comparable(model, row, path))

    def candidate_ids(self) -> list[int] | None:
        """The ids an ANDed `('id', 'in', ids)` or `('id', '=', id)` leaf allows, in order.

        Lets a search by ids look up those ids instead of scanning every record.
        """
        if any(item in ("|", "!") for item in self.items):
            return None
        for item in self.items:
            if isinstance(item, (list, tuple)) and len(item) == 3 and item[0] == "id":
                if item[1] == "in" and isinstance(item[2], (list, tuple)):
                    return list(dict.fromkeys(v for v in item[2] if isinstance(v, int)))
                if item[1] == "=" and isinstance(item[2], int):
                    return [item[2]]
        return None


def _sort(model: Model, rows: list[Mapping[str, Any]], order: str) -> None:
    """Sort as PostgreSQL would for `order`: NULLs last ascending, first descending."""
    terms = []
    for term in order.split(","):
        match = _ORDER_TERM.match(term)
        if match is None or match.group(1) not in model.fields:
            raise python_error(
                "ValueError",
                f'Invalid "order" specified ({order}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)",
            )
        terms.append((match.group(1), (match.group(2) or "asc").lower() == "desc"))
    for name, descending in reversed(terms):  # stable sorts, least significant key first
        by_name = model.fields[name].type == "many2one"

        def key(row: Mapping[str, Any], name: str = name, by_name: bool = by_name) -> Any:
            value = _value(model, row, name)
            if _is_null(value):
                return (1,)
            if by_name and isinstance(value, (list, tuple)) and len(value) == 2:
                value = value[1]
            return (0, value)

        try:
            rows.sort(key=key, reverse=descending)
        except TypeError:  # a test put values of mixed types in one field
            rows.sort(key=lambda row: repr(key(row)), reverse=descending)


# -- the ORM methods --------------------------------------------------------------------------


class BaseModel:
    """The ORM methods the double serves, with the signatures Odoo 17-19 give them.

    Every public method here can be called remotely; helpers start with an underscore, as
    in Odoo. Binding a remote call against these signatures gives Odoo's argument errors.
    """

    API_MODEL = frozenset({"search_read", "search", "search_count", "fields_get", "context_get"})
    """Methods decorated `@api.model`: they take no record ids."""

    def __init__(self, odoo: Database, model: Model, ids: Sequence[int]) -> None:
        self._odoo = odoo
        self._model = model
        self._ids = ids

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
        **read_kwargs: Any,
    ) -> list[dict[str, Any]]:
        if self._model.admin_only:
            self._odoo.check_admin(self._model.name, "access")
        names = self._field_names(fields)
        rows = self._search(domain or [], offset, limit, order)
        load = self._read_format_kwargs(read_kwargs)
        return [self._format(row, names, load) for row in rows]

    def search(
        self, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        return [row["id"] for row in self._search(domain, offset, limit, order)]

    def search_count(self, domain: Any, limit: Any = None) -> int:
        count = len(self._search(domain, 0, None, "id"))
        return min(count, limit) if limit else count

    def read(self, fields: Any = None, load: Any = "_classic_read") -> list[dict[str, Any]]:
        names = self._field_names(fields)
        rows = self._model.rows()
        return [self._format(rows[i], names, load) for i in self._ids if i in rows]

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
        answer = {}
        for name, fld in self._model.fields.items():
            if allfields and name not in allfields:
                continue
            description = fld.description(name)
            if attributes:
                description = {k: v for k, v in description.items() if k in attributes}
            answer[name] = description
        return answer

    def _field_names(self, fields: Any) -> list[str]:
        """The fields to read: all of them when none are asked for; unknown ones fail."""
        if not fields:
            return [name for name in self._model.fields if name != "id"]
        names = list(fields)
        for name in names:
            if name not in self._model.fields:
                on = "" if self._odoo.version >= 19 else "model "
                raise python_error(
                    "ValueError", f"Invalid field {name!r} on {on}{self._model.name!r}"
                )
        return names

    def _search(self, domain: Any, offset: Any, limit: Any, order: Any) -> list[Mapping[str, Any]]:
        compiled = Domain(self._model, domain, self._odoo.version)
        rows = self._model.rows()
        ids = compiled.candidate_ids()
        candidates = list(rows.values()) if ids is None else [rows[i] for i in ids if i in rows]
        found = [row for row in candidates if compiled.predicate(row)]
        _sort(self._model, found, order or self._model.order)
        start = int(offset or 0)
        return found[start : start + int(limit)] if limit else found[start:]

    @staticmethod
    def _read_format_kwargs(read_kwargs: Mapping[str, Any]) -> Any:
        """search_read hands its extra keywords to _read_format(fnames, load=...)."""
        for key in read_kwargs:
            if key != "load":
                raise python_error(
                    "TypeError",
                    f"BaseModel._read_format() got an unexpected keyword argument '{key}'",
                )
        return read_kwargs.get("load", "_classic_read")

    def _format(self, row: Mapping[str, Any], names: Iterable[str], load: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"id": row.get("id", False)}
        for name in names:
            value = _value(self._model, row, name)
            if isinstance(value, tuple):
                value = list(value)
            if self._model.fields[name].type == "many2one" and isinstance(value, list):
                value = value if load == "_classic_read" else value[0]
            record[name] = value
        return record


class ResUsers(BaseModel):
    """res.users: the one user, and the context a key or password opens."""

    def context_get(self) -> dict[str, Any]:
        return {"lang": "en_US", "tz": False, "uid": self._odoo.uid}


class Automations(BaseModel):
    """base.automation: created with its actions in one call, as the form saves it."""

    API_MODEL = BaseModel.API_MODEL | {"create"}

    def create(self, vals_list: Any) -> Any:
        """`@api.model_create_multi`: a dict gives an id, a list of dicts a list of ids."""
        self._odoo.check_admin(self._model.name, "create")
        single = isinstance(vals_list, Mapping)
        ids = [
            self._odoo.create_automation(vals) for vals in ([vals_list] if single else vals_list)
        ]
        return ids[0] if single else ids


# -- the database -----------------------------------------------------------------------------


class Database:
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
                derived=_SALE_ORDER_DERIVED,
            ),
            "res.currency": Model(
                "res.currency", CURRENCY_FIELDS, self._currencies, order="active desc, name, id"
            ),
            "res.users": Model(
                "res.users", USER_FIELDS, self._users, order="name, id", methods=ResUsers
            ),
        }
        self.admin = True
        """Whether the user is in base.group_system (may read models and create rules)."""
        self.automations: dict[int, dict[str, Any]] = {}
        self.server_actions: dict[int, dict[str, Any]] = {}
        self._ir_models = {
            i: {"id": i, "model": name, "name": label}
            for i, (name, label) in enumerate(
                (("sale.order", "Sales Order"), ("res.currency", "Currency"),
                 ("res.users", "User")), start=1)
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
            symbol, places, position = _CURRENCIES.get(code, (code, 2, "after"))
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

    # -- authentication --

    def check_db(self, db: Any) -> None:
        if db != self.name:
            raise python_error(
                "psycopg2.OperationalError",
                f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                f'database "{db}" does not exist',
            )

    def secret_ok(self, secret: Any) -> bool:
        """The password, or the API key in its place (Odoo accepts either over RPC)."""
        if not isinstance(secret, str) or not secret:
            return False
        return secret == self.password or (self.api_key is not None and secret == self.api_key)

    def key_ok(self, key: str) -> bool:
        return self.api_key is not None and key == self.api_key

    @contextmanager
    def login_attempt(self, client: str) -> Iterator[None]:
        """Odoo's `_assert_can_auth`: count AccessDenied per address, lock out after five."""
        with self._lock:
            failures, last = self._login_failures.get(client, (0, 0.0))
        if failures >= COOLDOWN_AFTER and time.monotonic() - last < COOLDOWN_SECONDS:
            raise access_denied(LOGIN_COOLDOWN)
        try:
            yield
        except OdooFault as error:
            if error.fault_code == 3:
                with self._lock:
                    count = self._login_failures.get(client, (0, 0.0))[0]
                    self._login_failures[client] = (count + 1, time.monotonic())
            raise
        with self._lock:
            self._login_failures.pop(client, None)

    def forget_login_failures(self) -> None:
        with self._lock:
            self._login_failures.clear()

    def check(self, db: Any, uid: int, password: Any, client: str) -> None:
        """`security.check`: the database, then the user, then the password."""
        self.check_db(db)
        if uid != self.uid:
            raise missing_error(
                "Record does not exist or has been deleted.\n"
                f"(Record: res.users({uid},), User: {uid})"
            )
        with self.login_attempt(client):
            if not self.secret_ok(password):
                raise access_denied()

    def authenticate(self, db: Any, login: Any, password: Any, client: str) -> int | bool:
        """The user id, or False for any refused login (locked out included), as Odoo does."""
        self.check_db(db)
        try:
            with self.login_attempt(client):
                if login != self.login or not self.secret_ok(password):
                    raise access_denied()
        except OdooFault as error:
            if error.fault_code == 3:
                return False
            raise
        return self.uid

    # -- automation rules --

    def check_admin(self, model_name: str, operation: str) -> None:
        if self.admin:
            return
        labels = {
            "ir.model": "Models",
            "ir.model.fields": "Fields",
            "base.automation": "Automation Rule",
            "ir.actions.server": "Server Actions",
        }
        group = ADMIN_GROUP.get(self.version, "Role / Administrator")
        raise access_error(
            f"You are not allowed to {operation} '{labels[model_name]}' ({model_name}) "
            f"records.\n\nThis operation is allowed for the following groups:\n\t- {group}"
            "\n\nContact your administrator to request access if necessary."
        )

    def field_id(self, model: str, name: str) -> int:
        return next(
            i for i, f in self._ir_fields.items() if f["model"] == model and f["name"] == name
        )

    def create_automation(self, vals: Any) -> int:
        """A rule and its (0, 0, vals) actions; the actions' model must be the rule's."""
        if not isinstance(vals, Mapping):
            raise python_error("TypeError", "create() expects a dict of values")
        for name in ("name", "model_id", "trigger"):
            if not vals.get(name):
                raise validation_error(f"Missing required value for the field '{name}'")
        model = self._ir_models.get(vals["model_id"])
        if model is None:
            raise missing_error("Record does not exist or has been deleted.")
        rule_id = max(self.automations, default=0) + 1
        actions = []
        for command in vals.get("action_server_ids") or []:
            if not (isinstance(command, (list, tuple)) and len(command) == 3 and command[0] == 0):
                raise validation_error(f"Unsupported command {command!r}")
            action = dict(command[2])
            if action.get("model_id") != vals["model_id"]:
                raise validation_error(
                    "Target model of actions must be the rule's model (Sales Order)."
                )
            action_id = max(self.server_actions, default=0) + 1
            self.server_actions[action_id] = {
                **action,
                "id": action_id,
                "model_id": [model["id"], model["name"]],
                "webhook_field_ids": _set_command(action.get("webhook_field_ids")),
                "base_automation_id": [rule_id, vals["name"]],
            }
            actions.append(action_id)
        self.automations[rule_id] = {
            **vals,
            "id": rule_id,
            "model_id": [model["id"], model["name"]],
            "trigger_field_ids": _set_command(vals.get("trigger_field_ids")),
            "action_server_ids": actions,
            "active": vals.get("active", True),
        }
        return rule_id

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
        if name not in _public_names(model.methods):
            if self.version == 17:
                message = f"The method '{name}' does not exist on the model '{model.name}'"
            else:
                message = f"The method '{model.name}.{name}' does not exist"
            raise python_error("AttributeError", message)

    def records(self, model: Model, ids: Any) -> BaseModel:
        """`env[model].browse(ids)`."""
        if isinstance(ids, bool) or not isinstance(ids, (list, tuple)):
            ids = [] if ids is False or ids is None else [ids]
        return model.methods(self, model, list(ids))


def _set_command(commands: Any) -> list[int]:
    """The ids a many2many's [(6, 0, ids)] sets."""
    ids: list[int] = []
    for command in commands or []:
        if isinstance(command, (list, tuple)) and len(command) == 3 and command[0] == 6:
            ids = list(command[2])
    return ids


def _public_names(methods: type[BaseModel]) -> set[str]:
    """The methods a model class defines for remote calls (not `mro` and the like)."""
    return {
        name
        for cls in methods.__mro__
        if cls is not object
        for name, value in vars(cls).items()
        if not name.startswith("_") and callable(value)
    }


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
