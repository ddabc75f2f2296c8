"""The one thread that syncs: webhook batches after a short delay, and the catch-up poll."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from orderamt.errors import OrderamtError
from orderamt.listen.clock import Clock, SystemClock
from orderamt.listen.health import Health
from orderamt.listen.pending import Pending

log = logging.getLogger("orderamt")

RETRY_PAUSE = 5.0
"""Seconds before a webhook batch that failed (Odoo or the portal down) is tried again."""

GATHER_AFTER_COMMIT = 0.1
"""Seconds a webhook batch gathers where Odoo posts after its commit (19 and later): the
order is committed when its webhook arrives, so this only lets a burst become one batch."""

GATHER_BEFORE_COMMIT = 1.0
"""Where Odoo posts inside the saving transaction (17, 18) or its version is not known yet:
time for that transaction to commit (Odoo gives the webhook call 1 s), so the read sees it."""


def gather_delay(configured: float | None, posts_after_commit: bool | None) -> float:
    """How long a webhook batch gathers: ORDERAMT_WEBHOOK_DELAY where set, else by whether
    Odoo posts after its commit (None: not known yet, so the safe wait)."""
    if configured is not None:
        return configured
    return GATHER_AFTER_COMMIT if posts_after_commit else GATHER_BEFORE_COMMIT


class Worker:
    """The one thread that syncs: webhook batches after a short delay (a number, or asked
    for each batch), and the catch-up poll at start and every `interval` seconds. Stopped,
    it finishes the batch in flight."""

    def __init__(
        self,
        pending: Pending,
        health: Health,
        *,
        sync_ids: Callable[[tuple[int, ...]], None],
        poll: Callable[[], None],
        delay: float | Callable[[], float],
        interval: float,
        clock: Clock | None = None,
    ) -> None:
        self.pending, self.health = pending, health
        self.sync_ids, self.poll = sync_ids, poll
        self.delay, self.interval = delay, interval
        self.clock = clock or SystemClock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="orderamt-listener", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> None:
        """Stop, and wait up to `timeout` real seconds for the batch in flight."""
        self.stopping.set()
        self.pending.arrived.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        clock = self.clock
        next_poll = clock.monotonic()
        while not self.stopping.is_set():
            if clock.monotonic() >= next_poll:
                self._attempt(self._poll)
                next_poll = clock.monotonic() + self.interval
                continue
            if not clock.wait(self.pending.arrived, max(0.0, next_poll - clock.monotonic())):
                continue
            if self.stopping.is_set():
                break
            # Let a burst gather, and Odoo 17/18 (which post before their commit) commit:
            # each order waits the delay after its own last webhook, so one that came late
            # in the gather goes with the next batch, not read before its save committed.
            delay = self.delay() if callable(self.delay) else self.delay
            clock.wait(self.stopping, delay)
            stopping = self.stopping.is_set()  # then the gathered batch goes at once, whole
            ids = self.pending.take(None if stopping else clock.monotonic() - delay)
            if ids and not self._attempt(lambda ids=ids: self.sync_ids(ids)):  # type: ignore[misc]
                for order_id in ids:  # tried again after a pause (and the poll covers them)
                    self.pending.add(order_id)
                clock.wait(self.stopping, min(self.interval, RETRY_PAUSE))

    def _poll(self) -> None:
        self.poll()
        self.health.last_poll = self.clock.utc_now()

    def _attempt(self, work: Callable[[], None]) -> bool:
        try:
            work()
        except OrderamtError as exc:
            self.health.failed(exc.message)
            return False
        except Exception as exc:  # a bug: log it with its traceback, keep serving
            log.exception("Listener: unexpected error", extra={"context": {"error": str(exc)}})
            self.health.failed(str(exc))
            return False
        self.health.succeeded()
        return True
