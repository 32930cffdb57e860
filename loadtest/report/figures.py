"""The figures reported for an arm: how each is read from an ``ArmResult``, written, and
which direction is an improvement; one table shared by every report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from loadtest.report import units
from loadtest.results import ArmResult, RunResult

NOT_MEASURED = "—"

TABLE_CAPTION = (
    "Latency in ms, corrected for coordinated omission (from each request's intended send); "
    'per-op figures per business operation; — = not measured; "Go:" arms run pricing and '
    "inventory in Go."
)

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Figure:
    """One figure of an arm; ``read`` gives None where it was not measured."""

    label: str
    read: Callable[[ArmResult], float | None]
    show: Callable[[float], str]
    better: Better | None = None
    """The direction of an improvement; None for figures that only describe the run."""

    def text(self, arm: ArmResult) -> str:
        value = self.read(arm)
        return NOT_MEASURED if value is None else self.show(value)


def latency_summary(arm: ArmResult, histogram: str = "corrected") -> dict[str, float] | None:
    """One histogram's summary in ms (stored, else decoded); None when absent or empty."""
    summary = arm.summaries.get(histogram)
    if summary is None:
        latency = arm.latency(histogram)
        summary = latency.summary().as_dict() if latency is not None else None
    return summary if summary and summary.get("count") else None


def _percentile(key: str) -> Callable[[ArmResult], float | None]:
    def read(arm: ArmResult) -> float | None:
        summary = latency_summary(arm)
        return None if summary is None else summary.get(key)

    return read


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


OPERATIONS = Figure("ops", lambda arm: float(arm.operations), units.count)
OK = Figure("ok", lambda arm: float(arm.ok), units.count)
ERRORS = Figure("errors", lambda arm: float(sum(arm.errors.values())), units.count, "lower")
THROUGHPUT = Figure("throughput/s", lambda arm: arm.throughput_per_s, units.rate, "higher")
P50 = Figure("p50 ms", _percentile("p50"), units.ms, "lower")
P90 = Figure("p90 ms", _percentile("p90"), units.ms, "lower")
P99 = Figure("p99 ms", _percentile("p99"), units.ms, "lower")
P999 = Figure("p99.9 ms", _percentile("p99.9"), units.ms, "lower")
MAX = Figure("max ms", _percentile("max"), units.ms, "lower")
CALLS = Figure("calls/op", lambda arm: arm.chattiness.calls, units.per_op, "lower")
MESSAGES = Figure("messages/op", lambda arm: arm.chattiness.messages, units.per_op, "lower")
NEW_CONNECTIONS = Figure(
    "new conns/op", lambda arm: arm.chattiness.new_connections, units.per_op, "lower"
)
WIRE_BYTES = Figure(
    "wire bytes/op", lambda arm: arm.chattiness.wire_bytes, units.byte_size, "lower"
)
SEGMENTS = Figure("segments/op", lambda arm: arm.chattiness.segments, units.per_op, "lower")
SERVER_CPU_MS = Figure("server CPU ms/op", lambda arm: _ms(arm.cpu.server_s), units.ms, "lower")
LOADER_CPU_MS = Figure("loader CPU ms/op", lambda arm: _ms(arm.cpu.loader_s), units.ms, "lower")
PER_CORE = Figure(
    "ops/s per server core", lambda arm: arm.throughput_per_server_core, units.rate, "higher"
)

TABLE = (
    THROUGHPUT,
    P50,
    P90,
    P99,
    P999,
    MAX,
    CALLS,
    NEW_CONNECTIONS,
    WIRE_BYTES,
    SERVER_CPU_MS,
    PER_CORE,
)
"""The arm table's figures, after the arm, its scenario, ops and ok / errors."""

COMPARED = (
    OPERATIONS,
    OK,
    ERRORS,
    THROUGHPUT,
    P50,
    P90,
    P99,
    P999,
    MAX,
    CALLS,
    MESSAGES,
    NEW_CONNECTIONS,
    WIRE_BYTES,
    SEGMENTS,
    SERVER_CPU_MS,
    LOADER_CPU_MS,
    PER_CORE,
)
"""Every figure a diff of two runs compares."""


def arm_title(arm: ArmResult) -> str:
    return arm.label or arm.name


def scenario_text(arm: ArmResult) -> str:
    return f"{arm.scenario} N={arm.items}" if arm.items > 1 else arm.scenario


def arm_table(run: RunResult) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of the arm table, one row per arm."""
    headers = ["arm", "scenario", "ops", "ok / errors", *(figure.label for figure in TABLE)]
    rows = [
        [
            arm_title(arm),
            scenario_text(arm),
            units.count(arm.operations),
            f"{units.count(arm.ok)} / {ERRORS.text(arm)}",
            *(figure.text(arm) for figure in TABLE),
        ]
        for arm in run.arms
    ]
    return headers, rows
