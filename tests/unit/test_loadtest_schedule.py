"""The load models account time honestly: open-loop latency runs from the intended send
time, so a stall shows up corrected and is hidden uncorrected, and both loops stop by
themselves."""

from __future__ import annotations

import asyncio

import pytest

from loadtest.schedule import Outcome, Window, run_closed, run_open


class FakeTime:
    """A clock that only moves when something sleeps or stalls."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_stall_shows_in_corrected_latency_and_not_in_uncorrected() -> None:
    """At 100/s, a 300 ms stall of the generator at the 10th request leaves the ~30
    requests intended meanwhile late: each is answered at once after it is sent, so the
    uncorrected histogram sees ~0 while the corrected one sees up to 300 ms, and the lag
    histogram says by how much the generator fell behind."""
    fake = FakeTime()

    async def operation(number: int) -> Outcome:
        if number == 10:
            fake.now += 0.3  # the process is stalled (GC, a blocked loop) for 300 ms
        return Outcome(True)

    recording = await run_open(
        operation, 100, Window(duration_s=1.0), clock=fake.clock, sleep=fake.sleep
    )
    assert recording.operations == recording.ok == 100
    corrected, uncorrected, lag = (
        recording.corrected.summary(),
        recording.uncorrected.summary(),
        recording.lag.summary(),
    )
    assert (
        uncorrected.p99 <= 0.001
    )  # only the stalled request itself took any time (1 µs: the floor)
    assert uncorrected.max == pytest.approx(300, rel=0.01)
    # The late requests go out together at the generator's next pause, 10 ms after it
    # caught up: the 11th, due at 110 ms, is sent at 420 ms.
    assert corrected.max == pytest.approx(310, rel=0.01)
    assert corrected.p90 >= 100  # ~30 % of the requests were delayed 0-300 ms
    assert lag.max == pytest.approx(310, rel=0.01)


async def test_warmup_is_sent_but_not_recorded_and_the_cap_stops_the_run() -> None:
    """Requests intended during the warm-up run but are not measured; ``max_operations``
    ends the measured window early."""
    fake = FakeTime()
    seen: list[int] = []

    async def operation(number: int) -> Outcome:
        seen.append(number)
        return Outcome(True)

    window = Window(duration_s=10.0, warmup_s=0.5, max_operations=20)
    recording = await run_open(operation, 100, window, clock=fake.clock, sleep=fake.sleep)
    assert recording.first_measured == 50
    assert recording.operations == 20
    assert seen == list(range(70))


async def test_failures_are_counted_by_status_and_exceptions_do_not_stop_the_run() -> None:
    """An operation that fails or raises is an error by status, never a lost request."""
    fake = FakeTime()

    async def operation(number: int) -> Outcome:
        if number % 3 == 0:
            raise ConnectionError("reset")
        return Outcome(number % 3 == 1, "OK" if number % 3 == 1 else "http 503")

    recording = await run_open(
        operation, 10, Window(duration_s=3.0), clock=fake.clock, sleep=fake.sleep
    )
    assert recording.operations == 30
    assert recording.ok == 10
    assert recording.errors == {"exception ConnectionError": 10, "http 503": 10}


async def test_requests_never_answered_are_failures_after_the_drain() -> None:
    """Requests still unanswered when the drain ends are counted as unfinished."""

    async def operation(number: int) -> Outcome:
        if number >= 5:
            await asyncio.Event().wait()  # never answers
        return Outcome(True)

    recording = await run_open(operation, 100, Window(duration_s=0.1, drain_s=0.05))
    assert recording.ok == 5
    assert recording.errors == {"unfinished": 5}
    assert recording.operations == 10


async def test_closed_loop_keeps_concurrency_requests_in_flight() -> None:
    """Each of N workers sends its next request only when its last one is answered."""
    in_flight = 0
    most = 0

    async def operation(number: int) -> Outcome:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return Outcome(True, message_latencies_s=(0.0005,))

    recording = await run_closed(operation, 4, Window(duration_s=0.2, max_operations=40))
    assert most == 4
    assert recording.operations == recording.ok >= 40
    assert recording.per_message.count == recording.operations
    summary = recording.corrected.summary()
    assert summary.p50 == recording.uncorrected.summary().p50
