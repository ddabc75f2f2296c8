"""The benchmark (bench/run.py) still runs and measures what it says, at a tiny size.

No timing is asserted: only what a user of the benchmark would notice if it broke.
"""

from __future__ import annotations

import importlib.util
import math
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from orderamt.testing import OdooDouble
from tests.conftest import API_KEY

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"
N = 50
BATCH = 20
RECENT = 30
TINY = ["--sizes", str(N), "--latency-ms", "0", "--login-ms", "0", "--batch-size", str(BATCH)]
TINY += ["--hourly-orders", str(RECENT)]


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """bench/run.py, loaded as a module (bench/ is not a package).

    run.py puts bench/ on sys.path and imports its sibling modules (data, runs, ...) by name;
    both are undone afterwards, so that no other test imports them by accident.
    """
    spec = importlib.util.spec_from_file_location("orderamt_bench_run", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    added_to_path = str(BENCH.parent) not in sys.path
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]
        if added_to_path:
            sys.path.remove(str(BENCH.parent))
        for name, loaded in list(sys.modules.items()):
            if Path(getattr(loaded, "__file__", None) or "/").parent == BENCH.parent:
                del sys.modules[name]


@pytest.fixture(scope="module")
def report(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One tiny benchmark run on SQLite, shared by the tests that read its figures."""
    workdir = tmp_path_factory.mktemp("bench")
    return bench.main([*TINY, "--db", "sqlite", "--workdir", str(workdir)])


def _run(report: Any, name: str) -> Any:
    (result,) = [r for r in report.results if r.run == name]
    return result


def _changed_ids(bench: ModuleType) -> set[int]:
    from datetime import datetime

    dataset = bench.make_dataset(N, RECENT, datetime(2026, 1, 1))
    return {order.id for order in dataset.orders if order.kind == "changed"}


def test_backfill_updates_exactly_the_changed_orders(bench: ModuleType, report: Any) -> None:
    """`sync --all` completes and updates in the portal exactly the orders Odoo changed."""
    backfill = _run(report, bench.BACKFILL)
    assert backfill.problems == []
    assert backfill.measure.exit_code in (0, 1), backfill.measure.stderr
    assert backfill.updated_ids == _changed_ids(bench)
    assert backfill.rows_updated == len(_changed_ids(bench)) > 0


def test_backfill_asks_odoo_once_per_batch(bench: ModuleType, report: Any) -> None:
    """`sync --all` makes one search_read per batch, plus at most a version probe and a login."""
    calls = _run(report, bench.BACKFILL).measure.odoo_calls
    assert calls["search_read"] == math.ceil(N / BATCH)
    others = {method: count for method, count in calls.items() if method != "search_read"}
    assert sum(others.values()) <= 2
    assert all(count == 1 for count in others.values())


def test_reference_updates_the_same_rows_one_call_per_order(bench: ModuleType, report: Any) -> None:
    """The per-order reference asks Odoo once per order and updates the same rows as orderamt."""
    reference = _run(report, bench.REFERENCE)
    backfill = _run(report, bench.BACKFILL)
    assert reference.problems == []
    assert reference.updated_ids == backfill.updated_ids
    assert reference.measure.odoo_calls["search_read"] == N
    # One SELECT of the orders, then one UPDATE per changed order: the counter counts them.
    assert reference.measure.statements == 1 + reference.rows_updated
    assert backfill.ratio is not None and backfill.ratio > 0


def test_hourly_run_updates_what_odoo_changed_since(bench: ModuleType, report: Any) -> None:
    """The hourly `sync` updates the recent orders Odoo changed since the backfill."""
    hourly = _run(report, bench.HOURLY)
    assert hourly.problems == []
    assert hourly.orders == RECENT
    assert hourly.rows_updated == len(hourly.expected_ids) > 0
    assert hourly.measure.odoo_calls["search_read"] == math.ceil(RECENT / BATCH)


def test_report_shows_every_figure(bench: ModuleType, report: Any) -> None:
    """The printed report has the machine, one table row per run, and the targets."""
    text = bench.format_report(report)
    assert report.ok
    assert "- cores: " in text and "- python: " in text
    assert "| SQL statements | rows updated | peak RSS |" in text
    assert text.count("| sqlite | 50 |") == 3
    assert "Odoo calls" in text and "## Targets" in text
    for result in report.results:
        assert result.measure.statements > 0
        assert result.measure.peak_rss_mb > 0


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_benchmark_runs_on_database_servers(bench: ModuleType, kind: str, tmp_path: Path) -> None:
    """With --db postgresql or mariadb the same runs leave the same rows updated."""
    problem = bench.PortalServer(kind, None, tmp_path).problem()
    if problem is not None:
        if os.environ.get("ORDERAMT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"ORDERAMT_REQUIRE_SERVICES=1 but {problem}")
        pytest.skip(problem)
    result = bench.main([*TINY, "--db", kind, "--workdir", str(tmp_path)])
    assert result.ok, [r.problems for r in result.results]
    assert [r.db for r in result.results] == [kind] * 3
    assert _run(result, bench.BACKFILL).updated_ids == _changed_ids(bench)
    assert _run(result, bench.REFERENCE).updated_ids == _changed_ids(bench)


def test_fields_bench_checks_the_mapped_columns(tmp_path: Path) -> None:
    """bench/fields.py at 50 orders: it exits 0 only if each run left every amount, mapped
    column and journal entry as expected (5 amounts; 5 amounts; 5 amounts and 5 statuses),
    and gives a row per Odoo version."""
    command = [sys.executable, str(BENCH.parent / "fields.py"), "--sizes", str(N), "--repeat", "1"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| sqlite |")]
    assert [row.split(" | ")[1:3] for row in rows] == [["18", "50"], ["19", "50"]]


def test_lookup_bench_finds_each_order_with_and_without_the_index(tmp_path: Path) -> None:
    """bench/lookup.py at 50 orders: it exits 0 only if every order it looked up by Odoo id
    was found, before and after the index `orderamt check` then names; a row per size."""
    script = str(BENCH.parent / "lookup.py")
    done = subprocess.run(
        [sys.executable, script, "--orders", f"{N},{2 * N}", "--repeat", "3"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line.split()[:2] for line in done.stdout.splitlines() if line.startswith("sqlite ")]
    assert rows == [["sqlite", "50"], ["sqlite", "100"]]


def test_backfill_bench_checks_every_row_against_the_double_and_a_given_odoo(
    tmp_path: Path,
) -> None:
    """bench/backfill.py at 50 orders: it exits 0 only if each backfill left every portal
    row at Odoo's amount and journaled each change. Pointed with --odoo-url at an Odoo of
    its own (here the double, with ids that are not 1..N, amounts still 0.00 and a currency
    without cents), it takes that Odoo's orders and what they say."""
    script = str(BENCH.parent / "backfill.py")
    done = subprocess.run(
        [sys.executable, script, "--orders", str(N), "--db", "sqlite"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line.split()[:2] for line in done.stdout.splitlines() if line.startswith("sqlite ")]
    assert rows == [["sqlite", "18"], ["sqlite", "19"]]

    with OdooDouble(version=19, api_key=API_KEY) as odoo:
        odoo.add_orders(
            {"id": 10 + 7 * i, "amount_total": 0.0 if i % 10 == 0 else 3.337 * i,
             "state": "sale", "currency": "JPY" if i % 3 == 0 else "EUR"}
            for i in range(1, 61)
        )  # fmt: skip
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ODOO_DB": "odoo",
               "ODOO_USERNAME": "admin", "ODOO_PASSWORD": API_KEY}  # fmt: skip
        done = subprocess.run(
            [sys.executable, script, "--odoo-url", odoo.url, "--orders", str(N)],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"50 orders of {odoo.url} (Odoo 19), 45 to change")
        assert [line.split()[:2] for line in done.stdout.splitlines()
                if line.startswith("sqlite ")] == [["sqlite", "19"]]  # fmt: skip
        del env["ODOO_PASSWORD"]
        refused = subprocess.run(
            [sys.executable, script, "--odoo-url", odoo.url], cwd=tmp_path, env=env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert refused.returncode == 1
        assert refused.stderr.strip() == "--odoo-url needs ODOO_PASSWORD in the environment"


def test_live_bench_times_quiet_polls_of_a_given_odoo_and_only_reads_it(tmp_path: Path) -> None:
    """bench/live.py --only poll --odoo-url: a portal of that Odoo's first orders (here the
    double's, ids not 1..N, some still at 0.00, last written a year and more ago: an Odoo
    left alone), a first poll that sets the checkpoint, then the timed quiet polls, none of
    which changes the portal; nothing is written to Odoo."""
    script = str(BENCH.parent / "live.py")
    with OdooDouble(version=19, api_key=API_KEY) as odoo:
        odoo.add_orders(
            {"id": 10 + 7 * i, "amount_total": 0.0 if i % 10 == 0 else 3.337 * i,
             "state": "sale", "write_date": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 08:00:00"}
            for i in range(1, 61)
        )  # fmt: skip
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ODOO_DB": "odoo",
               "ODOO_USERNAME": "admin", "ODOO_PASSWORD": API_KEY}  # fmt: skip
        done = subprocess.run(
            [sys.executable, script, "--only", "poll", "--odoo-url", odoo.url,
             "--poll-orders", str(N), "--repeat", "2", "--quiet-wait", "0",
             "--workdir", str(tmp_path)],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr  # 1: "## Wrong results"
        assert f"A real Odoo 19 at {odoo.url}, at its own speed." in done.stdout
        assert "50 orders in the portal\n\n| runs |" in done.stdout
        assert "| 2 | " in done.stdout and "| not counted (real Odoo) |" in done.stdout
        assert set(odoo.calls) <= {"version", "context_get", "search_read"}, odoo.calls
        refused = subprocess.run(
            [sys.executable, script, "--only", "poll,flood", "--odoo-url", odoo.url],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert refused.returncode == 2
        assert "--odoo-url is for --only poll,latency" in refused.stderr


def test_live_bench_times_a_given_odoo_s_line_changes_and_leaves_it_as_it_was(
    tmp_path: Path,
) -> None:
    """bench/live.py --only latency --odoo-url: a rule of the bench's own made in that
    Odoo, each sample a line's new price written as the form saves it and seen in the
    portal row by the webhook, and at the end every price put back and the rule deleted; a
    locked order is never picked. Where no webhook arrives (Odoo posting to an address
    nobody serves), the run stops after two changes with one line saying why, and still
    leaves Odoo as it was."""
    script = str(BENCH.parent / "live.py")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with OdooDouble(version=19, api_key=API_KEY) as odoo:
        odoo.add_orders(
            {"id": 10 + i, "amount_total": 5.25 * i, "state": "sale", "locked": i == 1,
             "write_date": "2026-11-20 08:00:00"}
            for i in range(1, 21)
        )  # fmt: skip
        before = {i: o["amount_total"] for i, o in odoo.orders.items()}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ODOO_DB": "odoo",
               "ODOO_USERNAME": "admin", "ODOO_PASSWORD": API_KEY}  # fmt: skip
        command = [sys.executable, script, "--only", "latency", "--odoo-url", odoo.url,
                   "--live-orders", "20", "--gap", "0", "--quiet-wait", "0",
                   "--listen", f"127.0.0.1:{port}", "--workdir", str(tmp_path)]  # fmt: skip
        done = subprocess.run([*command, "--samples", "19"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        assert f"A real Odoo 19 at {odoo.url}, at its own speed." in done.stdout
        assert "`listen` over 19 orders\n\n19 samples: median" in done.stdout
        assert "not arrived 0." in done.stdout
        assert odoo.calls["write"] == 2 * 19
        assert {i: o["amount_total"] for i, o in odoo.orders.items()} == before
        assert odoo.automations == {} and odoo.server_actions == {}

        nobody = [*command, "--samples", "5", "--sample-timeout", "1",
                  "--hook-url", "http://127.0.0.1:9"]  # fmt: skip
        lost = subprocess.run(nobody, cwd=tmp_path, env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        assert lost.returncode == 1
        assert lost.stderr.strip().splitlines()[-1] == (
            f"no webhook of Odoo 19 at {odoo.url} reached the listener at 127.0.0.1:{port} "
            "(2 changes waited for): Odoo posts from its own host; give --hook-url an address "
            "it reaches, and --listen one the listener may serve"
        )
        assert {i: o["amount_total"] for i, o in odoo.orders.items()} == before
        assert odoo.automations == {}


def test_startup_bench_times_help_status_and_the_quiet_poll() -> None:
    """bench/startup.py runs each command as its own process and judges it by its target."""
    startup = BENCH.parent / "startup.py"
    done = subprocess.run(
        [
            sys.executable,
            str(startup),
            "--repeat",
            "1",
            "--quiet-wait",
            "0",
            "--journal-runs",
            "100",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()[1:]
    assert [line.split()[:-9] for line in lines] == [
        ["sqlite", "--help", "this"],
        ["sqlite", "status", "this"],
        ["sqlite", "sync", "--changed", "--quiet", "this"],
    ]
    assert all(line.split()[-1] in ("met", "MISSED") for line in lines)
