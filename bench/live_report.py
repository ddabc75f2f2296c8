"""What bench/live.py tells: each part's figures, the targets, the printed report, the JSON.

`QuietPoll`, `Latency` and `Flood` hold what the three parts measured (see live.py), with the
verdicts they need (`Flood.duplicates`, `Flood.flat`); `evaluate` checks them against the
targets (`TARGET_*`), `format_report` prints everything as Markdown, `LiveReport.as_json` gives
it for --json.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TARGET_POLL_S = 0.5
TARGET_MEDIAN_S = {17: 1.2, 18: 1.2, 19: 0.3}
"""From Odoo's save to the portal row committed (issue 24): 19 posts its webhook after its
commit; 17 and 18 before it, so the listener waits for that commit."""
TARGET_P95_S = {17: 1.5, 18: 1.5, 19: 0.5}
CLEAN_CORES = 0.2
"""A timed run counts as clean when other processes kept fewer cores than this busy."""
FLAT_RSS_GROWTH_MB = 10.0
"""The flood's end RSS may exceed its start by this much and still count as flat."""


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(share * len(ranked)) - 1)]


@dataclass
class QuietPoll:
    orders: int
    walls: list[float]
    odoo_calls: dict[str, int]
    statements: int
    commits: int
    peak_rss_mb: float
    launch_wall: float
    first_poll_wall: float
    interpreter_s: float
    version_s: float
    sqlalchemy_s: float
    """`python -c "import sqlalchemy"`, interpreter start included: the machine's import speed."""
    double_search_ms: float | None
    """None against a real Odoo."""
    odoo_server: str | None
    """The real Odoo polled ("Odoo 19 at URL"); None for the double."""
    runs_added: int
    foreign_cores: list[float]
    """Cores other processes kept busy during each timed run."""
    waited_s: list[float]
    """Seconds waited before each timed run for the machine to be quiet."""
    problems: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def clean_walls(self) -> list[float]:
        """The runs during which other processes kept less than CLEAN_CORES busy."""
        return [w for w, f in zip(self.walls, self.foreign_cores, strict=True) if f < CLEAN_CORES]


@dataclass
class Latency:
    orders: int
    samples: list[float]
    answer_ms: list[float]
    statuses: dict[int, int]
    missed: int
    rss_kib: list[tuple[float, int]]
    exit_code: int | None
    stop_s: float | None
    modes: dict[str, int]
    foreign_cores: float
    problems: list[str] = field(default_factory=list)
    odoo_version: int = 18
    odoo_server: str | None = None
    """The real Odoo changed ("Odoo 19 at URL"); None for the double."""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.inf

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95) if self.samples else math.inf


@dataclass
class Flood:
    orders: int
    rate_asked: float
    duration_asked: float
    senders: int
    sent: int
    send_seconds: float
    statuses: dict[int, int]
    errors: dict[str, int]
    answer_ms_p50: float
    answer_ms_p99: float
    answer_ms_max: float
    orders_changed: int
    changes: int
    settle_s: float | None
    lost: int
    journal_entries: int
    entries_by_mode: dict[str, int]
    runs_by_mode: dict[str, int]
    dup_run_order: int
    """(run, order) pairs journaled more than once."""
    dup_run_order_unexplained: int
    """Of those, the ones no change in Odoo explains: any but a catch-up poll's (a poll reads
    page after page while Odoo writes, so an order written again meanwhile comes back in a
    later page, with its new amount), or with an amount twice."""
    dup_order_amount: int
    unexplained: int
    rss_kib: list[tuple[float, int]]
    rss_start_kib: int
    rss_peak_kib: int
    rss_end_kib: int
    map_start: dict[str, int]
    map_end: dict[str, int]
    """Resident KiB by kind of mapping (heap, anon, stack, files) at the flood's start and
    end: where the memory went."""
    cpu_s: float | None
    foreign_cores: float
    exit_code: int | None
    stop_s: float | None
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def duplicates(self) -> bool:
        return bool(self.dup_run_order_unexplained or self.dup_order_amount or self.unexplained)

    @property
    def flat(self) -> bool:
        return (self.rss_end_kib - self.rss_start_kib) / 1024 <= FLAT_RSS_GROWTH_MB


