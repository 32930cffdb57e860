"""The issue's performance goals for the checkout scenario, checked against a run, once
per language of the priced and reserved services: the all-Python arms, and the ``-go``
arms whose pricing and inventory run in Go (the same goals, on the arms that exist).

Each goal becomes a ``GoalRow``: met, not met, or not measured (None) with the reason, so
a report never passes a goal it could not check.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from loadtest.arms import ARMS
from loadtest.report import figures
from loadtest.results import ArmResult, RunResult
from meshkit.manifest import GO, PYTHON

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
class Language:
    """Which arms a block of goals judges: those whose pricing and inventory run ``impl``,
    named like the Python arms plus ``suffix``."""

    impl: str
    title: str
    suffix: str

    def owns(self, name: str) -> bool:
        known = ARMS.get(name)
        return (known.impl if known else PYTHON) == self.impl

    def arm(self, name: str) -> str | None:
        """This language's arm of the Python arm ``name``, None when there is none."""
        named = name + self.suffix
        return named if named in ARMS and self.owns(named) else None


PYTHON_SERVICES = Language(PYTHON, "all services in Python", "")
GO_SERVICES = Language(GO, "pricing and inventory in Go", "-go")
LANGUAGES = (PYTHON_SERVICES, GO_SERVICES)


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


def goal_blocks(run: RunResult) -> list[tuple[Language, list[GoalRow]]]:
    """The goals per language that has checkout arms in the run, Python first."""
    blocks = [(language, goal_rows(run, language)) for language in LANGUAGES]
    return [(language, rows) for language, rows in blocks if rows]


def goal_rows(run: RunResult, language: Language = PYTHON_SERVICES) -> list[GoalRow]:
    """The goals for the run's checkout arms of ``language``; empty when it has none."""
    arms = {
        arm.name: arm for arm in run.arms if arm.scenario == SCENARIO and language.owns(arm.name)
    }
    if not arms:
        return []
    stream, item = STREAM + language.suffix, REST_ITEM + language.suffix
    calls = figures.CALLS.read
    connections = figures.NEW_CONNECTIONS.read
    pooled = [named for name in POOLED_ARMS if (named := language.arm(name))]
    new_connection = language.arm(NEW_CONNECTION_ARM)
    return [
        _bound(
            arms,
            stream,
            calls,
            "calls/op",
            "≤",
            _constant(STREAM_MAX_CALLS),
            f"{STREAM_MAX_CALLS:g}",
        ),
        _bound(arms, item, calls, "calls/op", "≥", _fan_out, "3N+1"),
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
            for name in pooled
        ),
        *(
            [_bound(arms, new_connection, connections, "conns/op", "≥", _fan_out, "3N+1")]
            if new_connection
            else []
        ),
        *(
            _ratio(arms, (stream, item), what, read, sign, limit)
            for what, read, sign, limit in (
                ("wire bytes/op", figures.WIRE_BYTES.read, "≤", WIRE_BYTES_MAX_RATIO),
                ("p99 latency (corrected)", figures.P99.read, "≤", P99_MAX_RATIO),
                ("throughput per server core", figures.PER_CORE.read, "≥", PER_CORE_MIN_RATIO),
            )
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
    names: tuple[str, str],
    what: str,
    read: Callable[[ArmResult], float | None],
    sign: str,
    limit: float,
) -> GoalRow:
    """A goal on the stream arm's figure as a multiple of the REST-per-item arm's."""
    stream_name, item_name = names
    goal = f"{what}: {stream_name} {sign} {limit:g} x {item_name}"
    unit = f"x {item_name}"
    stream, item = arms.get(stream_name), arms.get(item_name)
    if stream is None or item is None:
        missing = " and ".join(name for name in names if name not in arms)
        return GoalRow(goal, None, unit, None, f"no {SCENARIO} arm {missing} in this run")
    if stream.items != item.items:
        note = f"not like for like: N={stream.items} vs N={item.items}"
        return GoalRow(goal, None, unit, None, note)
    numerator, denominator = read(stream), read(item)
    if numerator is None or denominator is None:
        pairs = ((stream_name, numerator), (item_name, denominator))
        unmeasured = [name for name, value in pairs if value is None]
        return GoalRow(goal, None, unit, None, f"not measured on {' and '.join(unmeasured)}")
    if denominator == 0:
        return GoalRow(goal, None, unit, None, f"{item_name}'s figure is 0: no ratio")
    ratio = numerator / denominator
    return GoalRow(goal, ratio, unit, _COMPARE[sign](ratio, limit))
