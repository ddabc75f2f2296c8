"""The worker on a fake clock: exactly when a batch goes out, what it holds, when the poll runs."""

from __future__ import annotations

from orderamt.listen import RETRY_PAUSE, gather_delay
from orderamt.listen.worker import GATHER_AFTER_COMMIT, GATHER_BEFORE_COMMIT
from tests.listen.harness import DELAY, INTERVAL, START, FakeClock, InProcessListener


def test_a_webhook_is_synced_after_the_delay_and_not_before(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """A webhook's order goes to the sync once the delay has passed since it arrived, and not
    a moment sooner (Odoo 18 posts before it commits)."""
    clock.advance(10)
    assert listener.post(7) == 202
    clock.advance(DELAY - 0.5)
    assert listener.batches == []
    assert listener.healthz()[1]["queue"] == 1
    clock.advance(0.5)
    assert listener.batches == [(10 + DELAY, (7,))]
    assert listener.healthz()[1]["queue"] == 0


def test_a_flood_within_the_delay_is_one_batch_with_each_order_once(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """Two hundred webhooks for two orders, the last half of them half-way through the
    gather: one sync of both orders, once each order's last webhook is a delay old (Odoo 17
    and 18 commit after posting), and nothing more until the next webhook."""
    for i in range(100):
        assert listener.post(1 + i % 2) == 202
    clock.advance(DELAY / 2)
    for i in range(100):
        assert listener.post(2 - i % 2) == 202
    clock.advance(INTERVAL * 3)
    assert listener.batches == [(2 * DELAY, (1, 2))]


def test_a_webhook_younger_than_the_delay_waits_for_the_next_batch(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """A batch goes a delay after its first webhook, with the orders whose last webhook is
    a delay old by then: one that came later waits for the next batch, a delay on (Odoo 17
    and 18 post before their commit: read at once, it could still be the old order)."""
    listener.post(1)
    clock.advance(DELAY - 0.5)
    listener.post(2)
    clock.advance(1)
    listener.post(3)
    clock.advance(DELAY * 2)
    assert listener.batches == [(DELAY, (1,)), (2 * DELAY, (2,)), (3 * DELAY, (3,))]


def test_the_poll_runs_at_start_and_every_interval(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """The catch-up poll runs when the listener starts and every interval after, and /healthz
    shows when it last ran."""
    assert listener.polls == [0]
    assert listener.healthz()[1]["last_poll"] == START.isoformat()
    clock.advance(INTERVAL - 0.5)
    assert listener.polls == [0]
    clock.advance(0.5 + INTERVAL)
    assert listener.polls == [0, INTERVAL, 2 * INTERVAL]
    assert listener.healthz()[1]["last_poll"] == "2025-03-01T09:02:00+00:00"


def test_a_failed_batch_is_tried_again_after_the_pause(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """Odoo down when a batch goes out: the batch is kept and tried again after the pause (and
    its delay), not before, and goes through once Odoo answers."""
    listener.down = "Odoo is unreachable"
    listener.post(4)
    clock.advance(DELAY)
    assert listener.batches == [(DELAY, (4,))]
    assert listener.healthz()[1]["queue"] == 1
    listener.down = ""
    clock.advance(RETRY_PAUSE + DELAY - 0.5)
    assert len(listener.batches) == 1
    clock.advance(0.5)
    assert listener.batches == [(DELAY, (4,)), (DELAY + RETRY_PAUSE + DELAY, (4,))]
    assert listener.healthz()[1] == {"status": "ok", "last_poll": START.isoformat(), "queue": 0}


def test_stopping_syncs_the_batch_it_was_gathering_at_once(
    listener: InProcessListener, clock: FakeClock
) -> None:
    """Stopped while a batch gathers, the worker syncs it straight away instead of dropping it."""
    listener.post(5)
    clock.advance(DELAY / 2)
    listener.stop()
    assert listener.batches == [(DELAY / 2, (5,))]


def test_the_gather_follows_odoo_s_version_unless_set() -> None:
    """Odoo 19 posts after its commit: a short gather; 17 and 18 post before it, and an Odoo
    not reached yet may too: time to commit; a configured delay wins either way."""
    assert gather_delay(None, True) == GATHER_AFTER_COMMIT < 0.3
    assert gather_delay(None, False) == GATHER_BEFORE_COMMIT == 1.0
    assert gather_delay(None, None) == GATHER_BEFORE_COMMIT
    assert gather_delay(0.4, True) == gather_delay(0.4, False) == 0.4
