"""Automation rules (base.automation) and their webhook actions (ir.actions.server), as
`orderamt listen --setup-odoo` creates them, and the models (ir.model, ir.model.fields)
they name. Only a user in Settings may read or create them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from orderamt.testing._faults import access_error, missing_error, python_error, validation_error
from orderamt.testing._orm import BaseModel
from orderamt.testing._schema import Field, many2one

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
    "model_id": many2one("Model", "ir.model"),
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
    "model_id": many2one("Model", "ir.model"),
    "webhook_url": Field("char", "Webhook URL"),
    "webhook_field_ids": Field("many2many", "Webhook Fields", {"relation": "ir.model.fields"}),
    "base_automation_id": many2one("Automation Rule", "base.automation"),
}
ADMIN_GROUP = {17: "Administration/Settings", 18: "Administration/Settings"}
"""The group that may touch models and automation rules, as AccessError names it (19 and
later: "Role / Administrator")."""


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

    def unlink(self) -> bool:
        """The rules gone, and their actions with them (ir.actions.server's
        base_automation_id is `ondelete='cascade'` in Odoo 17-19)."""
        self._odoo.check_admin(self._model.name, "unlink")
        missing = [i for i in self._ids if i not in self._odoo.automations]
        if missing:
            raise missing_error("Record does not exist or has been deleted.")
        for rule_id in self._ids:
            for action_id in self._odoo.automations.pop(rule_id)["action_server_ids"]:
                self._odoo.server_actions.pop(action_id, None)
        return True


WEBHOOK_AGENT = "python-requests/2.31.0"


def send_webhook(
    url: str, payload: Mapping[str, Any] | bytes, timeout: float = 5
) -> tuple[int, bytes]:
    """POST a webhook the way Odoo does (python-requests, JSON; never retried): returns the
    receiver's status and body."""
    body = payload if isinstance(payload, bytes) else json.dumps(dict(payload)).encode()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": WEBHOOK_AGENT},
        )
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


class AutomationRules:
    """How `Database` checks and creates automation rules, and fires them on a change made
    over the API; mixed into it, which holds them."""

    version: int
    admin: bool
    orders: dict[int, dict[str, Any]]
    automations: dict[int, dict[str, Any]]
    server_actions: dict[int, dict[str, Any]]
    _ir_models: dict[int, dict[str, Any]]
    _ir_fields: dict[int, dict[str, Any]]

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

    def webhook_payload(
        self, id: int, *, stale: bool = False, write_date: str | None = None
    ) -> dict[str, Any]:
        """What Odoo's "Send Webhook Notification" posts for this order, as recorded:
        many2one fields as bare ids and `write_date` with microseconds. `stale` gives a
        `write_date` from before the save, as Odoo sends after a line-only change;
        `write_date` the one the order had."""
        order = self.orders[id]
        currency = order.get("currency_id")
        stored = "2026-11-24 18:15:57" if stale else str(order.get("write_date"))
        if write_date is not None:
            stored = write_date
        write_date = stored if len(stored) > 19 else f"{stored}.365950"  # as the database has it
        return {
            "_action": "Send Webhook Notification(#352)",
            "_id": id,
            "_model": "sale.order",
            "amount_total": order.get("amount_total"),
            "currency_id": currency[0] if isinstance(currency, (list, tuple)) else currency,
            "id": id,
            "name": order.get("name"),
            "state": order.get("state"),
            "write_date": write_date,
        }

    def fire(
        self,
        order_ids: Iterable[int],
        changed: Iterable[str],
        *,
        before: Mapping[int, str] | None = None,
    ) -> None:
        """The rules "on save" of sale.order whose trigger fields a change made over the API
        touched: each webhook action posts the order, in the request, with 18.0's 1 s
        timeout and no retry; a receiver that fails is only logged by Odoo (ignored here).
        A program's own push comes back to it this way (the echo). `before`: a change made
        on an order's lines alone, whose webhook carries the write_date the order had before
        it (odoo-facts.md)."""
        touched = set(changed)
        for rule in list(self.automations.values()):
            if not rule.get("active") or rule.get("trigger") != "on_create_or_write":
                continue
            names = {self._ir_fields[i]["name"] for i in rule["trigger_field_ids"]
                     if i in self._ir_fields}  # fmt: skip
            if names and not names & touched:
                continue
            for action_id in rule["action_server_ids"]:
                action = self.server_actions.get(action_id, {})
                url = action.get("webhook_url")
                if action.get("state") != "webhook" or not url:
                    continue
                for order_id in order_ids:
                    with contextlib.suppress(OSError, http.client.HTTPException):
                        stale = None if before is None else before.get(order_id)
                        payload = self.webhook_payload(order_id, write_date=stale)
                        send_webhook(str(url), payload, timeout=1)


def _set_command(commands: Any) -> list[int]:
    """The ids a many2many's [(6, 0, ids)] sets."""
    ids: list[int] = []
    for command in commands or []:
        if isinstance(command, (list, tuple)) and len(command) == 3 and command[0] == 6:
            ids = list(command[2])
    return ids
