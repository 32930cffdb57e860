"""render_diff: arms in both runs compared figure by figure (B/A, better/worse); others listed."""

from __future__ import annotations

from loadtest.report import render_diff
from loadtest.results import Chattiness
from tests.unit.loadtest_report_fakes import arm, run


def _row(diff: str, name: str, figure: str) -> list[str]:
    """The cells of one figure's row in one arm's table."""
    section = diff.split(f"(checkout/{name})", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith(f"| {figure} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def test_ratio_is_b_over_a_and_direction_follows_the_figure() -> None:
    """Halved p99 is better, halved throughput worse, fewer calls better, more per core better."""
    a = arm(
        latencies_ms=[10.0] * 100,
        throughput_per_s=100.0,
        chattiness=Chattiness(calls=31.0),
        per_core=100.0,
    )
    b = arm(
        latencies_ms=[5.0] * 100,
        throughput_per_s=50.0,
        chattiness=Chattiness(calls=4.0),
        per_core=250.0,
    )
    diff = render_diff(run(a), run(b))
    assert _row(diff, "grpc-stream", "p99 ms") == ["10.0", "5.00", "0.50x", "better"]
    assert _row(diff, "grpc-stream", "throughput/s") == ["100", "50.0", "0.50x", "worse"]
    assert _row(diff, "grpc-stream", "calls/op") == ["31.00", "4.00", "0.13x", "better"]
    assert _row(diff, "grpc-stream", "ops/s per server core") == ["100", "250", "2.50x", "better"]


def test_figures_without_a_better_direction_say_more_or_less() -> None:
    """Operations describe the run, so doubling them is "more", not better."""
    diff = render_diff(run(arm(operations=1000)), run(arm(operations=2000)))
    assert _row(diff, "grpc-stream", "ops") == ["1,000", "2,000", "2.00x", "more"]


def test_unmeasured_figure_is_not_compared() -> None:
    """A figure missing on either side has no ratio and reads "not measured"."""
    diff = render_diff(run(arm()), run(arm(chattiness=Chattiness(calls=4.0))))
    assert _row(diff, "grpc-stream", "calls/op") == ["—", "4.00", "—", "not measured"]


def test_tiny_differences_and_zero_over_zero_read_as_same() -> None:
    """Under 1% apart is "same"; zero errors on both sides is 1.00x, the same."""
    diff = render_diff(run(arm(throughput_per_s=100.0)), run(arm(throughput_per_s=100.5)))
    assert _row(diff, "grpc-stream", "throughput/s")[2:] == ["1.00x", "same"]
    assert _row(diff, "grpc-stream", "errors") == ["0", "0", "1.00x", "same"]


def test_errors_from_none_have_no_ratio_but_are_worse() -> None:
    """Anything over zero has no ratio, yet the direction still marks it worse."""
    diff = render_diff(run(arm()), run(arm(errors={"http 503": 3})))
    assert _row(diff, "grpc-stream", "errors") == ["0", "3", "—", "worse"]


def test_arms_in_one_run_only_are_listed_not_compared() -> None:
    """Arms are matched by scenario and name; the others are listed under the run that has
    them (the same arm name in another scenario is another arm)."""
    a = run(arm("grpc-stream"), arm("rest-item"), arm("rest-batch"))
    b = run(arm("grpc-stream"), arm("gateway"), arm("rest-item", scenario="lookup"))
    diff = render_diff(a, b)
    assert "(checkout/grpc-stream)" in diff
    assert "(checkout/rest-item)" not in diff
    assert "Arms only in A: checkout/rest-item, checkout/rest-batch." in diff
    assert "Arms only in B: checkout/gateway, lookup/rest-item." in diff


def test_same_name_in_different_conditions_is_flagged() -> None:
    """An arm whose N changed between runs is compared, with a not-like-for-like warning."""
    diff = render_diff(run(arm(items=10)), run(arm(items=5)))
    assert "Not like for like: A is checkout N=10 (closed loop), B is checkout N=5" in diff
