"""A chaos phase's figures from its deliveries: counts by outcome, the latency window,
what "recovered" counts, and the expectations of the SIGTERM and slow-link faults."""

from __future__ import annotations

import datetime

from loadtest.chaos.books import Event
from loadtest.chaos.faults import CATALOGUE
from loadtest.chaos.figures import Attempt, PhaseResult, Timeline, measure, recovered

QUIET = (2.0, 5.0)


def _attempt(
    number: int, outcome: str, *, sent: float, took: float = 0.01, copy: int = 0
) -> Attempt:
    return Attempt(
        f"k{number}", number, copy, intended=sent, sent=sent, ended=sent + took, outcome=outcome
    )


def _measured(fault: str, attempts: list[Attempt], timeline: Timeline) -> PhaseResult:
    result = PhaseResult(fault, "")
    measure(result, CATALOGUE[fault], attempts, timeline, QUIET)
    return result


def test_outcomes_count_first_deliveries_only() -> None:
    """Duplicates and sentinels are not operations: counts come from each key's first
    delivery; extra deliveries are noted."""
    attempts = [
        _attempt(0, "confirmed", sent=1.0),
        _attempt(0, "UNAVAILABLE", sent=1.0, copy=1),
        _attempt(1, "declined", sent=1.1),
        _attempt(2, "UNAVAILABLE", sent=1.2),
        _attempt(3, "ABORTED SAGA_INTERRUPTED", sent=1.3),
        _attempt(-1, "confirmed", sent=9.0),
    ]
    result = _measured("duplicates", attempts, Timeline())
    assert (result.operations, result.confirmed, result.declined) == (4, 1, 1)
    assert result.failures == {"UNAVAILABLE": 1, "ABORTED SAGA_INTERRUPTED": 1}
    assert "1 duplicate deliveries" in result.notes


def test_latency_is_taken_over_the_fault_window_only() -> None:
    """Only operations intended between the injection and the heal count (without a
    fault, the quiet window): a slow call outside it does not move the p99."""
    inside = [_attempt(n, "confirmed", sent=3.0 + n / 100, took=0.2) for n in range(10)]
    outside = _attempt(99, "confirmed", sent=0.5, took=9.0)
    result = _measured("slow-inventory", [*inside, outside], Timeline(inject=2.9, heal=3.5))
    assert 190 <= result.p99_ms <= 210
    quiet = _measured("baseline", [*inside, outside], Timeline())
    assert quiet.p99_ms == result.p99_ms


def test_sigterm_fails_only_on_calls_sent_before_the_signal() -> None:
    """Calls refused after the signal are counted, not held against the drain; one call
    sent before it that failed breaks the expectation, naming its outcome."""
    after = [_attempt(n, "UNAVAILABLE", sent=5.0 + n) for n in range(3)]
    before = [_attempt(10 + n, "confirmed", sent=1.0 + n / 10) for n in range(4)]
    timeline = Timeline(inject=4.0, heal=8.0)
    held = _measured("term-orders", [*before, *after], timeline)
    assert held.unmet == []
    assert "all 4 calls sent before the signal succeeded" in held.notes
    broken = [*before, _attempt(20, "CANCELLED", sent=3.9), *after]
    assert _measured("term-orders", broken, timeline).unmet == [
        "1 calls sent before the signal failed: 1 CANCELLED"
    ]


def test_a_slow_link_must_fail_nothing() -> None:
    """Under the slow-link fault any failure is an unmet expectation; declines are not."""
    attempts = [_attempt(0, "declined", sent=1.0), _attempt(1, "DEADLINE_EXCEEDED", sent=3.0)]
    result = _measured("slow-inventory", attempts, Timeline(inject=2.0, heal=5.0))
    assert result.unmet == ["1 operations failed under a fault that should only slow"]
    assert "failing until 1.0s after the injection (0.0s after the heal)" in result.notes


def test_recovered_counts_orders_finished_after_their_callers_answer() -> None:
    """An order whose terminal event is later than its first delivery's answer was
    finished by recovery; one finished within the call was not."""
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    def event(order_id: str, seconds: float) -> Event:
        return Event(1, order_id, "FAILED", "", t0 + datetime.timedelta(seconds=seconds))

    answered = t0.timestamp() + 10
    attempts = [
        Attempt("late", 0, 0, 0.0, 0.0, ended_wall=answered),
        Attempt("prompt", 1, 0, 0.0, 0.0, ended_wall=answered),
    ]
    events = [event("ord_late", 12.0), event("ord_prompt", 9.0), event("ord_other", 20.0)]
    created = {"late": ["ord_late"], "prompt": ["ord_prompt"]}
    assert recovered(attempts, events, created) == 1
