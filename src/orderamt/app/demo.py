"""`orderamt demo`: the real sync on a throw-away portal and the Odoo test double."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from orderamt.app.runs import choose, run_options, run_sync
from orderamt.app.wiring import make_report
from orderamt.errors import (
    ExitCode,
)
from orderamt.times import utc_now


def demo(echo: Callable[[str], None]) -> ExitCode:
    """`orderamt demo`: the real sync on a throw-away portal and the Odoo test double."""
    from orderamt.testing.demo import demo_setup

    now = utc_now()
    selection = choose(order_id=None, all_orders=False, days=None, now=now)
    report = make_report(selection, quiet=False, as_json=False, dry_run=False)
    with (
        tempfile.TemporaryDirectory(prefix="orderamt-demo-") as tmp,
        demo_setup(Path(tmp), now) as (settings, odoo_url),
    ):
        echo(f"Demo: a throw-away portal database and an Odoo test double at {odoo_url}")
        echo("")
        code = run_sync(settings, selection, run_options(settings), report=report)
        echo("")
        echo("That was the real sync. To run it on your own portal and Odoo, write a .env")
        echo("with ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD and PORTAL_DATABASE_URL")
        echo("(.env.example in the source lists every setting), try it with: orderamt check,")
        echo("then run: orderamt sync")
    return code
