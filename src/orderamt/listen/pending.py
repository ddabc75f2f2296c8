"""The order ids the receiver queued and the worker has yet to sync."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pending:
    """The order ids waiting for their sync, each with when its last webhook came: a flood
    of webhooks for one order becomes one sync of it."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._ids: dict[int, float] = {}
        self._now = now
        self._lock = threading.Lock()
        self.arrived = threading.Event()

    def add(self, order_id: int) -> None:
        with self._lock:
            self._ids[order_id] = self._now()
        self.arrived.set()

    def take(self, until: float | None = None) -> tuple[int, ...]:
        """The ids whose last webhook came at `until` or before (every id: None), in order;
        the others stay, and `arrived` stays set for them."""
        with self._lock:
            ids = tuple(sorted(i for i, at in self._ids.items() if until is None or at <= until))
            for order_id in ids:
                del self._ids[order_id]
            if not self._ids:
                self.arrived.clear()
        return ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
