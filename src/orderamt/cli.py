"""The command line: parse options, call one function of `app` per command, map errors to exits.

The only module that knows Click. It imports neither SQLAlchemy nor rich: `--help` and
`--version` stay fast, and each command imports what it needs when it runs.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar, NoReturn, TypeVar

import click

from orderamt import __version__
from orderamt.errors import ExitCode, OrderamtError, Terminated, exit_codes_help

MAX_DAYS = 36_500
DEFAULT_DAYS = 30  # the same as app.runs.DEFAULT_DAYS; app is not imported for --help

E = ExitCode
RUN_CODES = (E.OK, E.PARTIAL, E.USAGE, E.ODOO, E.PORTAL, E.LOCKED, E.INTERRUPTED, E.TERMINATED)
REVERT_CODES = (E.OK, E.PARTIAL, E.USAGE, E.PORTAL, E.LOCKED, E.INTERRUPTED, E.TERMINATED)
HISTORY_CODES = (E.OK, E.USAGE, E.PORTAL)
RELEASE_CODES = (E.OK, E.USAGE, E.PORTAL, E.LOCKED)
LISTEN_CODES = (E.OK, E.USAGE, E.ODOO, E.PORTAL)
IGNORE_CODES = (E.OK, E.USAGE, E.PORTAL)
CHECK_CODES = (E.OK, E.USAGE, E.ODOO, E.PORTAL)
DEMO_CODES = (E.OK, E.ODOO, E.PORTAL, E.INTERRUPTED)


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
        except (click.Abort, KeyboardInterrupt):
            click.echo("orderamt: stopped by Ctrl-C", err=True)
            code = ExitCode.INTERRUPTED
        except Terminated:
            click.echo("orderamt: stopped by SIGTERM", err=True)
            code = ExitCode.TERMINATED
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
    epilog=exit_codes_help(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="orderamt")
def cli() -> None:
    """Bring Odoo's sale order totals back into the portal's orders table.

    Configuration comes from the environment and an optional .env file
    (see .env.example); the real environment wins over the file.
    """


def _exit(run: Callable[[], ExitCode]) -> NoReturn:
    """Run a command's one function; a known failure is one line on stderr and its code."""
    _started()
    try:
        code = run()
    except OrderamtError as exc:
        # An Odoo fault or a database error may quote what a user typed: no escape sequence.
        from orderamt.report.terminal import printable  # only here: --help stays light

        click.echo(f"orderamt: {printable(exc.message)}", err=True)
        raise SystemExit(int(exc.exit_code)) from None
    raise SystemExit(int(code))


F = TypeVar("F", bound=Callable[..., Any])


def env_file_option(command: F) -> F:
    return click.option(
        "--env-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read settings from this file instead of ./.env (the environment still wins).",
    )(command)


@cli.command(epilog=exit_codes_help(RUN_CODES))
@click.option("--all", "all_orders", is_flag=True, help="Every order with an Odoo id (backfill).")
@click.option(
    "--changed",
    is_flag=True,
    help="Only what Odoo changed since the last --changed run (a cheap catch-up poll; "
    "the first covers --days).",
)
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
    "--strict",
    is_flag=True,
    help="Exit 1 whenever an order needs a look, not only when that is news since the last run.",
)
@click.option(
    "--on-conflict",
    type=click.Choice(["odoo", "skip"]),
    help="When both the portal and Odoo changed an amount: odoo (default) wins, or skip.",
)
@env_file_option
def sync(
    all_orders: bool,
    changed: bool,
    order_id: int | None,
    days: int | None,
    quiet: bool,
    as_json: bool,
    dry_run: bool,
    strict: bool,
    on_conflict: Any,
    env_file: Path | None,
) -> None:
    """Update portal order amounts from Odoo.

    By default, orders created in the last 30 days that have an Odoo id. An order
    is updated when Odoo's total is above 0.00 and differs; while Odoo shows 0.00
    (no lines yet) the portal amount is kept. A field set to go back to Odoo
    (ORDERAMT_<NAME>_PUSH) takes the portal's own change into Odoo.
    """
    chosen = [
        name
        for name, on in (("--all", all_orders), ("--order-id", order_id), ("--changed", changed))
        if on
    ]
    if days is not None and chosen and chosen != ["--changed"]:
        chosen.append("--days")
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together")
    from orderamt.app import runs

    _exit(
        lambda: runs.sync(
            env_file,
            order_id=order_id,
            all_orders=all_orders,
            days=days,
            quiet=quiet,
            as_json=as_json,
            dry_run=dry_run,
            on_conflict=on_conflict,
            changed=changed,
            strict=strict,
        )
    )


