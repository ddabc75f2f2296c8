"""The wiring: build the settings, adapters and stores for a command, run it, report it.

One function per command; `cli.py` parses options and calls one of these. Each returns
the exit code, or raises OrderamtError (one line for stderr, and its exit code).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

from sqlalchemy import Engine

from orderamt.checks import check_header, run_checks
from orderamt.config import (
    DEFAULT_CHANGED_MARGIN,
    OdooSettings,
    OnConflict,
    Settings,
    load_settings,
)
from orderamt.errors import (
    ConfigError,
    ExitCode,
    LockedError,
    OdooError,
    OdooRefused,
    OrderamtError,
    UsageError,
    exit_code_of,
)
from orderamt.lock import run_lock
from orderamt.logs import LOGGER_NAME, close_logging, setup_logging
from orderamt.models import (
    Changed,
    Everything,
    FieldSpec,
    OdooOrders,
    OneOrder,
    Recent,
    RunCounts,
    RunOverview,
    RunRecord,
    Selection,
)
from orderamt.odoo import Odoo, RetryPolicy
from orderamt.portal import PortalJournal, PortalOrders, create_portal_engine, open_portal
from orderamt.report import (
    ConsoleReport,
    JsonReport,
    make_console,
    metrics_text,
    print_check_header,
    print_checks,
    print_order_changes,
    print_released,
    print_runs,
    print_status,
)
from orderamt.sync import (
    AMOUNT,
    Reporter,
    exit_code_for,
    revert_run,
    sync_changed,
    sync_odoo_orders,
    sync_orders,
)
from orderamt.times import utc_now, window_start
from orderamt.urls import mask_url

DEFAULT_DAYS = 30

Clock = Callable[[], datetime]
log = logging.getLogger(LOGGER_NAME)


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


def make_odoo(o: OdooSettings, fields: Sequence[FieldSpec] = ()) -> Odoo:
    """Odoo, reading the mapped fields' Odoo fields beside the amount."""
    retry = RetryPolicy(retries=o.retries, wait=o.retry_wait, total=o.retry_max_time)
    return Odoo(
        o.url,
        o.db,
        o.username,
        o.password.reveal(),
        timeout=o.timeout,
        protocol=o.protocol,
        retry=retry,
        fields=[spec.odoo_field for spec in fields],
    )


@contextmanager
def _portal(settings: Settings) -> Iterator[tuple[Engine, PortalOrders, PortalJournal]]:
    engine = create_portal_engine(settings.database_url.reveal())
    try:
        orders, journal = open_portal(engine, settings.schema, settings.journal_table)
        yield engine, orders, journal
    finally:
        engine.dispose()


def _run(
    settings: Settings,
    body: Callable[[PortalOrders, PortalJournal, Reporter], RunCounts],
    *,
    report: ConsoleReport | JsonReport,
    dry_run: bool,
) -> ExitCode:
    """A sync or a revert: log file, lock, the body, its report; failures logged and raised.

    With a JSON report, a failure still prints the document, with the error in it.
    """
    setup_logging(settings.log_file)
    console_report = report if isinstance(report, ConsoleReport) else None
    try:
        # A dry run writes nothing, so it need not wait for (or block) a real run.
        with (
            _portal(settings) as (engine, orders, journal),
            nullcontext() if dry_run else run_lock(settings, engine),
        ):
            if console_report is not None:
                console_report.started()
            try:
                counts = body(orders, journal, report)
            finally:
                if console_report is not None:
                    console_report.stop_progress()
    except BaseException as exc:
        code = exit_code_of(exc)
        message = exc.message if isinstance(exc, OrderamtError) else _stopped(code)
        if message is not None:
            log.error(message, extra={"context": {"exit_code": int(code)}})
            if isinstance(report, JsonReport):
                report.print(None, int(code), message)
        if not dry_run and not isinstance(exc, LockedError):
            write_metrics(settings)
        raise
    finally:
        close_logging()
    if not dry_run:
        write_metrics(settings)
    code = exit_code_for(counts)
    if console_report is not None:
        console_report.finished(counts)
    else:
        assert isinstance(report, JsonReport)
        report.print(counts, int(code))
    return code


def write_metrics(settings: Settings) -> None:
    """ORDERAMT_METRICS_FILE, rewritten after each run: a temporary file beside it renamed
    over it, so the collector never reads half a file. A failure is logged, never fatal."""
    path = settings.metrics_file
    if path is None:
        return
    try:
        with _portal(settings) as (_, _orders, journal):
            overview = journal.overview()
            needing = sum(1 for p in journal.problems() if p.ignored_reason is None)
        text = metrics_text(overview, needing, utc_now())
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except (OrderamtError, OSError) as exc:
        log.error(
            "Could not write the metrics file",
            extra={"context": {"path": str(path), "error": str(exc)}},
        )


