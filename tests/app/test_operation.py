"""Unattended operation: one run at a time, quiet and JSON output, progress, `orderamt check`."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from orderamt.models import Action, Decision, Everything, PortalOrder, RunCounts
from orderamt.report import ConsoleReport
from orderamt.testing import OdooDouble
from orderamt.testing.portal import create_orders_table, insert_orders
from tests.conftest import Orderamt, PortalDb

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def rows(*spec: tuple[str, str, int]) -> list[dict[str, object]]:
    return [
        {"order_number": number, "total_amount": Decimal(amount), "odoo_order_id": odoo_id,
         "created_at": RECENT, "updated_at": RECENT}
        for number, amount, odoo_id in spec
    ]  # fmt: skip


@pytest.fixture
def changed_and_same(portal: PortalDb, odoo: OdooDouble) -> PortalDb:
    """One order Odoo repriced, one it did not."""
    portal.insert(*rows(("CHANGED", "1.00", 1), ("SAME", "2.00", 2)))
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    odoo.add_order(id=2, name="S00002", amount_total=2.0)
    return portal


def start(orderamt: Orderamt, *args: str, **env: str) -> subprocess.Popen[str]:
    """`orderamt ARGS` as its own process, as cron starts it."""
    full = {**os.environ, **{k: v for k, v in orderamt.env.items() if v is not None}, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "orderamt", *args],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def start_in(folder: Path, orderamt: Orderamt, *args: str, **env: str) -> subprocess.Popen[str]:
    """`orderamt ARGS` as its own process, started in `folder` (where its .env would be)."""
    full = {**os.environ, **{k: v for k, v in orderamt.env.items() if v is not None}, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "orderamt", *args],
        env=full,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture
def held_in_odoo(odoo: OdooDouble) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Makes Odoo's search_read wait until the test lets go: (reached, release)."""
    reached, release = threading.Event(), threading.Event()

    def hold(method: str) -> None:
        if method == "search_read":
            reached.set()
            release.wait(30)

    odoo.on_call = hold
    yield reached, release
    release.set()


