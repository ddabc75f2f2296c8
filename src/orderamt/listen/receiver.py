"""HTTP in: the WSGI application that answers Odoo's webhooks and queues the order ids."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from orderamt.listen.health import Health
from orderamt.listen.pending import Pending

MAX_BODY = 64 * 1024
"""A webhook of a sale order is a few hundred bytes; anything near this is not Odoo's."""
PATH_PREFIX = "/orderamt/"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


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
