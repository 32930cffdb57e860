"""A phase's figures, from what its deliveries saw and what the log says: operations by
outcome, latency while the fault lasted, orders finished after their caller's answer,
and the fault's own expectations (pure functions: no mesh, no clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loadtest.chaos.books import TERMINAL_EVENTS, Event
from loadtest.chaos.checkout import CONFIRMED, DECLINED, SETTLED
from loadtest.chaos.faults import Fault
from loadtest.chaos.invariants import Violation
from loadtest.histogram import Latency


@dataclass
class Attempt:
    """One delivery of one PlaceOrder (monotonic times, and the wall time it ended)."""

    key: str
    number: int
    """The operation's number in the phase; -1 for a sentinel."""
    copy: int
    """0 for the load's first delivery; duplicates and retries count up."""
    intended: float
    sent: float
    ended: float = 0.0
    ended_wall: float = 0.0
    outcome: str = "unfinished"
    order_id: str = ""


@dataclass
class Timeline:
    """When the fault began and ended (monotonic), and how many calls were in flight."""

    inject: float | None = None
    heal: float | None = None
    in_flight: int = 0


@dataclass
class PhaseResult:
    fault: str
    what: str
    operations: int = 0
    confirmed: int = 0
    declined: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    recovered: int = 0
    """Orders finished after their caller's answer: by a restart, the sweep or a retry."""
    refunded: int = 0
    """Charges of the phase's orders that were captured, then refunded by compensation."""
    violations: list[Violation] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    """Expectations of this fault that did not hold."""
    notes: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    """Over the operations intended while the fault lasted (without a fault: the window
    one would have had)."""
    p99_vs_baseline: float = 0.0
    seconds: float = 0.0
    not_run: str = ""

    @property
    def passed(self) -> bool:
        return not self.not_run and not self.violations and not self.unmet


def measure(
    result: PhaseResult,
    fault: Fault,
    attempts: Sequence[Attempt],
    timeline: Timeline,
    quiet: tuple[float, float],
) -> None:
    """Counts, latency, duplicates and the fault's expectations into ``result``.

    ``quiet`` is the latency window of a phase without a fault: where a fault would be,
    past the first seconds that on a fresh mesh include its warm-up.
    """
    first = [a for a in attempts if a.copy == 0 and a.number >= 0]
    result.operations = len(first)
    outcomes = Counter(a.outcome for a in first)
    result.confirmed = outcomes.pop(CONFIRMED, 0)
    result.declined = outcomes.pop(DECLINED, 0)
    result.failures = dict(outcomes.most_common())
    if extra := sum(1 for a in attempts if a.copy > 0):
        result.notes.append(f"{extra} duplicate deliveries")
    inject, heal = timeline.inject, timeline.heal
    low, high = (inject, heal or inject) if inject is not None else quiet
    during = Latency()
    for attempt in first:
        if low <= attempt.intended <= high:
            during.record_s(attempt.ended - attempt.intended)
    summary = during.summary()
    result.p50_ms, result.p99_ms = summary.p50, summary.p99
    if fault.all_settle and (failed := sum(outcomes.values())):
        result.unmet.append(f"{failed} operations failed under a fault that should only slow")
    if fault.settle_before_signal and inject is not None:
        before = [a for a in first if a.sent < inject and a.outcome not in SETTLED]
        if before:
            how = ", ".join(f"{n} {o}" for o, n in Counter(a.outcome for a in before).items())
            result.unmet.append(f"{len(before)} calls sent before the signal failed: {how}")
        else:
            sent = sum(a.sent < inject for a in first)
            result.notes.append(f"all {sent} calls sent before the signal succeeded")
    failed_at = [a.ended for a in first if a.outcome not in SETTLED]
    if failed_at and inject is not None:
        note = f"failing until {max(failed_at) - inject:.1f}s after the injection"
        if heal is not None and not fault.restarts:
            note += f" ({max(0.0, max(failed_at) - heal):.1f}s after the heal)"
        result.notes.append(note)


def recovered(
    attempts: Sequence[Attempt], events: Sequence[Event], created: Mapping[str, Sequence[str]]
) -> int:
    """Orders whose terminal event came after the answer to their key's first delivery:
    finished by a restart's sweep, the periodic sweep or a retry."""
    answered = {a.key: a.ended_wall for a in attempts if a.copy == 0}
    key_of = {order_id: key for key, ids in created.items() for order_id in ids}
    finished = {e.order_id: e.time.timestamp() for e in events if e.type in TERMINAL_EVENTS}
    return sum(
        1
        for order_id, at in finished.items()
        if (key := key_of.get(order_id)) in answered and at > answered[key]
    )
