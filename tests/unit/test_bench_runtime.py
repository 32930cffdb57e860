"""Pure helpers of tools.bench_runtime: statistics, the h2load frame and output, the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from shopmesh.catalog.v1 import catalog_pb2

from tools.bench import h2load, report
from tools.bench.loader import BENCH_SKU
from tools.bench.stats import Sample, percentile, ratios, summarize

H2LOAD_SUMMARY = """\
finished in 3.00s, 5326.50 req/s, 810.75KB/s
requests: 10653 total, 10653 started, 10650 done, 10640 succeeded, 3 failed, 2 errored, 1 timeout
status codes: 10640 2xx, 0 3xx, 4 4xx, 6 5xx
"""


def _sample(arm: str, round_: int, rps: float, *, loader: str = "python") -> Sample:
    return Sample(
        loader=loader,
        arm=arm,
        round=round_,
        concurrency=16,
        requests=int(rps),
        errors=0,
        duration_s=1.0,
        rps=rps,
        p50_ms=rps / 1000,
        p99_ms=rps / 100,
        server_cpu_us_per_request=100.0,
        loader_cpu_util=0.5,
    )


def test_percentile_is_nearest_rank() -> None:
    """Percentiles are values that occurred: rank ceil(p/100 * n), never interpolated."""
    values = [float(n) for n in range(100, 0, -1)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize(("values", "pct"), [([], 50), ([1.0], 0), ([1.0], 101)])
def test_percentile_rejects_no_values_and_out_of_range(values: list[float], pct: float) -> None:
    """An empty list or a percentile outside (0, 100] is an error, not a guess."""
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, pct)


def test_ratios_pair_arms_within_the_same_round() -> None:
    """Each round's ratio uses that round's bare figure; rounds without bare are skipped."""
    samples = [
        _sample("bare", 1, 1000),
        _sample("runtime", 1, 800),
        _sample("bare", 2, 500),
        _sample("runtime", 2, 450),
        _sample("runtime", 3, 900),
    ]
    [ratio] = ratios(samples, "bare")
    assert ratio.arm == "runtime"
    assert ratio.per_round == pytest.approx((0.8, 0.9))
    assert ratio.median == pytest.approx(0.85)


def test_ratios_keep_loaders_apart() -> None:
    """A Python-loader sample is never divided by an h2load baseline."""
    samples = [_sample("bare", 1, 1000), _sample("runtime", 1, 800, loader="h2load")]
    assert ratios(samples, "bare") == []


def test_summarize_takes_the_median_per_arm() -> None:
    """Summaries are medians over rounds, one per (loader, arm, concurrency)."""
    samples = [_sample("bare", r, rps) for r, rps in ((1, 900), (2, 1200), (3, 1000))]
    [summary] = summarize(samples)
    assert (summary.rounds, summary.rps, summary.p99_ms) == (3, 1000, 10.0)


def test_grpc_frame_prefixes_flag_and_big_endian_length() -> None:
    """The body h2load posts is flag 0, a 4-byte length, then the message."""
    assert h2load.grpc_frame(b"abc") == b"\x00\x00\x00\x00\x03abc"
    frame = h2load.grpc_frame(h2load.bench_payload())
    length = int.from_bytes(frame[1:5], "big")
    assert length == len(frame) - 5
    assert catalog_pb2.GetProductRequest.FromString(frame[5:]).sku == BENCH_SKU


def test_h2load_command_speaks_grpc_on_one_connection() -> None:
    """h2load sends gRPC headers and a deadline, with all streams on one connection."""
    argv = h2load.command(
        "h2load",
        "127.0.0.1:1",
        Path("body"),
        Path("log"),
        concurrency=64,
        warmup_s=1.0,
        duration_s=2.5,
    )
    assert "--clients=1" in argv
    assert "--max-concurrent-streams=64" in argv
    assert "--header=content-type: application/grpc" in argv
    assert "--header=te: trailers" in argv
    assert "--warm-up-time=1000ms" in argv
    assert "--duration=2500ms" in argv
    assert any(arg.startswith("--header=grpc-timeout: ") for arg in argv)
    assert argv[-1] == "http://127.0.0.1:1" + h2load.METHOD


def test_h2load_parse_counts_failures_and_reads_latencies_of_2xx_only() -> None:
    """Failures, errors, timeouts and non-2xx all count; latencies come from 2xx rows."""
    log = ["1\t200\t1000", "2\t200\t3000", "3\t503\t999000", ""]
    result = h2load.parse(H2LOAD_SUMMARY, log)
    assert (result.succeeded, result.failed, result.non_2xx) == (10640, 6, 10)
    assert (result.p50_ms, result.p99_ms) == (1.0, 3.0)


def test_h2load_parse_rejects_unknown_output() -> None:
    """Output without the counters fails loudly instead of reading as zero requests."""
    with pytest.raises(ValueError, match="unrecognised"):
        h2load.parse("connection refused", [])


def test_goal_line_marks_each_ratio_against_the_goal() -> None:
    """Each loader and concurrency gets its own verdict; other arms are left out."""
    samples = [
        _sample("bare", 1, 1000),
        _sample("runtime", 1, 750),
        _sample("runtime+tracing", 1, 500),
        _sample("bare", 1, 1000, loader="h2load"),
        _sample("runtime", 1, 500, loader="h2load"),
    ]
    line = report.goal_line(ratios(samples, "bare"), "runtime", 0.7)
    assert line == (
        "runtime/bare req/s, goal >= 0.7: python 16 in flight 0.750 (met); "
        "h2load 16 in flight 0.500 (NOT met)"
    )


def test_update_docs_replaces_only_the_generated_block() -> None:
    """Prose around the markers survives; the block between them is swapped."""
    old = report.docs_block(command="old", when="then", goal="g", facts={}, table=[], notes=[])
    text = f"# Benchmarks\n\nintro\n\n## Runtime overhead\n\nmethod\n\n{old}\n\nafter\n"
    new = report.docs_block(
        command="new", when="now", goal="g", facts={"nproc": "2"}, table=[], notes=[]
    )
    updated = report.update_docs(text, new)
    assert updated == text.replace(old, new)


def test_update_docs_appends_a_section_when_there_is_none() -> None:
    """A docs file without markers gains the section; an empty one also gains a title."""
    block = report.docs_block(command="c", when="w", goal="g", facts={}, table=[], notes=[])
    appended = report.update_docs("# Benchmarks\n\nother\n", block)
    assert appended.endswith(f"{report.DOCS_SECTION}\n\n{block}\n")
    assert appended.startswith("# Benchmarks\n\nother\n")
    assert report.update_docs("", block).startswith("# Benchmarks\n\n## Runtime overhead")