@dataclass
class LiveReport:
    options: argparse.Namespace
    machine: dict[str, str]
    poll: QuietPoll | None = None
    latency: Latency | None = None
    flood: Flood | None = None
    targets: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        parts = [("quiet poll", self.poll), ("latency", self.latency), ("flood", self.flood)]
        return [f"{name}: {p}" for name, part in parts if part for p in part.problems]

    def as_json(self) -> dict[str, Any]:
        o = self.options
        return {
            "machine": self.machine,
            # The double's settings say nothing of a real Odoo (its version is the poll's).
            "options": {
                k: str(v) if isinstance(v, Path) else v
                for k, v in vars(o).items()
                if not (o.odoo_url and k in ("odoo_version", "latency_ms", "login_ms"))
            },
            "quiet_poll": asdict(self.poll) if self.poll else None,
            "latency": asdict(self.latency) if self.latency else None,
            "flood": asdict(self.flood) if self.flood else None,
            "targets": [{"target": t, "met": m, "detail": d} for t, m, d in self.targets],
            "problems": self.problems,
        }


def evaluate(report: LiveReport) -> None:
    if report.poll is not None:
        p = report.poll
        report.targets.append(
            (
                f"quiet `sync --changed` over {p.orders:,} orders under {TARGET_POLL_S:g} s",
                p.median < TARGET_POLL_S,
                f"median {p.median:.3f} s",
            )
        )
    if report.latency is not None:
        lat = report.latency
        version = lat.odoo_version
        known = min(max(version, 17), 19)  # a later Odoo: 19's targets; an earlier: 17's
        median, p95 = TARGET_MEDIAN_S[known], TARGET_P95_S[known]
        report.targets.append(
            (
                f"Odoo {version}: save to portal row, median under {median:g} s",
                lat.median < median,
                f"{lat.median:.3f} s",
            )
        )
        report.targets.append(
            (
                f"Odoo {version}: save to portal row, 95th percentile under {p95:g} s",
                lat.p95 < p95,
                f"{lat.p95:.3f} s",
            )
        )
    if report.flood is not None:
        f = report.flood
        report.targets.append(("flood: no change lost", f.lost == 0, f"{f.lost} lost"))
        report.targets.append(
            (
                "flood: no duplicate journal entry",
                not f.duplicates,
                f"{f.dup_run_order_unexplained} (run, order) unexplained, "
                f"{f.dup_order_amount} (order, amount), {f.unexplained} amounts never set",
            )
        )
        report.targets.append(
            (
                f"flood: memory flat (end at most {FLAT_RSS_GROWTH_MB:g} MB above start)",
                f.flat,
                f"{f.rss_start_kib / 1024:.1f} -> {f.rss_end_kib / 1024:.1f} MB",
            )
        )
        report.targets.append(
            (
                f"flood: {f.rate_asked:g} webhooks a second, all answered 202",
                f.rate >= 0.95 * f.rate_asked and set(f.statuses) == {202} and not f.errors,
                f"{f.rate:.1f}/s, {f.statuses}, errors {f.errors}",
            )
        )


def _ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f} ms" if values else "-"


