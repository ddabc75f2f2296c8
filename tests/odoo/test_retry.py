"""Retrying an Odoo call: only failures that may pass, a bounded number of times, in a budget."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from orderamt.errors import ExitCode, OdooError, OdooUnavailable
from orderamt.odoo.retry import NO_RETRIES, RetryPolicy, with_retries


class FakeTime:
    """A clock that moves only when slept on, or when a call says it took time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class Flaky:
    """A call that fails with the given errors in turn, then returns 'done'."""

    def __init__(
        self, *errors: BaseException, time: FakeTime | None = None, takes: float = 0.0
    ) -> None:
        self.errors = list(errors)
        self.attempts = 0
        self.time = time
        self.takes = takes

    def __call__(self) -> str:
        self.attempts += 1
        if self.time is not None:
            self.time.now += self.takes
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def unavailable(n: int) -> OdooUnavailable:
    return OdooUnavailable(f"Odoo at https://odoo.example.com did not answer (attempt {n})")


def always_unavailable(time: FakeTime | None = None, takes: float = 0.0) -> Flaky:
    return Flaky(*(unavailable(n) for n in range(1, 100)), time=time, takes=takes)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def retry_log() -> Iterator[list[logging.LogRecord]]:
    """The records the 'orderamt' logger emits during the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("orderamt")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def run(call: Callable[[], str], policy: RetryPolicy, time: FakeTime) -> str:
    return with_retries("the search_read call", call, policy, clock=time.clock, sleep=time.sleep)


def test_success_at_once_sleeps_not(time: FakeTime) -> None:
    """A call that works the first time is made once, its answer returned, with no pause."""
    call = Flaky()
    assert run(call, RetryPolicy(), time) == "done"
    assert call.attempts == 1
    assert time.pauses == []


def test_passing_failures_are_retried_until_the_call_works(time: FakeTime) -> None:
    """Two timeouts then an answer: the caller gets the answer, after two pauses."""
    call = Flaky(unavailable(1), unavailable(2))
    assert run(call, RetryPolicy(retries=3), time) == "done"
    assert call.attempts == 3
    assert len(time.pauses) == 2


@pytest.mark.parametrize("retries", [0, 1, 3, 10])
def test_attempts_are_one_more_than_the_retries(time: FakeTime, retries: int) -> None:
    """A call that keeps failing is tried 1 + `retries` times, then given up on."""
    call = always_unavailable()
    with pytest.raises(OdooUnavailable):
        run(call, RetryPolicy(retries=retries, wait=1.0, total=10_000.0), time)
    assert call.attempts == retries + 1
    assert len(time.pauses) == retries


def test_last_failure_is_what_the_user_sees(time: FakeTime) -> None:
    """After the last attempt, the error raised is that attempt's, word for word, exit 3."""
    call = always_unavailable()
    with pytest.raises(OdooUnavailable) as caught:
        run(call, RetryPolicy(retries=2), time)
    assert str(caught.value) == "Odoo at https://odoo.example.com did not answer (attempt 3)"
    assert caught.value.exit_code is ExitCode.ODOO


def test_no_retries_policy_tries_once(time: FakeTime) -> None:
    """NO_RETRIES (what `check` and the defaults of the adapters use) gives up at once."""
    call = always_unavailable()
    with pytest.raises(OdooUnavailable) as caught:
        run(call, NO_RETRIES, time)
    assert call.attempts == 1
    assert time.pauses == []
    assert str(caught.value).endswith("(attempt 1)")


@pytest.mark.parametrize(
    "error",
    [
        OdooError("Odoo refused the login for orderamt@example.com (check ODOO_PASSWORD)"),
        OdooError("Odoo answered the search_read call with an error: Access Denied"),
        ValueError("a bug"),
    ],
)
def test_other_errors_pass_at_once(time: FakeTime, error: Exception) -> None:
    """A refused login, an Odoo fault or a bug is never retried: it passes on the first attempt."""
    call = Flaky(error)
    with pytest.raises(type(error)) as caught:
        run(call, RetryPolicy(retries=5), time)
    assert caught.value is error
    assert call.attempts == 1
    assert time.pauses == []


