"""Synthetic runs for the report tests (no tests here: named to sit with them).

Latencies are recorded into real ``Latency`` histograms, so every report reads the same
encoded form a load-test run writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from loadtest.histogram import Latency
from loadtest.results import ArmResult, Chattiness, Cpu, RunResult

STARTED_AT = "2026-11-28T19:00:00Z"
DEFAULT_LATENCIES_MS = (1.0, 2.0, 3.0, 4.0, 50.0)


def latency(values_ms: Iterable[float]) -> Latency:
    recorded = Latency()
    for value in values_ms:
        recorded.record_s(value / 1000)
    return recorded


def arm(
    name: str = "grpc-stream",
    *,
    label: str | None = None,
    scenario: str = "checkout",
    items: int = 10,
    model: str = "closed",
    operations: int = 1000,
    duration_s: float = 10.0,
    throughput_per_s: float = 100.0,
    errors: dict[str, int] | None = None,
    latencies_ms: Iterable[float] | None = DEFAULT_LATENCIES_MS,
    uncorrected_ms: Iterable[float] | None = None,
    chattiness: Chattiness | None = None,
    cpu: Cpu | None = None,
    per_core: float | None = None,
) -> ArmResult:
    """An arm with its corrected histogram from ``latencies_ms`` (None: no histogram)."""
    failed = sum((errors or {}).values())
    result = ArmResult(
        name=name,
        label=name if label is None else label,
        scenario=scenario,
        model=model,
        rate_per_s=100.0 if model == "open" else None,
        concurrency=8,
        items=items,
        duration_s=duration_s,
        operations=operations,
        ok=operations - failed,
        errors=dict(errors or {}),
        throughput_per_s=throughput_per_s,
        chattiness=chattiness or Chattiness(),
        cpu=cpu or Cpu(),
        throughput_per_server_core=per_core,
    )
    if latencies_ms is not None:
        result.set_latency("corrected", latency(latencies_ms))
    if uncorrected_ms is not None:
        result.set_latency("uncorrected", latency(uncorrected_ms))
    return result


def run(
    *arms: ArmResult,
    started_at: str = STARTED_AT,
    settings: dict[str, object] | None = None,
    method: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> RunResult:
    return RunResult(
        started_at=started_at,
        settings=dict(settings or {"scenario": "checkout", "items": 10}),
        environment={"cpus": 2, "python": "3.12"},
        arms=list(arms),
        method=dict(method or {}),
        notes=list(notes or []),
    )
