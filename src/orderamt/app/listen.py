"""`orderamt listen`: the webhook listener's assembly around the sync."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from orderamt.app.metrics import write_metrics
from orderamt.app.runs import DEFAULT_DAYS, run_options
from orderamt.app.wiring import log, make_odoo, make_report, portal_of, settings_from
from orderamt.errors import (
    ConfigError,
    ExitCode,
    LockedError,
)
from orderamt.lock import run_lock
from orderamt.logs import close_logging, reopen_logging, setup_logging
from orderamt.models import (
    Changed,
    OdooOrders,
    RunCounts,
    Selection,
)
from orderamt.report import (
    ConsoleReport,
)
from orderamt.sync import (
    sync_changed,
    sync_odoo_orders,
)
from orderamt.times import utc_now


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
        gather_delay,
    )

    settings = settings_from(env_file, webhook=True)
    options = settings.listen
    secret = options.secret.reveal()
    # Months of running: each line reaches the log, and stdout (journald's pipe), as it
    # happens, not when a buffer fills.
    setup_logging(settings.log_file, immediate=True)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    pending, health = Pending(), Health(options.poll_interval)
    stopped_by: list[str] = []
    with (
        portal_of(settings) as (engine, orders, journal),
        make_odoo(settings.odoo, settings.schema.fields, journal) as odoo,
    ):
        sweep = run_options(settings)
        margin = timedelta(seconds=settings.changed_margin)

        def quiet_report(selection: Selection) -> ConsoleReport:
            report = make_report(selection, quiet=True, as_json=False, dry_run=False)
            assert isinstance(report, ConsoleReport)
            return report

        serving: list[int] = []
        """The listener's own run while it serves (`status` shows it going)."""

        def keep_serving() -> None:
            """Before each batch: the journal as it is now. A portal that dropped every table
            (php artisan migrate:fresh) gets the journal made again before the batch, not
            after it failed, and the listener's run recorded again (`status` goes on
            showing it; its old id may be another run's now)."""
            journal.look_again()
            journal.ensure_tables()
            if not serving or not journal.is_running(serving[-1]):
                serving.append(journal.start_run("listen", "listen", utc_now()))

        def poll() -> None:
            keep_serving()
            selection = Changed(days=DEFAULT_DAYS, margin=margin)
            report = quiet_report(selection)
            try:
                with run_lock(settings, engine):
                    counts = sync_changed(orders, journal, odoo, selection, sweep,
                                          clock=utc_now, reporter=report)  # fmt: skip
            except LockedError:
                return  # another listener or a cron sync is at it; the next poll is ours
            finally:
                write_metrics(settings, journal)
            report.finished(counts)

        def sync_ids(ids: tuple[int, ...]) -> None:
            keep_serving()
            selection = OdooOrders(ids)
            report = quiet_report(selection)
            try:
                with run_lock(settings, engine):
                    counts = sync_odoo_orders(orders, journal, odoo, selection, sweep,
                                              clock=utc_now, reporter=report)  # fmt: skip
            finally:
                write_metrics(settings, journal)
            report.finished(counts)

        def hangup(signum: int, frame: object) -> None:
            reopen_logging()
            log.info("Log reopened", extra={"context": {"signal": "SIGHUP"}})

        def stop(signum: int, frame: object) -> None:
            stopped_by.append(signal.Signals(signum).name)
            raise SystemExit  # waitress's loop ends on it, and returns

        app = WebhookApp(secret, pending, health)
        try:
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
        except OSError as exc:  # nothing is recorded or written before this
            raise ConfigError(_cannot_listen(options.host, options.port, exc)) from exc

        def delay() -> float:
            """The gather before each batch: Odoo's version is known after the first poll."""
            version = odoo.version
            return gather_delay(options.delay, version.posts_after_commit if version else None)

        worker = Worker(pending, health, sync_ids=sync_ids, poll=poll, delay=delay,
                        interval=options.poll_interval)  # fmt: skip
        port = getattr(server, "effective_port", options.port)  # the one bound (0: any free)
        where = f"http://{_address(options.host, port)}"
        log.info("Listener started", extra={"context": {"listen": where}})
        echo(
            f"Listening on {where}: Odoo posts to {where}{PATH_PREFIX}<ORDERAMT_WEBHOOK_SECRET>; "
            f"catch-up poll every {options.poll_interval:g} s; health at {where}/healthz"
        )
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        if hasattr(signal, "SIGHUP"):  # logrotate's postrotate, systemctl reload: reopen
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, hangup)
        # The listener is a run of its own while it serves: `status` shows where it is going.
        serving.append(journal.start_run("listen", "listen", utc_now()))
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
            # Only a run of this process, still going: never another run's record.
            journal.finish_run(serving[-1], utc_now(), RunCounts(), int(ExitCode.OK))
    log.info("Listener stopped", extra={"context": {"signal": ",".join(stopped_by)}})
    close_logging()
    echo(f"Listener stopped ({', '.join(stopped_by) or 'ended'}).")
    return ExitCode.OK


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    """ORDERAMT_LISTEN's address refused, in one line, with what usually causes it."""
    why = {
        errno.EADDRINUSE: "the port is taken (another orderamt listen, or another server)",
        errno.EADDRNOTAVAIL: "no network interface of this machine has that address",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    if exc.errno == errno.EACCES and port < 1024:
        why = "a port under 1024 needs privileges this user does not have"
    return f"cannot listen on ORDERAMT_LISTEN={_address(host, port)}: {why}"


def _address(host: str, port: int) -> str:
    """HOST:PORT as a URL and ORDERAMT_LISTEN write it: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