def test_a_lasting_failure_after_a_passing_one_is_not_retried(time: FakeTime) -> None:
    """A timeout is retried, but the refused login that follows it ends the call there."""
    refused = OdooError("Odoo refused the login")
    call = Flaky(unavailable(1), refused, unavailable(3))
    with pytest.raises(OdooError) as caught:
        run(call, RetryPolicy(retries=5), time)
    assert caught.value is refused
    assert call.attempts == 2


def test_interrupt_is_never_retried(time: FakeTime) -> None:
    """Ctrl-C during a call stops at once, whatever the policy."""
    call = Flaky(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run(call, RetryPolicy(retries=5), time)
    assert call.attempts == 1


def test_pauses_double_with_jitter_up_to_the_cap(time: FakeTime) -> None:
    """Each pause is between half and all of wait, 2 x wait, 4 x wait..., never over max_wait."""
    call = always_unavailable()
    policy = RetryPolicy(retries=6, wait=2.0, max_wait=10.0, total=10_000.0)
    with pytest.raises(OdooUnavailable):
        run(call, policy, time)
    ceilings = [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert len(time.pauses) == len(ceilings)
    for pause, ceiling in zip(time.pauses, ceilings, strict=True):
        assert ceiling / 2 <= pause <= ceiling


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 1.0, 2.0), (2, 2.0, 4.0), (3, 4.0, 8.0), (5, 15.0, 30.0), (40, 15.0, 30.0)],
)
def test_delay_spans_half_to_all_of_its_ceiling(attempt: int, low: float, high: float) -> None:
    """The jitter's extremes give exactly half and all of the ceiling for that retry."""
    policy = RetryPolicy(wait=2.0, max_wait=30.0)
    assert policy.delay(attempt, rng=lambda: 0.0) == low
    assert policy.delay(attempt, rng=lambda: 1.0) == high


def test_no_retry_starts_past_the_time_budget(time: FakeTime) -> None:
    """Calls of 6 s against a 10 s budget: one retry fits, a second would start too late."""
    call = always_unavailable(time, takes=6.0)
    policy = RetryPolicy(retries=10, wait=1.0, max_wait=1.0, total=10.0)
    with pytest.raises(OdooUnavailable) as caught:
        run(call, policy, time)
    assert call.attempts == 2
    assert len(time.pauses) == 1
    assert str(caught.value).endswith("(attempt 2)")


def test_pause_that_would_end_past_the_budget_is_not_taken(time: FakeTime) -> None:
    """When even the shortest pause would end past the budget, the first failure is final."""
    call = always_unavailable()
    policy = RetryPolicy(retries=3, wait=10.0, max_wait=10.0, total=4.9)
    with pytest.raises(OdooUnavailable):
        run(call, policy, time)
    assert call.attempts == 1
    assert time.pauses == []


def test_each_retry_is_logged(time: FakeTime, retry_log: list[logging.LogRecord]) -> None:
    """Every retry leaves a warning naming the call, its error and which retry of how many."""
    call = Flaky(unavailable(1), unavailable(2))
    run(call, RetryPolicy(retries=3), time)
    warnings = [r for r in retry_log if r.getMessage() == "Odoo call failed; retrying"]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    contexts = [getattr(r, "context", {}) for r in warnings]
    assert [(c["call"], c["error"], c["retry"], c["of"]) for c in contexts] == [
        ("the search_read call", str(unavailable(1)), 1, 3),
        ("the search_read call", str(unavailable(2)), 2, 3),
    ]
    assert [c["wait_s"] for c in contexts] == [round(p, 2) for p in time.pauses]


def test_giving_up_is_not_logged_as_a_retry(
    time: FakeTime, retry_log: list[logging.LogRecord]
) -> None:
    """The final failure logs no 'retrying' line: only the retries that happened are logged."""
    with pytest.raises(OdooUnavailable):
        run(always_unavailable(), RetryPolicy(retries=1), time)
    retries = [r for r in retry_log if r.getMessage() == "Odoo call failed; retrying"]
    assert len(retries) == 1


def test_real_clock_and_sleep_with_no_wait() -> None:
    """With the real clock and sleep, a zero-wait policy retries straight away and succeeds."""
    call = Flaky(unavailable(1), unavailable(2))
    policy = RetryPolicy(retries=2, wait=0.0, max_wait=0.0, total=300.0)
    assert with_retries("the version request", call, policy) == "done"
    assert call.attempts == 3
