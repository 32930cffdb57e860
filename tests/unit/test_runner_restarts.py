"""The runner's restart policy, its state file and the RESTARTS column: pure parts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from meshkit.manifest import parse_manifest
from runner import table
from runner.restarts import NO_RESTARTS, RestartHistory, RestartPolicy
from runner.state import ProcessState, read_state, remove_state, write_state


def test_backoff_doubles_from_the_initial_wait_up_to_the_cap() -> None:
    """0.5 s, 1 s, 2 s, ... never above the cap."""
    policy = RestartPolicy(initial_backoff_s=0.5, max_backoff_s=3.0)
    assert [policy.backoff_s(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_history_allows_max_restarts_within_the_window_then_refuses() -> None:
    """Restarts older than the window stop counting: against the limit and the backoff."""
    history = RestartHistory(RestartPolicy(max_restarts=2, window_s=10.0, initial_backoff_s=1))
    assert history.allows(0.0)
    assert history.next_backoff_s(0.0) == 1.0
    history.record(0.0)
    assert history.next_backoff_s(1.0) == 2.0
    history.record(1.0)
    assert not history.allows(5.0)
    assert history.allows(10.5)  # the first restart left the window
    assert history.next_backoff_s(10.5) == 2.0
    assert history.total == 2


def test_no_restarts_never_allows_one() -> None:
    """max_restarts=0 is "restarts off": the first unexpected exit ends the mesh."""
    assert not NO_RESTARTS.enabled
    assert not RestartHistory(NO_RESTARTS).allows(0.0)
    assert NO_RESTARTS.describe() == "restarts off"
    assert RestartPolicy().describe() == "at most 5 restart(s) in 60s"


@pytest.mark.parametrize(
    "settings", [{"max_restarts": -1}, {"window_s": 0.0}, {"initial_backoff_s": -1.0}]
)
def test_a_policy_that_cannot_work_is_refused(settings: dict[str, float]) -> None:
    """Negative counts or waits and an empty window are errors when the policy is made."""
    with pytest.raises(ValueError, match="must"):
        RestartPolicy(**settings)  # type: ignore[arg-type]


def test_state_file_round_trips_while_its_runner_runs(tmp_path: Path) -> None:
    """What a running runner wrote is read back whole; after removal nothing is."""
    path = tmp_path / "state.json"
    processes = {"catalog": ProcessState(11, 0), "pricing": ProcessState(12, 2)}
    write_state(path, processes, runner_pid=os.getpid())
    assert read_state(path) == processes
    remove_state(path)
    remove_state(path)  # twice is fine
    assert read_state(path) == {}


def test_a_runner_never_removes_another_runners_state_file(tmp_path: Path) -> None:
    """A second run that stops at the port check leaves the running mesh's file alone."""
    path = tmp_path / "state.json"
    write_state(path, {"catalog": ProcessState(11, 1)}, runner_pid=os.getppid())
    remove_state(path)
    assert path.exists()
    remove_state(path, runner_pid=os.getppid())
    assert not path.exists()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"schema": "other/1", "runner_pid": 1, "processes": {}}',
        '{"schema": "shopmesh-runner-state/1", "runner_pid": "x", "processes": {}}',
        '{"schema": "shopmesh-runner-state/1", "runner_pid": 1, "processes": {"a": 3}}',
    ],
)
def test_a_malformed_state_file_reads_as_nothing(tmp_path: Path, text: str) -> None:
    """``status`` never fails on a state file it cannot use: it shows no counts."""
    path = tmp_path / "state.json"
    path.write_text(text)
    assert read_state(path) == {}


def test_restarts_column_appears_only_once_something_restarted() -> None:
    """No RESTARTS column while every count is 0 (the table ``make run`` prints when
    ready); with one restart, every row shows its count after the pid."""
    manifest = parse_manifest(
        {
            "mesh": {"name": "restarts"},
            "services": {
                "catalog": {
                    "module": "services.catalog",
                    "grpc_port": 50051,
                    "health_port": 51051,
                    "proto_services": ["shopmesh.catalog.v1.CatalogService"],
                },
                "pricing": {
                    "module": "services.pricing",
                    "grpc_port": 50052,
                    "health_port": 51052,
                    "proto_services": ["shopmesh.pricing.v1.PricingService"],
                },
            },
        }
    )
    states = {"catalog": "SERVING", "pricing": "SERVING"}
    pids = {"catalog": 41, "pricing": 42}
    quiet = table.render_table(
        table.rows(manifest.services, "127.0.0.1", states, pids, restarts={"catalog": 0})
    )
    assert quiet.splitlines()[0].endswith("STATE    PID")
    restarted = table.render_table(
        table.rows(manifest.services, "127.0.0.1", states, pids, restarts={"pricing": 2})
    ).splitlines()
    assert restarted[0].endswith("STATE    PID  RESTARTS")
    assert restarted[1].endswith("SERVING  41   0")
    assert restarted[2].endswith("SERVING  42   2")
