"""/healthz on a fake clock: exactly when a failing Odoo turns the listener unhealthy, and back."""

from __future__ import annotations

import logging

import pytest

from orderamt.listen import RETRY_PAUSE
from tests.listen.harness import DELAY, INTERVAL, START, FakeClock, InProcessListener


def test_healthz_is_503_only_once_odoo_has_failed_for_longer_than_the_interval(
    listener: InProcessListener,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Odoo fails from the first batch on: /healthz stays 200 for one poll interval, is 503
    with the error just after, and 200 again once a poll or a batch goes through; the
    outage is logged once when it starts and once when it ends."""
    caplog.set_level(logging.INFO, logger="orderamt")
    listener.down = "Odoo is unreachable"
    listener.post(1)
    clock.advance(DELAY + INTERVAL)
    assert listener.healthz() == (
        200, {"status": "ok", "last_poll": START.isoformat(), "queue": 1}
    )  # fmt: skip
    clock.advance(0.5)
    assert listener.healthz() == (
        503,
        {"status": "failing", "last_poll": START.isoformat(), "queue": 1,
         "error": "Odoo is unreachable"},
    )  # fmt: skip
    listener.down = ""
    retried_every = RETRY_PAUSE + DELAY
    failed = len(listener.batches)
    clock.advance(retried_every)
    assert len(listener.batches) == failed + 1
    status, document = listener.healthz()
    assert (status, document["status"], document["queue"]) == (200, "ok", 0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count(
        "Listener: Odoo or the portal is failing; will catch up when it is back"
    ) == 1  # fmt: skip
    assert messages.count("Listener: Odoo and the portal answer again") == 1
