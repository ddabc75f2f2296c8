"""The commands a person or a monitor runs and waits for: `orderamt --help` and `orderamt status`
(issue 24's 0.15 s and 0.3 s), on a portal whose journal holds runs, per database engine;
and cron's quiet poll, `orderamt sync --changed --quiet`, with nothing new in Odoo.

    python bench/startup.py                          # SQLite, 15 runs of each command
    python bench/startup.py --db all --repeat 21     # every engine that answers here
    python bench/startup.py --python OTHER/bin/python  # another install, beside this one
    python bench/startup.py --db all --repeat 1 --callgrind --python OTHER/bin/python
                                                     # instructions instead of seconds

Each command runs as its own process, as a terminal or a monitoring check starts it, with
its interpreter's start and exit; wall time from start to exit, the median of `--repeat`.
With `--python`, each run of the other install goes right after the same run of this one,
so both see the same minute. The bench first makes a portal of 1,000 orders and runs one
`orderamt sync` against the Odoo double, so that `status` reads a journal with a run in it.

    python bench/startup.py --db all --journal-runs 200000   # a journal years old

`--journal-runs N` adds N finished runs to the journal (a busy listener's webhook batches
over a year or two) before the timed rounds, and writes the metrics file as the shipped
units do (ORDERAMT_METRICS_FILE), which reads the newest runs after every run. The journal
is made by the install timed first: time two installs that make it differently (an index
added) each on its own, not with --python.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, insert

from orderamt.portal.journal.schema import JournalSchema

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from data import load_portal, make_dataset  # noqa: E402
from live_support import child_env, timed, wait_for_quiet  # noqa: E402
from runs import run_env  # noqa: E402
from servers import KINDS, PortalServer, start_odoo  # noqa: E402

TARGETS = {"--help": 0.15, "status": 0.3, "sync --changed --quiet": 0.5}
"""Issue 24: the longest each command may take, interpreter start included (the quiet poll's
0.5 s is for a portal of 100,000 orders, which bench/live.py times; here it has 1,000, its
checkpoint set and nothing changed since, for comparing two installs by turns)."""

ORDERS = 1_000


def orderamt_script(python: str) -> str:
    """The `orderamt` console script beside `python`, as a user's shell finds it."""
    script = Path(python).parent / "orderamt"
    if not script.exists():
        raise SystemExit(f"no orderamt script beside {python}")
    return str(script)


def wall(command: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """The wall time of a command that must succeed."""
    took, code, _, err = timed(command, env, cwd)
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed ({code}): {err[-500:]}")
    return took


def instructions(command: Sequence[str], env: dict[str, str], cwd: Path) -> int:
    """The instructions a command that must succeed executes, counted by valgrind's callgrind:
    the same for the same code whatever else the machine does (a fresh hash seed moves it
    by about 0.4 %), where wall times on a shared machine move by 10 % and more."""
    with tempfile.TemporaryDirectory(prefix="orderamt-callgrind-") as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *command],
            env=env, cwd=cwd, capture_output=True, text=True, check=False,
        )  # fmt: skip
    counted = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or counted is None:
        raise SystemExit(f"callgrind {' '.join(command)} failed ({done.returncode}): "
                         f"{done.stderr[-500:]}")  # fmt: skip
    return int(counted.group(1))


def add_runs(engine: Engine, count: int, now: datetime) -> None:
    """`count` finished webhook batches, one every few minutes back from `now`, each the
    sync of one order, as a listener journals them; older than the bench's own runs."""
    runs = JournalSchema().runs
    rows = [
        {"kind": "sync", "mode": "webhook", "started_at": when, "finished_at": when,
         "found": 1, "updated": 1, "unchanged": 0, "skipped": 0, "exit_code": 0,
         "host": "bench", "pid": 1}
        for i in range(count, 0, -1)
        for when in [now - timedelta(days=1, minutes=3 * i)]
    ]  # fmt: skip
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            conn.execute(insert(runs), rows[start : start + 10_000])


