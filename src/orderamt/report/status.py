"""`orderamt status`: the last runs, what is going now and what needs a look; the metrics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from orderamt.models import Problem, RunOverview, RunRecord
from orderamt.report.jsondoc import jsonable, print_json, problem_json, run_json
from orderamt.report.terminal import plural, print_lines


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            return f"{plural(seconds // size, unit)} ago"
    return f"{plural(seconds, 'second')} ago"


def _what(r: RunRecord) -> str:
    if r.kind == "revert":
        return f"revert of run {r.reverts_run}"
    return "the listener" if r.kind == "listen" else f"{r.kind} {r.mode}"


def _when(r: RunRecord, now: datetime) -> str:
    """The day too: a listener may have started days ago, and a time alone reads as today."""
    return f"{r.started_at:%Y-%m-%d %H:%M:%S} UTC ({_ago(r.started_at, now)})"


def _run_words(r: RunRecord, now: datetime) -> str:
    text = f"run {r.id}, {_what(r)}, {_when(r, now)}"
    if r.finished_at is not None:
        took = (r.finished_at - r.started_at).total_seconds()
        text += f", took {took:.0f} s, exit {r.exit_code}"
        if r.found is not None and r.error is None:
            text += (
                f": found {r.found}, {r.updated} updated, {r.unchanged} unchanged, "
                f"{r.skipped} skipped"
            )
    if r.error:
        text += f": {r.error}"
    return text


def status_document(
    overview: RunOverview,
    problems: Sequence[Problem],
    going: Sequence[tuple[RunRecord, str]],
    now: datetime,
) -> dict[str, Any]:
    """`orderamt status --json`."""
    last, success = overview.last, overview.last_success
    return {
        "now": jsonable(now),
        "last_run": run_json(last) if last else None,
        "last_run_pushed": overview.last_pushed,
        "last_run_conflicts": overview.last_conflicts,
        "last_success": run_json(success) if success else None,
        "last_success_age_seconds": int((now - success.finished_at).total_seconds())
        if success and success.finished_at
        else None,
        "last_poll": jsonable(overview.last_poll.finished_at) if overview.last_poll else None,
        "going": [{**run_json(r), "state": state} for r, state in going],
        "needing_a_look": [problem_json(p) for p in problems if p.ignored_reason is None],
        "ignored": [problem_json(p) for p in problems if p.ignored_reason is not None],
    }


def print_status(
    overview: RunOverview,
    problems: Sequence[Problem],
    going: Sequence[tuple[RunRecord, str]],
    now: datetime,
    *,
    as_json: bool,
) -> None:
    """`orderamt status`: the last run, the last success, what is going now, what needs a look."""
    if as_json:
        print_json(status_document(overview, problems, going, now))
        return
    print_lines(_status_lines(overview, problems, going, now))


def _status_lines(
    overview: RunOverview,
    problems: Sequence[Problem],
    going: Sequence[tuple[RunRecord, str]],
    now: datetime,
) -> Iterator[str]:
    last, success = overview.last, overview.last_success
    pushed = f", {overview.last_pushed} pushed to Odoo" if overview.last_pushed else ""
    if overview.last_conflicts:
        pushed += f", {plural(overview.last_conflicts, 'conflict')} settled (see: orderamt history)"
    yield f"Last run:      {_run_words(last, now) if last else 'none yet'}{pushed}"
    if success is None:
        yield "Last success:  never"
    elif last is not None and success.id == last.id:
        yield f"Last success:  the last run, {_ago(success.started_at, now)}"
    else:
        yield f"Last success:  {_run_words(success, now)}"
    if overview.last_poll is not None and overview.last_poll.finished_at is not None:
        polled = overview.last_poll.finished_at
        yield f"Last poll:     {polled:%Y-%m-%d %H:%M:%S} UTC ({_ago(polled, now)})"
    if not going:
        yield "Running now:   nothing"
    for r, state in going:
        where = f" on {r.host or 'an unknown host'}, pid {r.pid}" if r.pid else ""
        yield f"Running now:   run {r.id}, {_what(r)}{where}, since {_when(r, now)}: {state}"
    needing = [p for p in problems if p.ignored_reason is None]
    ignored = [p for p in problems if p.ignored_reason is not None]
    verb = "needs" if len(needing) == 1 else "need"
    if needing:
        yield f"Needing a look: {plural(len(needing), 'order')} {verb} a look"
    else:
        yield "Needing a look: none"
    for p in needing:
        yield f"  order {p.order_id} ({p.order_number}): {p.detail} (since run {p.first_run})"
    for p in ignored:
        yield (
            f"  ignored: order {p.order_id} ({p.order_number}): {p.detail} "
            f"(ignored: {p.ignored_reason})"
        )


def exact(value: float) -> str:
    """A sample's value as it is: an integer as an integer, a time to the microsecond (`:g`
    kept six digits, so a Unix time was off by up to 83 minutes)."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0")


def metrics_text(overview: RunOverview, needing: int, now: datetime) -> str:
    """The Prometheus text format node_exporter's textfile collector reads."""
    last, success = overview.last, overview.last_success
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: Sequence[tuple[str, float]]) -> None:
        lines.append(f"# HELP orderamt_{name} {help_text}")
        lines.append(f"# TYPE orderamt_{name} gauge")
        lines.extend(f"orderamt_{name}{labels} {exact(value)}" for labels, value in samples)

    if last is not None and last.finished_at is not None:
        gauge("last_run_timestamp_seconds", "When the last run ended (Unix time).",
              [("", last.finished_at.timestamp())])  # fmt: skip
        gauge("last_run_duration_seconds", "How long the last run took.",
              [("", (last.finished_at - last.started_at).total_seconds())])  # fmt: skip
        gauge("last_run_exit_code", "The exit code of the last run.",
              [("", last.exit_code or 0)])  # fmt: skip
        gauge(
            "last_run_orders",
            "Orders of the last run, by outcome.",
            [(f'{{outcome="{outcome}"}}', getattr(last, outcome) or 0)
             for outcome in ("updated", "unchanged", "skipped")],
        )  # fmt: skip
        gauge("last_run_pushed_fields", "Fields the last run pushed to Odoo.",
              [("", overview.last_pushed)])  # fmt: skip
    if success is not None and success.finished_at is not None:
        gauge("last_success_timestamp_seconds",
              "When the last run that completed (exit 0 or 1, no error) ended (Unix time).",
              [("", success.finished_at.timestamp())])  # fmt: skip
    gauge("orders_needing_a_look", "Orders that need a look (not ignored).", [("", needing)])
    return "\n".join(lines) + "\n"
