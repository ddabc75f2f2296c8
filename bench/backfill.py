"""A first backfill against Odoo's own read: issue 16's targets, per engine and protocol.

    python bench/backfill.py                        # 10,000 orders, SQLite, Odoo 18 and 19
    python bench/backfill.py --db all --repeat 3    # and PostgreSQL, MariaDB; median of 3

For each engine and Odoo version it builds a portal of N orders whose every amount differs in
Odoo (a first backfill), serves Odoo from the test double with a latency per call set to
what the real servers took (tests/testing/odoo-recordings/timings-10000-orders.json: reading 10,000
orders by batches of 500 took 1.13 s on Odoo 18 over XML-RPC and 0.47 s on Odoo 19 over
JSON-2, so 56 ms and 23 ms per call), and times, each as its own process, interpreter start
included:

- the bare read: log in and search_read all N by batches of 500, nothing else;
- `orderamt sync --all --quiet`: every amount written, journaled and logged;
- the same again: nothing left to change.

Targets (issue 16): the backfill within 1.3 x bare + 0.6 s; the second run within bare +
0.45 s. The portal is checked after each run.

    ODOO_DB=... ODOO_USERNAME=... ODOO_PASSWORD=... \
    python bench/backfill.py --odoo-url https://odoo.example.com --orders 10000

points it at a real Odoo instead (its database, user and password or API key from the
shell's ODOO_* settings): the portal gets that Odoo's first N sale orders (oldest write
first, the catch-up poll's read) at 1.00 each, and what Odoo says decides what the backfill
must write. Nothing is written to Odoo.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from servers import (  # noqa: E402
    API_KEY,
    KINDS,
    ONE,
    OdooAt,
    PortalServer,
    answer_without_nagle_delay,
    double_at,
    load_odoo_orders,
    real_odoo,
    sync_env,
    warm_password_check,
)
from sqlalchemy import text  # noqa: E402

from orderamt.testing import OdooDouble  # noqa: E402

LATENCY_MS = {18: 56.0, 19: 23.0}
"""Per search_read of 500 orders, from the recorded real servers (see the docstring)."""

LOGIN_MS = 330.0
"""What checking a password against its hash took live 17.0, 18.0 and 19.0 (each
`authenticate`, and the first `execute_kw` of a password: `OdooDouble.login_latency`)."""

BARE_READ = """
import json, os, sys
from orderamt.odoo import Odoo
ids = json.loads(open(sys.argv[1]).read())
env = os.environ
with Odoo(env["ODOO_URL"], env["ODOO_DB"], env["ODOO_USERNAME"], env["ODOO_PASSWORD"],
          timeout=60) as odoo:
    odoo.login()
    for start in range(0, len(ids), 500):
        odoo.fetch_totals(ids[start:start + 500])