def _stopped(code: ExitCode) -> str | None:
    if code is ExitCode.INTERRUPTED:
        return "stopped by Ctrl-C (SIGINT); the batch in flight was rolled back"
    if code is ExitCode.TERMINATED:
        return "stopped by SIGTERM; the batch in flight was rolled back"
    return None


def _report(
    selection: Selection | None,
    *,
    quiet: bool,
    as_json: bool,
    dry_run: bool,
    reverting: int | None = None,
) -> ConsoleReport | JsonReport:
    if as_json:
        return JsonReport(selection, dry_run=dry_run, stream=sys.stdout)
    console, emoji = make_console()
    return ConsoleReport(
        console,
        emoji=emoji,
        quiet=quiet,
        dry_run=dry_run,
        reverting=reverting,
        selection=selection,
    )


def _settings(env_file: Path | None, report: JsonReport | None = None) -> Settings:
    """The settings, or (with a JSON report) the failure printed as a document first."""
    try:
        settings = load_settings(os.environ, env_file)
    except OrderamtError as exc:
        if report is not None:
            report.print(None, int(exc.exit_code), exc.message)
        raise
    for warning in settings.warnings:
        sys.stderr.write(f"orderamt: warning: {warning}\n")
    return settings


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
    settings = _settings(env_file, json_report)
    selection = choose(
        order_id=order_id,
        all_orders=all_orders,
        days=days,
        now=clock(),
        changed=changed,
        margin=settings.changed_margin,
    )
    report = _report(selection, quiet=quiet, as_json=as_json, dry_run=dry_run)
    if on_conflict:
        settings = replace(settings, on_conflict=on_conflict)
    return run_sync(settings, selection, report=report, dry_run=dry_run, clock=clock, strict=strict)


class SweepOptions(TypedDict):
    """What `sync_orders` and `sync_changed` take besides what they sync."""

    batch_size: int
    clock: Clock
    reporter: Reporter
    dry_run: bool
    skip_conflicts: bool
    strict: bool


def run_sync(
    settings: Settings,
    selection: Selection,
    *,
    report: ConsoleReport | JsonReport,
    dry_run: bool = False,
    clock: Clock = utc_now,
    strict: bool = False,
) -> ExitCode:
    """A sync with settings already made (the demo's way in)."""

    def body(orders: PortalOrders, journal: PortalJournal, reporter: Reporter) -> RunCounts:
        options = SweepOptions(
            batch_size=settings.batch_size,
            clock=clock,
            reporter=reporter,
            dry_run=dry_run,
            skip_conflicts=settings.on_conflict == "skip",
            strict=strict,
        )
        with make_odoo(settings.odoo, settings.schema.fields) as odoo:
            if isinstance(selection, Changed):
                return sync_changed(orders, journal, odoo, selection, **options)
            return sync_orders(orders, journal, odoo, selection, **options)

    return _run(settings, body, report=report, dry_run=dry_run)


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
    settings = _settings(env_file)
    if field is not None:
        names = [AMOUNT, *(spec.name for spec in settings.schema.fields)]
        field = field.strip().lower()
        if field not in names:
            raise UsageError(f"--field must be one of {', '.join(names)}, got {field!r}")
    report = _report(None, quiet=False, as_json=False, dry_run=dry_run, reverting=run_id)

    def body(orders: PortalOrders, journal: PortalJournal, reporter: Reporter) -> RunCounts:
        return revert_run(
            orders,
            journal,
            run_id,
            batch_size=settings.batch_size,
            clock=clock,
            reporter=reporter,
            dry_run=dry_run,
            order_id=order_id,
            field=field,
        )

    return _run(settings, body, report=report, dry_run=dry_run)


def history(env_file: Path | None, *, order_id: int | None, limit: int, as_json: bool) -> ExitCode:
    """`orderamt history`: the latest runs, or the latest changes to one order."""
    settings = _settings(env_file)
    with _portal(settings) as (_, orders, journal):
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
    settings = _settings(env_file)
    setup_logging(settings.log_file)
    try:
        with _portal(settings) as (engine, orders, journal), run_lock(settings, engine):
            orders.db.ping()
            released = journal.release(order_id, clock())
    finally:
        close_logging()
    print_released(order_id, released)
    if released:
        log.info("Hold released by hand", extra={"context": {"order_id": order_id}})
    return ExitCode.OK


