"""Why an order was left alone, in words an operator can act on: for the report, the log
and the orders that need a look that the journal keeps between runs."""

from __future__ import annotations

from orderamt.models import Action, Decision, FieldIssue, Reason
from orderamt.money import format_amount


def skip_reason(decision: Decision) -> str:
    """Why an order was left alone, in words an operator can act on."""
    order = decision.order
    keeping = f"keeping portal amount: {format_amount(order.amount, decision.currency)}"
    reason = decision.reason
    if reason is Reason.BAD_ODOO_ID:
        return f"Odoo id {decision.bad_value} is not a usable sale order id (skipped)"
    if reason is Reason.NOT_IN_ODOO:
        return f"Sale order {decision.odoo_id} not found in Odoo ({keeping})"
    if reason is Reason.BAD_ODOO_AMOUNT:
        return f"Odoo sent an unusable amount {decision.bad_value} ({keeping})"
    if reason is Reason.TOO_LARGE:
        new = format_amount(decision.new_amount, decision.currency)
        return (
            f"Odoo amount {new} does not fit the portal column "
            f"(largest {format_amount(decision.largest, decision.currency)}; {keeping})"
        )
    if reason is Reason.CHANGED_IN_PORTAL:
        return "Changed in the portal during the run; the portal's change was kept"
    if reason is Reason.BAD_PORTAL_AMOUNT:
        return "The portal's amount is not a number; fix it in the portal (skipped)"
    if reason is Reason.CHANGED_SINCE:
        return f"Changed since that run (now {format_amount(order.amount)}); left alone"
    if reason is Reason.CONFLICT:
        new = format_amount(decision.new_amount, decision.currency)
        wrote = format_amount(decision.last_written, decision.currency)
        return (
            f"Conflict: changed in the portal since orderamt wrote {wrote}, and Odoo now says "
            f"{new} ({keeping}; --on-conflict skip)"
        )
    if reason is Reason.DRIFT:
        wrote = format_amount(decision.last_written, decision.currency)
        return (
            f"Changed in the portal since orderamt wrote {wrote}, while Odoo still says so: "
            f"the portal drifted from Odoo ({keeping}; --on-conflict skip)"
        )
    if reason is Reason.CURRENCY:
        return (
            f"Odoo's order is in {decision.odoo_currency or 'no currency'}, the portal's amount "
            f"in {decision.currency}: not written (keeping portal amount: "
            f"{format_amount(order.amount, decision.currency)})"
        )
    return "Skipped"


def field_issue(issue: FieldIssue) -> str:
    """Why a mapped field was left alone, in words an operator can act on."""
    keeping = f"keeping {_shown(issue.portal_value)}"
    if issue.reason is Reason.UNMAPPED:
        return (
            f"{issue.field}: Odoo says {issue.odoo_value!r}, which ORDERAMT_"
            f"{issue.field.upper()}_MAP does not map ({keeping})"
        )
    if issue.reason is Reason.CHANGED_SINCE:
        return (
            f"{issue.field}: changed since that run (now {_shown(issue.portal_value)}); left alone"
        )
    if issue.reason is Reason.CONFLICT:
        return (
            f"{issue.field}: conflict: changed in the portal since orderamt wrote "
            f"{_shown(issue.last_written)}, and Odoo now says {_shown(issue.new)} "
            f"({keeping}; --on-conflict skip)"
        )
    if issue.reason is Reason.DRIFT:
        return (
            f"{issue.field}: changed in the portal since orderamt wrote "
            f"{_shown(issue.last_written)}, while Odoo still says so ({keeping}; "
            "--on-conflict skip)"
        )
    if issue.reason is Reason.FLAGGED:
        return (
            f"{issue.field}: conflict: changed in the portal (now {_shown(issue.portal_value)}) "
            f"and in Odoo (now {_shown(issue.new)}) since orderamt last saw "
            f"{_shown(issue.last_written)}; both left as they are (ORDERAMT_"
            f"{issue.field.upper()}_ON_CONFLICT=flag)"
        )
    if issue.reason is Reason.PUSH_REFUSED:
        return (
            f"{issue.field}: Odoo refused the portal's {_shown(issue.portal_value)}: "
            f"{issue.detail} ({keeping} in the portal; Odoo still says {issue.odoo_value!r})"
        )
    return f"{issue.field}: skipped"


def _shown(value: str | None) -> str:
    return "NULL" if value is None else repr(value)


def problem_reason(decision: Decision) -> str:
    """The problem's kind, as the journal keeps it: news when it changes."""
    if decision.action is Action.SKIP:
        return decision.reason.value if decision.reason else "skipped"
    return decision.issues[0].reason.value if decision.issues else "skipped"


def problem_detail(decision: Decision) -> str:
    """The problem as `orderamt status` lists it (at most 255 characters)."""
    parts = [skip_reason(decision)] if decision.action is Action.SKIP else []
    parts += [field_issue(issue) for issue in decision.issues]
    return "; ".join(parts)[:255]
