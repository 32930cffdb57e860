"""Samples of the gateway benchmark: ``tools.bench.stats`` samples plus what a path adds.

A path sample keeps the shared figures in a ``stats.Sample`` (``loader`` holds the
scenario, ``arm`` the path), so medians and per-round ratios come from
``stats.summarize`` and ``stats.ratios``; beside it are messages/s, the time to the first
message and the CPU of each server process of the path on its own.

Three paths: gRPC straight to the catalog, our gateway, and grpc-gateway (the reverse
proxy protoc-gen-grpc-gateway generates for the same protos, ``tools/grpcgateway``) as
the outside reference.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tools.bench import stats
from tools.bench.http_loader import LoopResult
from tools.bench.stats import Ratio, Sample, Summary

DIRECT = "direct"
GATEWAY = "gateway"
GRPC_GATEWAY = "grpc-gateway"
PATHS = (DIRECT, GATEWAY, GRPC_GATEWAY)
CATALOG = "catalog"
EDGES = (GATEWAY, GRPC_GATEWAY)
"""The paths through a transcoder: each runs in its own process, named like the path."""

UNARY = "unary"
"""GetProduct under load, h2load on both paths."""
LATENCY = "latency"
"""GetProduct one call at a time, a Python loader on both paths."""
STREAM = "stream"
"""ListProducts, a Python loader reading every message on both paths."""


@dataclass(frozen=True)
class PathSample:
    """One loader run against one path, at one concurrency, in one round."""

    sample: Sample
    messages_per_s: float
    first_p50_ms: float
    server_cpu_us: Mapping[str, float]
    """CPU µs per call, by server process (a stream is one call)."""
    server_cores: Mapping[str, float]


@dataclass(frozen=True)
class PathSummary:
    """Medians over rounds of one scenario, path and concurrency."""

    summary: Summary
    messages_per_s: float
    first_p50_ms: float
    server_cpu_us: Mapping[str, float]
    server_cores: Mapping[str, float]


def processes(path: str) -> tuple[str, ...]:
    """The server processes a path's calls go through: the catalog, behind its edge."""
    return (CATALOG,) if path == DIRECT else (path, CATALOG)


def make_sample(
    scenario: str, path: str, round_: int, concurrency: int, run: LoopResult
) -> PathSample:
    """Rates over the measured window; CPU over the (nearly equal) CPU interval, of the
    path's own processes only (the other edges idle meanwhile)."""
    rps = run.calls / run.window_s
    cores = {
        name: seconds / run.cpu_interval_s
        for name, seconds in run.server_cpu_s.items()
        if name in processes(path)
    }
    per_call = {name: c / rps * 1e6 if rps else math.nan for name, c in cores.items()}
    sample = Sample(
        loader=scenario,
        arm=path,
        round=round_,
        concurrency=concurrency,
        requests=run.calls,
        errors=run.errors,
        duration_s=run.window_s,
        rps=rps,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        server_cpu_us_per_request=sum(per_call.values()),
        loader_cpu_util=run.loader_cpu_s / run.cpu_interval_s,
    )
    return PathSample(sample, run.messages / run.window_s, run.first_p50_ms, per_call, cores)


def _key(s: Sample | Summary) -> tuple[str, str, int]:
    return s.loader, s.arm, s.concurrency


def _median_by_name(maps: Sequence[Mapping[str, float]]) -> dict[str, float]:
    return {name: statistics.median(m[name] for m in maps) for name in maps[0]}


def summarize(samples: Sequence[PathSample]) -> list[PathSummary]:
    """Medians per (scenario, path, concurrency), in first-seen order."""
    groups: dict[tuple[str, str, int], list[PathSample]] = {}
    for s in samples:
        groups.setdefault(_key(s.sample), []).append(s)
    return [
        PathSummary(
            summary=summary,
            messages_per_s=statistics.median(s.messages_per_s for s in groups[_key(summary)]),
            first_p50_ms=statistics.median(s.first_p50_ms for s in groups[_key(summary)]),
            server_cpu_us=_median_by_name([s.server_cpu_us for s in groups[_key(summary)]]),
            server_cores=_median_by_name([s.server_cores for s in groups[_key(summary)]]),
        )
        for summary in stats.summarize(s.sample for s in samples)
    ]


def ratios(samples: Iterable[PathSample], baseline: str = DIRECT) -> list[Ratio]:
    """Each other path's requests/s over ``baseline``'s, paired within each round."""
    return stats.ratios((s.sample for s in samples), baseline)


def versus_reference(samples: Iterable[PathSample]) -> list[Ratio]:
    """Our gateway's requests/s over grpc-gateway's, paired within each round."""
    edges = [s for s in samples if s.sample.arm in EDGES]
    return [r for r in ratios(edges, GRPC_GATEWAY) if r.arm == GATEWAY]


@dataclass(frozen=True)
class Delta:
    """An edge's p50 minus the direct path's, paired within each round."""

    scenario: str
    concurrency: int
    per_round: tuple[float, ...]
    path: str = GATEWAY

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)


def added_p50(samples: Iterable[PathSample]) -> list[Delta]:
    """Per scenario, edge and concurrency, the p50 the edge adds in each round (ms)."""
    by_key = {(*_key(s.sample), s.sample.round): s.sample for s in samples}
    deltas: dict[tuple[str, str, int], list[float]] = {}
    for (scenario, path, concurrency, round_), sample in by_key.items():
        base = by_key.get((scenario, DIRECT, concurrency, round_))
        if path in EDGES and base is not None:
            added = sample.p50_ms - base.p50_ms
            deltas.setdefault((scenario, path, concurrency), []).append(added)
    return [
        Delta(scenario, concurrency, tuple(d), path)
        for (scenario, path, concurrency), d in deltas.items()
    ]
