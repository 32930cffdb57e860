"""CPU time of several named processes over one measured window, from /proc.

The gateway path runs in two server processes (gateway and catalog) that share two
cores, so each is read on its own: a total would hide which one is the bottleneck.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from tools.bench.loader import process_cpu_s


@dataclass(frozen=True)
class CpuReading:
    """User + system CPU seconds per process at one wall-clock instant."""

    at: float
    seconds: Mapping[str, float]


def read(pids: Mapping[str, int]) -> CpuReading:
    """The CPU seconds each named process has used so far (all its threads)."""
    return CpuReading(time.perf_counter(), {name: process_cpu_s(pid) for name, pid in pids.items()})


def used_between(start: CpuReading, end: CpuReading) -> dict[str, float]:
    """CPU seconds each process used between two readings."""
    return {name: end.seconds[name] - start.seconds[name] for name in start.seconds}
