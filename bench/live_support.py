"""What bench/live.py stands on: a portal already in step with Odoo, the listener as a process,
and the bench's own eyes on the portal and the journal.

`synced_odoo_rows` gives the Odoo side of `data.make_dataset`'s orders with every amount equal
to the portal's (a portal that is all synced) and a `write_date` per order, the newest about an
hour old, so a catch-up poll after the first one finds nothing. `Listener` starts `python -m
orderamt listen` as its own process, reads its port from its first line, asks /healthz, samples
its resident memory (`VmRSS` in /proc) and stops it with SIGTERM. `RowWatcher` polls one portal
row from this process until it holds an amount. `journal_entries` reads orderamt's journal
back, with each entry's run mode. `Contention` says how much of the machine other processes
took while something ran (on a shared 2-core machine, a test suite next door moves every
figure), and `wait_for_quiet` waits for them to stop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from data import Dataset, to_cents
from sqlalchemy import Engine, text

LISTENING = re.compile(r"^Listening on http://[^\s:]+:(\d+)")
RSS_INTERVAL_S = 2.0
STOP_TIMEOUT_S = 90.0


def odoo_time(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M:%S"))


def synced_odoo_rows(dataset: Dataset) -> Iterator[dict[str, Any]]:
    """Every order in Odoo with the portal's own amount, last written when it was created.

    `make_dataset` puts the newest `created_at` an hour before now, so the newest `write_date`
    is an hour old: past the poll's 5-minute margin, and within the first poll's 30 days.
    """
    for o in dataset.orders:
        yield {
            "id": o.odoo_id,
            "amount_total": float(o.amount),
            "state": "sale",
            "write_date": odoo_time(o.created_at),
        }


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database:
        raise ValueError("the live bench watches a SQLite portal file")
    return Path(database)


class RowWatcher:
    """Reads one portal row's amount from this process, as often as asked.

    Autocommit: each SELECT is its own read transaction, so the bench never holds SQLite's
    shared lock between reads and never delays the listener's commit by more than one read.
    """

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, timeout=10, isolation_level=None)

    def amount(self, order_id: int) -> Decimal | None:
        row = self._conn.execute(
            "SELECT total_amount FROM orders WHERE id = ?", (order_id,)
        ).fetchone()
        return None if row is None or row[0] is None else to_cents(row[0])

    def wait_for(
        self, order_id: int, amount: Decimal, timeout: float, every: float
    ) -> float | None:
        """perf_counter() of the first read that shows `amount`, or None after `timeout`."""
        deadline = time.perf_counter() + timeout
        while True:
            seen = self.amount(order_id)
            now = time.perf_counter()
            if seen == amount:
                return now
            if now >= deadline:
                return None
            time.sleep(every)

    def amounts(self) -> dict[int, Decimal]:
        rows = self._conn.execute("SELECT id, total_amount FROM orders").fetchall()
        return {int(i): to_cents(a) for i, a in rows}

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class JournalEntry:
    run_id: int
    mode: str
    order_id: int
    new_amount: Decimal


def journal_entries(engine: Engine, table: str = "orderamt_journal") -> list[JournalEntry]:
    """Every change orderamt journaled, with the mode of its run (webhook, changed, ...)."""
    query = text(
        f"SELECT j.run_id, r.mode, j.order_id, j.new_amount FROM {table} j "
        f"LEFT JOIN {table}_runs r ON r.id = j.run_id ORDER BY j.id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        JournalEntry(int(run), str(mode), int(order), to_cents(amount))
        for run, mode, order, amount in rows
    ]


def run_modes(engine: Engine, table: str = "orderamt_journal") -> dict[str, int]:
    """Runs recorded, by mode."""
    query = text(f"SELECT mode, COUNT(*) FROM {table}_runs GROUP BY mode")
    with contextlib.suppress(Exception), engine.connect() as conn:
        return {str(mode): int(count) for mode, count in conn.execute(query).all()}
    return {}


def checkpoint(engine: Engine, table: str = "orderamt_journal") -> tuple[str, int] | None:
    """The catch-up poll's checkpoint, (write_date, Odoo id), or None before the first."""
    query = text(f"SELECT write_date, odoo_id FROM {table}_state WHERE name = 'changed'")
    with contextlib.suppress(Exception), engine.connect() as conn:
        row = conn.execute(query).first()
        return None if row is None else (str(row[0]), int(row[1]))
    return None


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    total = sum(values[:8])  # steal included, guest already inside user
    return total - idle, total


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Contention:
    """How many CPU cores other processes kept busy, on average, since `start`.

    The machine's busy time (/proc/stat) less this process's and its reaped children's;
    `extra_cpu` adds a child's CPU time that is not reaped yet (the listener, still running).
    """

    busy: int = 0
    wall: float = 0.0
    own: float = 0.0

    @classmethod
    def start(cls) -> Contention:
        return cls(_machine_jiffies()[0], time.perf_counter(), _own_cpu())

    def foreign_cores(self, extra_cpu: float = 0.0) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        busy = (_machine_jiffies()[0] - self.busy) / ticks
        wall = time.perf_counter() - self.wall
        own = _own_cpu() - self.own + extra_cpu
        return max(0.0, busy - own) / wall if wall > 0 else 0.0


