"""sale.order's own methods, the ones a program pushing a portal's changes calls: `write`,
`action_cancel`, `action_draft`, `action_confirm`, `action_lock` and `action_unlock`.

They answer as Odoo 17, 18 and 19 did on live servers (odoo-facts.md, "Pushing a portal's
changes into Odoo", and odoo1{7,8,9}-push.json): the cancel wizard of 17/18 and the context
key that skips it, "Expected singleton" for several ids without it, the locked order's
refusal, a Sales user's refusal to cancel an order with a draft invoice, commitment_date
only as 'YYYY-MM-DD HH:MM:SS' (or a bare date), note as HTML, and write_date moved by every
change that changes something and by nothing else. Deliveries and invoices are not modelled;
an order with a draft invoice is named in `Database.draft_invoices`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from orderamt.testing._faults import access_error, missing_error, python_error, user_error
from orderamt.testing._lines import write_lines
from orderamt.testing._orm import BaseModel
from orderamt.times import odoo_time, utc_now

LOCKED = "You cannot cancel a locked order. Please unlock it first."

WIZARD_VIEW = {17: 1071, 18: 1130}
"""The view id of sale.order.cancel's form on the recorded 17.0 and 18.0 servers."""

DRAFT_INVOICE_REFUSED = {
    17: "You are not allowed to modify 'Journal Entry' (account.move) records.\n\n"
    "This operation is allowed for the following groups:\n\t- Invoicing/Billing\n\n"
    "Contact your administrator to request access if necessary.",
    18: "You are not allowed to access 'Payments' (account.payment) records.\n\n"
    "This operation is allowed for the following groups:\n\t- Invoicing/Invoicing\n"
    "\t- Technical/Show Accounting Features - Readonly\n\n"
    "Contact your administrator to request access if necessary.",
    19: "Failed to read field account.move.payment_ids\n"
    "You are not allowed to access 'Payments' (account.payment) records.\n\n"
    "This operation is allowed for the following groups:\n\t- Accounting/Invoicing\n"
    "\t- Show Accounting Features - Readonly\n\n"
    "Contact your administrator to request access if necessary.",
}
"""What a Sales user (no invoicing rights) is told when cancelling cancels a draft invoice."""

_DATETIME = "%Y-%m-%d %H:%M:%S"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_QUOTATION_STATES = ("draft", "sent", "cancel")


class SaleOrder(BaseModel):
    """sale.order: the reading methods of every model, and the order's own actions."""

    def write(self, vals: Any) -> bool:
        rows = self._existing()
        values = dict(vals)
        lines = values.pop("order_line", None)  # what the form's save sends for a line
        for name, value in values.items():
            if name not in self._model.fields or name in ("id", "write_date"):
                raise python_error("ValueError", f"Invalid field {name!r} on model 'sale.order'")
            if name == "commitment_date":
                values[name] = _datetime(value)
            elif name == "note" and isinstance(value, str) and not value.lstrip().startswith("<"):
                values[name] = f"<p>{value}</p>"  # an Html field wraps plain text
        self._odoo.check_statuses(values)  # a direct state write is taken (and skips Odoo's rules)
        moved = {} if lines is None else write_lines(self._odoo, rows, lines)
        stamp = odoo_time(utc_now())
        for row in rows:
            row.update(values)
            row["write_date"] = stamp
        for row in rows:  # the rules see, per order, the fields written and a total moved
            changed = [*values, *(["amount_total"] if row["id"] in moved else [])]
            if changed:
                self._odoo.fire([row["id"]], changed)
        return True

    def action_confirm(self) -> bool:
        return self._move(("draft", "sent"), "sale")

    def action_cancel(self) -> Any:
        rows = self._existing()
        if any(row.get("locked") for row in rows):
            raise user_error(LOCKED)
        version = self._odoo.version
        wizard = version < 19 and not self._context.get("disable_cancel_warning")
        if wizard and any(row.get("state") != "draft" for row in rows):  # _show_cancel_wizard
            if len(rows) != 1:
                raise python_error("ValueError", f"Expected singleton: {self._label()}")
            return _wizard(version, rows[0])
        if not self._odoo.admin and any(row["id"] in self._odoo.draft_invoices for row in rows):
            raise access_error(DRAFT_INVOICE_REFUSED[version])
        stamp = odoo_time(utc_now())
        for row in rows:
            row.update(state="cancel", write_date=stamp)
            self._odoo.draft_invoices.discard(row["id"])  # cancelled with the order
        self._odoo.fire([row["id"] for row in rows], ["state"])
        return True

    def action_draft(self) -> bool:
        """Only a cancelled or sent order goes back; any other is left as it is (True)."""
        return self._move(("cancel", "sent"), "draft")

    def _move(self, states: tuple[str, ...], to: str) -> bool:
        stamp = odoo_time(utc_now())
        moved = [row for row in self._existing() if row.get("state") in states]
        for row in moved:
            row.update(state=to, write_date=stamp)
        self._odoo.fire([row["id"] for row in moved], ["state"])
        return True

    def action_lock(self) -> None:
        """Returns None, which XML-RPC cannot marshal: a fault, the lock done all the same."""
        self._set_locked(True)

    def action_unlock(self) -> None:
        self._set_locked(False)

    def _set_locked(self, locked: bool) -> None:
        stamp = odoo_time(utc_now())
        rows = self._existing()
        for row in rows:
            row.update(locked=locked, write_date=stamp)
        self._odoo.fire([row["id"] for row in rows], ["locked"])

    def _existing(self) -> list[dict[str, Any]]:
        """The records, or Odoo's MissingError naming those that are not there."""
        rows = self._model.rows()
        missing = [i for i in self._ids if i not in rows]
        if missing:
            label = "sale.order(" + "".join(f"{i}," for i in missing) + ")"
            raise missing_error(
                "Record does not exist or has been deleted.\n"
                f"(Record: {label}, User: {self._odoo.uid})"
            )
        return [rows[i] for i in self._ids]  # type: ignore[misc]

    def _label(self) -> str:
        return f"sale.order({', '.join(str(i) for i in self._ids)})"


def _datetime(value: Any) -> Any:
    """A Datetime field's value as Odoo takes it: False, a date, or '%Y-%m-%d %H:%M:%S'."""
    if value is False or value is None:
        return False
    text = str(value)
    if _DATE.match(text):
        return f"{text} 00:00:00"
    try:
        datetime.strptime(text, _DATETIME)
    except ValueError as exc:
        raise python_error("ValueError", str(exc)) from None
    return text


def _wizard(version: int, row: dict[str, Any]) -> dict[str, Any]:
    """The window action 17 and 18 answer instead of cancelling (nothing is written)."""
    kind = "Quotation" if row.get("state") in _QUOTATION_STATES else "Sales Order"
    return {
        "name": f"Cancel {kind}",
        "view_mode": "form",
        "res_model": "sale.order.cancel",
        "view_id": WIZARD_VIEW[version],
        "type": "ir.actions.act_window",
        "context": {
            "default_template_id": 14,
            "default_order_id": row["id"],
            "mark_so_as_canceled": True,
            "default_email_layout_xmlid": (
                "mail.mail_notification_layout_with_responsible_signature"
            ),
            "model_description": kind,
        },
        "target": "new",
    }
