"""One phase of a chaos run: open-loop checkouts, one fault injected mid-way, then the
books checked once the mesh has recovered.

The load is the load test's open loop (``loadtest.schedule.run_open``: operation *i* is
intended at ``start + i/rate`` whatever happened to the others, latency counted from that
intended time). Each phase draws its items from a SKU pool of its own, so a phase's stock
figures are its own orders' doing. After the load: the retry pass (if the fault has one),
a "sentinel" order placed once the mesh serves again (it also marks the end of the log
to read), a bounded wait until every order of the phase is terminal (the restart and the
periodic sweep finish interrupted sagas), then one read of the books and the invariants.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from loadtest.chaos.books import TERMINAL_EVENTS, TERMINAL_STATES, Books, Event, OrderView
from loadtest.chaos.checkout import CONFIRMED, DECLINED_CARD, GOOD_CARD, SETTLED, Checkout
from loadtest.chaos.faults import MID_SAGA_DELAY_S, SLOW_DELAY_S, Fault, Kind
from loadtest.chaos.figures import Attempt, PhaseResult, Timeline, measure, recovered
from loadtest.chaos.invariants import Snapshot, check
from loadtest.chaos.mesh import DRAIN_DELAY_S, GRACE_S, ChaosMesh
from loadtest.schedule import Outcome, Window, run_open

T = TypeVar("T")
R = TypeVar("R")
READ_CONCURRENCY = 16
RETRY_CONCURRENCY = 8
POLL_S = 0.25
"""How often unfinished orders are looked at again while the recovery sweep works."""
SENTINEL_PAUSE_S = 0.5
BUSY_WAIT_S = 2.0
"""At most this long after ``pre_s`` for a request to be in flight before a mid-saga fault."""


@dataclass(frozen=True)
class Settings:
    rate_per_s: float = 20.0
    items: int = 3
    """Line items per order (distinct SKUs of the phase's pool, one unit each)."""
    pre_s: float = 2.0
    hold_s: float = 3.0
    post_s: float = 3.0
    deadline_s: float = 2.0
    """Each PlaceOrder's deadline (orders passes what is left on to its calls)."""
    decline_every: int = 10
    """Every n-th order pays with a card that is declined, so compensation always runs."""
    recovery_timeout_s: float = 30.0
    back_timeout_s: float = 45.0
    drain_s: float = 10.0


@dataclass
class Run:
    """What phases of one variant share: the run's id, the seeded stock, the log read so
    far and which keys created which orders."""

    run_id: str
    checkout: Checkout
    books: Books
    settings: Settings
    seeded: dict[str, int] = field(default_factory=dict)
    last_sequence: int = 0
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    baseline_p99_ms: float = 0.0


def skus(pool: Sequence[str], number: int, items: int) -> list[str]:
    """``items`` distinct SKUs of the pool, rotating so consecutive orders spread."""
    start = number * items
    return [pool[(start + i) % len(pool)] for i in range(items)]


class Phase:
    """One fault's phase against a running mesh."""

    def __init__(
        self, run: Run, mesh: ChaosMesh, fault: Fault, pool: Sequence[str], index: int
    ) -> None:
        self.run = run
        self.mesh = mesh
        self.fault = fault
        self.pool = pool
        self.settings = run.settings
        self.prefix = f"{run.run_id}-{index:02d}-{fault.name}"
        self.attempts: list[Attempt] = []
        self.result = PhaseResult(fault.name, fault.what)
        self.events: list[Event] = []
        """The log as read after the phase."""
        self._in_flight = 0
        self._busy = asyncio.Event()
        self._sentinels = itertools.count()
        self._deadline_s = self.settings.deadline_s
        if fault.settle_before_signal:
            # What is judged is the drain: each call gets the drain's own budget, so one
            # that fails failed because of the drain, not because a busy machine made a
            # checkout slower than the run's deadline.
            self._deadline_s = max(self._deadline_s, DRAIN_DELAY_S + GRACE_S)

    async def run_phase(self) -> PhaseResult:
        began = time.monotonic()
        settings = self.settings
        start = time.monotonic()
        window = Window(
            duration_s=settings.pre_s + settings.hold_s + settings.post_s, drain_s=settings.drain_s
        )
        timeline = Timeline()
        injecting = asyncio.create_task(self._inject(start, timeline))
        try:
            await run_open(self._operation(start), settings.rate_per_s, window)
            await asyncio.wait_for(asyncio.shield(injecting), settings.back_timeout_s)
        finally:
            injecting.cancel()
            await asyncio.gather(injecting, return_exceptions=True)
        if self.fault.retry_after:
            await self._retry_every_key()
        await self._settle_and_check()
        self._measure(timeline)
        self.result.seconds = time.monotonic() - began
        return self.result

    # the load ------------------------------------------------------------------------

    def _operation(self, start: float) -> Callable[[int], Awaitable[Outcome]]:
        rate = self.settings.rate_per_s

        async def operation(number: int) -> Outcome:
            intended = start + number / rate
            key = f"{self.prefix}-{number:05d}"
            copies = [self._deliver(key, number, c, intended) for c in range(self.fault.copies)]
            first, *_ = await asyncio.gather(*copies)
            return Outcome(first.outcome in SETTLED, first.outcome)

        return operation

    async def _deliver(self, key: str, number: int, copy: int, intended: float) -> Attempt:
        settings = self.settings
        declined = number % settings.decline_every == settings.decline_every - 1
        card = DECLINED_CARD if declined and number >= 0 else GOOD_CARD
        items = [(sku, 1) for sku in skus(self.pool, max(number, 0), settings.items)]
        attempt = Attempt(key, number, copy, intended, time.monotonic())
        self.attempts.append(attempt)
        self._in_flight += 1
        self._busy.set()
        try:
            answer = await self.run.checkout.place(key, items, card, self._deadline_s)
            attempt.outcome, attempt.order_id = answer.outcome, answer.order_id
        except asyncio.CancelledError:
            attempt.outcome = "unfinished"
            raise
        except Exception as exc:  # a client bug must show as a failure, not end the phase
            attempt.outcome = f"exception {type(exc).__name__}"
        finally:
            attempt.ended, attempt.ended_wall = time.monotonic(), time.time()
            self._in_flight -= 1
            if not self._in_flight:
                self._busy.clear()
        return attempt

    async def _retry_every_key(self) -> None:
        """Every key of the load once more, as a client that never saw an answer would."""
        slots = asyncio.Semaphore(RETRY_CONCURRENCY)
        first = [a for a in self.attempts if a.copy == 0 and a.number >= 0]

        async def retry(attempt: Attempt) -> None:
            async with slots:
                await self._deliver(
                    attempt.key, attempt.number, self.fault.copies, time.monotonic()
                )

        await asyncio.gather(*(retry(attempt) for attempt in first))
        self.result.notes.append(f"{len(first)} keys retried after the fault")

    # the fault -----------------------------------------------------------------------

    async def _inject(self, start: float, timeline: Timeline) -> None:
        fault, settings, mesh = self.fault, self.settings, self.mesh
        if fault.kind is Kind.NONE:
            return
        if fault.mid_saga:
            await _until(start + settings.pre_s - 1.0)
            mesh.relays["payments"].slow(MID_SAGA_DELAY_S)
        await _until(start + settings.pre_s)
        try:
            if fault.mid_saga:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._busy.wait(), BUSY_WAIT_S)
            timeline.inject, timeline.in_flight = time.monotonic(), self._in_flight
            await self._hit(timeline)
            timeline.heal = time.monotonic()
        finally:
            for relay in mesh.relays.values():
                relay.heal()

    async def _hit(self, timeline: Timeline) -> None:
        fault, mesh, hold = self.fault, self.mesh, self.settings.hold_s
        target = fault.target
        if fault.restarts:
            before = mesh.restarts(target)
            signum = signal.SIGKILL if fault.kind is Kind.KILL else signal.SIGTERM
            mesh.signal(target, signum)
            try:
                await mesh.back(target, before + 1, self.settings.back_timeout_s)
            except TimeoutError:
                self.result.unmet.append(
                    f"{target} not SERVING again within {self.settings.back_timeout_s:g}s"
                )
                return
            assert timeline.inject is not None
            self.result.notes.append(
                f"{target} back after {time.monotonic() - timeline.inject:.1f}s"
            )
        elif fault.kind is Kind.STOP:
            mesh.signal(target, signal.SIGSTOP)
            try:
                await asyncio.sleep(hold)
            finally:
                mesh.signal(target, signal.SIGCONT)
        else:
            relay = mesh.relays[target]
            if fault.kind is Kind.SLOW:
                relay.slow(SLOW_DELAY_S)
            elif fault.kind is Kind.ONE_WAY:
                relay.hang_replies()
            else:
                relay.cut()
            await asyncio.sleep(hold)
        if fault.mid_saga:
            self.result.notes.append(f"{timeline.in_flight} in flight at the {fault.kind.value}")

    # after the load --------------------------------------------------------------------

    async def _settle_and_check(self) -> None:
        run = self.run
        try:
            events = await self._log_through_sentinel(run.last_sequence)
            orders = await self._settled(self._phase_orders(events))
            if any(_terminal_event_missing(events, order) for order in orders.values()):
                # Some finished after the first read: read the log on, through a new sentinel.
                events += await self._log_through_sentinel(events[-1].sequence)
                orders = await self._settled(self._phase_orders(events))
        except SentinelFailed as exc:
            self.result.unmet.append(f"books not checked: {exc}")
            return
        for event in events:
            if event.type == "CREATED":
                run.created[event.detail].append(event.order_id)
        self.events = events
        snapshot = await self._snapshot(events, orders)
        self.result.violations = check(snapshot)
        run.last_sequence = events[-1].sequence
        refunded = [c for c in snapshot.charges.values() if c is not None and c.state == "REFUNDED"]
        self.result.refunded = len(refunded)
        if refunded:
            self.result.notes.append(f"{len(refunded)} charges taken and refunded")

    async def _log_through_sentinel(self, after: int) -> list[Event]:
        """Places a sentinel order (retrying with fresh keys until one confirms) and reads
        the log from ``after`` through its terminal event."""
        settings = self.settings
        deadline = time.monotonic() + settings.recovery_timeout_s
        while True:
            number = next(self._sentinels)
            attempt = await self._deliver(
                f"{self.prefix}-sentinel-{number}", -1, 0, time.monotonic()
            )
            if attempt.outcome == CONFIRMED:
                break
            if time.monotonic() > deadline:
                raise SentinelFailed(
                    f"the mesh did not confirm an order within {settings.recovery_timeout_s:g}s"
                    f" after the fault (last answer: {attempt.outcome})"
                )
            await asyncio.sleep(SENTINEL_PAUSE_S)
        return await self.run.books.events(after, attempt.order_id, settings.recovery_timeout_s)

    def _phase_orders(self, events: Sequence[Event]) -> list[str]:
        return [
            e.order_id for e in events if e.type == "CREATED" and e.detail.startswith(self.prefix)
        ]

    async def _settled(self, order_ids: Sequence[str]) -> dict[str, OrderView]:
        """The orders, re-read until each is terminal or the recovery timeout passed."""
        books, settings = self.run.books, self.settings
        orders = dict(zip(order_ids, await _gather(books.order, order_ids), strict=True))
        deadline = time.monotonic() + settings.recovery_timeout_s
        while (pending := [o for o, v in orders.items() if v.state not in TERMINAL_STATES]) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(POLL_S)
            orders.update(zip(pending, await _gather(books.order, pending), strict=True))
        return orders

    async def _snapshot(self, events: list[Event], orders: dict[str, OrderView]) -> Snapshot:
        books = self.run.books
        keys = [line.reservation_key for order in orders.values() for line in order.lines]
        ids = list(orders)
        reservations = await _gather(books.reservation, keys)
        charges = await _gather(books.charge, [f"{order_id}/charge" for order_id in ids])
        stock = await _gather(books.stock, list(self.pool))
        named: dict[str, set[str]] = defaultdict(set)
        for attempt in self.attempts:
            named[attempt.key].add(attempt.order_id)
        phase_keys = {a.key for a in self.attempts}
        return Snapshot(
            seeded=self.run.seeded,
            stock=dict(zip(self.pool, stock, strict=True)),
            orders=orders,
            reservations=dict(zip(keys, reservations, strict=True)),
            charges=dict(zip(ids, charges, strict=True)),
            events=events,
            after=self.run.last_sequence,
            created={key: self.run.created.get(key, []) for key in phase_keys},
            named=named,
        )

    # the figures ---------------------------------------------------------------------

    def _measure(self, timeline: Timeline) -> None:
        result, settings = self.result, self.settings
        first = next((a.intended for a in self.attempts if a.number == 0), 0.0)
        quiet = (first + settings.pre_s, first + settings.pre_s + settings.hold_s)
        measure(result, self.fault, self.attempts, timeline, quiet)
        if self.fault.kind is Kind.NONE:
            self.run.baseline_p99_ms = result.p99_ms
        if self.run.baseline_p99_ms:
            result.p99_vs_baseline = result.p99_ms / self.run.baseline_p99_ms
        result.recovered = recovered(self.attempts, self.events, self.run.created)


class SentinelFailed(RuntimeError):
    """The mesh did not serve again after the fault."""


async def _until(when: float) -> None:
    if (wait := when - time.monotonic()) > 0:
        await asyncio.sleep(wait)


def _terminal_event_missing(events: Sequence[Event], order: OrderView) -> bool:
    """A terminal order whose terminal event is not in ``events`` (it came later)."""
    return order.state in TERMINAL_STATES and not any(
        e.order_id == order.order_id and e.type in TERMINAL_EVENTS for e in events
    )


async def _gather(read: Callable[[T], Awaitable[R]], items: Sequence[T]) -> list[R]:
    slots = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(item: T) -> R:
        async with slots:
            return await read(item)

    return list(await asyncio.gather(*(one(item) for item in items)))
