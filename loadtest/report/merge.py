"""Repeated runs of the same arms combined into one run, without losing a recorded value.

Histograms are added bucket by bucket; operations, ok and errors are summed; per-operation
figures are averaged weighted by operations, rates weighted by measured duration, so the
merged run reads as if it had been one long run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadtest.histogram import Latency
from loadtest.results import ArmResult, Chattiness, Cpu, MessageCost, RunResult

SAME_ARM = ("scenario", "model", "rate_per_s", "concurrency", "items")
"""What must agree for two arms of the same name to be repeats of one experiment."""


def merge_runs(runs: Sequence[RunResult]) -> RunResult:
    """One run from repeated runs with the same arm names (ValueError otherwise).

    Settings and environment keep the values the runs agree on; a key on which they differ
    holds the list of each run's value, in run order.
    """
    if not runs:
        raise ValueError("nothing to merge: no runs given")
    names = _arm_names(runs[0])
    for run in runs[1:]:
        if set(_arm_names(run)) != set(names):
            raise ValueError(f"runs differ in arms: {sorted(names)} vs {sorted(_arm_names(run))}")
    arms = [merge_arms([_arm(run, name) for run in runs]) for name in names]
    method = _agreed_sentences([run.method for run in runs])
    method["merge"] = (
        f"Merged from {len(runs)} runs (started {', '.join(run.started_at for run in runs)}): "
        "histograms added, operations, ok and errors summed, per-operation figures weighted "
        "by operations, throughput and server cores weighted by measured duration."
    )
    return RunResult(
        started_at=min(run.started_at for run in runs),
        settings=_agreed([run.settings for run in runs]),
        environment=_agreed([run.environment for run in runs]),
        arms=arms,
        method=method,
        notes=list(dict.fromkeys(note for run in runs for note in run.notes)),
        message_costs=merge_costs(runs),
    )


def merge_costs(runs: Sequence[RunResult]) -> list[MessageCost]:
    """Per workload and implementation, the messages, CPU, time and errors of every run
    added up, so the merged CPU per message is the total CPU over the total messages."""
    merged: dict[tuple[str, str], MessageCost] = {}
    for cost in (cost for run in runs for cost in run.message_costs):
        key = (cost.workload, cost.impl)
        seen = merged.get(key)
        merged[key] = (
            cost
            if seen is None
            else MessageCost(
                cost.workload,
                cost.impl,
                seen.messages + cost.messages,
                seen.server_cpu_s + cost.server_cpu_s,
                seen.wall_s + cost.wall_s,
                seen.errors + cost.errors,
            )
        )
    return list(merged.values())


def merge_arms(arms: Sequence[ArmResult]) -> ArmResult:
    """One arm from repeats of the same arm (ValueError when they are not repeats)."""
    first = arms[0]
    for name in SAME_ARM:
        values = [getattr(arm, name) for arm in arms]
        if any(value != values[0] for value in values):
            raise ValueError(f"arm {first.name}: runs differ in {name} ({values}), not repeats")
    notes: list[str] = []
    per_op = _Weighted([arm.operations for arm in arms], notes)
    per_second = _Weighted([arm.duration_s for arm in arms], notes)
    throughput = per_second.mean("throughput", [arm.throughput_per_s for arm in arms])
    merged = ArmResult(
        name=first.name,
        label=first.label,
        scenario=first.scenario,
        model=first.model,
        rate_per_s=first.rate_per_s,
        concurrency=first.concurrency,
        items=first.items,
        duration_s=sum(arm.duration_s for arm in arms),
        operations=sum(arm.operations for arm in arms),
        ok=sum(arm.ok for arm in arms),
        errors=_summed([arm.errors for arm in arms]),
        throughput_per_s=0.0 if throughput is None else throughput,
        chattiness=_chattiness([arm.chattiness for arm in arms], per_op),
        cpu=_cpu([arm.cpu for arm in arms], per_op, per_second),
        throughput_per_server_core=_per_core(arms, notes),
    )
    for name in dict.fromkeys(name for arm in arms for name in arm.histograms):
        encoded = [arm.histograms[name] for arm in arms if name in arm.histograms]
        _note_partial(notes, f"{name} histogram", len(encoded), len(arms))
        merged.set_latency(name, _added(encoded))
    merged.notes = list(dict.fromkeys([*(note for arm in arms for note in arm.notes), *notes]))
    return merged


@dataclass
class _Weighted:
    """Weighted means over the runs that measured a figure, noting figures measured in only
    some of them (their merged value then speaks for those runs alone)."""

    weights: Sequence[float]
    notes: list[str]

    def mean(self, figure: str, values: Sequence[float | None]) -> float | None:
        measured = [(v, w) for v, w in zip(values, self.weights, strict=True) if v is not None]
        _note_partial(self.notes, figure, len(measured), len(values))
        total = sum(weight for _, weight in measured)
        if not total:
            return None
        return sum(value * weight for value, weight in measured) / total

    def by_key(self, figure: str, mappings: Sequence[Mapping[str, float]]) -> dict[str, float]:
        """An empty mapping is unmeasured; a key missing from a measured one counts as 0."""
        measured = [(m, w) for m, w in zip(mappings, self.weights, strict=True) if m]
        _note_partial(self.notes, figure, len(measured), len(mappings))
        total = sum(weight for _, weight in measured)
        if not total:
            return {}
        keys = dict.fromkeys(key for mapping, _ in measured for key in mapping)
        return {
            key: sum(mapping.get(key, 0.0) * weight for mapping, weight in measured) / total
            for key in keys
        }


def _chattiness(each: Sequence[Chattiness], per_op: _Weighted) -> Chattiness:
    return Chattiness(
        calls=per_op.mean("calls", [c.calls for c in each]),
        messages=per_op.mean("messages", [c.messages for c in each]),
        calls_by_service=per_op.by_key("calls by service", [c.calls_by_service for c in each]),
        new_connections=per_op.mean("new connections", [c.new_connections for c in each]),
        wire_bytes=per_op.mean("wire bytes", [c.wire_bytes for c in each]),
        segments=per_op.mean("segments", [c.segments for c in each]),
    )


def _cpu(each: Sequence[Cpu], per_op: _Weighted, per_second: _Weighted) -> Cpu:
    """Seconds per operation weighted by operations; busy cores by measured duration."""
    return Cpu(
        server_s=per_op.mean("server CPU", [c.server_s for c in each]),
        by_process=per_op.by_key("CPU by process", [c.by_process for c in each]),
        loader_s=per_op.mean("loader CPU", [c.loader_s for c in each]),
        server_cores=per_second.mean("server cores", [c.server_cores for c in each]),
    )


def _per_core(arms: Sequence[ArmResult], notes: list[str]) -> float | None:
    """Operations per core-second over all runs: each run contributes its operations
    (throughput x duration) and its core-seconds (those operations / its per-core figure)."""
    measured = [
        (arm.throughput_per_s * arm.duration_s, arm.throughput_per_server_core)
        for arm in arms
        if arm.throughput_per_server_core
    ]
    _note_partial(notes, "throughput per server core", len(measured), len(arms))
    core_seconds = sum(operations / per_core for operations, per_core in measured)
    if not core_seconds:
        return None
    return sum(operations for operations, _ in measured) / core_seconds


def _added(encoded: Sequence[str]) -> Latency:
    total = Latency()
    for text in encoded:
        total.merge(Latency.decode(text))
    return total


def _note_partial(notes: list[str], figure: str, measured: int, runs: int) -> None:
    if 0 < measured < runs:
        notes.append(f"merge: {figure} measured in {measured} of {runs} runs only")


def _summed(counts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for mapping in counts:
        for key, value in mapping.items():
            total[key] = total.get(key, 0) + value
    return total


def _agreed(mappings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    keys = dict.fromkeys(key for mapping in mappings for key in mapping)
    merged: dict[str, Any] = {}
    for key in keys:
        values = [mapping.get(key) for mapping in mappings]
        merged[key] = values[0] if all(v == values[0] for v in values) else values
    return merged


def _agreed_sentences(methods: Sequence[Mapping[str, str]]) -> dict[str, str]:
    keys = dict.fromkeys(key for method in methods for key in method)
    merged = {}
    for key in keys:
        sentences = list(dict.fromkeys(method[key] for method in methods if key in method))
        merged[key] = (
            sentences[0] if len(sentences) == 1 else "Runs differ: " + " / ".join(sentences)
        )
    return merged


def _arm_names(run: RunResult) -> list[str]:
    """The arms' keys (scenario/name): what identifies an arm across runs."""
    names = [arm.key for arm in run.arms]
    if len(set(names)) != len(names):
        raise ValueError(f"run {run.started_at} has an arm name twice: {names}")
    return names


def _arm(run: RunResult, name: str) -> ArmResult:
    return next(arm for arm in run.arms if arm.key == name)
