"""Run orderamt (or the per-order reference) in this process, counting its SQL statements.

    python bench/launch.py orderamt sync --all    # exactly what the `orderamt` script runs
    python bench/launch.py reference              # bench/reference.py

The count is taken inside the process that talks to the database: a SQLAlchemy
`before_cursor_execute` listener on every Engine sees each statement handed to the
database driver (an executemany counts once), including the schema reflection queries.
COMMIT, ROLLBACK and the driver's implicit BEGIN are not statements the code sends; they
are counted apart, as transactions committed. When the process exits, however it exits,
the counts are written as JSON to the file named by ORDERAMT_BENCH_STATS, with the
process's peak memory: VmHWM from /proc/self/status, the high-water mark of this program's
own resident memory. (The parent's os.wait4 figure is no use for that: Linux folds the
parent's RSS at the time of the fork into the child's ru_maxrss.)

ORDERAMT_BENCH_PROFILE=PATH also runs the target under pyinstrument and writes its text
report to PATH (pip install pyinstrument).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNTS: dict[str, Any] = {"statements": 0, "commits": 0}


def _statement(*_: Any) -> None:
    COUNTS["statements"] += 1


def _commit(*_: Any) -> None:
    COUNTS["commits"] += 1


def _peak_rss_kib() -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def _write() -> None:
    path = os.environ.get("ORDERAMT_BENCH_STATS")
    if path:
        COUNTS["peak_rss_kib"] = _peak_rss_kib()
        Path(path).write_text(json.dumps(COUNTS), encoding="utf-8")


def _profile(path: str) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)

    def write() -> None:
        profiler.stop()
        Path(path).write_text(profiler.output_text(unicode=False, color=False), encoding="utf-8")

    atexit.register(write)
    profiler.start()


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("orderamt", "reference"):
        sys.exit("usage: launch.py orderamt|reference [ARGS...]")
    target = sys.argv[1]
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", _commit)
    atexit.register(_write)
    if os.environ.get("ORDERAMT_BENCH_PROFILE"):
        _profile(os.environ["ORDERAMT_BENCH_PROFILE"])
    sys.argv = [target, *sys.argv[2:]]
    if target == "orderamt":
        from orderamt.cli import main as orderamt_main

        orderamt_main()
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import reference

        reference.main()


if __name__ == "__main__":
    main()
