"""Load models: open loop at a constant rate, closed loop at a fixed concurrency.

Open loop (the model users experience): request i is *intended* at ``start + i/rate``
whatever happened to request i-1. Latency is measured from that intended time, so a
stall of the server or of this generator shows up in full instead of being hidden by
sending late (coordinated omission). The uncorrected latency (from the actual send) and
the generator's lag (actual send - intended) are kept alongside, so the size of the
correction is visible. Closed loop: ``concurrency`` workers each send the next request
when the previous one answered; there is no intended time, so corrected = uncorrected.

Both stop by themselves: after ``duration_s`` (plus warm-up) or ``max_operations``,
whichever comes first, then wait at most ``drain_s`` for requests in flight. Requests
intended during the warm-up are sent but not recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from loadtest.histogram import Latency

DEFAULT_DRAIN_S = 10.0


@dataclass(frozen=True)
class Outcome:
    """What one business operation ended as."""

    ok: bool
    status: str = "OK"
    """"OK", or e.g. "grpc UNAVAILABLE", "http 503", "timeout", "bad reply"."""
    message_latencies_s: tuple[float, ...] = ()
    """For streams: each reply message's latency from the send of its request message."""


Operation = Callable[[int], Awaitable[Outcome]]
"""Runs business operation number ``n`` (0-based, warm-up included)."""
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Recording:
    """Everything measured in the window after the warm-up."""

    corrected: Latency = field(default_factory=Latency)
    uncorrected: Latency = field(default_factory=Latency)
    lag: Latency = field(default_factory=Latency)
    per_message: Latency = field(default_factory=Latency)
    operations: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    window_start: float = 0.0
    window_end: float = 0.0
    first_measured: int = -1
    """Number of the first operation inside the window (-1: none)."""

    @property
    def window_s(self) -> float:
        return max(self.window_end - self.window_start, 0.0)

    def record(self, outcome: Outcome, intended: float, sent: float, done: float) -> None:
        self.operations += 1
        if outcome.ok:
            self.ok += 1
        else:
            self.errors[outcome.status] = self.errors.get(outcome.status, 0) + 1
        self.corrected.record_s(done - intended)
        self.uncorrected.record_s(done - sent)
        self.lag.record_s(sent - intended)
        for latency in outcome.message_latencies_s:
            self.per_message.record_s(latency)


@dataclass(frozen=True)
class Window:
    """When to measure and when to stop."""

    duration_s: float
    warmup_s: float = 0.0
    max_operations: int = 0
    """0: no cap besides the duration (warm-up operations do not count against it)."""
    drain_s: float = DEFAULT_DRAIN_S


async def run_open(
    operation: Operation,
    rate_per_s: float,
    window: Window,
    *,
    max_in_flight: int = 10_000,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    on_progress: Callable[[Recording], None] | None = None,
) -> Recording:
    """Sends at ``rate_per_s`` on a fixed schedule; latency from each intended time.

    ``max_in_flight`` bounds memory if the target stops answering; a request waiting for
    a slot is still measured from its intended time, so the wait is not hidden.
    """
    if rate_per_s <= 0:
        raise ValueError("rate must be positive")
    recording = Recording()
    slots = asyncio.Semaphore(max_in_flight)
    tasks: set[asyncio.Task[None]] = set()
    start = clock()
    measure_from = start + window.warmup_s
    stop_at = measure_from + window.duration_s
    recording.window_start = measure_from
    interval = 1.0 / rate_per_s
    n = 0
    measured = 0
    unanswered = 0  # measured operations sent and not answered yet

    async def one(number: int, intended: float, counted: bool) -> None:
        nonlocal unanswered
        try:
            sent = clock()
            try:
                outcome = await operation(number)
            except Exception as exc:  # an operation must not kill the generator
                outcome = Outcome(False, f"exception {type(exc).__name__}")
            if counted:
                unanswered -= 1
                recording.record(outcome, intended, sent, clock())
                if on_progress is not None:
                    on_progress(recording)
        finally:
            slots.release()

    while True:
        intended = start + n * interval
        if intended >= stop_at or (window.max_operations and measured >= window.max_operations):
            break
        delay = intended - clock()
        if delay > 0:
            await sleep(delay)
        await slots.acquire()
        counted = intended >= measure_from
        if counted:
            if recording.first_measured < 0:
                recording.first_measured = n
            measured += 1
            unanswered += 1
        task = asyncio.create_task(one(n, intended, counted))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    recording.window_end = clock()
    if not await _drained(tasks, window.drain_s) and unanswered:
        # Still unanswered after the drain: failures, never silently dropped.
        recording.operations += unanswered
        recording.errors["unfinished"] = recording.errors.get("unfinished", 0) + unanswered
    return recording


async def run_closed(
    operation: Operation,
    concurrency: int,
    window: Window,
    *,
    clock: Clock = time.monotonic,
    on_progress: Callable[[Recording], None] | None = None,
) -> Recording:
    """``concurrency`` workers, each sending its next request when the last one answered."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    recording = Recording()
    start = clock()
    measure_from = start + window.warmup_s
    stop_at = measure_from + window.duration_s
    recording.window_start = measure_from
    counter = iter(range(10**12))
    measured = 0

    async def worker() -> None:
        nonlocal measured
        while True:
            sent = clock()
            if sent >= stop_at or (window.max_operations and measured >= window.max_operations):
                return
            number = next(counter)
            counted = sent >= measure_from
            if counted:
                if recording.first_measured < 0:
                    recording.first_measured = number
                measured += 1
            try:
                outcome = await operation(number)
            except Exception as exc:
                outcome = Outcome(False, f"exception {type(exc).__name__}")
            if counted:
                recording.record(outcome, sent, sent, clock())
                if on_progress is not None:
                    on_progress(recording)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        async with asyncio.timeout(window.warmup_s + window.duration_s + window.drain_s):
            await asyncio.gather(*workers)
    except TimeoutError:
        stuck = sum(not w.done() for w in workers)
        recording.operations += stuck
        recording.errors["unfinished"] = stuck
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    recording.window_end = clock()
    return recording


async def _drained(tasks: set[asyncio.Task[None]], drain_s: float) -> bool:
    """Waits for ``tasks`` up to ``drain_s``; cancels the rest. True if all finished."""
    if not tasks:
        return True
    _, pending = await asyncio.wait(set(tasks), timeout=drain_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return not pending