def listen(env_file: Path | None, echo: Callable[[str], None]) -> ExitCode:
    """`orderamt listen`: serve Odoo's webhooks and poll for what they missed, until stopped.

    waitress serves HTTP (a production server, pure Python, on Linux and Windows); one worker
    thread does every sync, so webhook batches and polls never overlap in this process, and
    the run lock keeps them from overlapping with a cron sync or another listener.
    """
    import signal

    from waitress.server import create_server

    from orderamt.listen import (
        MAX_BODY,
        PATH_PREFIX,
        Health,
        Pending,
        WebhookApp,
        Worker,
    )

    settings = _settings(env_file)
    options = settings.listen
    secret = _webhook_secret(settings)
    setup_logging(settings.log_file)
    pending, health = Pending(), Health(options.poll_interval)
    stopped_by: list[str] = []
    with (
        _portal(settings) as (engine, orders, journal),
        make_odoo(settings.odoo, settings.schema.fields) as odoo,
    ):
        skip = settings.on_conflict == "skip"
        margin = timedelta(seconds=settings.changed_margin)

        def quiet_report(selection: Selection) -> ConsoleReport:
            report = _report(selection, quiet=True, as_json=False, dry_run=False)
            assert isinstance(report, ConsoleReport)
            return report

        def poll() -> None:
            selection = Changed(days=DEFAULT_DAYS, margin=margin)
            report = quiet_report(selection)
            try:
                with run_lock(settings, engine):
                    counts = sync_changed(orders, journal, odoo, selection,
                                          batch_size=settings.batch_size, clock=utc_now,
                                          reporter=report, skip_conflicts=skip)  # fmt: skip
            except LockedError:
                return  # another listener or a cron sync is at it; the next poll is ours
            report.finished(counts)

        def sync_ids(ids: tuple[int, ...]) -> None:
            selection = OdooOrders(ids)
            report = quiet_report(selection)
            with run_lock(settings, engine):
                counts = sync_odoo_orders(orders, journal, odoo, selection, clock=utc_now,
                                          reporter=report, skip_conflicts=skip)  # fmt: skip
            report.finished(counts)

        def stop(signum: int, frame: object) -> None:
            stopped_by.append(signal.Signals(signum).name)
            raise SystemExit  # waitress's loop ends on it, and returns

        app = WebhookApp(secret, pending, health)
        server = create_server(
            app,
            host=options.host,
            port=options.port,
            threads=2,
            ident="orderamt",
            max_request_body_size=MAX_BODY,
            channel_timeout=30,
            expose_tracebacks=False,
        )
        worker = Worker(pending, health, sync_ids=sync_ids, poll=poll, delay=options.delay,
                        interval=options.poll_interval)  # fmt: skip
        port = getattr(server, "effective_port", options.port)  # the one bound (0: any free)
        where = f"http://{options.host}:{port}"
        log.info("Listener started", extra={"context": {"listen": where}})
        echo(
            f"Listening on {where}: Odoo posts to {where}{PATH_PREFIX}<ORDERAMT_WEBHOOK_SECRET>; "
            f"catch-up poll every {options.poll_interval:g} s; health at {where}/healthz"
        )
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        # The listener is a run of its own while it serves: `status` shows where it is going.
        serving = journal.start_run("listen", "listen", utc_now())
        try:
            worker.start()
            server.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.close()
            # The batch in flight finishes (or, past Odoo's timeout, is rolled back when the
            # process ends) and its run is recorded.
            worker.stop(timeout=settings.odoo.timeout + 10)
            journal.finish_run(serving, utc_now(), RunCounts(), int(ExitCode.OK))
    log.info("Listener stopped", extra={"context": {"signal": ",".join(stopped_by)}})
    close_logging()
    echo(f"Listener stopped ({', '.join(stopped_by) or 'ended'}).")
    return ExitCode.OK


def status(
    env_file: Path | None, *, as_json: bool, max_age: float | None, echo: Callable[[str], None]
) -> ExitCode:
    """`orderamt status`: the runs at a glance; with `max_age`, a monitoring check."""
    settings = _settings(env_file)
    with _portal(settings) as (_, orders, journal):
        orders.db.ping()
        overview = journal.overview()
        problems = journal.problems()
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
    """The Nagios convention: 0 fresh enough, 1 too old, 2 never succeeded; one line."""
    success = overview.last_success
    if success is None or success.finished_at is None:
        echo("orderamt CRITICAL: no run has ever completed")
        return ExitCode.USAGE
    age = (now - success.finished_at).total_seconds()
    words = f"the last completed run (run {success.id}) ended {_duration(age)} ago"
    if age <= max_age:
        echo(f"orderamt OK: {words}")
        return ExitCode.OK
    echo(f"orderamt WARNING: {words}, more than {_duration(max_age)}")
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


