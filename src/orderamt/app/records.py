"""`orderamt history`, `release` and `ignore`: reading and acknowledging the journal."""

from __future__ import annotations

from pathlib import Path

from orderamt.app.wiring import Clock, log, portal_of, settings_from
from orderamt.errors import (
    ExitCode,
    UsageError,
)
from orderamt.lock import run_lock
from orderamt.logs import close_logging, setup_logging
from orderamt.report import (
    print_lines,
    print_order_changes,
    print_released,
    print_runs,
)
from orderamt.times import utc_now


def history(env_file: Path | None, *, order_id: int | None, limit: int, as_json: bool) -> ExitCode:
    """`orderamt history`: the latest runs, or the latest changes to one order."""
    settings = settings_from(env_file, odoo=False)
    with portal_of(settings) as (_, orders, journal):
        orders.db.ping()
        if order_id is not None:
            entries = journal.changes(order_id=order_id, limit=limit)
            holds = journal.holds_of(order_id)
        else:
            runs = journal.runs(limit)
    if order_id is not None:
        print_order_changes(order_id, entries, holds, as_json=as_json)
    else:
        print_runs(runs, as_json=as_json)
    return ExitCode.OK


def release(env_file: Path | None, order_id: int, *, clock: Clock = utc_now) -> ExitCode:
    """`orderamt release ORDER_ID`: end a revert's hold, so the next sync takes Odoo's amount."""
    settings = settings_from(env_file, odoo=False)
    setup_logging(settings.log_file)
    try:
        with portal_of(settings) as (engine, orders, journal), run_lock(settings, engine):
            orders.db.ping()
            released = journal.release(order_id, clock())
    finally:
        close_logging()
    print_released(order_id, released)
    if released:
        log.info("Hold released by hand", extra={"context": {"order_id": order_id}})
    return ExitCode.OK


def ignore(
    env_file: Path | None, order_id: int, reason: str, *, clock: Clock = utc_now
) -> ExitCode:
    """`orderamt ignore ORDER_ID`: acknowledge one order's problem until it changes."""
    settings = settings_from(env_file, odoo=False)
    with portal_of(settings) as (_, orders, journal):
        orders.db.ping()
        done = journal.ignore(order_id, reason, clock())
    if not done:
        raise UsageError(f"order {order_id} has no problem to ignore (see: orderamt status)")
    print_lines(
        [
            f"Order {order_id}'s problem is ignored ({reason}): runs no longer exit 1 for it, "
            "until its reason changes."
        ]
    )
    return ExitCode.OK
