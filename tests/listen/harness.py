"""A listener in this process on a clock the test moves: webhooks in through the WSGI app,
batches and polls out to recorders, and time that passes only when the test says."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from orderamt.errors import OdooUnavailable
from orderamt.listen import PATH_PREFIX, Health, Pending, WebhookApp, Worker
from orderamt.times import UTC

SECRET = "x8Qw-2kLp_7Zr4Tn9Vb3Hc6Jm1Yd5Fg0Su"
HOOK = PATH_PREFIX + SECRET
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DELAY = 2.0
INTERVAL = 60.0
"""The listener's gather delay and poll interval in these tests, in seconds."""
LOOK = 0.001
"""Real seconds between a parked thread's looks at its event (nothing tells the fake clock
that another thread set it)."""


class FakeClock:
    """The listener's clock, moved only by `advance`: before it returns, every thread waiting
    on the clock has done all that the new time asks of it."""

    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._seconds = 0.0
        self._changed = threading.Condition()
        self._waits: dict[threading.Thread, tuple[threading.Event, float] | None] = {}

    def monotonic(self) -> float:
        with self._changed:
            return self._seconds

    def utc_now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def wait(self, event: threading.Event, seconds: float) -> bool:
        me = threading.current_thread()
        with self._changed:
            deadline = self._seconds + seconds
            self._waits[me] = (event, deadline)
            try:
                while not event.is_set():
                    if self._seconds >= deadline:
                        return False
                    self._changed.wait(LOOK)
                return True
            finally:
                self._waits[me] = None

    def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, stopping at each deadline on the way for the thread
        waiting on it to act, as real time would."""
        target = self.monotonic() + seconds
        while True:
            self.settle()
            with self._changed:
                deadlines = [w[1] for t, w in self._waits.items() if w and t.is_alive()]
                self._seconds = min([d for d in deadlines if d < target], default=target)
                self._changed.notify_all()
                if self._seconds >= target:
                    break
        self.settle()

    def settle(self, *, waiters: int = 0, timeout: float = 10) -> None:
        """Until at least `waiters` threads wait on the clock and every one that does is at
        rest: its event unset and its deadline ahead, so nothing happens until time moves."""
        give_up = time.monotonic() + timeout
        with self._changed:
            while not self._at_rest(waiters):
                if time.monotonic() > give_up:
                    raise AssertionError("a thread on the fake clock never came to rest")
                self._changed.wait(LOOK)

    def _at_rest(self, waiters: int) -> bool:
        alive = [w for t, w in self._waits.items() if t.is_alive()]
        return len(alive) >= waiters and all(
            w is not None and not w[0].is_set() and w[1] > self._seconds for w in alive
        )


class InProcessListener:
    """The receiver and the worker as `orderamt listen` wires them, with recorders for the
    sync and the poll; `down` makes both fail as when Odoo is unreachable."""

    def __init__(self, clock: FakeClock, *, delay: float, interval: float) -> None:
        self.clock = clock
        self.batches: list[tuple[float, tuple[int, ...]]] = []
        """(time, ids) of every batch the worker tried, failed or not."""
        self.polls: list[float] = []
        self.down = ""
        self.pending = Pending(clock.monotonic)
        self.health = Health(interval, clock=clock)
        self.app = WebhookApp(SECRET, self.pending, self.health)
        self.worker = Worker(self.pending, self.health, sync_ids=self._sync_ids, poll=self._poll,
                             delay=delay, interval=interval, clock=clock)  # fmt: skip

    def start(self) -> None:
        self.worker.start()
        self.clock.settle(waiters=1)

    def stop(self) -> None:
        self.worker.stop(timeout=10)
        assert not self.worker.thread.is_alive()

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        answer: list[str] = []
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path,
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}  # fmt: skip
        document = b"".join(self.app(environ, lambda status, headers: answer.append(status)))
        return int(answer[0].split()[0]), json.loads(document)

    def post(self, order_id: int) -> int:
        body = json.dumps({"_model": "sale.order", "_id": order_id}).encode()
        return self.request("POST", HOOK, body)[0]

    def healthz(self) -> tuple[int, dict[str, Any]]:
        return self.request("GET", "/healthz")

    def _sync_ids(self, ids: tuple[int, ...]) -> None:
        self.batches.append((self.clock.monotonic(), ids))
        if self.down:
            raise OdooUnavailable(self.down)

    def _poll(self) -> None:
        self.polls.append(self.clock.monotonic())
        if self.down:
            raise OdooUnavailable(self.down)
