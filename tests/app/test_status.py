"""`orderamt status`, news-only exit codes, `ignore`, failed runs recorded, the metrics file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import inspect, text

from orderamt.config import PortalSchema
from orderamt.models import RunCounts
from orderamt.portal import create_portal_engine, open_portal
from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def fill(portal: PortalDb, odoo: OdooDouble) -> None:
    """SO-1 Odoo repriced; SO-2 points at a sale order deleted in Odoo (a standing problem)."""
    portal.insert(
        {"order_number": "SO-1", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT},
        {"order_number": "SO-2", "total_amount": Decimal("2.00"), "odoo_order_id": 42,
         "created_at": RECENT, "updated_at": RECENT},
    )  # fmt: skip
    odoo.add_order(id=1, amount_total=10.0)


def test_a_standing_problem_mails_once(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An order pointing at a deleted sale order makes the first run exit 1, and the next ones
    exit 0 while still reporting it; --strict keeps exiting 1; a new reason is news again."""
    fill(portal, odoo)
    first = orderamt("sync")
    assert first.exit_code == 1
    second = orderamt("sync")
    assert second.exit_code == 0
    assert "  ⚠️  SO-2: Sale order 42 not found in Odoo (keeping portal amount: $2.00)" in (
        second.lines
    )
    assert orderamt("sync", "--strict").exit_code == 1
    odoo.add_order(id=42, amount_total="junk")
    assert orderamt("sync").exit_code == 1  # another reason: news


