"""`orderamt check`: every part of a setup tried."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orderamt.app.wiring import make_odoo, settings_from
from orderamt.checks import check_header, run_checks
from orderamt.errors import (
    ExitCode,
)
from orderamt.report import (
    print_check_header,
    print_checks,
)
from orderamt.times import utc_now

CHECK_TIMEOUT = 10.0
"""Seconds `check` waits for each Odoo call: an operator at the keyboard, not a cron job."""


def check(env_file: Path | None, *, as_json: bool = False) -> ExitCode:
    """`orderamt check`: every part tried and shown; the code of the first that failed."""
    settings = settings_from(env_file)
    timeout = min(settings.odoo.timeout, CHECK_TIMEOUT)
    header = check_header(settings)
    if not as_json:
        # Said before the first call, so a hung Odoo is a wait the operator knows about.
        print_check_header([*header, "", f"Asking Odoo (waiting up to {timeout:g} s)..."])
    with make_odoo(
        replace(settings.odoo, retries=0, timeout=timeout), settings.schema.fields
    ) as odoo:
        results = run_checks(settings, odoo, utc_now())
    failures = [r for r in results if r.passed is False]
    code = ExitCode(failures[0].exit_code) if failures else ExitCode.OK
    print_checks(results, as_json=as_json, exit_code=int(code))
    return code
