"""Automation rules (base.automation) and their webhook actions (ir.actions.server), as
`orderamt listen --setup-odoo` creates them, and the models (ir.model, ir.model.fields)
they name. Only a user in Settings may read or create them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class AutomationRules:
    """How `Database` checks and creates automation rules; mixed into it, which holds them."""

    version: int
    admin: bool
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


def _set_command(commands: Any) -> list[int]:
    """The ids a many2many's [(6, 0, ids)] sets."""
    ids: list[int] = []
    for command in commands or []:
        if isinstance(command, (list, tuple)) and len(command) == 3 and command[0] == 6:
            ids = list(command[2])
    return ids
