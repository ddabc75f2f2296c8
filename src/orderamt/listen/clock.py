"""The listener's time: one clock for its delays, its poll, its health and what /healthz shows.

Injected so a test can move time by hand and see exactly when a batch goes out or health
turns bad, instead of sleeping to prove that nothing happened.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol

from orderamt.times import utc_now


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that only goes forward: for delays, the poll and outages."""
        ...

    def utc_now(self) -> datetime:
        """Now, aware UTC: the time of the last poll."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Until `event` is set or `seconds` have passed on this clock; whether it was set."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utc_now(self) -> datetime:
        return utc_now()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)
