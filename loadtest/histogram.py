"""Latency histograms: HdrHistogram in microseconds, mergeable and encodable losslessly.

A run's JSON keeps every histogram in HdrHistogram's compressed base64 form, so runs can
be merged and compared later without losing a single recorded value's bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000
"""Two minutes: anything slower is recorded as two minutes (and is a failure anyway)."""
SIGNIFICANT_FIGURES = 3

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True)
class Summary:
    """The usual figures of one histogram, in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    mean: float

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p99.9": self.p999,
            "max": self.max,
            "mean": self.mean,
        }


class Latency:
    """Latencies recorded in microseconds."""

    def __init__(self, histogram: HdrHistogram | None = None) -> None:
        self.histogram = histogram or HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)

    def record_s(self, seconds: float) -> None:
        micros = int(seconds * 1_000_000)
        self.histogram.record_value(min(max(micros, LOWEST_US), HIGHEST_US))

    @property
    def count(self) -> int:
        return int(self.histogram.get_total_count())

    def merge(self, other: Latency) -> None:
        self.histogram.add(other.histogram)

    def percentile_ms(self, percentile: float) -> float:
        if not self.count:
            return 0.0
        return float(self.histogram.get_value_at_percentile(percentile)) / 1000

    def summary(self) -> Summary:
        if not self.count:
            return Summary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        # One pass over the buckets for all four (hdrh scans them once per percentile).
        values = self.histogram.get_percentile_to_value_dict(list(PERCENTILES))
        p50, p90, p99, p999 = (float(values[p]) / 1000 for p in PERCENTILES)
        return Summary(
            count=self.count,
            p50=p50,
            p90=p90,
            p99=p99,
            p999=p999,
            max=float(self.histogram.get_max_value()) / 1000,
            mean=float(self.histogram.get_mean_value()) / 1000,
        )

    def encode(self) -> str:
        """HdrHistogram's compressed, base64 encoding (V2), for JSON."""
        return bytes(self.histogram.encode()).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Latency:
        return cls(HdrHistogram.decode(text.encode("ascii")))

    def spectrum(self) -> list[tuple[float, float]]:
        """(percentile, latency ms) points for a percentile-spectrum chart."""
        if not self.count:
            return []
        points = []
        for item in self.histogram.get_percentile_iterator(5):
            points.append((float(item.percentile_level_iterated_to), item.value_iterated_to / 1000))
        return points