@pytest.fixture
def ctrl_c_reaches_children() -> Iterator[None]:
    """A process started meanwhile takes Ctrl-C as one started from a terminal does, even
    where these tests run with SIGINT ignored (a non-interactive shell's background job:
    `nohup ... &`): an ignored signal stays ignored across exec, a handled one does not."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def lock_env(portal: PortalDb, kind: str) -> dict[str, str]:
    return {"ORDERAMT_LOCK": "database"} if kind == "database" else {}


# The file lock on every engine; the advisory lock where the database has one (SQLite's
# refusal is tested on its own below).
LOCKS = pytest.mark.parametrize(
    ("portal", "lock"),
    [
        ("sqlite", "file"),
        ("postgresql", "file"),
        ("mariadb", "file"),
        ("postgresql", "database"),
        ("mariadb", "database"),
    ],
    indirect=["portal"],
)


@LOCKS
def test_second_run_exits_75_without_reading(
    changed_and_same: PortalDb,
    odoo: OdooDouble,
    orderamt: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
    lock: str,
) -> None:
    """While one run holds the lock, a second prints one line, exits 75 and asks Odoo nothing."""
    env = lock_env(changed_and_same, lock)
    reached, release = held_in_odoo
    first = start(orderamt, "sync", **env)
    try:
        assert reached.wait(30), first.stderr.read() if first.stderr else ""
        asked_before = sum(odoo.calls.values())
        second = orderamt("sync", **env)
        assert second.exit_code == 75
        assert second.stderr.startswith("orderamt: another orderamt run is still going")
        assert len(second.stderr.strip().splitlines()) == 1
        assert second.stdout == ""
        assert sum(odoo.calls.values()) == asked_before
    finally:
        release.set()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert changed_and_same.amounts() == {"CHANGED": Decimal("10.00"), "SAME": Decimal("2.00")}


@LOCKS
def test_killed_run_leaves_no_lock(
    changed_and_same: PortalDb,
    odoo: OdooDouble,
    orderamt: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
    lock: str,
) -> None:
    """After `kill -9` of the lock holder, the next run starts at once and does the work."""
    env = lock_env(changed_and_same, lock)
    reached, release = held_in_odoo
    holder = start(orderamt, "sync", **env)
    assert reached.wait(30)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=30)
    odoo.on_call = None
    release.set()
    run = orderamt("sync", **env)
    assert run.exit_code == 0, run.stderr
    assert changed_and_same.amounts() == {"CHANGED": Decimal("10.00"), "SAME": Decimal("2.00")}


def test_database_lock_refused_on_sqlite(
    orderamt_sqlite: Orderamt, sqlite_portal: PortalDb
) -> None:
    """ORDERAMT_LOCK=database on SQLite is a configuration error naming the alternative."""
    sqlite_portal.create()
    run = orderamt_sqlite("sync", ORDERAMT_LOCK="database")
    assert run.exit_code == 2
    assert "ORDERAMT_LOCK=database needs PostgreSQL, MySQL or MariaDB" in run.stderr


def test_quiet_prints_nothing_when_nothing_changed(
    changed_and_same: PortalDb, orderamt: Orderamt
) -> None:
    """--quiet: only the changed order and the summary; then nothing at all on a quiet hour."""
    first = orderamt("sync", "--quiet")
    assert first.exit_code == 0
    assert first.lines == [
        "  ✅ CHANGED: $1.00 → $10.00",
        "",
        "Synced: 2 (1 updated, 1 unchanged)",
        "",
        "✅ Sync complete!",
    ]
    second = orderamt("sync", "--quiet")
    assert second.exit_code == 0
    assert second.stdout == ""
    assert second.stderr == ""


@pytest.mark.every_engine
def test_what_sqlalchemy_cannot_read_in_the_table_is_no_mail_from_cron(
    changed_and_same: PortalDb, orderamt: Orderamt
) -> None:
    """A delivery location (a `point`, which SQLAlchemy does not know on PostgreSQL or
    MariaDB) and an index on an expression (which it cannot read on SQLite): orderamt uses
    neither, and its runs and `check`, as cron starts them, say nothing of them."""
    with changed_and_same.engine.begin() as conn:
        if changed_and_same.kind == "sqlite":
            conn.execute(text("CREATE INDEX orders_number_lower ON orders (lower(order_number))"))
        else:
            conn.execute(text("ALTER TABLE orders ADD COLUMN location point"))
    first = start(orderamt, "sync", "--quiet")
    out, err = first.communicate(timeout=60)
    assert (first.returncode, err) == (0, "")
    assert "CHANGED: $1.00 → $10.00" in out
    quiet = start(orderamt, "sync", "--quiet")
    assert quiet.communicate(timeout=60) == ("", "")
    assert quiet.returncode == 0
    check = start(orderamt, "check")
    out, err = check.communicate(timeout=60)
    assert (check.returncode, err) == (0, "")
    assert out.splitlines()[-1] == "All checks passed."


def test_quiet_still_shows_problems(portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """--quiet never hides an order that needs a look."""
    portal.insert(*rows(("GONE", "1.00", 404)))
    run = orderamt("sync", "-q")
    assert run.exit_code == 1
    assert "  ⚠️  GONE: Sale order 404 not found in Odoo (keeping portal amount: $1.00)" in run.lines


def test_quiet_says_a_known_problem_once_and_then_nothing(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, tmp_path: Path
) -> None:
    """--quiet, cron's hourly run: an order whose sale order is gone is told on the run that
    finds it (exit 1), then not again (exit 0, nothing on stdout or stderr) while a change
    elsewhere is still told; ignored, it stays silent. A Laravel .env's own ODOO_* names
    warn on stderr without --quiet only; the log has them either way."""
    portal.insert(*rows(("GONE", "1.00", 404), ("MOVED", "1.00", 5)))
    odoo.add_order(id=5, amount_total=1.0)
    shared = tmp_path / "laravel.env"
    shared.write_text("APP_NAME=Portal\nODOO_COMPANY_ID=1\n", encoding="utf-8")
    first = orderamt("sync", "-q", "--env-file", str(shared))
    assert first.exit_code == 1
    assert "  ⚠️  GONE: Sale order 404 not found in Odoo (keeping portal amount: $1.00)" in (
        first.lines
    )
    assert first.stderr == ""
    again = orderamt("sync", "-q", "--env-file", str(shared))
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")
    odoo.change(5, amount_total=7.0)
    moved = orderamt("sync", "-q", "--env-file", str(shared))
    assert moved.exit_code == 0
    assert moved.lines[0] == "  ✅ MOVED: $1.00 → $7.00"
    assert not any("GONE" in line for line in moved.lines)
    assert orderamt("ignore", "1", "--reason", "archived order").exit_code == 0
    ignored = orderamt("sync", "-q", "--env-file", str(shared))
    assert (ignored.exit_code, ignored.stdout, ignored.stderr) == (0, "", "")
    loud = orderamt("sync", "--env-file", str(shared))
    assert "unknown setting ODOO_COMPANY_ID" in loud.stderr
    assert "unknown setting ODOO_COMPANY_ID" in orderamt.log_file.read_text(encoding="utf-8")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full to fill a disk with")
def test_a_log_that_cannot_be_written_is_one_line_and_a_failed_run(
    changed_and_same: PortalDb, orderamt: Orderamt
) -> None:
    """A full disk under the log (/dev/full): one line on stderr, exit 2, no traceback, and
    the run is in the journal as failed with that line, never as a success."""
    run = orderamt("sync", "--quiet", ORDERAMT_LOG_FILE="/dev/full")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "orderamt: ORDERAMT_LOG_FILE: cannot write the log file /dev/full: No space left on device"
    ]
    status = json.loads(orderamt("status", "--json").stdout)
    assert status["last_run"]["exit_code"] == 2
    assert "No space left on device" in status["last_run"]["error"]
    assert status["last_success"] is None


def test_the_log_names_every_order_that_needs_a_look_on_every_run(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An order whose sale order is gone is in the log with its reason on the run that
    finds it and on each run after, news or not: the log is where the README sends an
    operator."""
    portal.insert(*rows(("GONE", "1.00", 404)))
    said = "Sale order 404 not found in Odoo (keeping portal amount: $1.00)"
    for run in (1, 2):
        assert orderamt("sync", "-q").exit_code == (1 if run == 1 else 0)
        warnings = [
            json.loads(line.partition(" WARNING Order needs a look ")[2])
            for line in orderamt.log_file.read_text(encoding="utf-8").splitlines()
            if " WARNING Order needs a look " in line
        ]
        assert len(warnings) == run
        assert (warnings[-1]["order_number"], warnings[-1]["reason"], warnings[-1]["detail"]) == (
            "GONE", "not_in_odoo", said
        )  # fmt: skip


