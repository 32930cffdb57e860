"""Pure arithmetic over load samples: percentiles, medians and per-round ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One loader run against one server arm, at one concurrency, in one round."""

    loader: str
    arm: str
    round: int
    concurrency: int
    requests: int
    """Calls that completed successfully inside the measured window."""
    errors: int
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_request: float
    """Server process CPU time per request: independent of how fast the loader is."""
    loader_cpu_util: float
    """Loader CPU in cores (1.0 = one core busy): near 1.0 means the loader is the limit."""


@dataclass(frozen=True)
class Summary:
    """The median of an arm's samples over rounds, for one loader and concurrency."""

    loader: str
    arm: str
    concurrency: int
    rounds: int
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_request: float
    loader_cpu_util: float
    errors: int


@dataclass(frozen=True)
class Ratio:
    """requests/s of an arm over the bare arm's, paired within each round."""

    loader: str
    arm: str
    concurrency: int
    per_round: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile: the smallest value with ``pct``% of values at or below.

    Nearest rank rather than interpolation so p99 is always a latency some call really had.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    ordered = sorted(values)
    return ordered[math.ceil(pct / 100 * len(ordered)) - 1]


def summarize(samples: Iterable[Sample]) -> list[Summary]:
    """Medians per (loader, arm, concurrency), in first-seen order."""
    groups: dict[tuple[str, str, int], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.loader, sample.arm, sample.concurrency), []).append(sample)
    return [
        Summary(
            loader=loader,
            arm=arm,
            concurrency=concurrency,
            rounds=len(group),
            rps=statistics.median(s.rps for s in group),
            p50_ms=statistics.median(s.p50_ms for s in group),
            p99_ms=statistics.median(s.p99_ms for s in group),
            server_cpu_us_per_request=statistics.median(s.server_cpu_us_per_request for s in group),
            loader_cpu_util=statistics.median(s.loader_cpu_util for s in group),
            errors=sum(s.errors for s in group),
        )
        for (loader, arm, concurrency), group in groups.items()
    ]


def ratios(samples: Iterable[Sample], baseline: str) -> list[Ratio]:
    """Each non-baseline arm's rps divided by the baseline's from the same round.

    Pairing within a round means slow drift on a shared machine cancels out instead of
    favouring whichever arm happened to run during a quiet minute.
    """
    by_key = {(s.loader, s.arm, s.concurrency, s.round): s for s in samples}
    per_round: dict[tuple[str, str, int], list[float]] = {}
    for (loader, arm, concurrency, round_), sample in by_key.items():
        base = by_key.get((loader, baseline, concurrency, round_))
        if arm == baseline or base is None or base.rps <= 0:
            continue
        per_round.setdefault((loader, arm, concurrency), []).append(sample.rps / base.rps)
    return [
        Ratio(loader=loader, arm=arm, concurrency=concurrency, per_round=tuple(values))
        for (loader, arm, concurrency), values in per_round.items()
    ]


def counts_argument(text: str) -> tuple[int, ...]:
    """A command-line list of counts: "16,64" → (16, 64)."""
    return tuple(int(n) for n in text.split(",") if n.strip())