def measure(
    kind: str,
    installs: dict[str, str],
    repeat: int,
    workdir: Path,
    quiet_wait: float,
    callgrind: bool = False,
    journal_runs: int = 0,
) -> dict[str, dict[str, list[float]]]:
    """Each command's wall times per install, on a fresh portal of `kind`; with
    `callgrind`, instead, the instructions (in millions) of `repeat` runs."""
    server = PortalServer(kind, None, workdir)
    why = server.problem()
    if why:
        print(f"{kind}: skipped ({why})", file=sys.stderr)
        return {}
    options = argparse.Namespace(odoo_version=18, batch_size=None)
    dataset = make_dataset(ORDERS, ORDERS, datetime.now(timezone.utc))
    walls: dict[str, dict[str, list[float]]] = {c: {i: [] for i in installs} for c in TARGETS}
    with server.portal() as portal, start_odoo(options) as odoo:
        load_portal(portal.engine, dataset)
        odoo.add_orders(dataset.odoo_rows())
        # Bytecode cached in the work directory: a working tree's sources, edited since their
        # .pyc (or PYTHONDONTWRITEBYTECODE in the shell), would be compiled at every start.
        env = child_env(run_env(odoo, portal, workdir, None, options), workdir)
        if journal_runs:
            env["ORDERAMT_METRICS_FILE"] = str(workdir / f"{kind}.prom")
        for script in installs.values():  # a journal with a run and a checkpoint; bytecode warm
            for first in (["sync", "--quiet"], ["sync", "--changed", "--quiet"]):
                subprocess.run([script, *first], env=env, cwd=workdir, check=False,
                               capture_output=True)  # fmt: skip
            if journal_runs and script == next(iter(installs.values())):
                add_runs(portal.engine, journal_runs, datetime.now(timezone.utc))
            wall([script, "status"], env, workdir)
        for round_ in range(repeat):
            wait_for_quiet(quiet_wait)
            # Each install goes first every other round: the first command after the quiet
            # wait ran about 7 ms slower, which made two copies of one tree differ.
            order = list(installs.items())[:: -1 if round_ % 2 else 1]
            for command in TARGETS:
                for name, script in order:
                    run = [script, *command.split()]
                    if callgrind:
                        walls[command][name].append(instructions(run, env, workdir) / 1e6)
                    else:
                        walls[command][name].append(wall(run, env, workdir))
    return walls


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/startup.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--db", default="sqlite", help="sqlite, postgresql, mariadb, a list, or all"
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--python", help="another install's interpreter, timed beside this one")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="seconds at most to wait, before each round, for the machine to be quiet (default 5)",
    )
    parser.add_argument(
        "--journal-runs",
        type=int,
        default=0,
        metavar="N",
        help="add N finished runs to the journal first, and write the metrics file (default 0)",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count each command's instructions under valgrind's callgrind instead of timing "
        "it (millions; repeatable on a busy machine, about 50 times slower; --repeat 3 is "
        "plenty): for comparing two installs, not for the targets",
    )
    options = parser.parse_args(argv)
    kinds = list(KINDS) if options.db == "all" else options.db.split(",")
    installs = {"this": orderamt_script(sys.executable)}
    if options.python:
        installs["other"] = orderamt_script(options.python)
    missed = 0
    unit = "M instr" if options.callgrind else "s"
    print(f"engine      command                 install  median ({unit}), min, max"
          + ("" if options.callgrind else ", target"))  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="orderamt-startup-") as tmp:
        for kind in kinds:
            for command, by_install in measure(
                kind, installs, options.repeat, Path(tmp), options.quiet_wait,
                options.callgrind, options.journal_runs,
            ).items():  # fmt: skip
                for name, walls in by_install.items():
                    median = statistics.median(walls)
                    figures = f"{kind:<11} {command:<23} {name:<8}"
                    if options.callgrind:
                        print(f"{figures} {median:8.1f} {min(walls):8.1f} {max(walls):8.1f}")
                        continue
                    verdict = "met" if median <= TARGETS[command] else "MISSED"
                    missed += name == "this" and verdict == "MISSED"
                    print(f"{figures} {median:6.3f} s {min(walls):6.3f} s {max(walls):6.3f} s "
                          f"{TARGETS[command]} s {verdict}")  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