@cli.command(epilog=exit_codes_help(REVERT_CODES))
@click.argument("run_id", type=PositiveInt())
@click.option("--dry-run", is_flag=True, help="Show what would be put back; write nothing.")
@click.option("--order-id", type=PositiveInt(), help="Put back only this order's changes.")
@click.option(
    "--field",
    metavar="NAME",
    help="Put back only this field's changes: amount, or a mapped field (e.g. status).",
)
@env_file_option
def revert(
    run_id: int, dry_run: bool, order_id: int | None, field: str | None, env_file: Path | None
) -> None:
    """Put back the amounts (and mapped fields) one run changed, where nothing changed
    them since.

    A value changed since that run (in the portal, or by a later run) is reported and left
    alone. Each value put back is held: the sync leaves it until Odoo changes it (see
    `orderamt release`). The revert is itself a journaled run, so it can be reverted too;
    a run reverted before is left alone. RUN_ID comes from `orderamt history`. With
    --order-id or --field, only that part of the run is put back.
    """
    from orderamt.app import runs

    _exit(lambda: runs.revert(env_file, run_id, dry_run=dry_run, order_id=order_id, field=field))


@cli.command(epilog=exit_codes_help(HISTORY_CODES, ok="the journal was read"))
@click.option("--order-id", type=PositiveInt(), help="Every change to this order instead.")
@click.option(
    "--limit",
    type=PositiveInt(10_000),
    default=20,
    show_default=True,
    help="Show at most this many runs (or, with --order-id, the latest this many changes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
@env_file_option
def history(order_id: int | None, limit: int, as_json: bool, env_file: Path | None) -> None:
    """List recent runs, or (--order-id) every change orderamt made to one order."""
    from orderamt.app import records

    _exit(lambda: records.history(env_file, order_id=order_id, limit=limit, as_json=as_json))


@cli.command(epilog=exit_codes_help(RELEASE_CODES, ok="the hold, if any, was released"))
@click.argument("order_id", type=PositiveInt())
@env_file_option
def release(order_id: int, env_file: Path | None) -> None:
    """Let the sync take Odoo's amount again for an order a revert holds.

    After `orderamt revert`, each order put back is held: the sync does not write the same
    Odoo amount at the same write_date again, until Odoo changes it or this releases it.
    `orderamt history --order-id ORDER_ID` shows the hold.
    """
    from orderamt.app import records

    _exit(lambda: records.release(env_file, order_id))


class Duration(click.ParamType):  # type: ignore[type-arg]
    """90m, 2h, 1d, 45s, or plain seconds."""

    name = "DURATION"
    UNITS: ClassVar[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86_400}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        text = str(value).strip().lower()
        unit = self.UNITS.get(text[-1:], 0)
        number = text[:-1] if unit else text
        try:
            seconds = float(number) * (unit or 1)
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            self.fail(f"{value!r} is not a duration such as 90m, 2h or 1d", param, ctx)
        return seconds


STATUS_HELP = """\b
Exit codes:
    0  shown; with --max-age: OK, the last completed run is young enough
    1  with --max-age: WARNING, the last completed run is older than --max-age
    2  a bad option, or a bad setting (without --max-age); with --max-age: CRITICAL,
       no run ever completed or the portal database cannot be read
    3  with --max-age: UNKNOWN, a bad setting
    4  the portal database cannot be reached or read (without --max-age)
With --max-age the answer is one line on stdout in every case, as a Nagios plugin's:
ORDERAMT OK - ..., ORDERAMT WARNING - ..., ORDERAMT CRITICAL - ... Status reads only
the portal: no ODOO_* setting is needed."""


@cli.command(epilog=STATUS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
@click.option(
    "--max-age",
    type=Duration(),
    help="A monitoring check (Nagios plugin convention): exit 0 when the last completed run "
    "is younger than this (90m, 2h, 1d), 1 when older, 2 when none ever completed or the "
    "portal cannot be read; one line on stdout.",
)
@env_file_option
def status(as_json: bool, max_age: float | None, env_file: Path | None) -> None:
    """Show the last run, the last success, what is running now and what needs a look."""
    from orderamt.app import status

    _exit(lambda: status.status(env_file, as_json=as_json, max_age=max_age, echo=click.echo))


@cli.command(epilog=exit_codes_help(IGNORE_CODES, ok="the problem is ignored"))
@click.argument("order_id", type=PositiveInt())
@click.option("--reason", default="acknowledged", show_default=True, help="Why, for status.")
@env_file_option
def ignore(order_id: int, reason: str, env_file: Path | None) -> None:
    """Acknowledge one order's problem: runs stop exiting 1 for it until its reason changes.

    A run exits 1 only for news (an order that newly needs a look); an ignored order stays
    listed by `orderamt status`, with the reason given here.
    """
    from orderamt.app import records

    _exit(lambda: records.ignore(env_file, order_id, reason))


@cli.command(epilog=exit_codes_help(CHECK_CODES, ok="every check passed"))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead.")
@env_file_option
def check(as_json: bool, env_file: Path | None) -> None:
    """Check the setup after editing .env: Odoo, the portal database, the log and the lock.

    Each part is tried on its own and reported on its own line; nothing is written to the
    portal. Odoo gets 10 s per call (less if ODOO_TIMEOUT says so), not the run's timeout
    and retries. Exits 0 when all pass, else with the code of the first part that failed.
    """
    from orderamt.app import check

    _exit(lambda: check.check(env_file, as_json=as_json))


@cli.command(epilog=exit_codes_help(LISTEN_CODES, ok="stopped by SIGTERM or Ctrl-C"))
@click.option(
    "--setup-odoo",
    "setup_url",
    metavar="URL",
    help="Instead of listening: create the automation rule in Odoo that posts to the "
    "listener at URL (e.g. https://portal.example.com), or say how to make it by hand.",
)
@env_file_option
def listen(setup_url: str | None, env_file: Path | None) -> None:
    """Keep the portal current within seconds: serve Odoo's webhooks, poll for the rest.

    Serves ORDERAMT_LISTEN (default 127.0.0.1:8765) at /orderamt/<ORDERAMT_WEBHOOK_SECRET>,
    the URL to give Odoo's "Send Webhook Notification" automation rule. Each webhook only
    names an order: its amount is read from Odoo and synced as `sync --order-id` would,
    0.1 s after the first of a burst on Odoo 19, which posts after its commit, a second on
    17 and 18, which post before it (ORDERAMT_WEBHOOK_DELAY sets it). Odoo never retries a
    webhook, so the catch-up poll (`sync --changed`) runs at start and every
    ORDERAMT_POLL_INTERVAL seconds (60). GET /healthz answers 200, or 503 while Odoo or the
    portal has been failing for longer than the poll interval. SIGTERM or Ctrl-C stops it
    after the batch in flight.
    """
    from orderamt.app import listen, setup_odoo

    if setup_url is not None:
        _exit(lambda: setup_odoo.setup_odoo(env_file, setup_url, click.echo))
    _exit(lambda: listen.listen(env_file, click.echo))


@cli.command(epilog=exit_codes_help((E.OK, E.USAGE), ok="the files were written"))
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), default=".", required=False
)
@click.option("--cron", is_flag=True, help="Also write the crontab line for this install.")
@click.option("--systemd", is_flag=True, help="Also write the systemd units for this install.")
@click.option("--force", is_flag=True, help="Replace files that are already there.")
def init(folder: Path, cron: bool, systemd: bool, force: bool) -> None:
    """Write a commented .env into FOLDER (default: here), and the cron line or the systemd
    units with the paths of this install; nothing is replaced without --force."""
    from orderamt.app import init

    _exit(lambda: init.init(folder, cron=cron, systemd=systemd, force=force, echo=click.echo))


