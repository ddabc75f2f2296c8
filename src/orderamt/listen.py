"""The webhook receiver: Odoo's "Send Webhook Notification" POSTs in, order ids out.

Knows HTTP and time, nothing of SQL or Odoo's API: it hands the ids to `sync_ids` and runs
`poll` (the catch-up poll) on a timer; the wiring (app.py) gives both. A webhook only says
"this order changed": its payload can be stale (Odoo sends the write_date from before a
line change) or forged (anyone who knows the URL can post), so only the id is used and the
truth is read from Odoo.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderamt.errors import OrderamtError

log = logging.getLogger("orderamt")

MAX_BODY = 64 * 1024
"""A webhook of a sale order is a few hundred bytes; anything near this is not Odoo's."""
PATH_PREFIX = "/orderamt/"
HEALTH_PATH = "/healthz"
RETRY_PAUSE = 5.0
"""Seconds before a webhook batch that failed (Odoo or the portal down) is tried again."""

StartResponse = Callable[..., Any]


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


@dataclass
class Health:
    """What /healthz tells: the last poll, the queue, and whether a side has been failing."""

    interval: float
    last_poll: datetime | None = None
    failing_since: float | None = None
    """monotonic time of the first failure of the current outage, None while all is well."""
    failure: str = ""

    def failed(self, message: str) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            # Once per outage, not once per request: the log stays readable.
            log.error(
                "Listener: Odoo or the portal is failing; will catch up when it is back",
                extra={"context": {"error": message}},
            )
        self.failure = message

    def succeeded(self) -> None:
        if self.failing_since is not None:
            log.info(
                "Listener: Odoo and the portal answer again",
                extra={"context": {"down_for_s": round(time.monotonic() - self.failing_since)}},
            )
        self.failing_since = None
        self.failure = ""

    @property
    def healthy(self) -> bool:
        return self.failing_since is None or time.monotonic() - self.failing_since <= self.interval


class WebhookApp:
    """The WSGI application: 202 for a good webhook at the secret path, and a clear status for
    everything else (404 for a wrong secret, as for any unknown path)."""

    def __init__(self, secret: str, pending: Pending, health: Health) -> None:
        self._path = PATH_PREFIX + secret
        self.pending = pending
        self.health = health

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return self._health(start_response)
        if not hmac.compare_digest(path.encode(), self._path.encode()):
            return _answer(start_response, 404, {"error": "not found"})
        if method != "POST":
            return _answer(start_response, 405, {"error": "POST a webhook here"}, allow="POST")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, 400, {"error": "bad Content-Length"})
        if length > MAX_BODY:
            return _answer(start_response, 413, {"error": f"larger than {MAX_BODY} bytes"})
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return _answer(start_response, 400, {"error": "the body is not JSON"})
        order_id, problem = _order_id(payload)
        if order_id is None:
            return _answer(start_response, 422, {"error": problem})
        self.pending.add(order_id)
        return _answer(start_response, 202, {"queued": order_id})

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        h = self.health
        document = {
            "status": "ok" if h.healthy else "failing",
            "last_poll": h.last_poll.isoformat() if h.last_poll else None,
            "queue": len(self.pending),
        }
        if not h.healthy:
            document["error"] = h.failure
        return _answer(start_response, 200 if h.healthy else 503, document)


def _order_id(payload: object) -> tuple[int | None, str]:
    """The sale order a webhook names, or why it names none."""
    if not isinstance(payload, dict):
        return None, "the body is not a JSON object"
    model = payload.get("_model", "sale.order")
    if model != "sale.order":
        return None, f"model {model!r} is not sale.order"
    order_id = payload.get("_id", payload.get("id"))
    if isinstance(order_id, bool) or not isinstance(order_id, int) or not 0 < order_id < 2**31:
        return None, "no sale order id (_id or id)"
    return order_id, ""


def _answer(
    start_response: StartResponse, status: int, document: Mapping[str, Any], **headers: str
) -> Iterator[bytes]:
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found",
               405: "Method Not Allowed", 413: "Payload Too Large",
               422: "Unprocessable Entity", 503: "Service Unavailable"}  # fmt: skip
    body = json.dumps(document).encode()
    extra = [(name.capitalize(), value) for name, value in headers.items()]
    start_response(
        f"{status} {reasons[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra],
    )
    yield body


class Worker:
    """The one thread that syncs: webhook batches after a short delay, and the catch-up poll
    at start and every `interval` seconds. Stopped, it finishes the batch in flight."""

    def __init__(
        self,
        pending: Pending,
        health: Health,
        *,
        sync_ids: Callable[[tuple[int, ...]], None],
        poll: Callable[[], None],
        delay: float,
        interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.pending, self.health = pending, health
        self.sync_ids, self.poll = sync_ids, poll
        self.delay, self.interval, self.clock = delay, interval, clock
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="orderamt-listener", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        self.pending.arrived.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        next_poll = time.monotonic()
        while not self.stopping.is_set():
            if time.monotonic() >= next_poll:
                self._attempt(self._poll)
                next_poll = time.monotonic() + self.interval
                continue
            if not self.pending.arrived.wait(max(0.0, next_poll - time.monotonic())):
                continue
            if self.stopping.is_set():
                break
            # Let a burst gather, and Odoo 18 (which posts before its commit) commit.
            self.stopping.wait(self.delay)
            ids = self.pending.take()
            if ids and not self._attempt(lambda ids=ids: self.sync_ids(ids)):  # type: ignore[misc]
                for order_id in ids:  # tried again after a pause (and the poll covers them)
                    self.pending.add(order_id)
                self.stopping.wait(min(self.interval, RETRY_PAUSE))

    def _poll(self) -> None:
        self.poll()
        self.health.last_poll = self.clock()

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