def format_report(report: LiveReport) -> str:
    o = report.options
    lines = ["## Machine", "", *(f"- {k}: {v}" for k, v in report.machine.items()), ""]
    login = f", {o.login_ms:g} ms more on authenticate" if o.login_ms else ""
    if o.odoo_url:
        part = report.poll or report.latency
        server = part.odoo_server if part else None
        lines += [f"A real {server or f'Odoo at {o.odoo_url}'}, at its own speed.", ""]
    else:
        lines += [f"Odoo {o.odoo_version} double, {o.latency_ms:g} ms latency per call{login}.", ""]
    if report.poll is not None:
        p = report.poll
        calls = ", ".join(f"{k} {v}" for k, v in p.odoo_calls.items())
        counted = f"{sum(p.odoo_calls.values())} ({calls})" if calls else "not counted (real Odoo)"
        double = (
            ""
            if p.double_search_ms is None
            else " The double's own time for the quiet search_read at this size, latency "
            f"aside: {p.double_search_ms:.0f} ms."
        )
        clean = p.clean_walls
        lines += [
            f"## 1. Quiet `orderamt sync --changed --quiet`, {p.orders:,} orders in the portal",
            "",
            "| runs | wall, median (min-max) | Odoo calls | SQL statements | commits "
            "| peak RSS | runs added |",
            "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
            f"| {len(p.walls)} | {p.median:.3f} s ({min(p.walls):.3f}-{max(p.walls):.3f}) "
            f"| {counted} "
            f"| {p.statements} | {p.commits} | {p.peak_rss_mb:.0f} MB | {p.runs_added} |",
            "",
            f"Each run's wall time: {', '.join(f'{w:.3f}' for w in p.walls)} s; other "
            f"processes kept {', '.join(f'{c:.2f}' for c in p.foreign_cores)} cores busy "
            f"meanwhile. Runs with under {CLEAN_CORES:g} cores of others: {len(clean)}, median "
            + (f"{statistics.median(clean):.3f} s." if clean else "-."),
            "",
            f'For scale: `python -c pass` {p.interpreter_s:.3f} s, `python -c "import '
            f'sqlalchemy"` {p.sqlalchemy_s:.3f} s, `orderamt --version` '
            f"{p.version_s:.3f} s; the first poll (the last 30 days' orders, setting the "
            f"checkpoint) {p.first_poll_wall:.2f} s; the counted run through bench/launch.py "
            f"{p.launch_wall:.3f} s.{double}",
            "",
        ]
    if report.latency is not None:
        lat = report.latency
        s = lat.samples
        lines += [
            f"## 2. From the change in Odoo to the portal row, `listen` over {lat.orders:,} orders",
            "",
            f"{len(s)} samples: median {lat.median:.3f} s, 95th percentile {lat.p95:.3f} s, "
            f"min {min(s, default=math.nan):.3f} s, max {max(s, default=math.nan):.3f} s; "
            + (
                f"Odoo's answer to the line's write median {_ms(lat.answer_ms)}; "
                if lat.odoo_server
                else f"the webhook's answer (change + POST + 202) median {_ms(lat.answer_ms)}; "
                f"answers {lat.statuses}; "
            )
            + f"not arrived {lat.missed}. Runs recorded by mode: {lat.modes}. "
            f"Listener stopped by SIGTERM: exit {lat.exit_code} in {lat.stop_s or 0:.2f} s. "
            f"Other processes kept {lat.foreign_cores:.2f} cores busy on average meanwhile.",
            "",
        ]
    if report.flood is not None:
        f = report.flood
        rss = [kib for _, kib in f.rss_kib]
        lines += [
            f"## 3. Flood: {f.rate_asked:g} webhooks/s for {f.duration_asked:g} s, "
            f"{f.senders} senders, {f.orders:,} orders",
            "",
            f"- sent {f.sent:,} in {f.send_seconds:.1f} s: {f.rate:.1f} a second; answers "
            f"{f.statuses}; errors {f.errors or 'none'}; answer time p50 "
            f"{f.answer_ms_p50:.1f} ms, p99 {f.answer_ms_p99:.1f} ms, max {f.answer_ms_max:.0f} ms",
            f"- {f.changes:,} changes to {f.orders_changed:,} orders; settled "
            + (
                f"{f.settle_s:.2f} s after the last webhook"
                if f.settle_s is not None
                else "NOT within the timeout"
            )
            + f"; lost {f.lost}",
            f"- journal: {f.journal_entries:,} entries by run mode {f.entries_by_mode}; runs "
            f"{f.runs_by_mode}; duplicates: (run, order) {f.dup_run_order} "
            f"({f.dup_run_order_unexplained} not explained by a poll reading a change made "
            f"meanwhile), (order, amount) {f.dup_order_amount}; amounts never set in Odoo "
            f"{f.unexplained}",
            f"- listener RSS: start {f.rss_start_kib / 1024:.1f} MB, peak "
            f"{f.rss_peak_kib / 1024:.1f} MB, end {f.rss_end_kib / 1024:.1f} MB "
            f"({len(rss)} samples every few seconds: "
            f"{', '.join(f'{k / 1024:.0f}' for k in rss[:: max(1, len(rss) // 12)])} MB); "
            "by mapping, start -> end: "
            + ", ".join(
                f"{kind} {f.map_start.get(kind, 0) / 1024:.1f} -> {kib / 1024:.1f}"
                for kind, kib in f.map_end.items()
            )
            + " MB",
            "- listener CPU during the flood and settle: "
            + (f"{f.cpu_s:.1f} s" if f.cpu_s is not None else "-")
            + f"; stopped by SIGTERM: exit {f.exit_code} in {f.stop_s or 0:.2f} s",
            f"- other processes kept {f.foreign_cores:.2f} cores busy on average meanwhile",
            "",
        ]
    lines += ["## Targets", ""]
    for name, met, detail in report.targets:
        lines.append(f"- {'met' if met else 'MISSED'}: {name} ({detail})")
    if report.problems:
        lines += ["", "## Wrong results", "", *(f"- {p}" for p in report.problems)]
    return "\n".join(lines)
