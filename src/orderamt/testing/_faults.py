"""The errors the double's Odoo raises, and how each protocol words them.

XML-RPC reports an `OdooFault` as a fault with Odoo's code; JSON-2 as a status with a JSON
body. The wording is Odoo's own (see odoo-facts.md and the recordings it refers to).
"""

from __future__ import annotations

from typing import Any

from orderamt.testing._http import phrase

TRACEBACK_HEAD = "Traceback (most recent call last):\n  (server frames left out)\n"

ACCESS_ERROR_SALE_ORDER = (
    "You are not allowed to access 'Sales Order' (sale.order) records.\n\n"
    "This operation is allowed for the following groups:\n"
    "\t- Accounting/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n"
    "\t- Role / Portal\n\t- Show Accounting Features - Readonly\n"
    "\t- Show Full Accounting Features\n\n"
    "Contact your administrator to request access if necessary."
)

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
