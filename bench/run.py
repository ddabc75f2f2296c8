"""The orderamt benchmark: `orderamt sync --all` at any size, against the per-order approach.

    python bench/run.py                          # SQLite portal, N = 1,000, 10,000 and 100,000
    python bench/run.py --db postgresql,mariadb  # the same on the database servers
    python bench/run.py --help                   # every option

For each N it builds a portal with N orders (most unchanged in Odoo, some changed, some still
0.00 in Odoo, a few missing from it), serves their Odoo side from orderamt's test double with
a simulated latency per call, and runs, each as its own process, the way a user does:

- `orderamt sync --all` (the backfill over the whole history);
- `orderamt sync --quiet` (the hourly run, as crontab.example has it) over the 1,000 orders
  created in the last 30 days, after Odoo has changed a few of them;
- the per-order reference (bench/reference.py) on a fresh copy of the same portal, for N up
  to --reference-max.

It checks that each run left the portal exactly as the decision rule says, then prints wall
time, Odoo calls, portal SQL statements, rows updated, peak memory and orders per second,
the ratio to the reference, and which targets are met. See bench/README.md.

Where things are: the orders and what a sync must leave (bench/data.py); the portal databases
and the Odoo double (bench/servers.py); one run as its own process, its figures and whether
it left the portal right (bench/runs.py); the machine, the targets and the printed table
(bench/report.py); the process's own side, counting SQL statements and peak memory
(bench/launch.py); the per-order reference (bench/reference.py). This file reads the options
and runs each size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

# bench/ is not a package: its modules import each other by name, whether this file runs as a
# script (then its directory is already on sys.path) or is loaded by path (tests/test_bench.py).
BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from data import Dataset, hourly_changes, load_portal, make_dataset, read_amounts, to_cents  # noqa: E402
from runs import (  # noqa: E402
    BACKFILL,
    HOURLY,
    REFERENCE,
    Result,
    judge,
    launch,
    median_of,
    profiled,
    run_env,
    warm_up,
)
from servers import (  # noqa: E402
    KINDS,
    PortalServer,
    answer_without_nagle_delay,
    start_odoo,
    warm_password_check,
)

from orderamt.config import DEFAULT_BATCH_SIZE  # noqa: E402
from orderamt.testing import OdooDouble  # noqa: E402
from report import Report, evaluate_targets, format_report, machine_info  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def backfill_and_hourly(
    server: PortalServer,
    dataset: Dataset,
    odoo: OdooDouble,
    batch: int | None,
    options: argparse.Namespace,
    workdir: Path,
    label: str,
) -> tuple[Result, Result]:
    """On a fresh portal: `sync --all`, then Odoo changes some recent orders, `sync --quiet`."""
    db, n, shown = server.kind, dataset.n, batch or DEFAULT_BATCH_SIZE
    by_odoo_id = {o.id: o.odoo_id for o in dataset.orders}
    with server.portal() as portal:
        log(f"{label}: loading the portal")
        load_portal(portal.engine, dataset)
        env = run_env(odoo, portal, workdir, batch, options)
        log(f"{label}: orderamt sync --all")
        m = launch(
            "orderamt", ["sync", "--all"], profiled(env, options, label, "all"), workdir, odoo
        )
        after = read_amounts(portal.engine)
        before, expected = dataset.initial(), dataset.expected()
        backfill = judge(
            db, n, BACKFILL, n, shown, m, before, after, expected, dataset.changed_ids()
        )
        changes = hourly_changes(dataset, after)
        saved = {i: odoo.orders[by_odoo_id[i]]["amount_total"] for i in changes}
        try:
            for order_id, amount in changes.items():
                odoo.orders[by_odoo_id[order_id]]["amount_total"] = amount
            hourly_expected = {**after, **{i: to_cents(a) for i, a in changes.items()}}
            log(f"{label}: orderamt {HOURLY}, {dataset.recent:,} recent orders")
            hourly_env = profiled(env, options, label, "hourly")
            m = launch("orderamt", ["sync", "--quiet"], hourly_env, workdir, odoo)
        finally:
            for order_id, amount in saved.items():
                odoo.orders[by_odoo_id[order_id]]["amount_total"] = amount
        hourly = judge(
            db,
            n,
            HOURLY,
            dataset.recent,
            shown,
            m,
            after,
            read_amounts(portal.engine),
            hourly_expected,
            set(changes),
        )
    return backfill, hourly


def bench_size(
    server: PortalServer, n: int, options: argparse.Namespace, workdir: Path, report: Report
) -> None:
    """Every run at one N on one database: orderamt at each batch size, then the reference."""
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    dataset = make_dataset(n, options.hourly_orders, now)
    db = server.kind
    log(
        f"{db} N={n:,}: {dataset.count('unchanged'):,} unchanged in Odoo, "
        f"{dataset.count('changed'):,} changed, {dataset.count('zero'):,} still 0.00, "
        f"{dataset.count('missing'):,} missing; {dataset.recent:,} created in the last 30 days"
    )
    backfills = []
    with start_odoo(options) as odoo:
        odoo.add_orders(dataset.odoo_rows())
        odoo.latency = options.latency_ms / 1000
        odoo.login_latency = options.login_ms / 1000
        warm_password_check(odoo.url, "odoo", "admin", "admin")
        for batch in options.batch_sizes:
            runs = []
            for attempt in range(options.repeat):
                label = f"{db} N={n:,} batch={batch or DEFAULT_BATCH_SIZE}"
                if options.repeat > 1:
                    label += f" ({attempt + 1}/{options.repeat})"
                runs.append(
                    backfill_and_hourly(server, dataset, odoo, batch, options, workdir, label)
                )
            backfill = median_of([b for b, _ in runs])
            backfills.append(backfill)
            report.results += [backfill, median_of([h for _, h in runs])]
        if options.skip_reference or n > options.reference_max:
            return
        with server.portal() as portal:
            log(f"{db} N={n:,}: loading the portal")
            load_portal(portal.engine, dataset)
            env = run_env(odoo, portal, workdir, None, options)
            log(f"{db} N={n:,}: the per-order reference (about {n * 3.5 / 1000:,.0f} s)")
            m = launch("reference", [], env, workdir, odoo)
            reference = judge(
                db,
                n,
                REFERENCE,
                n,
                None,
                m,
                dataset.initial(),
                read_amounts(portal.engine),
                dataset.expected(),
                dataset.changed_ids(),
            )
            report.results.append(reference)
    for backfill in backfills:
        backfill.ratio = reference.measure.wall_s / backfill.measure.wall_s


def _numbers(text_value: str) -> list[int]:
    try:
        numbers = [int(part.replace("_", "")) for part in text_value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text_value!r}") from None
    if not numbers or any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError(f"not a list of positive numbers: {text_value!r}")
    return numbers


def _dbs(text_value: str) -> list[str]:
    names = [part.strip() for part in text_value.split(",") if part.strip()]
    if names == ["all"]:
        return list(KINDS)
    unknown = [name for name in names if name not in KINDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"not one of {', '.join(KINDS)} or all: {text_value!r}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmark `orderamt sync --all` against the per-order approach.",
    )
    parser.add_argument(
        "--sizes",
        type=_numbers,
        default=[1_000, 10_000, 100_000],
        help="orders in the portal, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=2.0,
        help="simulated Odoo latency per call, in ms (default 2)",
    )
    parser.add_argument(
        "--login-ms",
        type=float,
        default=330.0,
        help="more server time where Odoo checks a password's hash (each `authenticate`, the "
        "first `execute_kw` of a password), in ms (default 330: what live 17.0, 18.0 and "
        "19.0 took, ../shared/odoo-facts.md)",
    )
    parser.add_argument(
        "--db",
        dest="dbs",
        type=_dbs,
        default=["sqlite"],
        help="sqlite, postgresql, mariadb, a comma-separated list, or all (the servers that "
        "answer); default sqlite",
    )
    parser.add_argument(
        "--db-url",
        help="the server's SQLAlchemy URL, for a single --db postgresql or mariadb (defaults: "
        "ORDERAMT_TEST_POSTGRES_URL / ORDERAMT_TEST_MYSQL_URL, else the test suite's servers); "
        "each portal is a new schema (PostgreSQL) or database (MariaDB), dropped after",
    )
    parser.add_argument(
        "--batch-size",
        dest="batch_sizes",
        type=_numbers,
        default=[None],
        help=f"ORDERAMT_BATCH_SIZE, or a comma-separated list to compare (default: orderamt's "
        f"own, {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run orderamt this many times at each size (fresh portal each time) and report "
        "the run with the median wall time (default 1)",
    )
    parser.add_argument(
        "--odoo-version",
        type=int,
        choices=(17, 18, 19),
        default=18,
        help="the Odoo the double plays: 18 (XML-RPC with a password, the default) or 19 "
        "(JSON-2 with an API key; the reference still uses XML-RPC)",
    )
    parser.add_argument(
        "--reference-max",
        type=int,
        default=10_000,
        help="run the per-order reference only up to this N (default 10000: it takes about "
        "3 ms per order at 2 ms latency, so about 5 minutes at 100,000)",
    )
    parser.add_argument(
        "--skip-reference", action="store_true", help="do not run the per-order reference"
    )
    parser.add_argument(
        "--hourly-orders",
        type=int,
        default=1_000,
        help="orders created in the last 30 days, which the hourly run reads (default 1000)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each orderamt process under pyinstrument and write its report into DIR "
        "(pip install pyinstrument; the profiler slows the runs down)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the SQLite portals and the log go (default: a new temporary directory)",
    )
    options = parser.parse_args(argv)
    if options.db_url and (len(options.dbs) != 1 or options.dbs == ["sqlite"]):
        parser.error("--db-url needs exactly one --db, postgresql or mariadb")
    return options


def main(argv: Sequence[str] | None = None) -> Report:
    """Run the benchmark as the options say; returns everything it measured."""
    options = parse_args(argv)
    with contextlib.ExitStack() as stack:
        stack.enter_context(answer_without_nagle_delay())
        if options.workdir is None:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="orderamt-bench-"))
            )
        else:
            workdir = options.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        servers = []
        skipped = []
        for kind in options.dbs:
            server = PortalServer(kind, options.db_url, workdir)
            problem = server.problem()
            if problem is None:
                servers.append(server)
            else:
                skipped.append(problem)
                log(f"skipped: {problem}")
        report = Report(options, machine_info(servers), skipped=skipped)
        warm_up()
        for server in servers:
            for n in options.sizes:
                bench_size(server, n, options, workdir, report)
        evaluate_targets(report)
    if options.json:
        options.json.write_text(json.dumps(report.as_json(), indent=1))
    return report


if __name__ == "__main__":
    bench_report = main()
    print(format_report(bench_report))
    if not bench_report.results:
        sys.exit(2)  # no database to run on: each reason is under "Skipped"
    sys.exit(0 if bench_report.ok else 1)
