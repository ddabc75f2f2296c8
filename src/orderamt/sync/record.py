"""A run's record in the journal, the same for every run mode: started when first needed,
finished exactly once, whatever ends the run (its last batch, a failure, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from orderamt.errors import ExitCode, OrderamtError, exit_code_of
from orderamt.models import Checkpoint, Decision, RunCounts, RunOptions
from orderamt.reasons import problem_detail, problem_reason
from orderamt.sync.ports import JournalStore, Reporter

log = logging.getLogger("orderamt")


def exit_code_for(counts: RunCounts, strict: bool = False) -> ExitCode:
    """1 only for news: an order that needs a look and did not last time (or for another
    reason), or, with --strict, any order that needs a look."""
    if strict or counts.new_problems is None:
        return ExitCode.PARTIAL if counts.skipped else ExitCode.OK
    return ExitCode.PARTIAL if counts.new_problems else ExitCode.OK


def error_text(exc: BaseException) -> str:
    """The one line a failed run's record keeps."""
    if isinstance(exc, OrderamtError):
        return exc.message
    code = exit_code_of(exc)
    if code is ExitCode.INTERRUPTED:
        return "stopped by Ctrl-C"
    if code is ExitCode.TERMINATED:
        return "stopped by SIGTERM"
    return f"{type(exc).__name__}: {exc}"


class Run:
    """One run as the journal keeps it, and its tally.

    A dry run is never recorded: every method that would write is then a no-op.
    """

    def __init__(
        self,
        journal: JournalStore,
        reporter: Reporter,
        kind: str,
        mode: str,
        clock: Callable[[], datetime],
        options: RunOptions,
        reverts: int | None = None,
    ) -> None:
        self.journal, self.reporter, self.clock = journal, reporter, clock
        self.kind, self.mode, self.reverts = kind, mode, reverts
        self.options = options
        self.started = clock()
        self.counts = RunCounts()
        self.id: int | None = None
        self.finished = False

    @property
    def recording(self) -> bool:
        return not self.options.dry_run

    def start(self) -> int | None:
        """The run's id in the journal, recorded now if it was not yet (None: a dry run)."""
        if self.id is None and self.recording:
            self.id = self.journal.start_run(self.kind, self.mode, self.started, self.reverts)
            self.reporter.recorded(self.id)
        return self.id

    def note(self, decisions: Sequence[Decision]) -> None:
        """Keep the orders that need a look, and count those that are news."""
        if not self.recording:
            return
        run_id = self.start()
        assert run_id is not None
        new = self.journal.note_problems(run_id, decisions, self.clock())
        self.counts.new_problems = (self.counts.new_problems or 0) + len(new)
        self.reporter.news(new)

    def tally(self, decisions: Sequence[Decision]) -> None:
        """Count each decision and tell the reporter, in order; each order that needs a
        look is named in the log with its reason on every run, news or not (the log is
        where an operator looks first). A batch's such lines go out as one record the log
        writes a line each (one write, not one per order of a backfill full of them)."""
        looks: list[tuple[str, dict[str, object]]] = []
        for decision in decisions:
            self.counts.add(decision)
            self.reporter.decided(decision)
            if decision.needs_look:
                order = decision.order
                looks.append(("Order needs a look", {
                    "order_id": order.id, "order_number": order.number,
                    "reason": problem_reason(decision), "detail": problem_detail(decision),
                }))  # fmt: skip
        if looks:
            log.warning(looks[0][0], extra={"each": looks})

    def heartbeat(self, checkpoint: Checkpoint | None) -> None:
        """End a poll that changed nothing and found nothing wrong by bringing one heartbeat
        run up to date instead of adding a run that did nothing."""
        if self.recording:
            self.id = self.journal.heartbeat(checkpoint, self.mode, self.clock())
            self.reporter.recorded(self.id)
        self.finished = True

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.counts, self.options.strict)

    def finish(self, code: int, error: str | None = None) -> None:
        """Record the end, once (a run stopped before it was recorded is recorded now)."""
        if self.finished:
            return
        self.finished = True
        if not self.recording:
            return
        try:
            self.start()
            assert self.id is not None
            if not self.journal.finish_run(self.id, self.clock(), self.counts, code, error):
                log.warning(
                    "The run's record is gone (the journal was dropped and made again): its "
                    "end is not recorded",
                    extra={"context": {"run": self.id, "exit_code": code}},
                )
        except Exception as exc:  # the run's own outcome matters more than its record
            log.error("Could not record the end of the run", extra={"context": {"error": str(exc)}})


@contextmanager
def recorded(
    journal: JournalStore,
    reporter: Reporter,
    kind: str,
    mode: str,
    *,
    clock: Callable[[], datetime],
    options: RunOptions,
    reverts: int | None = None,
    eager: bool = True,
) -> Iterator[Run]:
    """The run every mode goes through: recorded at once (`eager`) or when it first writes,
    and finished on the way out however it leaves: its exit code from its tally, or the
    failure's code and one line of error text for an exception, Ctrl-C and SIGTERM included.
    """
    run = Run(journal, reporter, kind, mode, clock, options, reverts)
    try:
        if eager:
            run.start()
        yield run
    except BaseException as exc:
        run.finish(int(exit_code_of(exc)), error_text(exc))
        raise
    run.finish(int(run.exit_code))
