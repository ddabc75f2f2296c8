"""The metrics file (ORDERAMT_METRICS_FILE) a Prometheus textfile collector reads."""

from __future__ import annotations

import contextlib
import os

from orderamt.app.wiring import log, portal_of
from orderamt.config import (
    Settings,
)
from orderamt.errors import (
    LogError,
    OrderamtError,
)
from orderamt.portal import PortalJournal
from orderamt.report import (
    metrics_text,
)
from orderamt.times import utc_now


def _metrics(journal: PortalJournal) -> str:
    overview = journal.overview()
    needing = sum(1 for p in journal.problems() if p.ignored_reason is None)
    return metrics_text(overview, needing, utc_now())


def write_metrics(settings: Settings, journal: PortalJournal | None = None) -> None:
    """ORDERAMT_METRICS_FILE, rewritten after each run (and each of a listener's batches
    and polls, on its own `journal`): a temporary file beside it renamed over it, so the
    collector never reads half a file. A failure is logged, never fatal."""
    path = settings.metrics_file
    if path is None:
        return
    try:
        if journal is None:
            with portal_of(settings) as (_, _orders, journal):
                text = _metrics(journal)
        else:
            text = _metrics(journal)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except (OrderamtError, OSError) as exc:
        with contextlib.suppress(LogError):  # a log that cannot be written: the run says so
            log.error(
                "Could not write the metrics file",
                extra={"context": {"path": str(path), "error": str(exc)}},
            )