def test_json_matches_the_database(changed_and_same: PortalDb, orderamt: Orderamt) -> None:
    """--json prints one document whose decisions match what the database now holds."""
    run = orderamt("sync", "--json")
    assert run.exit_code == 0
    document = json.loads(run.stdout)
    counts = ("mode", "days", "found", "updated", "unchanged", "skipped")
    assert {k: document[k] for k in counts} == {
        "mode": "recent", "days": 30, "found": 2, "updated": 1, "unchanged": 1, "skipped": 0
    }  # fmt: skip
    assert document["exit_code"] == 0
    held = changed_and_same.amounts()
    for order in document["orders"]:
        final = order["new_amount"] if order["action"] == "update" else order["old_amount"]
        assert Decimal(final) == held[order["order_number"]]
    assert [o["action"] for o in document["orders"]] == ["update", "unchanged"]


def test_json_on_failure(changed_and_same: PortalDb, odoo: OdooDouble, orderamt: Orderamt) -> None:
    """A failed run with --json still prints a document naming the error, and its exit code."""
    run = orderamt("sync", "--json", ODOO_DB="nodb")
    assert run.exit_code == 3
    document = json.loads(run.stdout)
    assert document["exit_code"] == 3
    assert "Odoo has no database 'nodb'" in document["error"]


