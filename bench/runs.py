"""One run of orderamt (or of the reference), and what it did.

`run_env` is the environment a user's run would have (the settings a `.env` holds, none of the
shell's own) and `profiled` adds pyinstrument under --profile. `launch` starts `launch.py` as
its own process and takes the figures of the table from outside it: the wall time from start
to exit, and from the files and counters it leaves, the peak RSS, the SQL statements and
commits, and the Odoo calls the double received (`Measure`). `judge` reads whether the run left
the portal as the decision rule says and what it updated (`Result`, named by `BACKFILL`,
`HOURLY` or `REFERENCE`); `median_of` picks the run that --repeat reports.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from servers import OdooAt, Portal, double_at

from orderamt.testing import OdooDouble

LAUNCHER = Path(__file__).resolve().parent / "launch.py"
# Settings a developer's shell or .env might hold; the runs get only the bench's own.
SETTING_PREFIXES = ("ODOO_", "PORTAL_", "ORDERAMT_")

BACKFILL = "sync --all"
HOURLY = "sync --quiet (hourly)"
REFERENCE = "per-order reference"


@dataclass
class Measure:
    """What one process did, as seen from outside it."""

    wall_s: float
    exit_code: int
    peak_rss_mb: float
    statements: int
    commits: int
    odoo_calls: dict[str, int]
    stdout_lines: int
    stdout_tail: str
    stderr: str


def _drain(stream: Any, sink: dict[str, Any], keep: int) -> None:
    """Read a pipe to its end as the child writes, keeping the line count and the tail."""
    fd = stream.fileno()
    tail, lines = b"", 0
    while chunk := os.read(fd, 1 << 16):
        lines += chunk.count(b"\n")
        tail = (tail + chunk)[-keep:]
    sink["lines"], sink["tail"] = lines, tail.decode("utf-8", "replace")


def launch(
    target: str,
    args: Sequence[str],
    env: dict[str, str],
    workdir: Path,
    odoo: OdooDouble | None,
) -> Measure:
    """Run `launch.py TARGET ARGS` to its end: wall time from start to exit, peak RSS, counts
    (the double's calls counted from nought; a real Odoo's, None, not counted)."""
    stats = workdir / f"stats-{uuid.uuid4().hex[:8]}.json"
    env = {**env, "ORDERAMT_BENCH_STATS": str(stats)}
    if odoo is not None:
        odoo.reset_calls()
    out: dict[str, Any] = {}
    err: dict[str, Any] = {}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), target, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
    )
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out, 4096), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err, 20_000), daemon=True),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    proc.stderr.close()
    counts = json.loads(stats.read_text()) if stats.exists() else {}
    stats.unlink(missing_ok=True)
    # VmHWM, read by the child itself: wait4's ru_maxrss would include this process's RSS at
    # the time of the fork (Linux carries it over into the child's figure).
    peak_kib = counts.get("peak_rss_kib") or usage.ru_maxrss
    return Measure(
        wall_s=wall,
        exit_code=proc.returncode,
        peak_rss_mb=peak_kib / 1024,
        statements=int(counts.get("statements", -1)),
        commits=int(counts.get("commits", -1)),
        odoo_calls=dict(odoo.calls) if odoo is not None else {},
        stdout_lines=out.get("lines", 0),
        stdout_tail=out.get("tail", ""),
        stderr=err.get("tail", ""),
    )


def warm_up() -> None:
    """The first start of the interpreter reads everything from disk; leave that out."""
    subprocess.run(
        [sys.executable, str(LAUNCHER), "orderamt", "--version"],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def run_env(
    odoo: OdooDouble | OdooAt,
    portal: Portal,
    workdir: Path,
    batch: int | None,
    options: argparse.Namespace,
) -> dict[str, str]:
    """The environment a user's run would have: the settings, and nothing else of ours.
    The double is logged in to as the bench starts it; a real Odoo as `OdooAt` says."""
    if isinstance(odoo, OdooDouble):
        odoo = double_at(odoo.url, options.odoo_version)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update(
        {
            "ODOO_URL": odoo.url,
            "ODOO_DB": odoo.db,
            "ODOO_USERNAME": odoo.login,
            "ODOO_PASSWORD": odoo.secret,
            "PORTAL_DATABASE_URL": portal.url,
            "ORDERAMT_LOG_FILE": str(workdir / "orderamt.log"),
            "LANG": "C.UTF-8",
        }
    )
    env.pop("LC_ALL", None)
    if batch is not None:
        env["ORDERAMT_BATCH_SIZE"] = str(batch)
    return env


def profiled(
    env: dict[str, str], options: argparse.Namespace, label: str, run: str
) -> dict[str, str]:
    """The environment for one orderamt run, profiled with pyinstrument under --profile."""
    if options.profile is None:
        return env
    options.profile.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "-" for c in f"{label} {run}").strip("-")
    return {**env, "ORDERAMT_BENCH_PROFILE": str(options.profile.resolve() / f"{name}.txt")}


@dataclass
class Result:
    """One measured run and whether it left the portal as it should."""

    db: str
    n: int
    """Orders in the portal."""
    run: str
    orders: int
    """Orders the run looked at."""
    batch: int | None
    """orderamt's batch size; None for the reference."""
    measure: Measure
    rows_updated: int
    updated_ids: set[int] = field(repr=False)
    expected_ids: set[int] = field(repr=False)
    problems: list[str] = field(default_factory=list)
    ratio: float | None = None
    """The reference's wall time over this run's, at the same N."""
    walls: list[float] = field(default_factory=list)
    """Every repetition's wall time (--repeat); `measure` is the median one's."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def odoo_calls(self) -> int:
        return sum(self.measure.odoo_calls.values())

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.measure.wall_s if self.measure.wall_s > 0 else math.inf

    @property
    def call_limit(self) -> int | None:
        """ceil(orders / batch) + 2: what the target allows orderamt."""
        return None if self.batch is None else math.ceil(self.orders / self.batch) + 2

    def as_json(self) -> dict[str, Any]:
        m = self.measure
        return {
            "db": self.db,
            "n": self.n,
            "run": self.run,
            "orders": self.orders,
            "batch": self.batch,
            "wall_s": round(m.wall_s, 3),
            "wall_s_each_run": [round(w, 3) for w in self.walls or [m.wall_s]],
            "orders_per_s": round(self.orders_per_s, 1),
            "odoo_calls": self.odoo_calls,
            "odoo_calls_by_method": m.odoo_calls,
            "sql_statements": m.statements,
            "commits": m.commits,
            "rows_updated": self.rows_updated,
            "peak_rss_mb": round(m.peak_rss_mb, 1),
            "exit_code": m.exit_code,
            "ratio_to_reference": None if self.ratio is None else round(self.ratio, 1),
            "problems": self.problems,
        }


def judge(
    db: str,
    n: int,
    run: str,
    orders: int,
    batch: int | None,
    measure: Measure,
    before: dict[int, Decimal],
    after: dict[int, Decimal],
    expected: dict[int, Decimal],
    expected_ids: set[int],
) -> Result:
    """The run's result: the rows it updated, and anything it got wrong."""
    updated = {i for i, amount in after.items() if amount != before.get(i)}
    problems = []
    if measure.exit_code not in (0, 1):
        problems.append(f"exit code {measure.exit_code}: {measure.stderr.strip()[-2000:]}")
    wrong = sorted(i for i in expected if after.get(i) != expected[i])
    if wrong:
        problems.append(f"{len(wrong)} portal amounts differ from the expected (ids {wrong[:5]})")
    if updated != expected_ids:
        problems.append(f"updated {len(updated)} rows, expected {len(expected_ids)}")
    return Result(db, n, run, orders, batch, measure, len(updated), updated, expected_ids, problems)


def median_of(results: list[Result]) -> Result:
    """The run with the median wall time, carrying every run's time and every problem."""
    ranked = sorted(results, key=lambda r: r.measure.wall_s)
    chosen = ranked[(len(ranked) - 1) // 2]
    chosen.walls = [r.measure.wall_s for r in results]
    chosen.problems = [p for r in results for p in r.problems]
    return chosen
