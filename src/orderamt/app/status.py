"""`orderamt status`: the runs at a glance, and the monitoring check."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from orderamt.app.wiring import portal_of, settings_from
from orderamt.errors import ExitCode, OrderamtError
from orderamt.models import (
    RunOverview,
    RunRecord,
)
from orderamt.report.status import print_status
from orderamt.report.terminal import printable
from orderamt.times import utc_now


def status(
    env_file: Path | None, *, as_json: bool, max_age: float | None, echo: Callable[[str], None]
) -> ExitCode:
    """`orderamt status`: the runs at a glance, read from the portal alone (no Odoo setting
    is needed); with `max_age`, a monitoring check that says one line on stdout whatever
    happens, as a Nagios plugin does."""
    try:
        settings = settings_from(env_file, odoo=False, warn=max_age is None)
        with portal_of(settings) as (_, orders, journal):
            orders.db.ping()
            overview = journal.overview()
            problems = journal.problems()
    except OrderamtError as exc:
        if max_age is None:
            raise
        # A monitor shows what it reads on stdout: never an empty UNKNOWN.
        if exc.exit_code is ExitCode.USAGE:
            echo(f"ORDERAMT UNKNOWN - {printable(exc.message)}")
            return ExitCode.ODOO  # 3, Nagios' UNKNOWN: status never asks Odoo
        echo(f"ORDERAMT CRITICAL - {printable(exc.message)}")
        return ExitCode.USAGE  # 2, Nagios' CRITICAL
    now = utc_now()
    if max_age is not None:
        return _max_age_check(overview, max_age, now, echo)
    going = [(r, _state_of(r)) for r in overview.unfinished]
    print_status(overview, problems, going, now, as_json=as_json)
    return ExitCode.OK


def _state_of(run: RunRecord) -> str:
    """Whether an unfinished run is going now, as far as this host can tell."""
    if run.host != socket.gethostname() or run.pid is None:
        return "on another host: cannot tell from here"
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return "its process is gone: it stopped without recording an end"
    except PermissionError:
        pass  # alive, another user's
    return "going now"


def _max_age_check(
    overview: RunOverview, max_age: float, now: datetime, echo: Callable[[str], None]
) -> ExitCode:
    """The Nagios plugin convention: 0 fresh enough, 1 too old, 2 never succeeded; one line,
    `ORDERAMT OK - ...`."""
    success = overview.last_success
    if success is None or success.finished_at is None:
        echo("ORDERAMT CRITICAL - no run has ever completed")
        return ExitCode.USAGE
    age = (now - success.finished_at).total_seconds()
    words = f"the last completed run (run {success.id}) ended {_duration(age)} ago"
    if age <= max_age:
        echo(f"ORDERAMT OK - {words}")
        return ExitCode.OK
    echo(f"ORDERAMT WARNING - {words}, more than {_duration(max_age)}")
    return ExitCode.PARTIAL


def _duration(seconds: float) -> str:
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return (
                f"{seconds / size:.0f}{unit}"
                if seconds % size == 0
                else f"{seconds / size:.1f}{unit}"
            )
    return f"{seconds:.0f}s"
