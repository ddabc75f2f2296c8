"""`orderamt listen --setup-odoo URL`: the automation rule in Odoo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from orderamt.app.wiring import make_odoo, settings_from
from orderamt.errors import (
    ExitCode,
    OdooError,
    OdooRefused,
    UsageError,
)
from orderamt.urls import mask_url


def setup_odoo(env_file: Path | None, url: str, echo: Callable[[str], None]) -> ExitCode:
    """`orderamt listen --setup-odoo URL`: the automation rule in Odoo that posts each saved
    sale order to the listener at URL, made (or found) over the API; where the Odoo user
    may not, the steps to make it by hand."""
    from orderamt.listen import PATH_PREFIX
    from orderamt.odoo.automation import FIELD_LABELS, RULE_NAME, SENT_FIELDS, ensure_webhook_rule

    settings = settings_from(env_file, webhook=True)
    secret = settings.listen.secret.reveal()
    parts = urlsplit(url.strip())
    said = mask_url(url)
    if PATH_PREFIX in said:  # never echo a secret, this one or another
        said = said[: said.index(PATH_PREFIX) + len(PATH_PREFIX)] + "<secret>"
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise UsageError(
            f"--setup-odoo takes the address Odoo reaches the listener at, such as "
            f"https://portal.example.com or http://127.0.0.1:8765, not {said!r}"
        )
    base = parts.geturl().rstrip("/")
    if base.endswith(PATH_PREFIX + secret):
        base = base[: -len(PATH_PREFIX + secret)]
    elif PATH_PREFIX in base + "/":
        raise UsageError(
            f"--setup-odoo: {said!r} holds another secret than ORDERAMT_WEBHOOK_SECRET"
        )
    hook = base + PATH_PREFIX + secret
    shown = base + PATH_PREFIX + "<ORDERAMT_WEBHOOK_SECRET>"
    triggers = ["amount_total", "state", *(spec.odoo_field for spec in settings.schema.fields)]
    with make_odoo(settings.odoo) as odoo:
        try:
            rule = ensure_webhook_rule(odoo, hook, triggers)
        except OdooRefused as exc:
            labels = ", ".join(FIELD_LABELS.get(f, f) for f in dict.fromkeys(triggers))
            for line in (
                f"Odoo's user '{settings.odoo.username}' may not create automation rules (that "
                "takes Settings rights). An Odoo administrator makes it by hand: Settings, "
                "Technical, Automation Rules (developer mode on), New:",
                f"  1. Model: Sales Order. Trigger: On save. Trigger fields: {labels}.",
                f"  2. Action: Send Webhook Notification. URL: {shown}",
                f"  3. Fields to send: {', '.join(SENT_FIELDS)} (id is always sent).",
                "  4. Save, change a line of a test order, and see `orderamt history` show a "
                "webhook run.",
            ):
                echo(line)
            done = exc.message.rstrip(".")
            raise OdooError(f"{done}: the rule was not created (see above)") from None
    where = mask_url(settings.odoo.url)
    labels = ", ".join(f"{FIELD_LABELS.get(f, f)} ({f})" for f in rule.trigger_fields)
    if not rule.created:
        echo(f"Odoo at {where} already has automation rule #{rule.rule_id} posting to {shown}; "
             "nothing was created.")  # fmt: skip
        if rule.missing_triggers:
            lacking = ", ".join(f"{FIELD_LABELS.get(f, f)} ({f})" for f in rule.missing_triggers)
            echo(f"It does not trigger on {lacking}: add them to its trigger fields in Odoo "
                 "(meanwhile the catch-up poll finds those changes).")  # fmt: skip
        return ExitCode.OK
    echo(f"Created automation rule #{rule.rule_id} '{RULE_NAME}' in Odoo at {where}:")
    echo(f"  on saving a Sales Order whose {labels} changed,")
    echo(f"  Send Webhook Notification to {shown}")
    echo(f"  with the fields id, {', '.join(rule.sent_fields)}.")
    echo("See it in Odoo under Settings, Technical, Automation Rules; then change a line of a "
         "test order and see `orderamt history` show a webhook run.")  # fmt: skip
    return ExitCode.OK
