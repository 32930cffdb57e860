"""The issue's performance goals for the checkout scenario, checked against a run.

Each goal becomes a ``GoalRow``: met, not met, or not measured (None) with the reason, so
a report never passes a goal it could not check.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from loadtest.report import figures
from loadtest.results import ArmResult, RunResult

SCENARIO = "checkout"
STREAM = "grpc-stream"
REST_ITEM = "rest-item"
NEW_CONNECTION_ARM = "rest-item-newconn"
POOLED_ARMS = ("grpc-stream", "grpc-unary", "rest-item", "rest-batch", "gateway")

STREAM_MAX_CALLS = 4.0
ZERO_CONNECTIONS_BELOW = 0.01
"""Connections are counted kernel-wide in the run's namespace, so a stray one (a probe, a
reconnect) over thousands of operations is noise, not a connection per operation."""
WIRE_BYTES_MAX_RATIO = 0.5
P99_MAX_RATIO = 0.7
PER_CORE_MIN_RATIO = 1.5

Compare = Callable[[float, float], bool]


@dataclass(frozen=True)
class GoalRow:
    """One goal: what it asks, the measured value, and whether it was met (None: unknown)."""

    goal: str
    measured: float | None
    unit: str
    met: bool | None
    note: str = ""

    def measured_text(self) -> str:
        if self.measured is None:
            return figures.NOT_MEASURED
        return f"{self.measured:.2f} {self.unit}"


def goal_rows(run: RunResult) -> list[GoalRow]:
    """The goals for the run's checkout arms; empty when the run has no checkout arm."""
    arms = {arm.name: arm for arm in run.arms if arm.scenario == SCENARIO}
    if not arms:
        return []
    calls = figures.CALLS.read
    connections = figures.NEW_CONNECTIONS.read
    return [
        _bound(
            arms,
            STREAM,
            calls,
            "calls/op",
            "≤",
            _constant(STREAM_MAX_CALLS),
            f"{STREAM_MAX_CALLS:g}",
        ),
        _bound(arms, REST_ITEM, calls, "calls/op", "≥", _fan_out, "3N+1"),
        *(
            _bound(
                arms,
                name,
                connections,
                "conns/op",
                "<",
                _no_connection,
                f"{ZERO_CONNECTIONS_BELOW:g} (none)",
            )
            for name in POOLED_ARMS
        ),
        _bound(arms, NEW_CONNECTION_ARM, connections, "conns/op", "≥", _fan_out, "3N+1"),
        _ratio(arms, "wire bytes/op", figures.WIRE_BYTES.read, "≤", WIRE_BYTES_MAX_RATIO),
        _ratio(arms, "p99 latency (corrected)", figures.P99.read, "≤", P99_MAX_RATIO),
        _ratio(
            arms,
            "throughput per server core",
            figures.PER_CORE.read,
            "≥",
            PER_CORE_MIN_RATIO,
        ),
    ]


def _fan_out(items: int) -> float:
    """3N+1: each of N items costs a call to each of three services, plus one for the order."""
    return 3.0 * items + 1


def _constant(limit: float) -> Callable[[int], float]:
    return lambda items: limit


_no_connection = _constant(ZERO_CONNECTIONS_BELOW)

_COMPARE: dict[str, Compare] = {"≤": operator.le, "≥": operator.ge, "<": operator.lt}


def _bound(
    arms: Mapping[str, ArmResult],
    name: str,
    read: Callable[[ArmResult], float | None],
    unit: str,
    sign: str,
    limit: Callable[[int], float],
    formula: str,
) -> GoalRow:
    """A goal on one arm's figure; ``limit`` takes the arm's N items, ``formula`` names it."""
    goal = f"{name}: {unit} {sign} {formula}"
    arm = arms.get(name)
    if arm is None:
        return GoalRow(goal, None, unit, None, f"no {SCENARIO} arm {name} in this run")
    bound = limit(arm.items)
    if "N" in formula:
        goal += f" = {bound:g} (N={arm.items})"
    value = read(arm)
    if value is None:
        return GoalRow(goal, None, unit, None, "not measured")
    return GoalRow(goal, value, unit, _COMPARE[sign](value, bound))


def _ratio(
    arms: Mapping[str, ArmResult],
    what: str,
    read: Callable[[ArmResult], float | None],
    sign: str,
    limit: float,
) -> GoalRow:
    """A goal on grpc-stream's figure as a multiple of rest-item's."""
    goal = f"{what}: {STREAM} {sign} {limit:g} x {REST_ITEM}"
    unit = f"x {REST_ITEM}"
    stream, item = arms.get(STREAM), arms.get(REST_ITEM)
    if stream is None or item is None:
        missing = " and ".join(name for name in (STREAM, REST_ITEM) if name not in arms)
        return GoalRow(goal, None, unit, None, f"no {SCENARIO} arm {missing} in this run")
    if stream.items != item.items:
        note = f"not like for like: N={stream.items} vs N={item.items}"
        return GoalRow(goal, None, unit, None, note)
    numerator, denominator = read(stream), read(item)
    if numerator is None or denominator is None:
        unmeasured = [n for n, v in ((STREAM, numerator), (REST_ITEM, denominator)) if v is None]
        return GoalRow(goal, None, unit, None, f"not measured on {' and '.join(unmeasured)}")
    if denominator == 0:
        return GoalRow(goal, None, unit, None, f"{REST_ITEM}'s figure is 0: no ratio")
    ratio = numerator / denominator
    return GoalRow(goal, ratio, unit, _COMPARE[sign](ratio, limit))