def wait_for_quiet(max_wait: float, busy_cores: float = 0.3, window: float = 0.5) -> float:
    """Wait (at most `max_wait` seconds) for a window in which the whole machine keeps fewer
    than `busy_cores` cores busy; returns the seconds waited."""
    start = time.perf_counter()
    ticks = os.sysconf("SC_CLK_TCK")
    while True:
        before = _machine_jiffies()[0]
        time.sleep(window)
        busy = (_machine_jiffies()[0] - before) / ticks / window
        waited = time.perf_counter() - start
        if busy < busy_cores or waited >= max_wait:
            return waited


def _read_status(pid: int, key: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time the process has used so far (/proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class Listener:
    """`python -m orderamt listen` as its own process, as systemd would run it."""

    env: dict[str, str]
    workdir: Path
    secret: str
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "orderamt", "listen"])
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    listen: str = "127.0.0.1:0"
    """ORDERAMT_LISTEN: a port of the system's choosing unless the bench needs a known one."""
    rss: list[tuple[float, int]] = field(default_factory=list)
    """(seconds since start, VmRSS in KiB), every RSS_INTERVAL_S."""
    output: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int | None = None
    stop_s: float | None = None
    _started: float = 0.0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/orderamt/{self.secret}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> Listener:
        env = {
            **self.env,
            "ORDERAMT_LISTEN": self.listen,
            "ORDERAMT_WEBHOOK_SECRET": self.secret,
            "PYTHONUNBUFFERED": "1",
        }
        self._started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=self.workdir,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._spawn(self._read, self.proc.stdout, self.output, lines)
        self._spawn(self._read, self.proc.stderr, self.errors, None)
        self._spawn(self._sample_rss)
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"the listener said nothing in {timeout:g} s: {self.errors}"
            ) from None
        match = LISTENING.match(first)
        if match is None:
            self.stop()
            raise RuntimeError(f"unexpected first line from the listener: {first!r}")
        self.port = int(match.group(1))
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    @staticmethod
    def _read(stream: IO[bytes], keep: list[str], lines: queue.Queue[str] | None) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            keep.append(line)
            del keep[:-200]
            if lines is not None:
                lines.put(line)

    def _sample_rss(self) -> None:
        while not self._stopping.is_set():
            kib = _read_status(self.pid, "VmRSS:")
            if kib is None:
                return
            self.rss.append((time.perf_counter() - self._started, kib))
            self._stopping.wait(RSS_INTERVAL_S)

    def rss_now(self) -> int | None:
        kib = _read_status(self.pid, "VmRSS:")
        if kib is not None:
            self.rss.append((time.perf_counter() - self._started, kib))
        return kib

    def memory_map(self) -> dict[str, int]:
        """The process's resident memory by kind of mapping, in KiB (/proc/<pid>/smaps):
        `heap` (brk), `anon` (anonymous mmaps: malloc's thread arenas, Python's own arenas,
        large allocations), `stack`, `files` (the interpreter, libraries, mapped files)."""
        kinds: dict[str, int] = {"heap": 0, "anon": 0, "stack": 0, "files": 0}
        kind = "anon"
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/smaps").read_text().splitlines():
                head = line.split(maxsplit=5)
                if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                    name = head[5] if len(head) > 5 else ""
                    kind = (
                        "heap" if name == "[heap]"
                        else "stack" if name.startswith("[stack")
                        else "files" if name.startswith("/")
                        else "anon"
                    )  # fmt: skip
                elif head[0] == "Rss:":
                    kinds[kind] += int(head[1])
        return kinds

    def health(self) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            document: dict[str, Any] = json.loads(answer.read())
            document["http_status"] = answer.status
            return document
        finally:
            connection.close()

    def wait_polled(self, timeout: float = 120.0) -> None:
        """Until the catch-up poll at start has finished (/healthz shows its time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health().get("last_poll"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the listener's first poll did not finish in {timeout:g} s")

    def wait_idle(self, timeout: float) -> bool:
        """Until nothing waits in the listener's queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health().get("queue") == 0:
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop` sends it; the exit code and how long it took."""
        proc = self.proc
        if proc is None or self.exit_code is not None:
            return
        start = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.exit_code = proc.wait()
        self.stop_s = time.perf_counter() - start
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def child_env(env: dict[str, str], workdir: Path) -> dict[str, str]:
    """A run's environment with its bytecode cached in the work directory.

    pip compiles an installed package's bytecode once; an editable install of a working tree
    whose sources changed since their .pyc (with PYTHONDONTWRITEBYTECODE set, as in the shell
    this bench was written in) compiles them again on every start. A cache of the bench's own
    makes every run start as an installed orderamt does, once a first run has compiled it
    (`warm_up_bytecode` in live.py; startup.py runs each command once before timing).
    """
    env = {**env, "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(command: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str, str]:
    """One command as its own process: its wall time, exit code, stdout and stderr."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done.returncode, done.stdout, done.stderr
