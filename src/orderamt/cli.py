"""The command line: parse options, load settings, build the adapters, run, map errors to exits.

The only module that knows Click.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine

from orderamt import __version__
from orderamt.checks import run_checks
from orderamt.config import OdooSettings, PortalSchema, Secret, Settings, load_settings
from orderamt.errors import EXIT_CODES_HELP, ExitCode, OrderamtError
from orderamt.journal import JournalEntry, RunRecord
from orderamt.lock import default_lock_file, file_lock
from orderamt.logs import LOGGER_NAME, close_logging, setup_logging
from orderamt.models import Mode, Selection
from orderamt.odoo import Odoo, RetryPolicy
from orderamt.odoo.records import display_url
from orderamt.portal import PortalRepository, advisory_lock, create_portal_engine
from orderamt.report import ConsoleReport, JsonReport, can_show_emoji, money, plural
from orderamt.sync import Reporter, revert_run, sync_orders

DEFAULT_DAYS = 30
MAX_DAYS = 36_500

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Naive UTC to the second, as Laravel stores `created_at` and `updated_at`."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


class OrderamtGroup(click.Group):
    """Every usage error is one line on stderr and exit 2, not Click's three-line block."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
            code = ExitCode.USAGE
        except click.ClickException as exc:
            where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else ""
            prefix = f"{where}: " if where else "orderamt: "
            hint = f" (see '{where} --help')" if isinstance(exc, click.UsageError) and where else ""
            click.echo(f"{prefix}{exc.format_message()}{hint}", err=True)
            code = exc.exit_code
        except click.Abort:
            click.echo("orderamt: aborted", err=True)
            code = 130
        if not standalone_mode:
            return code
        sys.exit(int(code or 0))


class PositiveInt(click.ParamType):  # type: ignore[type-arg]
    name = "N"

    def __init__(self, high: int = 2**63 - 1) -> None:
        self.high = high  # a BIGINT holds no more

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number: int | None = value
        else:
            text = str(value).strip()
            number = int(text) if text.isascii() and text.isdigit() else None
        if number is None or number < 1 or number > self.high:
            limit = f" up to {self.high}" if self.high < 2**63 - 1 else ""
            self.fail(f"{value!r} is not a positive whole number{limit}", param, ctx)
        return number


@click.group(
    cls=OrderamtGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="orderamt")
def cli() -> None:
    """Bring Odoo's sale order totals back into the portal's orders table.

    Configuration comes from the environment and an optional .env file
    (see .env.example); the real environment wins over the file.
    """


def _fail(exc: OrderamtError) -> NoReturn:
    click.echo(f"orderamt: {exc.message}", err=True)
    raise SystemExit(int(exc.exit_code))


def make_console(stream: Any = None) -> tuple[Console, bool]:
    """A console for the report: colour only on a terminal, emoji only where they show."""
    stream = stream if stream is not None else sys.stdout
    emoji = can_show_emoji(stream, os.environ, locale_coerced=bool(sys.flags.utf8_mode))
    if not emoji and isinstance(stream, io.TextIOWrapper):
        # An order number the code page cannot encode must not crash the report.
        stream.reconfigure(errors="replace")
    console = Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)
    return console, emoji


def make_odoo(o: OdooSettings) -> Odoo:
    retry = RetryPolicy(retries=o.retries, wait=o.retry_wait, total=o.retry_max_time)
    return Odoo(
        o.url,
        o.db,
        o.username,
        o.password.reveal(),
        timeout=o.timeout,
        protocol=o.protocol,
        retry=retry,
    )


def lock_file_path(settings: Settings) -> Path:
    return settings.lock_file or default_lock_file(
        settings.log_file, settings.database_url.reveal(), settings.schema.table
    )


@contextmanager
def run_lock(settings: Settings, engine: Engine) -> Iterator[None]:
    """One run at a time, per portal table: a lock file, or a lock in the portal database."""
    if settings.lock == "database":
        with advisory_lock(engine, settings.schema.table):
            yield
        return
    with file_lock(lock_file_path(settings)):
        yield


