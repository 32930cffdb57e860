"""goal_rows: the issue's checkout goals read as met, not met, or not measured, never guessed."""

from __future__ import annotations

import dataclasses

import pytest

from loadtest.report import GoalRow, goal_rows
from loadtest.results import ArmResult, Chattiness, RunResult
from tests.unit.loadtest_report_fakes import arm, latency, run


def _build_passing_arms() -> dict[str, ArmResult]:
    """Checkout arms that meet every goal, several exactly at its limit."""
    pooled = Chattiness(calls=31.0, new_connections=0.0)
    return {
        "grpc-stream": arm(
            "grpc-stream",
            latencies_ms=[7.0] * 100,
            chattiness=Chattiness(calls=4.0, new_connections=0.0, wire_bytes=1250.0),
            per_core=300.0,
        ),
        "grpc-unary": arm("grpc-unary", chattiness=pooled),
        "rest-item": arm(
            "rest-item",
            latencies_ms=[10.0] * 100,
            chattiness=Chattiness(calls=31.0, new_connections=0.009, wire_bytes=2500.0),
            per_core=200.0,
        ),
        "rest-item-newconn": arm(
            "rest-item-newconn", chattiness=Chattiness(calls=31.0, new_connections=31.0)
        ),
        "rest-batch": arm("rest-batch", chattiness=Chattiness(calls=4.0, new_connections=0.0)),
        "gateway": arm("gateway", chattiness=Chattiness(calls=4.0, new_connections=0.0)),
    }


_PASSING = _build_passing_arms()
"""Built once: recording histograms is slow; tests change arms only through replace()."""


def _meeting_every_goal() -> dict[str, ArmResult]:
    return dict(_PASSING)


def _run(arms: dict[str, ArmResult], *changed: ArmResult) -> RunResult:
    return run(*{**arms, **{changed_arm.name: changed_arm for changed_arm in changed}}.values())


def _with(name: str, **chattiness: float | None) -> ArmResult:
    """The passing arm ``name`` with some chattiness figures changed."""
    base = _meeting_every_goal()[name]
    changed = Chattiness(**{**dataclasses.asdict(base.chattiness), **chattiness})
    return dataclasses.replace(base, chattiness=changed)


def _with_latency(name: str, ms: float) -> ArmResult:
    """The passing arm ``name`` with every operation taking ``ms``."""
    changed = dataclasses.replace(_meeting_every_goal()[name], histograms={}, summaries={})
    changed.set_latency("corrected", latency([ms] * 100))
    return changed


def _row(rows: list[GoalRow], start: str) -> GoalRow:
    return next(row for row in rows if row.goal.startswith(start))


def test_every_goal_met_including_values_at_the_limits() -> None:
    """4 calls, 31 calls and connections at N=10, 0.009 connections, a 0.5 ratio: all met."""
    rows = goal_rows(_run(_meeting_every_goal()))
    assert len(rows) == 11
    assert [row.goal for row in rows if row.met is not True] == []
    assert _row(rows, "rest-item: calls/op").goal == "rest-item: calls/op ≥ 3N+1 = 31 (N=10)"
    assert _row(rows, "wire bytes/op").measured == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("changed", "goal"),
    [
        (_with("grpc-stream", calls=4.5), "grpc-stream: calls/op ≤ 4"),
        (_with("rest-item", calls=30.0), "rest-item: calls/op ≥ 3N+1"),
        (_with("grpc-unary", new_connections=0.01), "grpc-unary: conns/op"),
        (_with("gateway", new_connections=1.0), "gateway: conns/op"),
        (_with("rest-item-newconn", new_connections=30.9), "rest-item-newconn: conns/op"),
        (_with("grpc-stream", new_connections=0.0, wire_bytes=1300.0), "wire bytes/op"),
        (_with_latency("grpc-stream", 8.0), "p99 latency"),
        (
            dataclasses.replace(
                _meeting_every_goal()["grpc-stream"], throughput_per_server_core=250.0
            ),
            "throughput per server core",
        ),
    ],
)
def test_a_missed_goal_is_reported_not_met(changed: ArmResult, goal: str) -> None:
    """One figure past its limit fails that goal, with its measured value, and no other."""
    rows = goal_rows(_run(_meeting_every_goal(), changed))
    missed = _row(rows, goal)
    assert missed.met is False
    assert missed.measured is not None
    assert [row.goal for row in rows if row.met is not True] == [missed.goal]


def test_fan_out_goals_follow_the_arms_items() -> None:
    """With N=5 the REST per-item arm needs 3N+1 = 16 calls: 16 is met, 15.9 is not."""
    arms = {
        name: dataclasses.replace(each, items=5) for name, each in _meeting_every_goal().items()
    }
    enough = dataclasses.replace(arms["rest-item"], chattiness=Chattiness(calls=16.0))
    short = dataclasses.replace(arms["rest-item"], chattiness=Chattiness(calls=15.9))
    met = _row(goal_rows(_run(arms, enough)), "rest-item: calls/op")
    assert (met.goal, met.met) == ("rest-item: calls/op ≥ 3N+1 = 16 (N=5)", True)
    assert _row(goal_rows(_run(arms, short)), "rest-item: calls/op").met is False


def test_unmeasured_figures_are_not_measured() -> None:
    """A figure the run could not measure leaves its goal undecided, with the reason."""
    rows = goal_rows(
        _run(
            _meeting_every_goal(),
            _with("grpc-stream", wire_bytes=None),
            _with("gateway", new_connections=None),
        )
    )
    wire = _row(rows, "wire bytes/op")
    assert (wire.measured, wire.met, wire.note) == (None, None, "not measured on grpc-stream")
    gateway = _row(rows, "gateway: conns/op")
    assert (gateway.measured, gateway.met, gateway.note) == (None, None, "not measured")
    assert gateway.measured_text() == "—"


def test_missing_arms_leave_their_goals_not_measured() -> None:
    """Without a checkout rest-item arm (a lookup one does not count) its goals are undecided."""
    arms = _meeting_every_goal()
    del arms["rest-item"]
    lookup = arm("rest-item", scenario="lookup", items=1, chattiness=Chattiness(calls=1.0))
    rows = goal_rows(run(*arms.values(), lookup))
    undecided = [row for row in rows if row.met is None]
    assert [row.goal.split(":")[0] for row in undecided] == [
        "rest-item",
        "rest-item",
        "wire bytes/op",
        "p99 latency (corrected)",
        "throughput per server core",
    ]
    assert all("no checkout arm rest-item in this run" in row.note for row in undecided)
    assert _row(rows, "rest-item: calls/op").goal == "rest-item: calls/op ≥ 3N+1"


def test_ratio_of_arms_with_different_n_is_not_measured() -> None:
    """Comparing a 10-item stream with a 5-item REST checkout is not like for like: undecided."""
    five_items = dataclasses.replace(_meeting_every_goal()["rest-item"], items=5)
    row = _row(goal_rows(_run(_meeting_every_goal(), five_items)), "p99 latency")
    assert (row.met, row.note) == (None, "not like for like: N=10 vs N=5")


def test_ratio_over_zero_is_not_measured() -> None:
    """A rest-item figure of 0 gives no ratio, so the goal is undecided rather than met."""
    row = _row(goal_rows(_run(_meeting_every_goal(), _with("rest-item", wire_bytes=0.0))), "wire")
    assert (row.measured, row.met) == (None, None)


def test_run_without_checkout_has_no_goals() -> None:
    """The goals concern checkout: a lookup-only run yields no rows at all."""
    assert goal_rows(run(arm("grpc-stream", scenario="lookup", items=1))) == []