def test_an_odoo_fault_is_one_line_without_its_escape_sequences(
    changed_and_same: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """What Odoo says in a fault reaches the error line without the control characters that
    would clear the screen or retitle the window it is read in."""
    odoo.fail("fault", fault=(2, "Record rules \x1b[2Jsay no\x1b]0;pwned\x07"), on="search_read")
    run = orderamt("sync")
    assert run.exit_code == 3
    if orderamt.protocol == "json2":
        assert "Record rules [2Jsay no]0;pwned" in run.stderr
    else:  # XML 1.0 has no ESC or BEL: Odoo's answer is not well-formed XML-RPC
        assert "with something that is not XML-RPC" in run.stderr
    assert "\x1b" not in run.stderr
    assert "\x07" not in run.stderr


def test_progress_bar_on_a_terminal_only() -> None:
    """A terminal with many orders gets a progress bar; the same run into a file gets none."""

    def render(terminal: bool) -> str:
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=80, color_system=None)
        report = ConsoleReport(lambda: console, progress_from=3, selection=Everything())
        report.found(5, None)
        for i in range(5):
            order = PortalOrder(i, f"SO-{i}", Decimal("1.00"), i + 1)
            report.decided(Decision(order, Action.UNCHANGED))
        changed = PortalOrder(9, "SO-9", Decimal("1.00"), 10)
        report.decided(Decision(changed, Action.UPDATE, new_amount=Decimal("2.50")))
        report.finished(RunCounts(found=6, updated=1, unchanged=5))
        return out.getvalue()

    shown = render(terminal=True)
    assert "━" in shown
    assert "SO-9: $1.00 → $2.50" in shown  # printed through the bar, not lost under it
    piped = render(terminal=False)
    assert "━" not in piped
    assert "\x1b[" not in piped


def test_check_passes_on_a_good_setup(changed_and_same: PortalDb, orderamt: Orderamt) -> None:
    """`orderamt check` reports each part on its own line, masks the password, exits 0."""
    run = orderamt("check")
    assert run.exit_code == 0, run.stdout
    assert "password ********" in run.stdout
    if orderamt.protocol == "json2":
        assert orderamt.env["ODOO_PASSWORD"] not in run.stdout
    version = "19.0" if orderamt.protocol == "json2" else "18.0"
    assert f"✅ Odoo reachable: Odoo {version} at " in run.stdout
    assert f"using {orderamt.protocol}" in run.stdout
    for label in ("Odoo login", "sale.order readable", "Portal database reachable",
                  "Portal table and columns", "Log file writable", "Lock usable"):  # fmt: skip
        assert f"✅ {label}: " in run.stdout
    assert run.lines[-1] == "All checks passed."
    assert changed_and_same.amounts() == {"CHANGED": Decimal("1.00"), "SAME": Decimal("2.00")}


def test_check_reports_each_broken_part(
    changed_and_same: PortalDb, orderamt: Orderamt, tmp_path: object
) -> None:
    """A wrong password and a wrong column each get their line; the exit is the first's code."""
    run = orderamt("check", ODOO_PASSWORD="wrong", PORTAL_COL_AMOUNT="nope")
    assert run.exit_code == 3
    assert "❌ Odoo login: " in run.stdout
    assert "⏭️  sale.order readable: not checked" in run.stdout
    assert "❌ Portal table and columns: " in run.stdout
    assert "'nope' (PORTAL_COL_AMOUNT)" in run.stdout
    assert run.lines[-1] == "2 checks failed."
    portal_only = orderamt("check", PORTAL_COL_AMOUNT="nope")
    assert portal_only.exit_code == 4


LOOKUP = "Portal lookup by Odoo id"


def _check_says(orderamt: Orderamt, line: str, last: str = "All checks passed.") -> None:
    """`orderamt check` exits 0 with this line among its own and `last` as its end."""
    run = orderamt("check")
    assert run.exit_code == 0, run.stdout
    assert line in run.lines, run.stdout
    assert run.lines[-1] == last


def _checked_with_the_index(portal: PortalDb, orderamt: Orderamt) -> None:
    """With the index `check` proposes made, `check` names it and warns of nothing."""
    with portal.engine.begin() as conn:
        conn.execute(text("CREATE INDEX orders_odoo_order_id_index ON orders (odoo_order_id)"))
    _check_says(orderamt, f"✅ {LOOKUP}: odoo_order_id, by index orders_odoo_order_id_index")


def test_check_names_the_index_that_finds_orders_by_odoo_id(
    changed_and_same: PortalDb, orderamt: Orderamt
) -> None:
    """Each poll and webhook batch finds its orders by Odoo id: `check` says whether an index
    serves that lookup, and a small table without one is no warning."""
    _check_says(
        orderamt,
        f"✅ {LOOKUP}: no index begins with odoo_order_id; under 50,000 orders, reading the "
        "whole table for each poll and webhook batch is still quick",
    )
    _checked_with_the_index(changed_and_same, orderamt)


