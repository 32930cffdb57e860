"""ghz, the second independent gRPC loader: its command mirrors h2load's (one connection,
N in flight, the same deadline), its JSON report is read with its units, and the calls it
cuts off itself when a timed run ends are told apart from real failures."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from loadtest.ghz import ghz_command, module_version, parse_ghz
from loadtest.independent import LoaderFigures
from loadtest.selfcheck import Comparison, notes

ROOT = Path(__file__).resolve().parents[2]
CUT = (
    "rpc error: code = Unavailable desc = error reading from server: read tcp "
    "127.0.0.1:55782->127.0.0.1:50951: use of closed network connection"
)


def report(
    *,
    ok: int = 4554,
    statuses: dict[str, int] | None = None,
    errors: dict[str, int] | None = None,
    total_ns: int = 2_000_474_001,
    median_ns: int | None = 1_416_477,
) -> dict[str, object]:
    """A ghz v0.120.0 JSON report, trimmed to what is read."""
    distribution = (
        None
        if median_ns is None
        else [
            {"percentage": 10, "latency": 925_748},
            {"percentage": 50, "latency": median_ns},
            {"percentage": 99, "latency": 4_699_571},
        ]
    )
    return {
        "count": ok + sum((statuses or {}).values()),
        "total": total_ns,
        "rps": 2278.46,
        "statusCodeDistribution": {"OK": ok, **(statuses or {})},
        "errorDistribution": errors,
        "latencyDistribution": distribution,
    }


def test_median_and_throughput_are_read_in_their_units() -> None:
    """Latencies are nanoseconds; throughput is OK calls over ghz's own measured time."""
    figures = parse_ghz(report(), concurrency=4)
    assert figures.loader == "ghz"
    assert figures.p50_ms == pytest.approx(1.416477)
    assert figures.throughput_per_s == pytest.approx(4554 / 2.000474001)
    assert (figures.ok, figures.failed, figures.cut_off) == (4554, 0, 0)


def test_calls_cut_off_at_the_end_are_not_failures_up_to_one_per_worker() -> None:
    """ghz closes its connection under the calls in flight when its duration ends
    (bojand/ghz#370): at most one per worker is that artefact, not a server failure."""
    figures = parse_ghz(report(statuses={"Unavailable": 4}, errors={CUT: 4}), concurrency=4)
    assert (figures.failed, figures.cut_off) == (0, 4)


def test_more_cut_calls_than_workers_or_other_errors_are_failures() -> None:
    """Past one per worker the closed connections are real; other statuses always are."""
    too_many = parse_ghz(report(statuses={"Unavailable": 9}, errors={CUT: 9}), concurrency=4)
    assert (too_many.failed, too_many.cut_off) == (9, 0)
    mixed = parse_ghz(
        report(
            statuses={"Unavailable": 2, "NotFound": 3},
            errors={CUT: 2, "rpc error: code = NotFound desc = no product": 3},
        ),
        concurrency=4,
    )
    assert (mixed.failed, mixed.cut_off) == (3, 2)


def test_a_run_without_successes_has_no_median_rather_than_zero() -> None:
    """No latency distribution (every call failed): the median is NaN, not 0 ms."""
    figures = parse_ghz(report(ok=0, statuses={"Unavailable": 50}, median_ns=None), concurrency=4)
    assert math.isnan(figures.p50_ms)
    assert figures.failed == 50


def test_unrecognised_output_is_an_error_not_a_zero() -> None:
    """A report without ghz's fields fails loudly."""
    with pytest.raises(ValueError, match="unrecognised ghz output"):
        parse_ghz({"message": "connection refused"}, concurrency=4)


def test_command_is_one_connection_n_in_flight_with_the_deadline() -> None:
    """Like h2load: one connection, ``concurrency`` workers, a timed run, the 10 s
    deadline; the call named as ghz wants it; JSON out."""
    argv = ghz_command(
        "ghz",
        "127.0.0.1:50051",
        "/shopmesh.catalog.v1.CatalogService/GetProduct",
        {"sku": "SKU-00001"},
        concurrency=16,
        duration_s=5.0,
        protoset=Path("gen/descriptors.binpb"),
    )
    assert argv[0] == "ghz"
    assert argv[-1] == "127.0.0.1:50051"
    assert "--call=shopmesh.catalog.v1.CatalogService.GetProduct" in argv
    assert '--data={"sku":"SKU-00001"}' in argv
    assert {"--concurrency=16", "--connections=1", "--duration=5000ms"} <= set(argv)
    assert {"--timeout=10000ms", "--format=json", "--insecure"} <= set(argv)
    assert "--protoset=gen/descriptors.binpb" in argv


def test_version_is_the_module_version_the_binary_was_built_from() -> None:
    """``go version -m`` names the main module and its version."""
    info = (
        "build/go/bin/ghz: go1.26.8\n\tpath\tgithub.com/bojand/ghz/cmd/ghz\n"
        "\tmod\tgithub.com/bojand/ghz\tv0.120.0\th1:6F4w=\n\tdep\tx\tv1\n"
    )
    assert module_version(info) == "github.com/bojand/ghz v0.120.0"
    assert module_version("") == "unknown"


def test_the_makefile_pins_the_ghz_and_grpc_gateway_versions_go_mod_agrees_with() -> None:
    """ghz is installed at a pinned version; the grpc-gateway generator is the version of
    the runtime library go.mod requires, so generated code and library match."""
    makefile = (ROOT / "Makefile").read_text()
    pins = dict(re.findall(r"^(GHZ_VERSION|GRPC_GATEWAY_VERSION) := (\S+)$", makefile, re.M))
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pins["GHZ_VERSION"])
    required = re.search(
        r"^\s*github\.com/grpc-ecosystem/grpc-gateway/v2 (\S+)$",
        (ROOT / "go.mod").read_text(),
        re.M,
    )
    assert required is not None
    assert pins["GRPC_GATEWAY_VERSION"] == required.group(1)


def _figures(loader: str, p50_ms: float, **extra: int) -> LoaderFigures:
    return LoaderFigures(loader, p50_ms, 1000.0, ok=5000, failed=extra.get("failed", 0),
                         cut_off=extra.get("cut_off", 0))  # fmt: skip


def test_selfcheck_rows_judge_the_median_and_say_why_a_loader_did_not_run() -> None:
    """Ours within ±15 % of theirs passes, outside fails, a missing loader is not run
    (neither pass nor fail) and the notes name cut-off calls and failures."""
    ours = _figures("ours", 1.1)
    close = Comparison("gRPC vs h2load", ours, _figures("h2load", 1.0))
    far = Comparison("gRPC vs ghz", ours, _figures("ghz", 0.5, cut_off=16))
    missing = Comparison("REST vs wrk", ours, None, "wrk not installed")
    assert close.within_goal() is True
    assert close.p50_ratio == pytest.approx(1.1)
    assert far.within_goal() is False
    assert missing.within_goal() is None
    assert missing.p50_ratio is None
    lines = notes([close, far, missing], {"ghz": "github.com/bojand/ghz v0.120.0"})
    assert lines[0] == "ghz: github.com/bojand/ghz v0.120.0"
    assert any("16 calls in flight" in line and "ghz#370" in line for line in lines)
    failed = Comparison("gRPC vs ghz", ours, _figures("ghz", 1.0, failed=3))
    assert any("ghz saw 3 failed calls" in line for line in notes([failed], {}))