"""
"""Log in and read the orders (their ids in the file argv[1]) by batches of 500."""


def reachable(
    kinds: Sequence[str], tmp: Path, skipped: Callable[[str, str], str]
) -> Iterator[PortalServer]:
    """A portal server per engine that answers; each other one printed as skipped."""
    for kind in kinds:
        server = PortalServer(kind, None, tmp)
        why = server.problem()
        if why:
            print(skipped(kind, why))
            continue
        yield server


def timed(command: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    return run_measured(command, env, cwd)[0]


def run_measured(command: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """The wall time of `command` as its own process, and its peak RSS in MB. Its output
    is thrown away, so a million-order `--json` document costs the bench nothing.

    The peak is the process's own high-water mark (VmHWM, read every 20 ms until it ends),
    not wait4's ru_maxrss: that one keeps the RSS the child had between fork and exec, a
    copy of this process with its million-order Odoo double."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    status = Path(f"/proc/{process.pid}/status")
    peak_kb = 0
    while process.poll() is None:
        try:
            text_ = status.read_text()
            peak_kb = max(peak_kb, int(text_.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.02)
    took = time.perf_counter() - started
    if process.returncode not in (0, 1):
        error = process.stderr.read() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {error[-2000:]}")
    return took, peak_kb / 1024


def measure_double(
    server: PortalServer, version: int, n: int, workdir: Path, report: str
) -> dict[str, float]:
    """N orders at 1.00 in the portal, at i + 0.25 in the double playing `version`."""
    kwargs = {"version": version, "api_key": API_KEY} if version >= 19 else {
        "version": version, "db": "odoo", "login": "admin", "password": "admin"}  # fmt: skip
    with answer_without_nagle_delay(), OdooDouble(**kwargs) as odoo:
        odoo.add_orders({"id": i, "amount_total": i + 0.25, "state": "sale"}
                        for i in range(1, n + 1))  # fmt: skip
        odoo.latency = LATENCY_MS[version] / 1000
        odoo.login_latency = LOGIN_MS / 1000
        expected = {i: Decimal(i) + Decimal("0.25") for i in range(1, n + 1)}
        at = double_at(odoo.url, version)
        warm_password_check(at.url, at.db, at.login, at.secret)
        return measure(server, at, expected, workdir, report)


def measure(
    server: PortalServer,
    odoo: OdooAt,
    expected: Mapping[int, Decimal],
    workdir: Path,
    report: str = "--quiet",
) -> dict[str, float]:
    """A portal of one order at 1.00 per Odoo id in `expected`; the bare read, the backfill
    (every row then holds its expected amount, each change journaled) and the run again."""
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    ids = sorted(expected)
    changes = sum(1 for amount in expected.values() if amount != ONE)
    with server.portal() as portal:
        load_odoo_orders(portal.engine, dict.fromkeys(ids, ONE), now)
        env = sync_env(odoo, portal.url, workdir)
        listed = workdir / "ids.json"
        listed.write_text(json.dumps(ids))
        bare = timed([sys.executable, "-c", BARE_READ, str(listed)], env, workdir)
        sync = [sys.executable, "-m", "orderamt", "sync", "--all", report]
        first, peak = run_measured(sync, env, workdir)
        with portal.engine.connect() as conn:
            rows = conn.execute(text("SELECT odoo_order_id, total_amount FROM orders"))
            # As text first: SQLite hands a NUMERIC column back as a float.
            wrong = sum(1 for odoo_id, amount in rows
                        if Decimal(str(amount)) != expected[int(odoo_id)])  # fmt: skip
            journaled = conn.execute(text("SELECT COUNT(*) FROM orderamt_journal")).scalar_one()
        if wrong or journaled != changes:
            raise SystemExit(
                f"the backfill left {wrong} wrong rows, {journaled} journal entries "
                f"for {changes} changes"
            )
        second = timed(sync, env, workdir)
    return {"bare": bare, "first": first, "second": second, "peak_mb": peak}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, mariadb, or all")
    parser.add_argument("--versions", default="18,19", help="Odoo versions the double plays")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median")
    parser.add_argument(
        "--json-report",
        action="store_true",
        help="the backfill with --json (its document thrown away) instead of --quiet",
    )
    parser.add_argument(
        "--odoo-url",
        help="a real Odoo to read instead of the double (ODOO_DB, ODOO_USERNAME and "
        "ODOO_PASSWORD from the environment); --versions is then ignored",
    )
    options = parser.parse_args(argv)
    report = "--json" if options.json_report else "--quiet"
    kinds = KINDS if options.db == "all" else tuple(options.db.split(","))
    cases: list[tuple[str, Callable[[PortalServer, Path], dict[str, float]]]]
    if options.odoo_url:
        at, version, expected, _ = real_odoo(options.odoo_url, options.orders)
        changes = sum(1 for amount in expected.values() if amount != ONE)
        print(f"{len(expected):,} orders of {options.odoo_url} (Odoo {version}), {changes:,} "
              f"to change, sync --all {report}; median of {options.repeat}")  # fmt: skip
        cases = [(version, lambda server, tmp: measure(server, at, expected, tmp, report))]
    else:
        changes = options.orders
        print(f"{options.orders:,} orders, every amount changed, sync --all {report}; "
              f"median of {options.repeat}")  # fmt: skip
        cases = [
            (version, lambda server, tmp, v=int(version): measure_double(
                server, v, options.orders, tmp, report))
            for version in options.versions.split(",")
        ]  # fmt: skip
    print(f"{'engine':<11}{'odoo':<6}{'bare read':>10}{'backfill':>10}{'target':>8}"
          f"{'again':>8}{'target':>8}{'per row':>9}{'peak':>9}")  # fmt: skip
    missed = 0
    with tempfile.TemporaryDirectory(prefix="orderamt-backfill-") as tmp:
        for server in reachable(kinds, Path(tmp), lambda kind, why: f"{kind:<11}skipped: {why}"):
            kind = server.kind
            for version, run in cases:
                runs = [run(server, Path(tmp)) for _ in range(options.repeat)]
                med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                first_target = 1.3 * med["bare"] + 0.6
                second_target = med["bare"] + 0.45
                missed += (med["first"] > first_target) + (med["second"] > second_target)
                per_row = (med["first"] - med["bare"]) / max(changes, 1) * 1e6
                print(f"{kind:<11}{version:<6}{med['bare']:>9.2f}s{med['first']:>9.2f}s"
                      f"{first_target:>7.2f}s{med['second']:>7.2f}s{second_target:>7.2f}s"
                      f"{per_row:>6.0f} us{med['peak_mb']:>6.0f} MB")  # fmt: skip
    print("all targets met" if not missed else f"{missed} target(s) MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