def test_check_counts_only_an_index_that_serves_the_lookup(
    changed_and_same: PortalDb, orderamt: Orderamt
) -> None:
    """An index where the Odoo id comes second, or one that holds only some rows (SQLite and
    PostgreSQL have those), cannot serve the lookup: `check` says there is none."""
    statements = ["CREATE INDEX orders_created_odoo ON orders (created_at, odoo_order_id)"]
    if changed_and_same.kind != "mariadb":
        statements.append("CREATE INDEX orders_recent_odoo ON orders (odoo_order_id) "
                          "WHERE created_at > '2026-01-01'")  # fmt: skip
    with changed_and_same.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    run = orderamt("check")
    assert any(line.startswith(f"✅ {LOOKUP}: no index begins with") for line in run.lines), (
        run.stdout
    )


@pytest.mark.parametrize("protocol", ["xmlrpc"])  # the portal's side: one protocol will do
def test_check_asks_for_the_index_on_a_large_table(portal: PortalDb, orderamt: Orderamt) -> None:
    """50,000 orders and no index on the Odoo id column: a warning with the statement that
    adds one (Laravel's own index name), exit 0; with the index, no warning."""
    day = datetime(2026, 11, 1)
    portal.insert(*(
        {"order_number": f"SO-{i}", "total_amount": Decimal("1.00"), "odoo_order_id": i,
         "created_at": day, "updated_at": day}
        for i in range(1, 50_001)
    ))  # fmt: skip
    # PostgreSQL's CONCURRENTLY builds the index without holding the portal's writes.
    advised = "CREATE INDEX " + "CONCURRENTLY " * (portal.kind == "postgresql")
    advised += "orders_odoo_order_id_index ON orders (odoo_order_id)"
    _check_says(
        orderamt,
        f"⚠️  {LOOKUP}: 'orders' holds 50,000 orders or more and no index begins with "
        "odoo_order_id, so each poll and webhook batch reads the whole table to find its "
        f"orders (among 100,000: 6-18 ms; among 1,000,000: 55-235 ms); add one: {advised}, "
        "or in a Laravel migration $table->index('odoo_order_id')",
        last="All checks passed; 1 warning.",
    )
    # As an operator would paste it into psql, mysql or sqlite3: outside a transaction.
    with portal.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(advised))
    _check_says(orderamt, f"✅ {LOOKUP}: odoo_order_id, by index orders_odoo_order_id_index")


@pytest.mark.parametrize("portal", ["postgresql"], indirect=True)
@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_check_names_an_index_a_failed_concurrent_build_left_invalid(
    portal: PortalDb, orderamt: Orderamt
) -> None:
    """A CREATE INDEX CONCURRENTLY that did not finish (here a unique one over two orders
    of one sale order) leaves an invalid index, which serves nothing and takes its name:
    `check` says so with the statements that make it again, which work as printed."""
    portal.insert(*rows(("A", "1.00", 7), ("B", "2.00", 7)))
    autocommit = {"isolation_level": "AUTOCOMMIT"}
    with (
        portal.engine.connect().execution_options(**autocommit) as conn,
        pytest.raises(IntegrityError),
    ):
        conn.execute(text("CREATE UNIQUE INDEX CONCURRENTLY orders_odoo_order_id_index "
                          "ON orders (odoo_order_id)"))  # fmt: skip
    run = orderamt("check")
    (line,) = [line for line in run.lines if LOOKUP in line]
    drop = "DROP INDEX CONCURRENTLY orders_odoo_order_id_index"
    create = "CREATE INDEX CONCURRENTLY orders_odoo_order_id_index ON orders (odoo_order_id)"
    assert line == (
        f"⚠️  {LOOKUP}: index orders_odoo_order_id_index on odoo_order_id is invalid (a CREATE "
        "INDEX CONCURRENTLY that did not finish) and serves no lookup; make it again: "
        f"{drop}, then {create}"
    )
    with portal.engine.connect().execution_options(**autocommit) as conn:
        conn.execute(text(drop))
        conn.execute(text(create))
    _check_says(orderamt, f"✅ {LOOKUP}: odoo_order_id, by index orders_odoo_order_id_index")


