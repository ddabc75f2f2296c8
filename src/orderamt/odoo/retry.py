"""Retrying Odoo calls that failed in a way that may pass, with backoff and jitter, bounded."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from orderamt.errors import OdooUnavailable

T = TypeVar("T")
log = logging.getLogger("orderamt")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one call.

    `retries` more attempts after the first, waiting about `wait`, twice `wait`, four times...
    seconds (at most `max_wait`, with full jitter so many clients do not retry in step),
    and no new attempt once `total` seconds have passed since the first one began.
    """

    retries: int = 3
    wait: float = 2.0
    max_wait: float = 30.0
    total: float = 300.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The pause before retry number `attempt` (1 for the first retry)."""
        ceiling = min(self.max_wait, self.wait * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + rng() / 2))


NO_RETRIES = RetryPolicy(retries=0)


def with_retries(
    what: str,
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying OdooUnavailable as the policy allows; other errors pass at once."""
    started = clock()
    attempt = 0
    while True:
        try:
            return call()
        except OdooUnavailable as exc:
            attempt += 1
            pause = policy.delay(attempt)
            if attempt > policy.retries or clock() - started + pause > policy.total:
                raise
            log.warning(
                "Odoo call failed; retrying",
                extra={
                    "context": {
                        "call": what,
                        "error": exc.message,
                        "retry": attempt,
                        "of": policy.retries,
                        "wait_s": round(pause, 2),
                    }
                },
            )
            sleep(pause)
