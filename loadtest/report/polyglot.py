"""The Python-vs-Go table: what one message costs the pricing server in each language.

Two sources from the same run, side by side: the message-cost measurement
(``loadtest.message_cost``: each pricing driven flat out three ways, its own CPU over the
messages it answered) and the quote-stream arms (pricing's CPU per quote line at the
scenario's open-loop rate, from the arms' per-process CPU). Then, per language, what a
gRPC stream message costs relative to a whole REST request: the figure the gRPC goals
hinge on.
"""

from __future__ import annotations

from collections.abc import Iterable

from loadtest.message_cost import GRPC_STREAM, GRPC_UNARY, REST_ITEM, SERVICE, WORKLOADS
from loadtest.report import figures, units
from loadtest.results import ArmResult, MessageCost, RunResult
from meshkit.manifest import GO, PYTHON

HEADERS = [
    "server CPU per message",
    "Python µs",
    "Go µs",
    "Go ÷ Python",
    "Python msg/s",
    "Go msg/s",
]
CAPTION = (
    "Pricing's own CPU (/proc) over the messages it answered, so the loader's cost is left "
    "out; flat-out rows from the message-cost measurement, arm rows from the quote-stream "
    "arms at their open-loop rate; msg/s is wall-clock and on two shared cores the "
    "loader's limit as much as the server's."
)
WORKLOAD_TITLES = {
    GRPC_STREAM: "gRPC QuoteStream message (one bidi stream, flat out)",
    GRPC_UNARY: "gRPC Quote call, one line (8 in flight)",
    REST_ITEM: "REST POST /v1/quotes, one line (8 in flight)",
}
ARM_SHAPES = ("grpc-stream", "grpc-batch", "rest-item", "rest-batch")
ARM_SCENARIO = "quote-stream"


def polyglot_rows(run: RunResult) -> list[list[str]]:
    """The table's rows; empty when the run measured neither message costs nor Go arms."""
    rows = _cost_rows(run.message_costs)
    rows += _arm_rows(run.arms)
    if not rows:
        return []
    return rows + _stream_over_rest(run.message_costs)


def _us(microseconds: float | None) -> str:
    return figures.NOT_MEASURED if microseconds is None else f"{microseconds:,.0f}"


def _ratio(python: float | None, go: float | None) -> str:
    if python is None or go is None or not python:
        return figures.NOT_MEASURED
    return f"{go / python:.2f}"


def _by_workload(costs: Iterable[MessageCost]) -> dict[tuple[str, str], MessageCost]:
    return {(cost.workload, cost.impl): cost for cost in costs}


def _cost_rows(costs: list[MessageCost]) -> list[list[str]]:
    found = _by_workload(costs)
    rows = []
    for workload in WORKLOADS:
        python, go = found.get((workload, PYTHON)), found.get((workload, GO))
        if python is None and go is None:
            continue
        per = [None if c is None else c.cpu_us_per_message for c in (python, go)]
        rates = [None if c is None else c.messages_per_s for c in (python, go)]
        errors = sum(c.errors for c in (python, go) if c is not None)
        title = WORKLOAD_TITLES[workload] + (f", {errors} errors" if errors else "")
        rows.append(
            [
                title,
                _us(per[0]),
                _us(per[1]),
                _ratio(per[0], per[1]),
                *(figures.NOT_MEASURED if r is None else units.rate(r) for r in rates),
            ]
        )
    return rows


def _pricing_per_line_us(arm: ArmResult | None) -> float | None:
    """Pricing's CPU per quote line in an arm, in µs (its process, either transport)."""
    if arm is None or not arm.cpu.by_process:
        return None
    seconds = sum(s for name, s in arm.cpu.by_process.items() if name.split("-")[0] == SERVICE)
    return seconds / arm.items * 1e6


def _arm_rows(arms: list[ArmResult]) -> list[list[str]]:
    quotes = {arm.name: arm for arm in arms if arm.scenario == ARM_SCENARIO}
    rows = []
    for shape in ARM_SHAPES:
        python, go = quotes.get(shape), quotes.get(f"{shape}-go")
        if go is None:  # without a Go arm there is nothing to set side by side
            continue
        per = [_pricing_per_line_us(python), _pricing_per_line_us(go)]
        rate = go.rate_per_s if go.model == "open" and go.rate_per_s else None
        at = f"{units.rate(rate)} quotes/s of {go.items}" if rate else f"{go.model} loop"
        rows.append(
            [
                f"quote-stream arm {shape}: per quote line ({at})",
                _us(per[0]),
                _us(per[1]),
                _ratio(per[0], per[1]),
                figures.NOT_MEASURED,
                figures.NOT_MEASURED,
            ]
        )
    return rows


def _stream_over_rest(costs: list[MessageCost]) -> list[list[str]]:
    """Per language, a stream message's CPU as a multiple of a REST request's."""
    found = _by_workload(costs)

    def ratio(impl: str) -> str:
        stream, rest = found.get((GRPC_STREAM, impl)), found.get((REST_ITEM, impl))
        if stream is None or rest is None:
            return figures.NOT_MEASURED
        numerator, denominator = stream.cpu_us_per_message, rest.cpu_us_per_message
        if numerator is None or not denominator:
            return figures.NOT_MEASURED
        return f"{numerator / denominator:.2f} x"

    python, go = ratio(PYTHON), ratio(GO)
    if python == go == figures.NOT_MEASURED:
        return []
    dash = figures.NOT_MEASURED
    return [["gRPC stream message ÷ REST request (flat out)", python, go, dash, dash, dash]]
