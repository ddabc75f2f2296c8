"""`orderamt listen`: a real listener process, Odoo's webhooks over real HTTP, the poll."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb

SECRET = "x8Qw-2kLp_7Zr4Tn9Vb3Hc6Jm1Yd5Fg0Su"
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


class Listener:
    """A running `orderamt listen` and what it printed."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", first)
        assert found, first + (process.stderr.read() if process.stderr else "")
        self.port = int(found.group(1))
        self.hook = f"http://127.0.0.1:{self.port}/orderamt/{SECRET}"

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body or None)
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def health(self) -> tuple[int, dict[str, object]]:
        status, body = self.request("GET", "/healthz")
        return status, json.loads(body)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[str, str]:
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=60)
        return out, err


@pytest.fixture
def listen(orderamt: Orderamt) -> Iterator[Callable[..., Listener]]:
    """Starts `orderamt listen` on a free port with a 0.2 s delay; stops what it started."""
    started: list[subprocess.Popen[str]] = []

    def launch(**env: str) -> Listener:
        settings = {"ORDERAMT_LISTEN": "127.0.0.1:0", "ORDERAMT_WEBHOOK_SECRET": SECRET,
                    "ORDERAMT_WEBHOOK_DELAY": "0.2", **env}  # fmt: skip
        process = start(orderamt, "listen", **settings)
        started.append(process)
        return Listener(process)

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def fill(portal: PortalDb, odoo: OdooDouble, count: int = 2) -> None:
    portal.insert(
        *(
            {"order_number": f"SO-{i}", "total_amount": Decimal("1.00"), "odoo_order_id": i,
             "created_at": RECENT, "updated_at": RECENT}
            for i in range(1, count + 1)
        )
    )  # fmt: skip
    odoo.add_orders({"id": i, "amount_total": 1.0} for i in range(1, count + 1))


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def has_polled(listener: Listener) -> bool:
    return listener.health()[1]["last_poll"] is not None


def refuses(listener: Listener) -> bool:
    """Whether the listener no longer takes requests."""
    try:
        listener.request("GET", "/healthz")
    except OSError:
        return True
    return False


def finished_webhook_runs(orderamt: Orderamt) -> list[tuple[int, int]]:
    """(updated, exit code) of every finished webhook batch in the history, oldest first."""
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    return [(r["updated"], r["exit_code"]) for r in reversed(runs)
            if r["mode"] == "webhook" and r["finished_at"] is not None]  # fmt: skip


def journal(portal: PortalDb) -> list[tuple[int, Decimal]]:
    with portal.engine.connect() as conn:
        if not inspect(conn).has_table("orderamt_journal"):
            return []
        rows = conn.execute(text("SELECT order_id, new_amount FROM orderamt_journal ORDER BY id"))
        return [(int(r[0]), Decimal(str(r[1]))) for r in rows]


def test_a_webhook_brings_odoo_s_amount_not_the_payload_s(
    portal: PortalDb, odoo: OdooDouble, listen: Callable[..., Listener]
) -> None:
    """Staff reprice order 2 in Odoo and Odoo posts: the portal takes Odoo's amount within
    seconds; the payload's forged amount is never used."""
    fill(portal, odoo)
    listener = listen()
    wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
    odoo.change(2, amount_total=25.0)
    forged = {**odoo.webhook_payload(2, stale=True), "amount_total": 1_000_000.0}
    assert odoo.send_webhook(listener.hook, forged) == (202, b'{"queued": 2}')
    wait_for(lambda: portal.amounts()["SO-2"] == Decimal("25.00"), "the portal takes 25.00")
    assert journal(portal) == [(2, Decimal("25.00"))]
    out, err = listener.stop()
    assert listener.process.returncode == 0, err
    assert "  ✅ SO-2: $1.00 → $25.00" in out.splitlines()
    assert out.splitlines()[-1] == "Listener stopped (SIGTERM)."


def test_a_save_reaches_the_portal_by_its_webhook_whenever_odoo_posts_it(
    portal: PortalDb, odoo: OdooDouble, listen: Callable[..., Listener]
) -> None:
    """With the gather left to Odoo's version (ORDERAMT_WEBHOOK_DELAY unset): a save on 18,
    whose webhook arrives before its commit (here half a second before), and on 19, whose
    webhook comes after it, both reach the portal by their webhook's batch, not by a later
    poll."""
    fill(portal, odoo)
    odoo.commit_delay = 0.5
    listener = listen(ORDERAMT_WEBHOOK_DELAY="")
    wait_for(lambda: has_polled(listener), "the first poll")
    assert odoo.save(2, listener.hook, amount_total=25.0) == 202
    wait_for(lambda: portal.amounts()["SO-2"] == Decimal("25.00"), "the portal takes 25.00")
    assert journal(portal) == [(2, Decimal("25.00"))]
    out, err = listener.stop()
    assert listener.process.returncode == 0, err
    runs = [line for line in out.splitlines() if "SO-2" in line]
    assert runs == ["  ✅ SO-2: $1.00 → $25.00"]
    assert odoo.calls["search_read"] == 2  # the first poll, then the webhook's batch


