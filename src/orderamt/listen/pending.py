"""The order ids the receiver queued and the worker has yet to sync."""

from __future__ import annotations

import threading


class Pending:
    """The order ids waiting for their sync: a set, so a flood of webhooks for one order
    becomes one sync of it."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self.arrived = threading.Event()

    def add(self, order_id: int) -> None:
        with self._lock:
            self._ids.add(order_id)
        self.arrived.set()

    def take(self) -> tuple[int, ...]:
        with self._lock:
            ids, self._ids = tuple(sorted(self._ids)), set()
            self.arrived.clear()
        return ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
