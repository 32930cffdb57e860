"""The independent loaders' outputs are read as they print them: h2load's summary and
per-request log, wrk's latency distribution and rate."""

from __future__ import annotations

import pytest

from loadtest.independent import grpc_frame, parse_h2load, parse_wrk

H2LOAD = """finished in 5.00s, 5000.00 req/s, 500KB/s
requests: 25000 total, 25000 started, 25000 done, 24998 succeeded, 2 failed, 0 errored, 0 timeout
status codes: 24990 2xx, 0 3xx, 8 4xx, 0 5xx
"""
WRK = """Running 5s test @ http://127.0.0.1:9051/v1/products/SKU-00001
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   754.11us  210.30us   5.21ms   88.13%
  Latency Distribution
     50%  702.00us
     75%  801.00us
     90%    0.98ms
     99%    1.50ms
  106243 requests in 5.00s, 32.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  21248.60
Transfer/sec:      6.42MB
"""


def test_h2load_median_comes_from_its_per_request_log() -> None:
    """Only 2xx lines count; durations are microseconds; failures add up every kind."""
    log = ["1700000000000000\t200\t1000", "1700000000000100\t200\t3000",
           "1700000000000200\t200\t2000", "1700000000000300\t400\t9000"]  # fmt: skip
    figures = parse_h2load(H2LOAD, log, duration_s=5.0)
    assert figures.p50_ms == 2.0
    assert figures.throughput_per_s == pytest.approx(3 / 5)
    assert figures.failed == 2 + 8


def test_wrk_median_and_rate_are_read_with_their_units() -> None:
    """ "702.00us" is 0.702 ms; the rate is wrk's own; non-2xx responses are failures."""
    figures = parse_wrk(WRK, duration_s=5)
    assert figures.p50_ms == pytest.approx(0.702)
    assert figures.throughput_per_s == pytest.approx(21248.6)
    assert figures.failed == 3


def test_unrecognised_output_is_an_error_not_a_zero() -> None:
    """A loader that printed something else fails loudly."""
    with pytest.raises(ValueError, match="unrecognised"):
        parse_wrk("wrk: connection refused", duration_s=5)
    with pytest.raises(ValueError, match="unrecognised"):
        parse_h2load("", [], duration_s=5)


def test_grpc_frame_is_the_length_prefixed_message() -> None:
    """Flag 0 and a 4-byte big-endian length before the message bytes."""
    assert grpc_frame(b"abc") == b"\x00\x00\x00\x00\x03abc"
