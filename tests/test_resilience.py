"""Retries, circuit breaker, burst pacer and quota tracker, driven by a fake clock."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from gateway.errors import (
    BadUserInput,
    CircuitOpen,
    GatewayError,
    PacingTimeout,
    UpstreamAuthFailed,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamGone,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.pacer import Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy, call_with_retries, retryable

pytestmark = pytest.mark.unit


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class MaxRng(random.Random):
    """Jitter that always picks the top of the range, for exact expectations."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Flaky:
    """A call that raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def unavailable() -> UpstreamUnavailable:
    return UpstreamUnavailable("TalentLMS could not be reached", provider="talentlms")


async def retry(call: Flaky, clock: FakeTime, **options: object) -> str:
    kwargs: dict[str, object] = {
        "policy": RetryPolicy(),
        "idempotent": True,
        "deadline": None,
        "clock": clock,
        "sleep": clock.sleep,
        "rng": MaxRng(),
    }
    kwargs.update(options)
    return await call_with_retries(call, **kwargs)  # type: ignore[arg-type]


# --- RetryPolicy ---------------------------------------------------------------------------


def test_backoff_ceiling_doubles_up_to_max_delay() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=1.0)
    assert [policy.backoff(n, MaxRng()) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert policy.backoff(10_000, MaxRng()) == 1.0  # no overflow on silly retry numbers


def test_backoff_is_full_jitter_over_the_whole_range() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=5.0)
    rng = random.Random(7)
    for retry_number, ceiling in [(1, 0.5), (3, 2.0), (6, 5.0)]:
        samples = [policy.backoff(retry_number, rng) for _ in range(2000)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert min(samples) < 0.05 * ceiling
        assert max(samples) > 0.95 * ceiling
        assert 0.4 * ceiling < sum(samples) / len(samples) < 0.6 * ceiling


def test_backoff_rejects_retry_zero_and_policy_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().backoff(0, random.Random())
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


def test_delay_honours_retry_after_and_caps_it() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=5.0, max_retry_after=30.0)
    rng = MaxRng()
    assert policy.delay(1, None, rng) == 0.2
    assert policy.delay(1, 12.0, rng) == 12.0  # Retry-After is a floor
    assert policy.delay(4, 1.0, rng) == 1.6  # backoff larger than Retry-After wins
    assert policy.delay(1, 30.0, rng) == 30.0
    assert policy.delay(1, 30.5, rng) is None  # too long: give up
    assert policy.delay(1, float("inf"), rng) is None
    assert policy.delay(1, float("nan"), rng) == 0.2  # junk header: plain backoff


# --- retryable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamUnavailable("timeout"), True),
        (UpstreamRateLimited("429", retry_after=3), True),
        (UpstreamError("TalentLMS failed: 500", status_code=500), True),
        (UpstreamNotFound("The requested user does not exist"), False),
        (UpstreamGone("The requested user is no longer available"), False),
        (UpstreamRejected("Invalid arguments provided"), False),
        (UpstreamAuthFailed("Invalid API key provided"), False),
        (UpstreamForbidden("inactive"), False),
        (UpstreamBadResponse("not JSON"), False),
        (BadUserInput("first must be positive"), False),
        (GatewayError("bug"), False),
        (ValueError("bug"), False),
        (asyncio.CancelledError(), False),
        (CircuitOpen(retry_at=10.0, retry_in=5.0), False),
        (PacingTimeout(retry_after=1.0), False),
    ],
)
def test_retryable(error: BaseException, expected: bool) -> None:
    assert retryable(error) is expected


# --- call_with_retries ---------------------------------------------------------------------


async def test_success_needs_no_wait() -> None:
    clock = FakeTime()
    call = Flaky()
    assert await retry(call, clock) == "ok"
    assert call.calls == 1
    assert clock.sleeps == []


async def test_retries_transient_failures_with_backoff() -> None:
    clock = FakeTime()
    call = Flaky(unavailable(), UpstreamError("500"))
    assert await retry(call, clock) == "ok"
    assert call.calls == 3
    assert clock.sleeps == [0.2, 0.4]


async def test_attempts_bound_and_last_error_reraised_unchanged() -> None:
    clock = FakeTime()
    errors = [unavailable(), unavailable(), unavailable(), unavailable()]
    call = Flaky(*errors)
    with pytest.raises(UpstreamUnavailable) as caught:
        await retry(call, clock, policy=RetryPolicy(attempts=3))
    assert call.calls == 3
    assert caught.value is errors[2]
    assert caught.value.__context__ is None  # not chained to the earlier failures
    assert caught.value.__cause__ is None
    assert len(clock.sleeps) == 2


async def test_single_attempt_policy_never_retries() -> None:
    clock = FakeTime()
    call = Flaky(unavailable())
    with pytest.raises(UpstreamUnavailable):
        await retry(call, clock, policy=RetryPolicy(attempts=1))
    assert call.calls == 1
    assert clock.sleeps == []


async def test_writes_are_never_retried() -> None:
    clock = FakeTime()
    first = unavailable()
    call = Flaky(first)
    with pytest.raises(UpstreamUnavailable) as caught:
        await retry(call, clock, idempotent=False)
    assert caught.value is first
    assert call.calls == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        UpstreamNotFound("The requested user does not exist"),
        UpstreamAuthFailed("Invalid API key provided"),
        UpstreamBadResponse("not JSON"),
        CircuitOpen(retry_at=1.0, retry_in=1.0),
        ValueError("bug"),
    ],
)
async def test_non_retryable_errors_fail_at_once(error: Exception) -> None:
    clock = FakeTime()
    call = Flaky(error)
    with pytest.raises(type(error)) as caught:
        await retry(call, clock)
    assert caught.value is error
    assert call.calls == 1
    assert clock.sleeps == []


async def test_cancellation_is_not_caught() -> None:
    clock = FakeTime()
    call = Flaky(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await retry(call, clock)
    assert call.calls == 1


async def test_retry_after_is_waited_for() -> None:
    clock = FakeTime()
    call = Flaky(UpstreamRateLimited("429", retry_after=7.0))
    assert await retry(call, clock) == "ok"
    assert clock.sleeps == [7.0]


async def test_retry_after_beyond_cap_gives_up() -> None:
    clock = FakeTime()
    error = UpstreamRateLimited("429", retry_after=120.0)
    call = Flaky(error)
    with pytest.raises(UpstreamRateLimited) as caught:
        await retry(call, clock, policy=RetryPolicy(max_retry_after=30.0))
    assert caught.value is error
    assert call.calls == 1
    assert clock.sleeps == []


async def test_never_sleeps_past_the_deadline() -> None:
    clock = FakeTime(start=100.0)
    errors = [unavailable(), unavailable(), unavailable()]
    call = Flaky(*errors)
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=10.0)
    # Waits would be 1, 2, 4: the third would end at 107 > 106.
    with pytest.raises(UpstreamUnavailable) as caught:
        await retry(call, clock, policy=policy, deadline=106.0)
    assert caught.value is errors[2]
    assert clock.sleeps == [1.0, 2.0]
    assert clock.now == 103.0 <= 106.0


async def test_retry_after_past_the_deadline_gives_up() -> None:
    clock = FakeTime(start=0.0)
    call = Flaky(UpstreamRateLimited("429", retry_after=5.0))
    with pytest.raises(UpstreamRateLimited):
        await retry(call, clock, deadline=4.9)
    assert clock.sleeps == []
    call = Flaky(UpstreamRateLimited("429", retry_after=5.0))
    assert await retry(call, clock, deadline=5.0) == "ok"  # ending exactly at it is fine


async def test_on_retry_is_told_before_each_wait() -> None:
    clock = FakeTime()
    first, second = unavailable(), UpstreamRateLimited("429", retry_after=3.0)
    seen: list[tuple[int, BaseException, float, list[float]]] = []

    def on_retry(number: int, error: BaseException, delay: float) -> None:
        seen.append((number, error, delay, list(clock.sleeps)))

    assert await retry(Flaky(first, second), clock, on_retry=on_retry) == "ok"
    assert seen == [(1, first, 0.2, []), (2, second, 3.0, [0.2])]


async def test_real_rng_delays_stay_within_jitter_bounds() -> None:
    clock = FakeTime()
    call = Flaky(unavailable(), unavailable())
    policy = RetryPolicy(attempts=3, base_delay=0.2, max_delay=5.0)
    assert await retry(call, clock, policy=policy, rng=random.Random(1)) == "ok"
    assert 0.0 <= clock.sleeps[0] <= 0.2
    assert 0.0 <= clock.sleeps[1] <= 0.4


# --- CircuitBreaker ------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = FakeTime(start=50.0)
    breaker = CircuitBreaker(
        failure_threshold=3, cool_down=30.0, clock=clock, name="acme", service="TalentLMS"
    )
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success resets the count: failures must be consecutive
    assert breaker.failures == 0
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "open"

    clock.now += 10.0
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    error = caught.value
    assert isinstance(error, UpstreamUnavailable)
    assert error.code == "UPSTREAM_UNAVAILABLE"
    assert error.retry_at == 80.0
    assert error.retry_in == 20.0
    assert error.breaker == "acme"
    assert str(error).startswith("TalentLMS is failing: calls are paused until")
    assert "20 s" in str(error)
    assert breaker.snapshot() == {"state": "open", "failures": 3, "retryIn": 20.0}


def test_breaker_half_open_probe_success_closes() -> None:
    clock = FakeTime(start=0.0)
    breaker = CircuitBreaker(failure_threshold=1, cool_down=30.0, clock=clock)
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 30.0
    breaker.before_call()  # the probe
    assert breaker.state == "half_open"
    assert breaker.snapshot() == {"state": "half_open", "failures": 1, "retryIn": None}
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.snapshot() == {"state": "closed", "failures": 0, "retryIn": None}
    breaker.before_call()


def test_breaker_failed_probe_reopens_with_fresh_cool_down() -> None:
    clock = FakeTime(start=0.0)
    breaker = CircuitBreaker(failure_threshold=2, cool_down=10.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now = 15.0
    breaker.before_call()
    assert breaker.state == "half_open"
    clock.now = 16.0
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 25.0
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_at == 26.0
    assert caught.value.retry_in == pytest.approx(1.0)
    clock.now = 26.0
    breaker.before_call()
    assert breaker.state == "half_open"


def test_late_failure_while_open_does_not_extend_cool_down() -> None:
    clock = FakeTime(start=0.0)
    breaker = CircuitBreaker(failure_threshold=1, cool_down=10.0, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    breaker.record_failure()
    assert breaker.failures == 2
    clock.now = 10.0
    breaker.before_call()
    assert breaker.state == "half_open"


async def test_breaker_lets_exactly_one_probe_through_concurrently() -> None:
    clock = FakeTime(start=0.0)
    breaker = CircuitBreaker(failure_threshold=1, cool_down=5.0, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    admitted: list[int] = []
    refused: list[CircuitOpen] = []

    async def caller(index: int) -> None:
        try:
            breaker.before_call()
        except CircuitOpen as error:
            refused.append(error)
            return
        admitted.append(index)
        for _ in range(5):  # the probe is "in flight" while the others arrive
            await asyncio.sleep(0)
        breaker.record_success()

    await asyncio.gather(*(caller(i) for i in range(20)))
    assert admitted == [0]
    assert len(refused) == 19
    assert all(error.retry_at == 10.0 for error in refused)
    assert "test call in progress" in str(refused[0])
    assert breaker.state == "closed"
    await asyncio.gather(*(caller(i) for i in range(3)))
    assert admitted == [0, 0, 1, 2]


def test_silent_probe_is_replaced_after_a_cool_down() -> None:
    clock = FakeTime(start=0.0)
    breaker = CircuitBreaker(failure_threshold=1, cool_down=5.0, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    breaker.before_call()  # probe that never reports (e.g. cancelled)
    clock.now = 9.0
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now = 10.0
    breaker.before_call()  # a new probe
    assert breaker.state == "half_open"


def test_breaker_validates_arguments() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(cool_down=-1)


# --- Pacer ---------------------------------------------------------------------------------


async def instant_call(pacer: Pacer, deadline: float | None = None) -> None:
    """A call that ends as soon as it starts: its place counts one window from its start."""
    (await pacer.acquire(deadline)).release()


def assert_paced(starts: list[float], max_calls: int, window: float) -> None:
    """No half-open window [t, t + window) holds more than max_calls starts."""
    starts = sorted(starts)
    for i in range(len(starts) - max_calls):
        assert starts[i + max_calls] - starts[i] >= window, (i, starts[i], starts[i + max_calls])


async def test_pacer_500_concurrent_callers_never_exceed_200_per_5s() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=200, window=5.0, clock=clock, sleep=clock.sleep)
    admitted: list[tuple[int, float]] = []
    peak = 0

    async def caller(index: int) -> None:
        nonlocal peak
        await instant_call(pacer)
        admitted.append((index, clock()))
        peak = max(peak, int(pacer.snapshot()["inWindow"]))  # type: ignore[call-overload]

    await asyncio.gather(*(caller(i) for i in range(500)))
    starts = [t for _, t in admitted]
    assert len(admitted) == 500
    assert_paced(starts, 200, 5.0)
    assert peak == 200
    assert [index for index, _ in admitted] == list(range(500))  # FIFO
    assert starts.count(0.0) == 200
    assert starts.count(5.0) == 200
    assert starts.count(10.0) == 100
    assert pacer.waiting == 0
    assert pacer.snapshot() == {"inWindow": 100, "maxCalls": 200, "windowSeconds": 5.0}
    clock.now = 15.0
    assert pacer.snapshot()["inWindow"] == 0


async def test_pacer_sliding_window_follows_each_start() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=3, window=5.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []
    for gap in [0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]:
        clock.now += gap
        await instant_call(pacer)
        starts.append(clock())
    # Calls at 0, 1, 2 fill the window; the next starts as each one leaves it.
    assert starts == [0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 10.0]
    assert_paced(starts, 3, 5.0)


async def test_pacer_stamps_actual_start_when_waking_late() -> None:
    clock = FakeTime(start=0.0)

    async def late_sleep(seconds: float) -> None:  # the loop wakes us 0.3 s late
        await clock.sleep(seconds + 0.3)

    pacer = Pacer(max_calls=2, window=1.0, clock=clock, sleep=late_sleep)
    starts: list[float] = []

    async def caller() -> None:
        await instant_call(pacer)
        starts.append(clock())

    await asyncio.gather(*(caller() for _ in range(7)))
    assert_paced(starts, 2, 1.0)


async def test_pacing_timeout_when_deadline_is_too_close() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=2, window=5.0, clock=clock, sleep=clock.sleep)
    await instant_call(pacer)
    clock.now = 1.0
    await instant_call(pacer)
    clock.now = 2.0
    with pytest.raises(PacingTimeout) as caught:
        await instant_call(pacer, deadline=4.9)
    error = caught.value
    assert isinstance(error, UpstreamRateLimited)
    assert error.code == "UPSTREAM_RATE_LIMITED"
    assert error.retry_after == pytest.approx(3.0)  # the slot taken at 0 frees at 5
    assert "2 calls per 5 s" in str(error)
    assert clock.sleeps == []  # refused up front, nothing waited
    assert pacer.waiting == 0
    await instant_call(pacer, deadline=5.0)  # exactly at the deadline is fine
    assert clock.now == 5.0


async def test_pacing_deadline_accounts_for_callers_ahead() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=2, window=5.0, clock=clock, sleep=clock.sleep)
    await instant_call(pacer)
    clock.now = 1.0
    await instant_call(pacer)
    # Will take the slot freeing at 5 (an earlier deadline is served first).
    ahead = asyncio.create_task(instant_call(pacer, 5.0))
    await asyncio.sleep(0)
    assert pacer.waiting == 1
    # The next slot after that frees at 6 (the start at 1 leaves the window).
    with pytest.raises(PacingTimeout) as caught:
        await instant_call(pacer, deadline=5.5)
    # (The fake sleep already moved the clock to the end of the first caller's wait.)
    assert clock.now + caught.value.retry_after == pytest.approx(6.0)
    behind = asyncio.create_task(instant_call(pacer, deadline=6.0))
    await asyncio.gather(ahead, behind)
    assert clock.now == 6.0


async def test_pacing_timeout_under_the_lock_when_the_queue_ran_late() -> None:
    clock = FakeTime(start=0.0)

    async def late_sleep(seconds: float) -> None:
        await clock.sleep(seconds + 1.0)

    pacer = Pacer(max_calls=1, window=5.0, clock=clock, sleep=late_sleep)
    await instant_call(pacer)
    ahead = asyncio.create_task(instant_call(pacer))  # planned for 5, starts at 6
    await asyncio.sleep(0)
    behind = asyncio.create_task(instant_call(pacer, deadline=10.5))  # planned for 10: accepted
    await ahead
    with pytest.raises(PacingTimeout) as caught:
        await behind
    assert caught.value.retry_after == pytest.approx(5.0)  # 11 - 6
    assert clock.now == 6.0
    assert pacer.waiting == 0


async def test_cancelled_waiter_frees_its_place() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=1, window=5.0, clock=clock, sleep=clock.sleep)
    await instant_call(pacer)
    gate = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        await gate.wait()

    pacer._sleep = blocked_sleep  # hold the queue still
    waiters = [asyncio.create_task(instant_call(pacer)) for _ in range(3)]
    await asyncio.sleep(0)
    assert pacer.waiting == 3
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert pacer.waiting == 0
    pacer._sleep = clock.sleep
    await instant_call(pacer, deadline=5.0)  # not pushed back by the cancelled callers
    assert clock.now == 5.0


async def test_pacer_with_real_clock_and_tiny_window() -> None:
    pacer = Pacer(max_calls=4, window=0.02)
    starts: list[float] = []

    async def caller() -> None:
        await instant_call(pacer)
        starts.append(time.monotonic())

    await asyncio.gather(*(caller() for _ in range(10)))
    assert len(starts) == 10
    assert_paced(starts, 4, 0.02 - 1e-3)  # allow for timer granularity in the check only


def test_pacer_validates_arguments() -> None:
    with pytest.raises(ValueError):
        Pacer(max_calls=0)
    with pytest.raises(ValueError):
        Pacer(window=0)


async def test_a_call_holds_its_place_until_its_answer_arrives_and_a_window_after() -> None:
    # The portal counts a call when it arrives, at any moment before the answer: a place
    # freed a window after the *start* let a slow call and the next window's calls arrive
    # together (issue 11, point 1).
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=1, window=5.0, clock=clock, sleep=clock.sleep)
    slow = await pacer.acquire()
    clock.now = 3.0  # its answer takes 3 s
    slow.release()
    await instant_call(pacer)
    assert clock.now == 8.0  # 3 + 5, not 0 + 5


async def test_arrivals_at_the_portal_stay_under_the_cap_whatever_the_travel_time() -> None:
    # 300 callers, each call arriving at the portal at a random moment between its start and
    # its answer: every window of arrivals holds at most max_calls (decided on the fake clock,
    # not on a busy machine's timing).
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=20, window=5.0, clock=clock, sleep=clock.sleep)
    rng = random.Random(11)
    arrivals: list[float] = []

    async def caller(index: int) -> None:
        clock.now += rng.uniform(0.0, 0.05)  # callers come in over time
        paced = await pacer.acquire()
        started = clock()
        took = rng.choice([0.01, 0.3, 2.0])
        arrivals.append(started + rng.uniform(0.0, took))
        await clock.sleep(took)
        paced.release()

    await asyncio.gather(*(caller(i) for i in range(300)))
    assert len(arrivals) == 300
    assert_paced(arrivals, 20, 5.0)


async def test_when_every_place_is_under_way_a_waiter_starts_after_one_ends() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=1, window=5.0, clock=clock, sleep=clock.sleep)
    under_way = await pacer.acquire()
    waiter = asyncio.create_task(instant_call(pacer))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done() and pacer.waiting == 1
    clock.now = 1.0
    under_way.release()
    await waiter
    assert clock.now == 6.0


async def test_an_earlier_deadline_is_served_first() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=1, window=5.0, clock=clock, sleep=clock.sleep)
    under_way = await pacer.acquire()
    order: list[str] = []

    async def caller(name: str, deadline: float) -> None:
        await instant_call(pacer, deadline)
        order.append(name)

    late = asyncio.create_task(caller("late", 100.0))
    await asyncio.sleep(0)
    early = asyncio.create_task(caller("early", 50.0))
    await asyncio.sleep(0)
    assert pacer.waiting == 2
    under_way.release()
    await asyncio.gather(late, early)
    assert order == ["early", "late"]


async def test_an_operation_is_admitted_only_when_its_calls_fit_before_its_deadline() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=10, window=5.0, clock=clock, sleep=clock.sleep)
    first = pacer.admission(deadline=30.0)
    first.request(30)  # three windows: the last call starts at 10 s, within 0.8 x 30 s
    assert pacer.reserved == 30
    second = pacer.admission(deadline=30.0)
    with pytest.raises(PacingTimeout) as caught:
        second.request(30)  # behind 30 promised calls its last would start at 25 s > 24 s
    error = caught.value
    assert error.code == "UPSTREAM_RATE_LIMITED"
    assert error.retry_after == pytest.approx(1.0)
    assert "may need up to 30 calls" in error.message
    assert pacer.reserved == 30  # a refusal promises nothing
    for _ in range(10):
        first.take()
    first.release()  # the first operation ended having used 10 of its 30
    assert pacer.reserved == 0
    second.request(30)
    assert pacer.reserved == 30


async def test_promised_calls_count_ahead_of_unpromised_ones() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=2, window=5.0, clock=clock, sleep=clock.sleep)
    await instant_call(pacer)
    await instant_call(pacer)  # the window is full until 5 s
    # An earlier operation was promised two calls: they take the places freeing at 5 s, so a
    # caller due by 9 s would start at 10 s. Refused now (without the promise: admitted).
    pacer.admission(deadline=8.0).request(2)
    with pytest.raises(PacingTimeout) as caught:
        await instant_call(pacer, deadline=9.0)
    assert caught.value.retry_after == pytest.approx(10.0)


async def test_a_hold_pauses_every_call_until_the_portal_said() -> None:
    clock = FakeTime(start=0.0)
    pacer = Pacer(max_calls=100, window=5.0, clock=clock, sleep=clock.sleep)
    pacer.hold(2.0)
    with pytest.raises(PacingTimeout) as caught:
        await instant_call(pacer, deadline=1.0)
    assert caught.value.retry_after == pytest.approx(2.0)
    await instant_call(pacer, deadline=10.0)
    assert clock.now == 2.0
    await instant_call(pacer)  # the hold is over
    assert clock.now == 2.0


# --- QuotaTracker --------------------------------------------------------------------------

REFERENCE_BODY = {
    "limit": "10000",
    "remaining": 9986,
    "reset": "1598160603",
    "formatted_reset": "23/08/2020, 06:30",
}


def wall_at(now: float) -> FakeTime:
    return FakeTime(start=now)


def test_quota_unknown_until_read() -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    assert quota.remaining is None
    assert quota.limit is None
    assert quota.reset_at is None
    assert quota.can_afford(1_000_000)
    assert quota.stale(60.0)
    quota.spend(5)  # nothing to count down yet
    assert quota.remaining is None
    assert quota.snapshot() == {"quotaRemaining": None, "quotaLimit": None, "quotaResetAt": None}


def test_quota_parses_the_reference_body() -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    quota.update(REFERENCE_BODY)
    assert quota.limit == 10000
    assert quota.remaining == 9986
    assert quota.reset_at == 1598160603.0
    assert quota.snapshot() == {
        "quotaRemaining": 9986,
        "quotaLimit": 10000,
        "quotaResetAt": "2020-08-23T05:30:03Z",
    }


def test_quota_accepts_ints_and_strings_alike() -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    quota.update({"limit": 2000, "remaining": "1999", "reset": 1598160603})
    assert (quota.limit, quota.remaining, quota.reset_at) == (2000, 1999, 1598160603.0)
    quota.update({"limit": " 2000 ", "remaining": 1500.0, "reset": "1598160603.0"})
    assert (quota.limit, quota.remaining, quota.reset_at) == (2000, 1500, 1598160603.0)


@pytest.mark.parametrize(
    "body",
    [
        {"limit": "lots", "remaining": "some", "reset": "soon"},
        {"limit": True, "remaining": None, "reset": []},
        {"limit": -1, "remaining": -5, "reset": "nan"},
        {"limit": 1.5, "remaining": float("inf"), "reset": 0},
        {},
        ["not", "a", "mapping"],
        None,
    ],
)
def test_quota_ignores_junk(body: object) -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    quota.update(REFERENCE_BODY)
    quota.update(body)  # type: ignore[arg-type]
    assert (quota.limit, quota.remaining, quota.reset_at) == (10000, 9986, 1598160603.0)


def test_quota_junk_reset_with_good_remaining_drops_the_old_reset() -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    quota.update(REFERENCE_BODY)
    quota.update({"remaining": 50, "reset": "later"})
    assert quota.remaining == 50
    assert quota.reset_at is None
    assert quota.snapshot()["quotaResetAt"] is None


def test_quota_spend_and_can_afford() -> None:
    quota = QuotaTracker(clock_wall=wall_at(1598157000.0))
    quota.update({"limit": "2000", "remaining": 5, "reset": "1598160603"})
    quota.spend()
    quota.spend(2)
    assert quota.remaining == 2
    assert quota.can_afford(2)
    assert not quota.can_afford(3)
    quota.spend(10)
    assert quota.remaining == 0
    assert not quota.can_afford(1)
    assert quota.can_afford(0)
    with pytest.raises(ValueError):
        quota.spend(-1)


def test_quota_stale() -> None:
    wall = wall_at(1598157000.0)
    quota = QuotaTracker(clock_wall=wall)
    assert quota.stale(300.0)
    quota.update(REFERENCE_BODY)
    assert not quota.stale(300.0)
    wall.now += 300.0
    assert not quota.stale(300.0)
    wall.now += 1.0
    assert quota.stale(300.0)
    quota.update(REFERENCE_BODY)
    assert not quota.stale(300.0)


def test_quota_after_reset_time_reads_as_unknown_and_stale() -> None:
    wall = wall_at(1598160000.0)
    quota = QuotaTracker(clock_wall=wall)
    quota.update({"limit": "2000", "remaining": 0, "reset": "1598160603"})
    assert not quota.can_afford(1)
    wall.now = 1598160603.0
    assert quota.remaining is None
    assert quota.reset_at is None
    assert quota.limit == 2000
    assert quota.can_afford(1)
    assert quota.stale(3600.0)
    assert quota.snapshot() == {"quotaRemaining": None, "quotaLimit": 2000, "quotaResetAt": None}
