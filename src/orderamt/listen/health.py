"""What the worker records of its syncs and /healthz tells."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from orderamt.listen.clock import Clock, SystemClock

log = logging.getLogger("orderamt")


@dataclass
class Health:
    """What /healthz tells: the last poll, the queue, and whether a side has been failing."""

    interval: float
    last_poll: datetime | None = None
    failing_since: float | None = None
    """`clock.monotonic()` at the first failure of the current outage, None while all is well."""
    failure: str = ""
    clock: Clock = field(default_factory=SystemClock, kw_only=True, repr=False)

    def failed(self, message: str) -> None:
        if self.failing_since is None:
            self.failing_since = self.clock.monotonic()
            # Once per outage, not once per request: the log stays readable.
            log.error(
                "Listener: Odoo or the portal is failing; will catch up when it is back",
                extra={"context": {"error": message}},
            )
        self.failure = message

    def succeeded(self) -> None:
        if self.failing_since is not None:
            down_for = self.clock.monotonic() - self.failing_since
            log.info(
                "Listener: Odoo and the portal answer again",
                extra={"context": {"down_for_s": round(down_for)}},
            )
        self.failing_since = None
        self.failure = ""

    @property
    def healthy(self) -> bool:
        return (
            self.failing_since is None
            or self.clock.monotonic() - self.failing_since <= self.interval
        )
