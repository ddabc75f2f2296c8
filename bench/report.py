"""What the benchmark tells: the machine, the results table, the targets, the JSON.

`Report` holds everything one benchmark run measured. `machine_info` describes where it ran
(CPU, memory, Python, which orderamt and its commit, each database's version).
`evaluate_targets` checks the results against the targets of issue 7 (`TARGET_*`: 100,000
orders in 15 s, ceil(N / batch) + 2 Odoo calls, 30 times the per-order reference at 10,000,
flat peak RSS under 150 MB, the hourly run under 2 s), each met, missed or not measured.
`format_report` prints all of it as Markdown, and `Report.as_json` gives it for --json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runs import BACKFILL, HOURLY, REFERENCE, Result
from servers import PortalServer

TARGET_100K_SECONDS = 15.0
TARGET_RATIO_AT_10K = 30.0
TARGET_RSS_MB = 150.0
TARGET_HOURLY_SECONDS = 2.0


@dataclass
class Report:
    """Everything one benchmark run measured."""

    options: argparse.Namespace
    machine: dict[str, str]
    results: list[Result] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    targets: list[tuple[str, bool | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def as_json(self) -> dict[str, Any]:
        """Every figure, as --json writes it."""
        return {
            "machine": self.machine,
            "latency_ms": self.options.latency_ms,
            "odoo_version": self.options.odoo_version,
            "repeat": self.options.repeat,
            "results": [r.as_json() for r in self.results],
            "targets": [
                {"target": name, "met": met, "detail": detail} for name, met, detail in self.targets
            ],
            "skipped": self.skipped,
        }


def _proc_field(path: str, key: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return None


def _orderamt_source() -> str:
    """Which orderamt was measured: its version, where it was imported from, its commit."""
    import orderamt

    where = Path(orderamt.__file__).resolve().parent.parent
    text = f"{orderamt.__version__} from {where}"
    git = ["git", "-C", str(where)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
        text += f", commit {commit}" + (" with uncommitted changes" if dirty else "")
    return text


def machine_info(servers: Sequence[PortalServer]) -> dict[str, str]:
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    mhz = _proc_field("/proc/cpuinfo", "cpu MHz")
    memory = _proc_field("/proc/meminfo", "MemTotal")
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu + (f", {float(mhz):.0f} MHz" if mhz else ""),
        "cores": str(os.cpu_count()),
        "memory": f"{int(memory.split()[0]) / 1024**2:.1f} GiB" if memory else "unknown",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "orderamt": _orderamt_source(),
    }
    for server in servers:
        info[server.kind] = server.version()
    return info


def evaluate_targets(report: Report) -> None:
    """Each target of issue 7, met (True), missed (False) or not measured by this run (None)."""
    runs = [r for r in report.results if r.run != REFERENCE]
    backfills = [r for r in runs if r.run == BACKFILL]
    targets = report.targets

    at_100k = [r for r in backfills if r.n == 100_000]
    targets.append(
        (
            f"100,000 orders in at most {TARGET_100K_SECONDS:g} s",
            all(r.measure.wall_s <= TARGET_100K_SECONDS for r in at_100k) if at_100k else None,
            ", ".join(f"{r.db} batch {r.batch}: {r.measure.wall_s:.2f} s" for r in at_100k),
        )
    )
    over = [r for r in runs if r.call_limit is not None and r.odoo_calls > r.call_limit]
    targets.append(
        (
            "at most ceil(N / batch size) + 2 Odoo calls",
            not over if runs else None,
            "; ".join(f"{r.db} N={r.n} {r.run}: {r.odoo_calls} > {r.call_limit}" for r in over)
            or "every run",
        )
    )
    ratios = [r for r in backfills if r.n == 10_000 and r.ratio is not None]
    targets.append(
        (
            f"at least {TARGET_RATIO_AT_10K:g} times faster than per-order at 10,000 orders",
            all(r.ratio >= TARGET_RATIO_AT_10K for r in ratios if r.ratio) if ratios else None,
            ", ".join(f"{r.db} batch {r.batch}: {r.ratio:.0f}x" for r in ratios),
        )
    )
    memory_ok: bool | None = None
    details = []
    for db in dict.fromkeys(r.db for r in backfills):
        for batch in dict.fromkeys(r.batch for r in backfills):
            rows = sorted(
                (r for r in backfills if r.db == db and r.batch == batch), key=lambda r: r.n
            )
            big = [r for r in rows if r.n == 100_000]
            if not big:
                continue
            growth = big[0].measure.peak_rss_mb / rows[0].measure.peak_rss_mb
            met = big[0].measure.peak_rss_mb < TARGET_RSS_MB and (len(rows) < 2 or growth < 1.5)
            memory_ok = met if memory_ok is None else memory_ok and met
            sizes = ", ".join(f"{r.n:,}: {r.measure.peak_rss_mb:.0f} MB" for r in rows)
            details.append(f"{db} batch {batch}: {sizes}")
    targets.append(
        (
            f"peak RSS under {TARGET_RSS_MB:g} MB at 100,000, not growing with N",
            memory_ok,
            "; ".join(details),
        )
    )
    hourly = [r for r in runs if r.run == HOURLY and r.orders == 1000]
    targets.append(
        (
            f"hourly run over 1,000 recent orders under {TARGET_HOURLY_SECONDS:g} s",
            all(r.measure.wall_s < TARGET_HOURLY_SECONDS for r in hourly) if hourly else None,
            ", ".join(
                f"{r.db} N={r.n:,} batch {r.batch}: {r.measure.wall_s:.2f} s" for r in hourly
            ),
        )
    )


def times(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def format_report(report: Report) -> str:
    o = report.options
    lines = [
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in report.machine.items()),
        "",
        f"## Results (Odoo {o.odoo_version} double, {o.latency_ms:g} ms latency per call"
        + (f", median of {o.repeat} runs of orderamt" if o.repeat > 1 else "")
        + ")",
        "",
        "| database | orders in portal | run | batch | wall time | orders/s | Odoo calls "
        "| SQL statements | rows updated | peak RSS | per-order / this |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report.results:
        m = r.measure
        lines.append(
            f"| {r.db} | {r.n:,} | {r.run}"
            + ("" if r.run == BACKFILL or r.orders == r.n else f" ({r.orders:,} orders)")
            + f" | {r.batch or '-'} | {m.wall_s:.2f} s | {r.orders_per_s:,.0f} "
            f"| {r.odoo_calls:,} | {m.statements:,} | {r.rows_updated:,} "
            f"| {m.peak_rss_mb:.0f} MB | {times(r.ratio)} |"
        )
    lines += ["", "## Targets", ""]
    if report.skipped:
        lines += [f"Skipped: {reason}" for reason in report.skipped] + [""]
    note = (
        ""
        if o.latency_ms == 2 and "sqlite" in o.dbs
        else " (the targets are set for SQLite at 2 ms; this run differs)"
    )
    lines.append(f"Checked against this run's figures{note}:")
    lines.append("")
    for name, met, detail in report.targets:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[met]
        lines.append(f"- {verdict}: {name}" + (f" ({detail})" if detail else ""))
    wrong = [r for r in report.results if not r.ok]
    if wrong:
        lines += ["", "## Wrong results", ""]
        lines += [f"- {r.db} N={r.n} {r.run}: {'; '.join(r.problems)}" for r in wrong]
    return "\n".join(lines)