def test_a_change_made_while_it_was_down_arrives_by_the_poll(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """Odoo never retries a webhook: a change made before the listener started (its webhook
    lost) reaches the portal by the poll it runs at start."""
    fill(portal, odoo)
    assert orderamt("sync", "--changed").exit_code == 0  # the checkpoint
    odoo.change(1, amount_total=11.0)
    listener = listen()
    wait_for(lambda: portal.amounts()["SO-1"] == Decimal("11.00"), "the poll catches up")
    listener.stop()


def test_bad_requests_get_an_answer_and_nothing_else(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """A wrong secret is 404 like any unknown path, not JSON 400, too large 413, another
    model or no id 422; nothing is synced (a good webhook sent after them is the only change
    that arrives) and the secret is never logged."""
    fill(portal, odoo)
    listener = listen(ORDERAMT_POLL_INTERVAL="3600")
    wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
    odoo.change(1, amount_total=11.0)  # what a sync of order 1 would bring
    good = json.dumps(odoo.webhook_payload(1)).encode()
    assert listener.request("POST", "/orderamt/" + "y" * len(SECRET), good)[0] == 404
    assert listener.request("POST", "/orderamt/", good)[0] == 404
    assert listener.request("POST", "/", good)[0] == 404
    hook = f"/orderamt/{SECRET}"
    assert listener.request("GET", hook)[0] == 405
    assert listener.request("POST", hook, b"{not json")[0] == 400
    assert listener.request("POST", hook, b"x" * (65 * 1024))[0] == 413
    assert listener.request("POST", hook, b'{"_model": "res.partner", "_id": 1}')[0] == 422
    assert listener.request("POST", hook, b'{"_model": "sale.order"}')[0] == 422
    assert listener.request("POST", hook, b'{"_model": "sale.order", "_id": "1"}')[0] == 422
    # One worker syncs in order: had a bad request queued order 1, it would arrive no later.
    odoo.change(2, amount_total=22.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(2))[0] == 202
    wait_for(lambda: portal.amounts()["SO-2"] == Decimal("22.00"), "the good webhook's change")
    assert portal.amounts()["SO-1"] == Decimal("1.00")
    assert journal(portal) == [(2, Decimal("22.00"))]
    listener.stop()
    assert SECRET not in orderamt.log_file.read_text(encoding="utf-8")


def test_a_flood_of_webhooks_is_one_sync_per_order(
    portal: PortalDb, odoo: OdooDouble, listen: Callable[..., Listener]
) -> None:
    """Two hundred webhooks for two orders in a burst: each order is synced once and journaled
    once (up to a webhook for a third order sent after them)."""
    fill(portal, odoo, count=3)
    listener = listen(ORDERAMT_WEBHOOK_DELAY="1")
    wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
    odoo.change(1, amount_total=10.0)
    odoo.change(2, amount_total=20.0)
    payloads = [odoo.webhook_payload(1 + i % 2) for i in range(200)]
    statuses = [odoo.send_webhook(listener.hook, p)[0] for p in payloads]
    assert set(statuses) == {202}
    wait_for(lambda: len(journal(portal)) == 2, "both orders journaled")
    odoo.change(3, amount_total=30.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(3))[0] == 202
    wait_for(lambda: portal.amounts()["SO-3"] == Decimal("30.00"), "the third order's change")
    assert sorted(journal(portal)) == [
        (1, Decimal("10.00")), (2, Decimal("20.00")), (3, Decimal("30.00"))
    ]  # fmt: skip
    listener.stop()


def test_health_says_when_odoo_has_been_failing(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """/healthz is 200 with the last poll and the queue; 503 once Odoo has failed for longer
    than the poll interval; the outage is logged once, and the listener catches up after."""
    fill(portal, odoo)
    listener = listen(ORDERAMT_POLL_INTERVAL="1", ODOO_RETRIES="0")
    wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
    status, document = listener.health()
    assert status == 200
    assert document["status"] == "ok" and document["queue"] == 0
    odoo.fail("http", status=502)
    odoo.change(1, amount_total=12.0)
    wait_for(lambda: listener.health()[0] == 503, "503 after the poll interval")
    assert listener.health()[1]["status"] == "failing"
    odoo.clear_failures()
    wait_for(lambda: portal.amounts()["SO-1"] == Decimal("12.00"), "the catch-up after")
    wait_for(lambda: listener.health()[0] == 200, "healthy again")
    listener.stop()
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert log.count("Listener: Odoo or the portal is failing") == 1
    assert log.count("Listener: Odoo and the portal answer again") == 1


@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_the_listener_logs_in_once_and_again_when_odoo_refuses_it(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """A listener logs in at its first poll, not per batch or poll. The password changed in
    Odoo: the next batch is refused, one fresh login is refused too, and the listener keeps
    serving, failing; back to the password it has, a fresh login and the change arrives."""
    fill(portal, odoo)
    listener = listen(ORDERAMT_POLL_INTERVAL="2")
    wait_for(lambda: has_polled(listener), "the first poll")
    odoo.change(1, amount_total=11.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    wait_for(lambda: portal.amounts()["SO-1"] == Decimal("11.00"), "the first change")
    wait_for(lambda: odoo.calls["search_read"] >= 4, "polls after the first")
    assert odoo.calls["authenticate"] == 1
    odoo.change_password("changed-in-odoo")
    odoo.change(2, amount_total=22.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(2))[0] == 202
    wait_for(lambda: odoo.calls["authenticate"] >= 2, "a fresh login")
    assert portal.amounts()["SO-2"] == Decimal("1.00")
    odoo.change_password("admin")
    wait_for(lambda: portal.amounts()["SO-2"] == Decimal("22.00"), "the change, logged in again")
    listener.stop()
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert "Odoo refused the login in use; logging in again" in log
    assert "refused the login for 'admin'" in log


def test_sigterm_mid_batch_finishes_it_and_records_the_run(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """SIGTERM while a webhook batch waits on Odoo: no new request is taken, the batch
    finishes, its run is in the journal, and the listener exits 0."""
    fill(portal, odoo)
    listener = listen()
    wait_for(lambda: listener.health()[1]["last_poll"] is not None, "the first poll")
    reached, release = threading.Event(), threading.Event()

    def hold(method: str) -> None:
        if method == "search_read":
            reached.set()
            release.wait(30)

    odoo.change(1, amount_total=15.0)
    odoo.on_call = hold
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    assert reached.wait(30)
    listener.process.send_signal(signal.SIGTERM)
    wait_for(partial(refuses, listener), "no request taken after SIGTERM")
    release.set()
    _, err = listener.process.communicate(timeout=60)
    odoo.on_call = None
    assert listener.process.returncode == 0, err
    assert portal.amounts()["SO-1"] == Decimal("15.00")
    runs = json.loads(orderamt("history", "--json").stdout)["runs"]
    webhook_runs = [r for r in runs if r["mode"] == "webhook"]
    assert [(r["updated"], r["exit_code"]) for r in webhook_runs] == [(1, 0)]


def test_the_listener_keeps_the_metrics_file_current(
    portal: PortalDb, odoo: OdooDouble, tmp_path: Path, listen: Callable[..., Listener]
) -> None:
    """ORDERAMT_METRICS_FILE is written after the listener's poll and after each webhook
    batch, so a monitor reading it sees the batch that just ran."""
    fill(portal, odoo)
    metrics = tmp_path / "orderamt.prom"
    listener = listen(ORDERAMT_METRICS_FILE=str(metrics))
    wait_for(metrics.exists, "the metrics after the first poll")
    odoo.change(2, amount_total=42.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(2))[0] == 202
    wait_for(lambda: 'orderamt_last_run_orders{outcome="updated"} 1'
             in metrics.read_text(encoding="utf-8"), "the batch in the metrics")  # fmt: skip
    listener.stop()


def test_the_listener_s_log_is_written_as_it_goes_and_reopened_on_sighup(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """A listener that runs for months: its poll is in orderamt.log while it still runs (not
    held in memory until it stops); logrotate moves the file away and sends SIGHUP, and
    the next batch's lines go to the new file; the listener goes on."""
    fill(portal, odoo)
    listener = listen()
    log_file = orderamt.log_file
    wait_for(lambda: log_file.exists() and "Catch-up poll finished" in log_file.read_text(
        encoding="utf-8"), "the poll in the log while the listener runs")  # fmt: skip
    log_file.rename(log_file.with_name("orderamt.log.1"))
    listener.process.send_signal(signal.SIGHUP)
    odoo.change(1, amount_total=12.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    wait_for(lambda: log_file.exists() and "Synced order amount from Odoo" in log_file.read_text(
        encoding="utf-8"), "the batch in the new log file")  # fmt: skip
    assert listener.process.poll() is None
    _, err = listener.stop()
    assert listener.process.returncode == 0, err
    assert "Synced order amount" not in log_file.with_name("orderamt.log.1").read_text("utf-8")


def migrate_fresh(portal: PortalDb) -> None:
    """`php artisan migrate:fresh`: every table dropped, the portal's own made again."""
    with portal.engine.begin() as conn:
        for name in inspect(conn).get_table_names():
            conn.execute(
                text(f"DROP TABLE {portal.engine.dialect.identifier_preparer.quote(name)}")
            )
    portal.create()


def test_a_journal_dropped_under_the_listener_is_made_again_and_no_run_is_taken(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """migrate:fresh while the listener serves: the next webhook batch succeeds (the journal
    made again before it, not after a failure), `status` still shows the listener going,
    and at SIGTERM it ends only its own run: the cron run that took id 1 after the wipe
    keeps its exit code and error."""
    fill(portal, odoo)
    listener = listen()
    wait_for(partial(has_polled, listener), "the first poll")
    migrate_fresh(portal)
    portal.insert({"order_number": "SO-1", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
                   "created_at": RECENT, "updated_at": RECENT})  # fmt: skip
    odoo.fail("http", on="search_read", times=1)
    failed = orderamt("sync", "--order-id", "1")
    assert failed.exit_code == 3
    odoo.change(1, amount_total=31.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    # The batch's run is ended just after its rows commit: wait for the end, not the row.
    wait_for(lambda: finished_webhook_runs(orderamt) == [(1, 0)], "the webhook's batch, ended")
    assert portal.amounts()["SO-1"] == Decimal("31.00")
    status = json.loads(orderamt("status", "--json").stdout)
    assert [r["kind"] for r in status["going"]] == ["listen"], status
    _, err = listener.stop()
    assert listener.process.returncode == 0, err
    runs = {r["id"]: r for r in json.loads(orderamt("history", "--json").stdout)["runs"]}
    assert (runs[1]["mode"], runs[1]["exit_code"]) == ("one", 3)
    assert runs[1]["error"]
    assert [(r["mode"], r["exit_code"]) for r in runs.values() if r["mode"] == "webhook"] == [
        ("webhook", 0)
    ]
    assert all(r["finished_at"] is not None for r in runs.values())


def tcp_ports_of(pid: int) -> set[int]:
    """The local ports of a process's TCP connections, from Linux's /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            link = os.readlink(fd)
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
    ports = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def end_sessions_of(portal: PortalDb, pid: int) -> int:
    """End, from the database server's side, every session of process `pid`: what a
    restart of the server, a failover or a reaper of idle connections does to a process
    that keeps its connections. Returns how many were ended."""
    ports = tcp_ports_of(pid)
    with portal.engine.connect() as conn:
        if portal.kind == "postgresql":
            ended = conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE client_port = ANY(:ports)"),
                {"ports": sorted(ports)},
            ).scalars().all()  # fmt: skip
            return sum(1 for done in ended if done)
        sessions = conn.execute(text("SELECT id, host FROM information_schema.processlist"))
        ends = {id: host.rpartition(":")[2] for id, host in sessions}  # 'localhost': a socket
        theirs = [id for id, port in ends.items() if port.isdigit() and int(port) in ports]
        for id in theirs:
            conn.execute(text(f"KILL {int(id)}"))
        return len(theirs)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
@pytest.mark.parametrize("portal", ["postgresql", "mariadb"], indirect=True)
def test_a_database_restart_under_the_listener_costs_no_webhook(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """The portal's database server ends the listener's idle connections (a restart for an
    upgrade, a failover, wait_timeout): the next webhook's batch reconnects and syncs its
    order as if nothing happened, with nothing failing in the log."""
    fill(portal, odoo)
    listener = listen()
    wait_for(partial(has_polled, listener), "the first poll")
    assert end_sessions_of(portal, listener.process.pid) >= 1
    odoo.change(1, amount_total=41.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    wait_for(lambda: finished_webhook_runs(orderamt) == [(1, 0)], "the webhook's batch, ended")
    assert portal.amounts()["SO-1"] == Decimal("41.00")
    _, err = listener.stop()
    assert listener.process.returncode == 0, err
    log = orderamt.log_file.read_text(encoding="utf-8")
    assert " ERROR " not in log and " WARNING " not in log, log


def test_two_listeners_journal_a_change_once(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """Two listeners on one portal both get the webhook: each syncs it, the change is written
    and journaled once, and neither reports a problem."""
    fill(portal, odoo)
    first, second = listen(), listen()
    for listener in (first, second):
        polled: Callable[[], bool] = partial(has_polled, listener)
        wait_for(polled, "the first poll")
    odoo.change(2, amount_total=22.0)
    payload = odoo.webhook_payload(2)
    assert odoo.send_webhook(first.hook, payload)[0] == 202
    assert odoo.send_webhook(second.hook, payload)[0] == 202
    wait_for(lambda: len(finished_webhook_runs(orderamt)) == 2, "a batch run by each")
    assert finished_webhook_runs(orderamt) == [(1, 0), (0, 0)]
    assert portal.amounts()["SO-2"] == Decimal("22.00")
    assert journal(portal) == [(2, Decimal("22.00"))]
    for listener in (first, second):
        out, _ = listener.stop()
        assert "need a look" not in out


@pytest.mark.parametrize("protocol", ["xmlrpc"])  # nothing of Odoo's is reached
def test_a_port_already_taken_is_one_line_and_nothing_recorded(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt, listen: Callable[..., Listener]
) -> None:
    """A second `orderamt listen` on the port of one already serving (a unit started twice,
    another server on 8765): one line naming the setting and the cause, exit 2, no
    traceback; the first goes on, and no run of the second is journaled."""
    fill(portal, odoo)
    first = listen()
    wait_for(partial(has_polled, first), "the first poll")
    second = start(orderamt, "listen", ORDERAMT_LISTEN=f"127.0.0.1:{first.port}",
                   ORDERAMT_WEBHOOK_SECRET=SECRET)  # fmt: skip
    out, err = second.communicate(timeout=60)
    assert (second.returncode, out) == (2, "")
    assert err.splitlines() == [
        f"orderamt: cannot listen on ORDERAMT_LISTEN=127.0.0.1:{first.port}: the port is "
        "taken (another orderamt listen, or another server)"
    ]
    assert first.health()[0] == 200
    status = json.loads(orderamt("status", "--json").stdout)
    assert [(r["kind"], r["pid"]) for r in status["going"]] == [("listen", first.process.pid)]
    first.stop()


@pytest.mark.skipif(not socket.has_ipv6, reason="this Python has no IPv6")
@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_an_ipv6_address_is_said_as_a_url_odoo_can_post_to(
    portal: PortalDb, odoo: OdooDouble, orderamt: Orderamt
) -> None:
    """ORDERAMT_LISTEN=[::1]:PORT: the first line gives the URL in brackets, which is the
    one that answers."""
    fill(portal, odoo)
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
    process = start(orderamt, "listen", ORDERAMT_LISTEN="[::1]:0",
                    ORDERAMT_WEBHOOK_SECRET=SECRET)  # fmt: skip
    try:
        assert process.stdout is not None
        found = re.match(r"Listening on http://\[::1\]:(\d+): ", process.stdout.readline())
        assert found, process.stderr.read() if process.stderr else ""
        connection = http.client.HTTPConnection("::1", int(found.group(1)), timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0


def test_a_short_secret_is_refused_at_start(orderamt_sqlite: Orderamt) -> None:
    """A secret under 32 characters would be guessable: the listener does not start."""
    run = orderamt_sqlite("listen", ORDERAMT_WEBHOOK_SECRET="too-short")
    assert run.exit_code == 2
    assert run.stderr.startswith(
        "orderamt: configuration: ORDERAMT_WEBHOOK_SECRET must be at least 32 "
    )
    assert "too-short" not in run.stderr


def test_a_bad_secret_is_named_with_every_other_bad_setting(orderamt_sqlite: Orderamt) -> None:
    """The secret is checked with the rest of the configuration: one line names it and a
    bad batch size together, exit 2 (a configuration error), and the listener never starts."""
    run = orderamt_sqlite("listen", ORDERAMT_WEBHOOK_SECRET="too-short", ORDERAMT_BATCH_SIZE="0")
    assert run.exit_code == 2
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith(
        "orderamt: configuration: ORDERAMT_BATCH_SIZE must be a whole number from 1 to 10000, "
        "got '0'; ORDERAMT_WEBHOOK_SECRET must be at least 32 "
    )
    assert "too-short" not in run.stderr
