"""`orderamt sync` and `orderamt revert`: the runs that write, under the lock, reported."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

from orderamt.app.metrics import write_metrics
from orderamt.app.wiring import Clock, log, make_odoo, make_report, portal_of, settings_from
from orderamt.config import (
    DEFAULT_CHANGED_MARGIN,
    OnConflict,
    Settings,
)
from orderamt.errors import (
    ExitCode,
    LockedError,
    LogError,
    OrderamtError,
    UsageError,
    exit_code_of,
)
from orderamt.lock import run_lock
from orderamt.logs import close_logging, setup_logging
from orderamt.models import (
    Changed,
    Everything,
    OneOrder,
    Recent,
    RunCounts,
    RunOptions,
    Selection,
)
from orderamt.portal import PortalJournal, PortalOrders
from orderamt.report import (
    ConsoleReport,
    JsonReport,
)
from orderamt.sync import (
    AMOUNT,
    Reporter,
    exit_code_for,
    revert_run,
    sync_changed,
    sync_orders,
)
from orderamt.times import utc_now, window_start

DEFAULT_DAYS = 30


def choose(
    *,
    order_id: int | None,
    all_orders: bool,
    days: int | None,
    now: datetime,
    changed: bool = False,
    margin: float = DEFAULT_CHANGED_MARGIN,
) -> Selection:
    """The selection the options name (cli has made sure they go together)."""
    if changed:
        return Changed(days=days or DEFAULT_DAYS, margin=timedelta(seconds=margin))
    if order_id is not None:
        return OneOrder(order_id)
    if all_orders:
        return Everything()
    window = days or DEFAULT_DAYS
    return Recent(since=window_start(now, window), days=window)


def _run(
    settings: Settings,
    body: Callable[[PortalOrders, PortalJournal, Reporter], RunCounts],
    *,
    report: ConsoleReport | JsonReport,
    options: RunOptions,
) -> ExitCode:
    """A sync or a revert: log file, lock, the body, its report; failures logged and raised.

    With a JSON report, a failure still prints the document, with the error in it.
    """
    setup_logging(settings.log_file)
    for warning in settings.warnings:
        log.warning("Configuration", extra={"context": {"warning": warning}})
    dry_run = options.dry_run
    console_report = report if isinstance(report, ConsoleReport) else None
    completed = False
    try:
        with portal_of(settings) as (engine, orders, journal):
            # A dry run writes nothing, so it need not wait for (or block) a real run.
            with nullcontext() if dry_run else run_lock(settings, engine):
                if console_report is not None:
                    console_report.started()
                try:
                    counts = body(orders, journal, report)
                finally:
                    if console_report is not None:
                        console_report.stop_progress()
            completed = True
            if not dry_run:  # the lock let go; the run's own connection, its log still open
                write_metrics(settings, journal)
    except BaseException as exc:
        if completed:  # Ctrl-C while the metrics file was written: the run itself is done
            raise
        code = exit_code_of(exc)
        message = exc.message if isinstance(exc, OrderamtError) else _stopped(code)
        if message is not None:
            with contextlib.suppress(LogError):  # a log that cannot be written: said already
                log.error(message, extra={"context": {"exit_code": int(code)}})
            if isinstance(report, JsonReport):
                report.print(None, int(code), message)
        if not dry_run and not isinstance(exc, LockedError):
            write_metrics(settings)
        raise
    finally:
        close_logging()
    code = exit_code_for(counts, options.strict)
    if console_report is not None:
        console_report.finished(counts)
    else:
        assert isinstance(report, JsonReport)
        report.print(counts, int(code))
    return code


def _stopped(code: ExitCode) -> str | None:
    if code is ExitCode.INTERRUPTED:
        return "stopped by Ctrl-C (SIGINT); the batch in flight was rolled back"
    if code is ExitCode.TERMINATED:
        return "stopped by SIGTERM; the batch in flight was rolled back"
    return None


def sync(
    env_file: Path | None,
    *,
    order_id: int | None = None,
    all_orders: bool = False,
    days: int | None = None,
    quiet: bool = False,
    as_json: bool = False,
    dry_run: bool = False,
    on_conflict: OnConflict | None = None,
    changed: bool = False,
    strict: bool = False,
    clock: Clock = utc_now,
) -> ExitCode:
    """`orderamt sync`."""
    json_report = JsonReport(None, dry_run=dry_run) if as_json else None
    # --quiet: a standing warning (an unknown name in a shared Laravel .env) goes to the log
    # and `check`, not to cron's mail every run.
    settings = settings_from(env_file, json_report, warn=not quiet)
    selection = choose(
        order_id=order_id,
        all_orders=all_orders,
        days=days,
        now=clock(),
        changed=changed,
        margin=settings.changed_margin,
    )
    report = make_report(selection, quiet=quiet, as_json=as_json, dry_run=dry_run)
    options = run_options(settings, dry_run=dry_run, on_conflict=on_conflict, strict=strict)
    return run_sync(settings, selection, options, report=report, clock=clock)


def run_options(
    settings: Settings,
    *,
    dry_run: bool = False,
    on_conflict: OnConflict | None = None,
    strict: bool = False,
) -> RunOptions:
    """The run's options: the command line's, over the settings'."""
    return RunOptions(
        batch_size=settings.batch_size,
        dry_run=dry_run,
        skip_conflicts=(on_conflict or settings.on_conflict) == "skip",
        strict=strict,
    )


def run_sync(
    settings: Settings,
    selection: Selection,
    options: RunOptions,
    *,
    report: ConsoleReport | JsonReport,
    clock: Clock = utc_now,
) -> ExitCode:
    """A sync with settings already made (the demo's way in)."""

    def body(orders: PortalOrders, journal: PortalJournal, reporter: Reporter) -> RunCounts:
        fields = settings.schema.fields
        with make_odoo(settings.odoo, fields, journal, remember=not options.dry_run) as odoo:
            if isinstance(selection, Changed):
                return sync_changed(
                    orders, journal, odoo, selection, options, clock=clock, reporter=reporter
                )
            return sync_orders(
                orders, journal, odoo, selection, options, clock=clock, reporter=reporter
            )

    return _run(settings, body, report=report, options=options)


def revert(
    env_file: Path | None,
    run_id: int,
    *,
    dry_run: bool = False,
    order_id: int | None = None,
    field: str | None = None,
    clock: Clock = utc_now,
) -> ExitCode:
    """`orderamt revert RUN_ID [--order-id N] [--field NAME]`."""
    settings = settings_from(env_file)
    if field is not None:
        names = [AMOUNT, *(spec.name for spec in settings.schema.fields)]
        field = field.strip().lower()
        if field not in names:
            raise UsageError(f"--field must be one of {', '.join(names)}, got {field!r}")
    report = make_report(None, quiet=False, as_json=False, dry_run=dry_run, reverting=run_id)
    options = run_options(settings, dry_run=dry_run)

    def body(orders: PortalOrders, journal: PortalJournal, reporter: Reporter) -> RunCounts:
        # Odoo is reached only where the run pushed (its pushes are undone there).
        with make_odoo(settings.odoo, settings.schema.fields) as odoo:
            return revert_run(orders, journal, run_id, options, clock=clock, reporter=reporter,
                              order_id=order_id, field=field, odoo=odoo)  # fmt: skip

    return _run(settings, body, report=report, options=options)