def run_sync(
    settings: Settings,
    selection: Selection,
    *,
    clock: Clock = utc_now,
    quiet: bool = False,
    json_report: JsonReport | None = None,
    dry_run: bool = False,
    revert: int | None = None,
) -> ExitCode:
    """A sync (or a revert) as the commands run it; raises OrderamtError.

    With `json_report`, the run is reported as one JSON document instead of the console
    report (on failure, the caller prints the document with the error).
    """
    setup_logging(settings.log_file)
    console_report: ConsoleReport | None = None
    try:
        engine = create_portal_engine(settings.database_url.reveal())
        try:
            # A dry run writes nothing, so it need not wait for (or block) a real run.
            with nullcontext() if dry_run else run_lock(settings, engine):
                reporter: Reporter
                if json_report is not None:
                    reporter = json_report
                else:
                    console, emoji = make_console()
                    console_report = ConsoleReport(
                        console, emoji=emoji, quiet=quiet, dry_run=dry_run, reverting=revert
                    )
                    console_report.started()
                    reporter = console_report
                repository = PortalRepository(engine, settings.schema, settings.journal_table)
                if revert is not None:
                    counts = revert_run(
                        repository, revert, clock=clock, reporter=reporter, dry_run=dry_run
                    )
                else:
                    with make_odoo(settings.odoo) as odoo:
                        counts = sync_orders(
                            repository,
                            odoo,
                            selection,
                            batch_size=settings.batch_size,
                            clock=clock,
                            reporter=reporter,
                            dry_run=dry_run,
                            skip_conflicts=settings.on_conflict == "skip",
                        )
        finally:
            if console_report is not None:
                console_report.stop_progress()
            engine.dispose()
    except OrderamtError as exc:
        context = {"exit_code": int(exc.exit_code)}
        logging.getLogger(LOGGER_NAME).error(exc.message, extra={"context": context})
        raise
    finally:
        close_logging()
    code = ExitCode.PARTIAL if counts.skipped else ExitCode.OK
    if console_report is not None:
        console_report.finished(counts)
    if json_report is not None:
        _print_json(json_report.document(counts, int(code)))
    return code


def _print_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


