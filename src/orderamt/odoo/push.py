"""The calls that take a portal's change into Odoo, shared by both protocols.

Only Odoo's public actions, never the private `_action_cancel` or a direct `state` write,
which skip Odoo's own rules (the lock, the delivery and draft invoices cancelled with the
order). `action_cancel` always carries `disable_cancel_warning`: without it 17.0 and 18.0
answer a wizard for any order but a draft (and change nothing); 19.0 has no wizard and
ignores the key (odoo-facts.md, "Pushing a portal's changes into Odoo").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderamt.errors import PushRefused

METHODS = {"cancel": "action_cancel", "draft": "action_draft", "write": "write"}
"""The Odoo method of each push action (models.PUSH_ACTIONS)."""
CONTEXT: dict[str, Any] = {"disable_cancel_warning": True}


def push_call(
    action: str, values: Mapping[str, object] | None
) -> tuple[str, list[Any], dict[str, Any]]:
    """The method, its arguments after the ids, and its keyword arguments (the context)."""
    method = METHODS[action]
    if action == "write":
        if not values:
            raise ValueError("a write pushes values")
        return method, [{name: _odoo_value(v) for name, v in values.items()}], {}
    return method, [], ({"context": dict(CONTEXT)} if action == "cancel" else {})


def _odoo_value(value: object) -> object:
    """A portal's NULL is Odoo's False (the field cleared)."""
    return False if value is None else value


def refusal(message: str) -> PushRefused:
    """Odoo's refusal as one line: the line that says what is not allowed where its message
    has one (19's AccessError starts with the field it failed to read), else its first."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    said = next((line for line in lines if "not allowed" in line), lines[0] if lines else "")
    return PushRefused(said or "(no message)")


def check_pushed(answer: Any, what: str) -> None:
    """Odoo took the action (it answered True); a window action instead (a wizard that
    changed nothing) is a refusal to name."""
    if answer is True:
        return
    if isinstance(answer, dict) and answer.get("type") == "ir.actions.act_window":
        raise PushRefused(
            f"Odoo answered {what} with a wizard ({answer.get('name', 'a dialog')!s:.60}) "
            "instead of doing it"
        )
    raise PushRefused(f"Odoo answered {what} with {answer!r:.60}")