def test_ignore_acknowledges_until_the_problem_changes(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`orderamt ignore` lists the order as ignored with its reason; a fixed order leaves the
    list; ignoring an order with no problem is a usage error."""
    fill(portal, odoo)
    orderamt("sync")
    ignored = orderamt("ignore", "2", "--reason", "deleted on purpose")
    assert ignored.exit_code == 0
    status = json.loads(orderamt("status", "--json").stdout)
    assert status["needing_a_look"] == []
    assert [(p["order_id"], p["ignored_reason"]) for p in status["ignored"]] == [
        (2, "deleted on purpose")
    ]
    assert "  ignored: order 2 (SO-2): Sale order 42 not found in Odoo" in orderamt("status").stdout
    odoo.add_order(id=42, amount_total=2.0)
    assert orderamt("sync").exit_code == 0
    assert json.loads(orderamt("status", "--json").stdout)["ignored"] == []
    nothing = orderamt("ignore", "1")
    assert nothing.exit_code == 2
    assert "order 1 has no problem to ignore" in nothing.stderr


def test_status_at_a_glance(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """Status names the last run with its counts, the last success, what is running and what
    needs a look."""
    fill(portal, odoo)
    assert orderamt("status").lines[0] == "Last run:      none yet"
    orderamt("sync")
    lines = orderamt("status").lines
    assert lines[0].startswith("Last run:      run 1, sync recent, ")
    assert "exit 1: found 2, 1 updated, 0 unchanged, 1 skipped" in lines[0]
    assert lines[1].startswith("Last success:  the last run, ")
    assert "Running now:   nothing" in lines
    assert "Needing a look: 1 order needs a look" in lines
    assert any(line.startswith("  order 2 (SO-2): Sale order 42 not found") for line in lines)


def test_status_says_what_is_running_since_which_day_and_whether_it_still_is(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A listener started three days ago is shown as the listener, with its day (a time
    alone would read as today's); a run whose process ended without recording an end (a
    kill -9, an OOM kill) is told apart from one still going."""
    fill(portal, odoo)
    orderamt("sync")
    now = datetime.now(timezone.utc)
    started = now.replace(microsecond=0) - timedelta(days=3, minutes=5)
    engine = create_portal_engine(portal.url)
    try:
        _, journal = open_portal(engine, PortalSchema())
        listener = journal.start_run("listen", "listen", started)  # this process: going
    finally:
        engine.dispose()
    # A process that records the start of a run and ends without its end.
    killed = (
        "import sys; from datetime import datetime, timezone;"
        "from orderamt.config import PortalSchema;"
        "from orderamt.portal import create_portal_engine, open_portal;"
        "_, journal = open_portal(create_portal_engine(sys.argv[1]), PortalSchema());"
        "print(journal.start_run('sync', 'all', datetime.now(timezone.utc)), os.getpid())"
    )
    done = subprocess.run([sys.executable, "-c", f"import os; {killed}", portal.url],
                          capture_output=True, text=True, check=True)  # fmt: skip
    gone, its_pid = done.stdout.split()
    lines = orderamt("status").lines
    newest, oldest = [line for line in lines if line.startswith("Running now:")]
    host = socket.gethostname()
    assert newest.startswith(f"Running now:   run {gone}, sync all on {host}, pid {its_pid}, ")
    assert newest.endswith(": its process is gone: it stopped without recording an end")
    assert oldest == (
        f"Running now:   run {listener}, the listener on {host}, pid {os.getpid()}, since "
        f"{started:%Y-%m-%d %H:%M:%S} UTC (3 days ago): going now"
    )


def runs_indexes(portal: PortalDb) -> list[tuple[str, list[str | None]]]:
    """The runs table's indexes, by name."""
    # A new connection: SQLite's PRAGMA index_list, which reflection reads, does not see an
    # index that another connection made after this one last read the schema.
    portal.engine.dispose()
    with portal.engine.connect() as conn:
        found = inspect(conn).get_indexes("orderamt_journal_runs")
    return sorted((str(i["name"]), list(i["column_names"])) for i in found)


@pytest.mark.every_engine
def test_a_journal_from_before_the_runs_index_gains_it_on_its_next_run(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """`status` and the metrics file read the newest runs by their end: a journal made before
    the runs were indexed by it is read as it is, and gains the index on the next run that
    records one, its history kept."""
    fill(portal, odoo)
    assert orderamt("sync").exit_code == 1  # SO-2's sale order is gone: news
    indexes = [("ix_orderamt_journal_runs_finished_at", ["finished_at"]),
               ("ix_orderamt_journal_runs_mode", ["mode", "finished_at"])]  # fmt: skip
    assert runs_indexes(portal) == indexes
    on = " ON orderamt_journal_runs" if portal.kind == "mariadb" else ""
    with portal.engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}{on}"))
    assert runs_indexes(portal) == []
    assert orderamt("status").lines[0].startswith("Last run:      run 1, sync recent, ")
    odoo.add_order(id=42, amount_total=2.0)
    assert orderamt("sync").exit_code == 0
    assert runs_indexes(portal) == indexes
    history = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [r["id"] for r in history] == [2, 1]


def test_status_shows_an_order_number_without_its_escape_sequences(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An order number holding a clear-screen and a window title, read back from the journal,
    is shown without its control characters: status is read in a terminal."""
    portal.insert(
        {"order_number": "SO-\x1b[2J\x1b]0;pwned\x07X", "total_amount": Decimal("2.00"),
         "odoo_order_id": 42, "created_at": RECENT, "updated_at": RECENT},
    )  # fmt: skip
    orderamt("sync")
    shown = orderamt("status")
    assert "  order 1 (SO-[2J]0;pwnedX): Sale order 42 not found in Odoo" in shown.stdout
    assert "\x1b" not in shown.stdout
    assert "\x07" not in shown.stdout


def test_status_with_its_output_closed_says_nothing_and_fails_nothing(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """Started with standard output closed (`>&-`, as some schedulers do), status has
    nowhere to print: exit 0, no traceback."""
    fill(portal, odoo)
    orderamt("sync")
    env = {**os.environ, **{k: v for k, v in orderamt.env.items() if v is not None}}
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m orderamt status >&-', sys.executable],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


def test_an_odoo_outage_is_a_run_not_a_gap(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A run that cannot reach Odoo is recorded with exit 3 and its error, orders untouched."""
    fill(portal, odoo)
    before = portal.rows()
    odoo.fail("http", status=502)
    assert orderamt("sync").exit_code == 3
    assert portal.rows() == before
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [(r["exit_code"], r["updated"]) for r in runs] == [(3, 0)]
    assert "HTTP 502" in runs[0]["error"]
    last = orderamt("status").lines[0]
    assert ", exit 3: " in last
    assert "HTTP 502" in last


def test_max_age_is_a_monitoring_check(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """--max-age, a Nagios plugin: 2 before any run completed, 0 while the last success is
    young, 1 after; one line on stdout, `ORDERAMT <STATE> - ...`."""
    fill(portal, odoo)
    never = orderamt("status", "--max-age", "90m")
    assert (never.exit_code, never.lines) == (2, ["ORDERAMT CRITICAL - no run has ever completed"])
    with freeze_time("2026-11-30 10:00:00", tick=True):
        orderamt("sync")
    with freeze_time("2026-11-30 11:00:00", tick=True):
        young = orderamt("status", "--max-age", "90m")
    assert young.exit_code == 0
    assert young.lines[0].startswith("ORDERAMT OK - the last completed run (run 1) ended ")
    with freeze_time("2026-11-30 13:00:00", tick=True):
        old = orderamt("status", "--max-age", "2h")
    assert old.exit_code == 1
    assert old.lines[0].startswith("ORDERAMT WARNING - the last completed run (run 1) ended 3")
    bad = orderamt("status", "--max-age", "soon")
    assert bad.exit_code == 2


def test_a_monitoring_user_needs_no_odoo_credentials_and_always_gets_one_line(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """status reads only the portal: a monitoring user without any ODOO_* setting runs it.
    With the portal unreachable or a bad setting, --max-age still says one line on stdout
    (never an empty UNKNOWN): CRITICAL (2) for the portal, UNKNOWN (3) for the setting."""
    fill(portal, odoo)
    orderamt("sync")
    no_odoo = {"ODOO_URL": None, "ODOO_DB": None, "ODOO_USERNAME": None, "ODOO_PASSWORD": None}
    monitor = orderamt("status", "--max-age", "1h", **no_odoo)
    assert (monitor.exit_code, monitor.stderr) == (0, ""), monitor.stderr
    assert monitor.lines[0].startswith("ORDERAMT OK - the last completed run (run 1) ended ")
    assert orderamt("status", **no_odoo).exit_code == 0
    assert orderamt("history", **no_odoo).exit_code == 0
    gone = orderamt("status", "--max-age", "1h", **no_odoo,
                    PORTAL_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")  # fmt: skip
    assert gone.exit_code == 2
    assert len(gone.lines) == 1 and gone.lines[0].startswith("ORDERAMT CRITICAL - "), gone.lines
    unset = orderamt("status", "--max-age", "1h", **no_odoo, PORTAL_DATABASE_URL=None)
    assert unset.exit_code == 3
    assert len(unset.lines) == 1
    assert unset.lines[0].startswith(
        "ORDERAMT UNKNOWN - configuration: PORTAL_DATABASE_URL is not set"
    )


def test_a_run_that_ended_on_an_error_is_no_success(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """A run stopped by an error that exits 1 (a full disk, a bug: the run record keeps the
    error) is never the last success, in status nor in the metrics: only a run that
    completed is."""
    fill(portal, odoo)
    metrics = orderamt.log_file.parent / "orderamt.prom"
    assert orderamt("sync", ORDERAMT_METRICS_FILE=str(metrics)).exit_code in (0, 1)
    engine = create_portal_engine(portal.url)
    try:
        _, journal = open_portal(engine, PortalSchema())
        now = datetime.now(timezone.utc)
        died = journal.start_run("sync", "all", now)
        assert journal.finish_run(died, now, RunCounts(found=2, updated=1), 1,
                                  "OSError: [Errno 28] No space left on device")  # fmt: skip
    finally:
        engine.dispose()
    status = json.loads(orderamt("status", "--json").stdout)
    assert (status["last_run"]["id"], status["last_success"]["id"]) == (died, 1)


def test_the_metrics_file_follows_each_run(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """ORDERAMT_METRICS_FILE is rewritten after each run, failed ones too, in the text format
    node_exporter reads."""
    fill(portal, odoo)
    metrics = orderamt.log_file.parent / "orderamt.prom"
    orderamt("sync", ORDERAMT_METRICS_FILE=str(metrics))
    text = metrics.read_text(encoding="utf-8")
    assert "# TYPE orderamt_last_run_timestamp_seconds gauge" in text
    assert 'orderamt_last_run_orders{outcome="updated"} 1' in text
    assert "orderamt_last_run_exit_code 1" in text
    assert "orderamt_orders_needing_a_look 1" in text
    run = json.loads(orderamt("history", "--json").stdout)["runs"][0]
    ended = datetime.fromisoformat(run["finished_at"]).replace(tzinfo=timezone.utc)
    (stamp,) = [line.split()[1] for line in text.splitlines()
                if line.startswith("orderamt_last_success_timestamp_seconds ")]  # fmt: skip
    assert abs(float(stamp) - ended.timestamp()) < 1  # to the second, not six digits
    assert "e+" not in text
    if shutil.which("promtool"):
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                                 capture_output=True, check=False)  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
    odoo.fail("http", status=502)
    orderamt("sync", ORDERAMT_METRICS_FILE=str(metrics))
    assert "orderamt_last_run_exit_code 3" in metrics.read_text(encoding="utf-8")
    assert not list(metrics.parent.glob(".orderamt.prom.*"))


def test_a_metrics_file_that_cannot_be_written_is_in_the_log_with_its_path_and_cause(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """ORDERAMT_METRICS_FILE in a folder that is not there: the run itself completes (exit 0,
    nothing on stderr for cron to mail), and the log says which file and why."""
    portal.insert(
        {"order_number": "SO-1", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT},
    )  # fmt: skip
    odoo.add_order(id=1, amount_total=10.0)
    metrics = orderamt.log_file.parent / "gone" / "orderamt.prom"
    run = orderamt("sync", "--quiet", ORDERAMT_METRICS_FILE=str(metrics))
    assert (run.exit_code, run.stderr) == (0, "")
    assert portal.amounts() == {"SO-1": Decimal("10.00")}
    (line,) = [line for line in orderamt.log_file.read_text(encoding="utf-8").splitlines()
               if "metrics" in line]  # fmt: skip
    assert " ERROR Could not write the metrics file " in line
    assert str(metrics) in line and "No such file or directory" in line