def test_check_says_a_text_odoo_id_is_read_whole(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """An Odoo id kept as text is matched trimmed, which no index on the column serves:
    `check` says so, without a warning: there is nothing simple to act on."""
    portal.create(odoo_id_type="varchar")
    portal.insert(*rows(("CHANGED", "1.00", 1)))
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    _check_says(
        orderamt,
        f"✅ {LOOKUP}: odoo_order_id holds text, matched trimmed: each lookup reads the whole "
        "table (an index on the column itself would not be used)",
    )


@pytest.mark.usefixtures("ctrl_c_reaches_children")
@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [(signal.SIGINT, 130, "stopped by Ctrl-C"), (signal.SIGTERM, 143, "stopped by SIGTERM")],
)
def test_stopped_while_odoo_is_asked_exits_at_once(
    changed_and_same: PortalDb,
    orderamt: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
    sig: signal.Signals,
    code: int,
    said: str,
) -> None:
    """Ctrl-C or SIGTERM while an Odoo call hangs ends the run now, not after Odoo's timeout:
    one line, the signal's exit code, nothing written."""
    reached, release = held_in_odoo
    run = start(orderamt, "sync", ODOO_TIMEOUT="120")
    try:
        assert reached.wait(30)
        run.send_signal(sig)
        # Odoo holds the call for 30 s and the timeout is 120 s: an exit before either is the
        # process not waiting for the call in flight.
        _, err = run.communicate(timeout=20)
    finally:
        release.set()
        if run.poll() is None:
            run.kill()
    assert run.returncode == code
    assert err.strip().splitlines() == [f"orderamt: {said}"]
    assert changed_and_same.amounts() == {"CHANGED": Decimal("1.00"), "SAME": Decimal("2.00")}
    assert said in orderamt.log_file.read_text(encoding="utf-8")


def test_check_tries_every_part_when_the_sqlite_file_is_missing(
    orderamt_sqlite: Orderamt, odoo: OdooDouble, tmp_path: Path
) -> None:
    """A missing SQLite file fails the portal's lines only: Odoo, the log and the lock are
    still tried, each on its own line, and the exit is the portal's 4."""
    missing = tmp_path / "nope.db"
    run = orderamt_sqlite("check", PORTAL_DATABASE_URL=f"sqlite:///{missing}")
    assert run.exit_code == 4
    for label in ("Odoo reachable", "Odoo login", "sale.order readable", "Log file writable",
                  "Lock usable"):  # fmt: skip
        assert f"✅ {label}: " in run.stdout
    assert (
        f"❌ Portal database reachable: the portal database file {missing} does not exist"
        in run.stdout
    )
    assert "⏭️  Portal table and columns: not checked" in run.stdout
    assert "⏭️  Portal lookup by Odoo id: not checked" in run.stdout
    assert run.lines[-1] == "1 check failed."
    assert not missing.exists()


def test_the_lock_lives_with_the_data(
    changed_and_same: PortalDb,
    odoo: OdooDouble,
    orderamt: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
    tmp_path: Path,
) -> None:
    """Two users (each with a log of their own, as two HOMEs give) on one portal: the second
    run is refused, whatever its log says: the lock is beside the SQLite file, or in the
    database on PostgreSQL and MariaDB."""
    reached, release = held_in_odoo
    first = start(orderamt, "sync", ORDERAMT_LOG_FILE=str(tmp_path / "root" / "orderamt.log"))
    try:
        assert reached.wait(30)
        other = orderamt("sync", ORDERAMT_LOG_FILE=str(tmp_path / "cron" / "orderamt.log"))
        assert other.exit_code == 75
        assert "another orderamt run is still going" in other.stderr
    finally:
        release.set()
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_two_sqlite_portals_of_one_name_do_not_block_each_other(
    odoo: OdooDouble,
    orderamt_sqlite: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
    tmp_path: Path,
) -> None:
    """`sqlite:///portal.db` in two folders is two portals: a run in one does not hold the
    other's lock."""
    for folder in ("shop-a", "shop-b"):
        (tmp_path / folder).mkdir()
        engine = create_engine(f"sqlite:///{tmp_path / folder / 'portal.db'}")
        create_orders_table(engine)
        insert_orders(engine, rows(("CHANGED", "1.00", 1)))
        engine.dispose()
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    reached, release = held_in_odoo
    relative = {"PORTAL_DATABASE_URL": "sqlite:///portal.db"}
    first = start_in(tmp_path / "shop-a", orderamt_sqlite, "sync", **relative)
    try:
        assert reached.wait(30)
        release.set()  # the second run's Odoo answers at once; the first still holds its lock
        second = start_in(tmp_path / "shop-b", orderamt_sqlite, "sync", **relative)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
    finally:
        release.set()
        first.communicate(timeout=60)


