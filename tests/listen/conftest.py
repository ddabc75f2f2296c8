"""A listener in this process on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.listen.harness import DELAY, INTERVAL, FakeClock, InProcessListener


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def listener(clock: FakeClock) -> Iterator[InProcessListener]:
    """Started, its first poll done at 0 s; stopped after the test."""
    running = InProcessListener(clock, delay=DELAY, interval=INTERVAL)
    running.start()
    yield running
    running.stop()
