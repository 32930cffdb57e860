"""merge_runs: repeated runs combine as one long run, without losing a recorded value."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from loadtest.report import merge_runs
from loadtest.results import Chattiness, Cpu, RunResult
from tests.unit.loadtest_report_fakes import arm, latency, run

PERCENTILES = (0.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def test_merged_histogram_equals_one_that_recorded_every_value() -> None:
    """Two runs' histograms add up to the buckets, percentiles and summary of one recording all."""
    rng = random.Random(42)
    first = [rng.lognormvariate(1, 0.8) for _ in range(4000)]
    second = [rng.lognormvariate(2, 0.5) for _ in range(2500)]
    merged = merge_runs([run(arm(latencies_ms=first)), run(arm(latencies_ms=second))]).arms[0]
    expected = latency(first + second)
    actual = merged.latency()
    assert actual is not None
    assert actual.count == expected.count == 6500
    assert list(actual.histogram.counts) == list(expected.histogram.counts)
    assert [actual.percentile_ms(p) for p in PERCENTILES] == [
        expected.percentile_ms(p) for p in PERCENTILES
    ]
    assert merged.summaries["corrected"] == expected.summary().as_dict()


def test_merge_leaves_the_input_runs_unchanged() -> None:
    """Merging decodes copies: the runs given keep their own histograms and figures."""
    first, second = run(arm(latencies_ms=[1.0, 2.0])), run(arm(latencies_ms=[30.0]))
    before = (first.to_json(), second.to_json())
    merge_runs([first, second])
    assert (first.to_json(), second.to_json()) == before


def test_operations_ok_and_errors_are_summed() -> None:
    """Counts add up, errors status by status, and so do the measured windows."""
    merged = merge_runs(
        [
            run(arm(operations=1000, errors={"http 503": 2, "timeout": 1})),
            run(arm(operations=500, errors={"http 503": 3, "grpc UNAVAILABLE": 4})),
        ]
    ).arms[0]
    assert merged.operations == 1500
    assert merged.ok == 1490
    assert merged.errors == {"http 503": 5, "timeout": 1, "grpc UNAVAILABLE": 4}
    assert merged.duration_s == 20.0


def test_per_operation_figures_are_weighted_by_operations() -> None:
    """A run of 3000 operations counts three times as much as one of 1000 in each per-op figure."""
    small = arm(
        operations=1000,
        chattiness=Chattiness(
            calls=4.0, wire_bytes=1000.0, calls_by_service={"catalog": 1.0, "pricing": 2.0}
        ),
        cpu=Cpu(server_s=0.002, by_process={"orders": 0.002}),
    )
    large = arm(
        operations=3000,
        chattiness=Chattiness(calls=8.0, wire_bytes=2000.0, calls_by_service={"catalog": 3.0}),
        cpu=Cpu(server_s=0.006, by_process={"orders": 0.006}),
    )
    merged = merge_runs([run(small), run(large)]).arms[0]
    assert merged.chattiness.calls == pytest.approx(7.0)
    assert merged.chattiness.wire_bytes == pytest.approx(1750.0)
    # A service missing from a run that measured calls by service had no calls in it.
    assert merged.chattiness.calls_by_service == pytest.approx({"catalog": 2.5, "pricing": 0.5})
    assert merged.cpu.server_s == pytest.approx(0.005)
    assert merged.cpu.by_process == pytest.approx({"orders": 0.005})


def test_rates_combine_as_one_long_run() -> None:
    """Throughput is all work over all time; per-core throughput is operations over core-seconds."""
    # 1000 operations on 2 core-seconds in 10 s, then 6000 operations on 3 core-seconds in 30 s.
    first = arm(duration_s=10.0, throughput_per_s=100.0, per_core=500.0, cpu=Cpu(server_cores=0.2))
    second = arm(
        duration_s=30.0, throughput_per_s=200.0, per_core=2000.0, cpu=Cpu(server_cores=0.1)
    )
    merged = merge_runs([run(first), run(second)]).arms[0]
    assert merged.throughput_per_s == pytest.approx(7000 / 40)
    assert merged.throughput_per_server_core == pytest.approx(7000 / 5)
    assert merged.cpu.server_cores == pytest.approx(5 / 40)