def ignore(
    env_file: Path | None, order_id: int, reason: str, *, clock: Clock = utc_now
) -> ExitCode:
    """`orderamt ignore ORDER_ID`: acknowledge one order's problem until it changes."""
    settings = _settings(env_file)
    with _portal(settings) as (_, orders, journal):
        orders.db.ping()
        done = journal.ignore(order_id, reason, clock())
    if not done:
        raise UsageError(f"order {order_id} has no problem to ignore (see: orderamt status)")
    console, _ = make_console()
    console.print(
        f"Order {order_id}'s problem is ignored ({reason}): runs no longer exit 1 for it, "
        "until its reason changes.",
        soft_wrap=True,
    )
    return ExitCode.OK


def init(
    folder: Path, *, cron: bool, systemd: bool, force: bool, echo: Callable[[str], None]
) -> ExitCode:
    """`orderamt init`: a commented .env, and on request the cron line or the systemd units,
    written into `folder` with the paths of this install."""
    from importlib.resources import files

    examples = files("orderamt") / "examples"
    program = Path(sys.argv[0]).absolute()
    if program.name not in ("orderamt", "orderamt.exe"):
        program = Path(sys.executable).parent / "orderamt"
    home = folder.absolute()
    wanted = {".env": (examples / "env.example").read_text(encoding="utf-8")}
    if cron:
        wanted["crontab"] = (examples / "crontab.example").read_text(encoding="utf-8")
    if systemd:
        for name in ("orderamt.service", "orderamt.timer", "orderamt-listen.service"):
            wanted[name] = (examples / "contrib" / "systemd" / name).read_text(encoding="utf-8")
    existing = [name for name in wanted if (home / name).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(home / name) for name in existing)} already there: nothing "
            "written (--force replaces)"
        )
    try:
        home.mkdir(parents=True, exist_ok=True)
        for name, content in wanted.items():
            text_ = content.replace("/opt/orderamt/.venv/bin/orderamt", str(program))
            text_ = text_.replace("/opt/orderamt", str(home))
            (home / name).write_text(text_, encoding="utf-8")
            echo(f"wrote {home / name}")
    except OSError as exc:
        raise UsageError(f"cannot write into {home}: {exc.strerror or exc}") from None
    echo("")
    echo(f"Next: fill in {home / '.env'} (ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD,")
    echo(f"PORTAL_DATABASE_URL), then: {program} check --env-file {home / '.env'}")
    return ExitCode.OK


CHECK_TIMEOUT = 10.0
"""Seconds `check` waits for each Odoo call: an operator at the keyboard, not a cron job."""


def check(env_file: Path | None, *, as_json: bool = False) -> ExitCode:
    """`orderamt check`: every part tried and shown; the code of the first that failed."""
    settings = _settings(env_file)
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


def _webhook_secret(settings: Settings) -> str:
    from orderamt.listen import MIN_SECRET

    secret = settings.listen.secret.reveal()
    if len(secret) < MIN_SECRET or not all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in secret
    ):
        raise ConfigError(
            f"ORDERAMT_WEBHOOK_SECRET must be at least {MIN_SECRET} letters, digits, '-' or '_' "
            "(it is the only thing that keeps strangers from posting): generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return secret


def setup_odoo(env_file: Path | None, url: str, echo: Callable[[str], None]) -> ExitCode:
    """`orderamt listen --setup-odoo URL`: the automation rule in Odoo that posts each saved
    sale order to the listener at URL, made (or found) over the API; where the Odoo user
    may not, the steps to make it by hand."""
    from orderamt.listen import PATH_PREFIX
    from orderamt.odoo.automation import FIELD_LABELS, RULE_NAME, SENT_FIELDS, ensure_webhook_rule

    settings = _settings(env_file)
    secret = _webhook_secret(settings)
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


def demo(echo: Callable[[str], None]) -> ExitCode:
    """`orderamt demo`: the real sync on a throw-away portal and the Odoo test double."""
    from orderamt.testing.demo import demo_setup

    now = utc_now()
    selection = choose(order_id=None, all_orders=False, days=None, now=now)
    report = _report(selection, quiet=False, as_json=False, dry_run=False)
    with (
        tempfile.TemporaryDirectory(prefix="orderamt-demo-") as tmp,
        demo_setup(Path(tmp), now) as (settings, odoo_url),
    ):
        echo(f"Demo: a throw-away portal database and an Odoo test double at {odoo_url}")
        echo("")
        code = run_sync(settings, selection, report=report)
        echo("")
        echo("That was the real sync. To run it on your own portal and Odoo, write a .env")
        echo("with ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD and PORTAL_DATABASE_URL")
        echo("(.env.example in the source lists every setting), try it with: orderamt check,")
        echo("then run: orderamt sync")
    return code