ENV_FILE_OPTION = click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read settings from this file instead of ./.env (the environment still wins).",
)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--all", "all_orders", is_flag=True, help="Every order with an Odoo id (backfill).")
@click.option("--order-id", type=PositiveInt(), help="Only this order, by its portal id.")
@click.option(
    "--days",
    type=PositiveInt(MAX_DAYS),
    help=f"Orders created in the last N days  [default: {DEFAULT_DAYS}]",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing when nothing changed or failed; else only those orders and the summary.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document, for monitoring.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing anywhere.")
@click.option(
    "--on-conflict",
    type=click.Choice(["odoo", "skip"]),
    help="When both the portal and Odoo changed an amount: odoo (default) wins, or skip.",
)
@ENV_FILE_OPTION
def sync(
    all_orders: bool,
    order_id: int | None,
    days: int | None,
    quiet: bool,
    as_json: bool,
    dry_run: bool,
    on_conflict: str | None,
    env_file: Path | None,
) -> None:
    """Update portal order amounts from Odoo.

    By default, orders created in the last 30 days that have an Odoo id. An order
    is updated when Odoo's total is above 0.00 and differs; while Odoo shows 0.00
    (no lines yet) the portal amount is kept.
    """
    chosen = [name for name, on in (("--all", all_orders), ("--order-id", order_id)) if on]
    if days is not None and chosen:
        chosen.append("--days")
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together")
    json_report = JsonReport(dry_run=dry_run) if as_json else None
    try:
        settings = load_settings(os.environ, env_file)
        if order_id is not None:
            selection = Selection(Mode.ONE, order_id=order_id)
        elif all_orders:
            selection = Selection(Mode.ALL)
        else:
            window = days or DEFAULT_DAYS
            selection = Selection(
                Mode.RECENT, since=utc_now() - timedelta(days=window), days=window
            )
        if on_conflict:
            settings = replace(settings, on_conflict=on_conflict)
        code = run_sync(settings, selection, quiet=quiet, json_report=json_report, dry_run=dry_run)
    except OrderamtError as exc:
        if json_report is not None:
            # Monitoring gets a document to parse whatever failed, configuration included.
            _print_json(json_report.document(None, int(exc.exit_code), exc.message))
        _fail(exc)
    raise SystemExit(int(code))


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("run_id", type=PositiveInt())
@click.option("--dry-run", is_flag=True, help="Show what would be put back; write nothing.")
@ENV_FILE_OPTION
def revert(run_id: int, dry_run: bool, env_file: Path | None) -> None:
    """Put back the amounts one run changed, where the rows still hold what it wrote.

    A row changed since that run is reported and left alone. The revert is itself a
    journaled run, so it can be reverted too. RUN_ID comes from `orderamt history`.
    """
    try:
        settings = load_settings(os.environ, env_file)
        code = run_sync(settings, Selection(Mode.ONE), dry_run=dry_run, revert=run_id)
    except OrderamtError as exc:
        _fail(exc)
    raise SystemExit(int(code))


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--order-id", type=PositiveInt(), help="Every change to this order instead.")
@click.option("--limit", type=PositiveInt(10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
@ENV_FILE_OPTION
def history(order_id: int | None, limit: int, as_json: bool, env_file: Path | None) -> None:
    """List recent runs, or (--order-id) every change orderamt made to one order."""
    runs: list[RunRecord] = []
    entries: list[JournalEntry] = []
    try:
        settings = load_settings(os.environ, env_file)
        engine = create_portal_engine(settings.database_url.reveal())
        try:
            repository = PortalRepository(engine, settings.schema, settings.journal_table)
            repository.ping()
            if order_id is not None:
                entries = repository.changes(order_id=order_id)
            else:
                runs = repository.runs(limit)
        finally:
            engine.dispose()
    except OrderamtError as exc:
        _fail(exc)
    if as_json:
        if order_id is not None:
            _print_json({"order_id": order_id, "changes": [_entry_json(e) for e in entries]})
        else:
            _print_json({"runs": [_run_json(r) for r in runs]})
        raise SystemExit(0)
    console, emoji = make_console()
    arrow = "→" if emoji else "->"
    if order_id is not None:
        if not entries:
            console.print(f"No changes to order {order_id} in the journal.")
        for e in entries:
            line = (
                f"{e.changed_at:%Y-%m-%d %H:%M:%S}  run {e.run_id}  {e.order_number}  "
                f"{money(e.old_amount)} {arrow} {money(e.new_amount)}"
            )
            if e.odoo_write_date:
                line += f"  (Odoo write_date {e.odoo_write_date})"
            if e.conflict:
                line += "  conflict"
            console.print(line, soft_wrap=True)
        raise SystemExit(0)
    if not runs:
        console.print("No runs in the journal yet.")
    for r in runs:
        what = f"revert of run {r.reverts_run}" if r.kind == "revert" else f"sync {r.mode}"
        ended = f"{r.finished_at:%H:%M:%S}" if r.finished_at else "did not finish"
        console.print(
            f"run {r.id}  {r.started_at:%Y-%m-%d %H:%M:%S} {arrow} {ended}  {what}  "
            f"found {r.found}: {r.updated} updated, {r.unchanged} unchanged, "
            f"{r.skipped} skipped  exit {r.exit_code}",
            soft_wrap=True,
        )
    raise SystemExit(0)


def _entry_json(e: JournalEntry) -> dict[str, Any]:
    return {
        "run_id": e.run_id,
        "order_id": e.order_id,
        "odoo_id": e.odoo_id,
        "order_number": e.order_number,
        "old_amount": None if e.old_amount is None else f"{e.old_amount:.2f}",
        "new_amount": None if e.new_amount is None else f"{e.new_amount:.2f}",
        "odoo_write_date": e.odoo_write_date,
        "changed_at": e.changed_at.isoformat(sep=" "),
        "conflict": e.conflict,
    }


def _run_json(r: RunRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "mode": r.mode,
        "reverts_run": r.reverts_run,
        "started_at": r.started_at.isoformat(sep=" "),
        "finished_at": r.finished_at.isoformat(sep=" ") if r.finished_at else None,
        "found": r.found,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "skipped": r.skipped,
        "exit_code": r.exit_code,
    }


@cli.command(epilog=EXIT_CODES_HELP)
@ENV_FILE_OPTION
def check(env_file: Path | None) -> None:
    """Check the setup after editing .env: Odoo, the portal database, the log and the lock.

    Each part is tried on its own and reported on its own line; nothing is written to the
    portal. Exits 0 when all pass, else with the code of the first part that failed.
    """
    try:
        settings = load_settings(os.environ, env_file)
        engine = create_portal_engine(settings.database_url.reveal())
    except OrderamtError as exc:
        _fail(exc)
    console, emoji = make_console()
    o = settings.odoo
    console.print(
        f"Odoo:   {display_url(o.url)}  database {o.db}  user {o.username}  password ********  "
        f"(protocol {o.protocol})",
        soft_wrap=True,
    )
    console.print(f"Portal: {settings.database_url_for_display}", soft_wrap=True)
    console.print("")
    if settings.lock == "database":
        lock_description = f"advisory lock in {settings.database_url_for_display}"
    else:
        lock_description = str(lock_file_path(settings))
    try:
        # An operator at the keyboard wants the answer now, not after the retries.
        with make_odoo(replace(o, retries=0)) as odoo:
            results = run_checks(
                settings, engine, odoo, lambda: run_lock(settings, engine), lock_description
            )
    finally:
        engine.dispose()
    marks = {True: ("✅ ", "[ok]   "), False: ("❌ ", "[FAIL] "), None: ("⏭️  ", "[--]   ")}
    for result in results:
        mark = marks[result.passed][0 if emoji else 1]
        style = {True: "green", False: "red", None: "dim"}[result.passed]
        console.print(Text(f"{mark}{result.label}: {result.detail}", style=style), soft_wrap=True)
    failures = [r for r in results if r.passed is False]
    console.print("")
    if not failures:
        console.print(Text("All checks passed.", style="bold green"))
        raise SystemExit(int(ExitCode.OK))
    console.print(Text(f"{plural(len(failures), 'check')} failed.", style="bold red"))
    raise SystemExit(int(failures[0].exit_code))


DEMO_ORDERS = [
    ("AFINET-SO-699C2E7046573", 41, "S00041", 950.00),
    ("AFINET-SO-699C2E20AFF48", 42, "S00042", 857.87),
    ("AFINET-SO-699C2DF59FE0D", 43, "S00043", 0.0),
]


@cli.command(epilog=EXIT_CODES_HELP)
def demo() -> None:
    """Run the sync on built-in data: nothing to set up, nothing left behind.

    Creates a throw-away SQLite portal with three orders, starts orderamt's Odoo
    test double on a free loopback port, and runs the real sync over XML-RPC.
    """
    from sqlalchemy import create_engine

    from orderamt.testing import OdooDouble
    from orderamt.testing.portal import create_orders_table, insert_orders

    now = utc_now()
    try:
        with tempfile.TemporaryDirectory(prefix="orderamt-demo-") as tmp, OdooDouble() as odoo:
            database = Path(tmp) / "portal.db"
            engine = create_engine(f"sqlite:///{database}")
            create_orders_table(engine)
            insert_orders(
                engine,
                [
                    {
                        "order_number": number,
                        "total_amount": "857.87",
                        "odoo_order_id": odoo_id,
                        "created_at": now - timedelta(days=2, hours=i),
                        "updated_at": now - timedelta(days=2, hours=i),
                    }
                    for i, (number, odoo_id, _, _) in enumerate(DEMO_ORDERS)
                ],
            )
            engine.dispose()
            for _, odoo_id, name, amount in DEMO_ORDERS:
                odoo.add_order(id=odoo_id, name=name, amount_total=amount, state="sale")
            settings = Settings(
                odoo=OdooSettings(odoo.url, "odoo", "admin", Secret("admin"), timeout=10),
                database_url=Secret(f"sqlite:///{database}"),
                schema=PortalSchema(),
                log_file=Path(tmp) / "orderamt.log",
            )
            click.echo(f"Demo: a throw-away portal database and an Odoo test double at {odoo.url}")
            click.echo("")
            code = run_sync(
                settings, Selection(Mode.RECENT, since=now - timedelta(days=30), days=30)
            )
            click.echo("")
            click.echo("That was the real sync. To run it on your own portal and Odoo, copy")
            click.echo(".env.example to .env, fill it in, and run: orderamt sync")
    except OrderamtError as exc:
        _fail(exc)
    raise SystemExit(int(code))


def main() -> None:
    cli.main(prog_name="orderamt")