@pytest.mark.parametrize("protocol", ["xmlrpc"])  # the wait is the same over JSON-2
def test_check_against_a_hung_odoo_says_it_waits_and_gives_up_soon(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """A hung Odoo: check says it is waiting before it waits, gives up after its own short
    timeout (not ODOO_TIMEOUT's 60 s and retries), and still checks the rest; --json too."""
    sqlite_portal.create()
    orderamt = orderamt_sqlite
    odoo.fail("hang")
    run = orderamt("check", ODOO_TIMEOUT="60", ODOO_RETRIES="3")
    assert run.exit_code == 3
    assert "Asking Odoo (waiting up to 10 s)..." in run.lines
    assert any("did not answer" in line and "within 10 s" in line for line in run.lines)
    assert "✅ Portal table and columns: " in run.stdout
    document = json.loads(orderamt("check", "--json", ODOO_TIMEOUT="1").stdout)
    assert document["exit_code"] == 3
    assert [c["passed"] for c in document["checks"]][:3] == [False, None, None]


def test_an_odoo_url_copied_from_the_browser_says_drop_the_path(orderamt_sqlite: Orderamt) -> None:
    """ODOO_URL=https://odoo.example.com/odoo (what Odoo 17+ shows) is one line: drop the path."""
    run = orderamt_sqlite("sync", ODOO_URL="https://odoo.example.com/odoo")
    assert run.exit_code == 2
    assert (
        "ODOO_URL is the address of a page in Odoo, not of Odoo: drop the path '/odoo' and use "
        "'https://odoo.example.com'"
    ) in run.stderr


def test_json_streamed_stays_one_document_when_a_run_fails_midway(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """--json writes each order as it is decided (memory stays flat on a backfill); a run
    that fails after its first batch still ends the document, with the orders written so
    far, the error and the exit code."""
    portal.insert(*rows(("A", "1.00", 1), ("B", "1.00", 2), ("C", "1.00", 3)))
    odoo.add_orders({"id": i, "amount_total": 10.0 * i} for i in (1, 2, 3))
    odoo.fail("http", status=502, on="search_read", after=1)
    run = orderamt("sync", "--json", ORDERAMT_BATCH_SIZE="2")
    assert run.exit_code == 3
    document = json.loads(run.stdout)
    assert [o["order_number"] for o in document["orders"]] == ["A", "B"]
    assert document["exit_code"] == 3
    assert "HTTP 502" in document["error"]
    assert portal.amounts() == {"A": Decimal("10.00"), "B": Decimal("20.00"), "C": Decimal("1.00")}


def test_a_stopped_run_is_recorded_and_json_still_says_so(
    changed_and_same: PortalDb,
    orderamt: Orderamt,
    held_in_odoo: tuple[threading.Event, threading.Event],
) -> None:
    """SIGTERM (what systemctl stop sends) while Odoo is asked: --json prints one document
    with exit 143, and the run is in the journal with 143 and why."""
    reached, release = held_in_odoo
    run = start(orderamt, "sync", "--json", ODOO_TIMEOUT="120")
    try:
        assert reached.wait(30)
        run.send_signal(signal.SIGTERM)
        out, _ = run.communicate(timeout=20)
    finally:
        release.set()
    assert run.returncode == 143
    document = json.loads(out)
    assert (document["exit_code"], document["error"]) == (
        143,
        "stopped by SIGTERM; the batch in flight was rolled back",
    )
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    assert [(r["exit_code"], r["error"]) for r in runs] == [(143, "stopped by SIGTERM")]