def test_merging_in_stages_equals_merging_at_once() -> None:
    """merge(merge(a, b), c) gives the same histograms and figures as merge(a, b, c)."""
    runs = [
        run(
            arm(
                operations=operations,
                latencies_ms=[float(operations % 7 + 1)] * 50,
                chattiness=Chattiness(calls=calls),
                per_core=per_core,
                throughput_per_s=operations / 10,
            )
        )
        for operations, calls, per_core in (
            (1000, 4.0, 400.0),
            (2000, 5.0, 300.0),
            (500, 9.0, 90.0),
        )
    ]
    staged = merge_runs([merge_runs(runs[:2]), runs[2]]).arms[0]
    at_once = merge_runs(runs).arms[0]
    assert staged.histograms == at_once.histograms
    assert staged.chattiness.calls == pytest.approx(at_once.chattiness.calls)
    assert staged.throughput_per_server_core == pytest.approx(at_once.throughput_per_server_core)
    assert staged.throughput_per_s == pytest.approx(at_once.throughput_per_s)


def test_figure_measured_in_some_runs_keeps_their_value_and_says_so() -> None:
    """A figure one run lacks is merged from the runs that have it, with a note; never from zero."""
    merged = merge_runs(
        [
            run(arm(chattiness=Chattiness(wire_bytes=1200.0), latencies_ms=[1.0])),
            run(arm(chattiness=Chattiness(wire_bytes=None), latencies_ms=None)),
        ]
    ).arms[0]
    assert merged.chattiness.wire_bytes == pytest.approx(1200.0)
    assert merged.chattiness.calls is None
    assert "merge: wire bytes measured in 1 of 2 runs only" in merged.notes
    assert "merge: corrected histogram measured in 1 of 2 runs only" in merged.notes
    assert not any("calls" in note for note in merged.notes)


def test_runs_with_different_arms_are_refused() -> None:
    """Only runs of the same arms merge; otherwise ValueError names both sets."""
    with pytest.raises(ValueError, match="runs differ in arms"):
        merge_runs([run(arm("grpc-stream")), run(arm("grpc-stream"), arm("rest-item"))])


def test_arms_that_are_not_repeats_are_refused() -> None:
    """Same-named arms with a different N are different experiments: ValueError names the field."""
    with pytest.raises(ValueError, match="differ in items"):
        merge_runs([run(arm(items=10)), run(arm(items=5))])


def test_nothing_to_merge_is_refused() -> None:
    """An empty list of runs is an error, not an empty run."""
    with pytest.raises(ValueError, match="no runs"):
        merge_runs([])


def test_settings_keep_agreed_values_and_list_differing_ones() -> None:
    """Agreed settings stay, differing ones list each run's value; earliest start; notes unioned."""
    merged = merge_runs(
        [
            run(
                arm(),
                settings={"items": 10, "seed": 1},
                started_at="2026-11-28T19:00:00Z",
                notes=["no private network namespace"],
            ),
            run(
                arm(),
                settings={"items": 10, "seed": 2},
                started_at="2026-11-28T18:00:00Z",
                notes=["no private network namespace", "loader on the same cores"],
            ),
        ]
    )
    assert merged.settings == {"items": 10, "seed": [1, 2]}
    assert merged.started_at == "2026-11-28T18:00:00Z"
    assert "Merged from 2 runs" in merged.method["merge"]
    assert merged.notes == ["no private network namespace", "loader on the same cores"]


def test_merged_run_survives_its_json_round_trip() -> None:
    """The merged run is a valid RunResult: saved and loaded, it is equal to itself."""
    base = arm(model="open", uncorrected_ms=[2.0, 3.0], chattiness=Chattiness(calls=4.0))
    merged = merge_runs([run(base), run(dataclasses.replace(base, notes=["warm-up long"]))])
    assert RunResult.from_dict(json.loads(merged.to_json())) == merged
    assert merged.arms[0].notes == ["warm-up long"]
