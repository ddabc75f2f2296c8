"""The automation rule that makes Odoo post a webhook when a sale order is saved.

Built from Odoo's own code (base_automation, 17.0 to 19.0; no recording of these calls):
one `base.automation` on sale.order, trigger "On save" (`on_create_or_write`) on the fields
whose change matters, with one `ir.actions.server` of state `webhook` created inside it.
Only a user of Settings (base.group_system) may read ir.model or create the rule; anyone
else gets Odoo's AccessError, which the caller turns into the steps to take by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderamt.errors import OdooError
from orderamt.odoo import Odoo

RULE_NAME = "orderamt: sale orders to the portal"
SENT_FIELDS = ("name", "amount_total")
"""Sent beside `id` (always sent) for the request log; orderamt reads only the id."""

FIELD_LABELS = {
    "amount_total": "Total",
    "state": "Status",
    "invoice_status": "Invoice Status",
    "delivery_status": "Delivery Status",
}
"""How Odoo's form names the trigger fields an operator picks by hand."""


@dataclass(frozen=True)
class WebhookRule:
    """The rule in Odoo that posts to the listener: made now, or found there."""

    rule_id: int
    created: bool
    trigger_fields: tuple[str, ...]
    sent_fields: tuple[str, ...] = SENT_FIELDS
    missing_triggers: tuple[str, ...] = ()
    """A rule found: the wanted trigger fields it lacks (a field mapped since it was made)."""


def ensure_webhook_rule(
    odoo: Odoo, url: str, trigger_fields: Sequence[str], name: str = RULE_NAME
) -> WebhookRule:
    """The rule posting to `url`: found when one already does, else created (as `name`)."""
    triggers = tuple(dict.fromkeys(trigger_fields))
    found = odoo.search_records(
        "ir.actions.server",
        [("state", "=", "webhook"), ("webhook_url", "=", url)],
        ["base_automation_id"],
        "the search for an existing webhook action",
    )
    for action in found:
        rule = action.get("base_automation_id")
        if isinstance(rule, list) and rule and isinstance(rule[0], int):
            has = _trigger_names(odoo, rule[0])
            missing = tuple(name for name in triggers if name not in has)
            return WebhookRule(rule[0], False, triggers, missing_triggers=missing)
    models = odoo.search_records(
        "ir.model", [("model", "=", "sale.order")], ["id"], "the search for sale.order's model"
    )
    if not models:
        raise OdooError("Odoo has no model sale.order (is the Sales app installed?)")
    model_id = int(models[0]["id"])
    wanted = sorted(set(triggers) | set(SENT_FIELDS))
    fields = odoo.search_records(
        "ir.model.fields",
        [("model", "=", "sale.order"), ("name", "in", wanted)],
        ["id", "name"],
        "the search for sale.order's fields",
    )
    ids = {str(f["name"]): int(f["id"]) for f in fields}
    absent = [name for name in wanted if name not in ids]
    if absent:
        raise OdooError(f"Odoo's sale.order has no field {', '.join(absent)}")
    action = {
        "name": "Send Webhook Notification",
        "state": "webhook",
        "usage": "base_automation",
        "model_id": model_id,
        "webhook_url": url,
        "webhook_field_ids": [(6, 0, [ids[name] for name in SENT_FIELDS])],
    }
    rule_id = odoo.create_record(
        "base.automation",
        {
            "name": name,
            "model_id": model_id,
            "trigger": "on_create_or_write",
            "trigger_field_ids": [(6, 0, [ids[name] for name in triggers])],
            "action_server_ids": [(0, 0, action)],
        },
        "the creation of the automation rule",
    )
    return WebhookRule(rule_id, created=True, trigger_fields=triggers)


def _trigger_names(odoo: Odoo, rule_id: int) -> set[str]:
    """The names of the fields a rule triggers on."""
    rules = odoo.search_records(
        "base.automation", [("id", "=", rule_id)], ["trigger_field_ids"], "the rule's fields"
    )
    ids = [i for rule in rules for i in rule.get("trigger_field_ids") or [] if isinstance(i, int)]
    if not ids:
        return set()
    fields = odoo.search_records(
        "ir.model.fields", [("id", "in", ids)], ["name"], "the rule's trigger fields"
    )
    return {str(f["name"]) for f in fields}