@cli.command(epilog=exit_codes_help(DEMO_CODES))
def demo() -> None:
    """Run the sync on built-in data: nothing to set up, nothing left behind.

    Creates a throw-away SQLite portal with three orders, starts orderamt's Odoo
    test double on a free loopback port, and runs the real sync over XML-RPC.
    """
    from orderamt.app import demo

    _exit(lambda: demo.demo(click.echo))


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


_OWN_PROCESS = [False]
"""Whether the `orderamt` command (`main`) runs this process, not a test or a host program."""


def _started() -> None:
    """The command's modules are imported: keep their objects out of every later collection.

    `main` turns the cyclic collector off while a command imports what it uses (SQLAlchemy
    and the rest make some 50,000 objects, and the collector went over them again and again
    as they came: about 40 ms of a quiet poll's start-up). What the imports made lives as
    long as the process; `gc.freeze()` sets it aside, then collection goes on as usual for
    what the run itself makes (a listener runs for months).
    """
    if _OWN_PROCESS[0]:
        gc.freeze()
        gc.enable()


def main() -> None:
    # systemctl stop sends SIGTERM: stop like Ctrl-C (the batch in flight rolled back, the
    # run recorded) instead of dying mid-statement.
    signal.signal(signal.SIGTERM, _terminated)
    _OWN_PROCESS[0] = True
    gc.disable()  # until `_started`: see there
    try:
        cli.main(prog_name="orderamt")
    finally:
        # The process ends here: its objects need no collection at the interpreter's exit,
        # which otherwise goes over them all once more (50 to 90 ms of a quiet poll).
        # Files and connections were closed by the command; atexit still runs. The
        # collector is on again for a caller that goes on (after --help it never was).
        gc.freeze()
        gc.enable()
