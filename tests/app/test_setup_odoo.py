"""`orderamt listen --setup-odoo URL`: the automation rule made in Odoo over the API (the
double knows base.automation as Odoo 17-19's code has it), or the steps to make it by hand."""

from __future__ import annotations

from orderamt.errors import ExitCode
from orderamt.testing import OdooDouble
from tests.conftest import Orderamt
from tests.listen.test_listener_process import SECRET

PORTAL = "https://portal.example.com"
HOOK = f"{PORTAL}/orderamt/{SECRET}"


def test_the_rule_is_made_once_and_the_secret_never_shown(
    odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """A rule on Sales Order, On save of Total and Status (and each mapped field), whose one
    action posts id, name and amount_total to the listener's secret URL; asked again, the
    rule is found, not made twice. The secret is in Odoo, never on the screen."""
    run = orderamt_sqlite(
        "listen", "--setup-odoo", PORTAL + "/", ORDERAMT_WEBHOOK_SECRET=SECRET,
        ORDERAMT_INVOICE_STATUS_MAP="no:none,invoiced:invoiced",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert SECRET not in run.stdout + run.stderr
    assert run.lines[:4] == [
        f"Created automation rule #1 'orderamt: sale orders to the portal' in Odoo at {odoo.url}:",
        "  on saving a Sales Order whose Total (amount_total), Status (state), Invoice Status "
        "(invoice_status) changed,",
        f"  Send Webhook Notification to {PORTAL}/orderamt/<ORDERAMT_WEBHOOK_SECRET>",
        "  with the fields id, name, amount_total.",
    ]
    (rule,) = odoo.automations.values()
    (action,) = odoo.server_actions.values()

    def field(name: str) -> int:
        return odoo.field_id("sale.order", name)

    assert (rule["trigger"], rule["model_id"][1], rule["active"]) == (
        "on_create_or_write", "Sales Order", True
    )  # fmt: skip
    assert rule["trigger_field_ids"] == [field("amount_total"), field("state"),
                                         field("invoice_status")]  # fmt: skip
    assert (action["state"], action["webhook_url"], action["base_automation_id"][0]) == (
        "webhook", HOOK, 1
    )  # fmt: skip
    assert action["webhook_field_ids"] == [field("name"), field("amount_total")]
    again = orderamt_sqlite("listen", "--setup-odoo", HOOK, ORDERAMT_WEBHOOK_SECRET=SECRET)
    assert again.exit_code == 0, again.stderr
    assert again.lines == [
        f"Odoo at {odoo.url} already has automation rule #1 posting to "
        f"{PORTAL}/orderamt/<ORDERAMT_WEBHOOK_SECRET>; nothing was created."
    ]  # its triggers include every field mapped now (none)
    assert len(odoo.automations) == 1
    mapped = orderamt_sqlite(
        "listen", "--setup-odoo", PORTAL, ORDERAMT_WEBHOOK_SECRET=SECRET,
        ORDERAMT_INVOICE_STATUS_MAP="no:none", ORDERAMT_DELIVERY_STATUS_MAP="full:shipped",
    )  # fmt: skip
    assert mapped.lines[1] == (
        "It does not trigger on Delivery Status (delivery_status): add them to its trigger "
        "fields in Odoo (meanwhile the catch-up poll finds those changes)."
    )
    assert len(odoo.automations) == 1


def test_a_user_without_settings_rights_is_told_the_steps(
    protocol: str, orderamt_sqlite: Orderamt
) -> None:
    """Odoo's AccessError (reading ir.model takes Settings rights): exit 3, one line on
    stderr, and on stdout the rule to make by hand, with the URL's secret left as its name."""
    version = 19 if protocol == "json2" else 18
    with OdooDouble(version=version, db="odoo", login="admin", password="admin",
                    api_key=orderamt_sqlite.env["ODOO_PASSWORD"], admin=False) as bare:  # fmt: skip
        run = orderamt_sqlite(
            "listen", "--setup-odoo", PORTAL, ODOO_URL=bare.url, ORDERAMT_WEBHOOK_SECRET=SECRET
        )
        assert bare.automations == {}
    assert run.exit_code == ExitCode.ODOO
    assert SECRET not in run.stdout + run.stderr
    assert run.stderr.startswith(
        "orderamt: Odoo refused the search for an existing webhook action: You are not "
        "allowed to access 'Server Actions' (ir.actions.server) records: the rule was not "
        "created (see above)"
    )
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.lines[1:] == [
        "  1. Model: Sales Order. Trigger: On save. Trigger fields: Total, Status.",
        f"  2. Action: Send Webhook Notification. URL: {PORTAL}/orderamt/<ORDERAMT_WEBHOOK_SECRET>",
        "  3. Fields to send: name, amount_total (id is always sent).",
        "  4. Save, change a line of a test order, and see `orderamt history` show a webhook run.",
    ]


def test_a_url_odoo_cannot_post_to_or_no_secret_is_refused(orderamt_sqlite: Orderamt) -> None:
    """Not an http(s) address, another secret in the URL, or no secret set: exit 2, one
    line, nothing asked of Odoo."""
    cases = [
        (("portal.example.com",), {"ORDERAMT_WEBHOOK_SECRET": SECRET},
         "--setup-odoo takes the address Odoo reaches the listener at"),
        ((f"{PORTAL}/orderamt/another-secret-of-forty-characters-xxxxx",),
         {"ORDERAMT_WEBHOOK_SECRET": SECRET}, "holds another secret than ORDERAMT_WEBHOOK_SECRET"),
        ((PORTAL,), {}, "ORDERAMT_WEBHOOK_SECRET must be at least 32"),
        ((f"{HOOK}?x=1",), {"ORDERAMT_WEBHOOK_SECRET": SECRET},
         "not 'https://portal.example.com/orderamt/<secret>'"),
    ]  # fmt: skip
    for args, env, message in cases:
        run = orderamt_sqlite("listen", "--setup-odoo", *args, **env)
        assert run.exit_code == ExitCode.USAGE, run.stdout
        assert message in run.stderr
        assert SECRET not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
