"""The runner replaces a process that exits on its own, like ECS replaces a task: after a
backoff, health-gated, counted in the table, the events and ``status``; a process that
keeps dying is given up on loudly; Ctrl-C during a restart still drains everything.

Every test runs catalog and pricing (and a gateway) from a temporary manifest on free
ports.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import pytest

from meshkit.manifest import load_manifest
from runner import LocalMesh, probe
from runner.restarts import NO_RESTARTS, RestartPolicy
from runner.state import read_state, state_path
from tests.integration.runner_harness import (
    FAST_STOP,
    Runner,
    alive,
    run_mesh,
    run_once,
    wait_until_gone,
    write_manifest,
)

pytestmark = pytest.mark.slow

BACK_TIMEOUT_S = 30.0


def _started(runner: Runner, name: str) -> list[int]:
    """Every pid the runner reported starting ``name`` with, in order."""
    return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)", runner.output)]


def test_a_killed_service_is_restarted_and_the_mesh_keeps_serving(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """SIGKILL on a service: the runner says so, restarts it after the backoff, gates it
    on health, prints the table again with its restart count, ``status`` shows the count,
    and Ctrl-C then stops everything cleanly with exit 0."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    first = runner.child_pids()["pricing"]

    os.kill(first, signal.SIGKILL)

    runner.wait_for(r"pricing died from SIGKILL unexpectedly: restarting it in 0\.5s", 10)
    runner.wait_for(r"pricing is back: restarted 1 time\(s\) so far", BACK_TIMEOUT_S)
    second = runner.child_pids()["pricing"]
    assert second != first
    assert alive(second)
    row = runner.wait_for(r"^pricing\s.*\sSERVING\s+(\d+)\s+1$")
    assert int(row[1]) == second
    assert re.search(r"^SERVICE\s+ADDRESS\s+HEALTHZ\s+STATE\s+PID\s+RESTARTS$", runner.output, re.M)
    status = run_once("status", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r"^pricing\s.*\sSERVING\s+1$", status.stdout, re.M), status.stdout
    assert re.search(r"^catalog\s.*\sSERVING\s+0$", status.stdout, re.M), status.stdout

    runner.process.send_signal(signal.SIGINT)

    assert runner.finish() == 0, runner.output
    assert "stopped 2 service(s)" in runner.output
    assert "2 cleanly" in runner.output
    assert "Traceback" not in runner.output
    assert not state_path(tmp_path).exists()
    assert wait_until_gone({"catalog": runner.child_pids()["catalog"], "pricing": second}, 0) == {}


def test_a_service_that_exits_zero_on_its_own_is_restarted_too(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """SIGTERM from someone else makes a service drain and exit 0; the runner did not ask,
    so (as ECS would) it starts it again."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")

    os.kill(runner.child_pids()["catalog"], signal.SIGTERM)

    runner.wait_for(r"catalog exited cleanly unexpectedly: restarting it", 20)
    runner.wait_for(r"catalog is back: restarted 1 time\(s\) so far", BACK_TIMEOUT_S)
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() == 0, runner.output


def test_the_runner_gives_up_on_a_service_that_keeps_dying(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """Past --max-restarts within the window the runner gives up loudly: it names the
    service, how often it was restarted and the policy, stops the rest cleanly, exits 1."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(manifest, tmp_path, *FAST_STOP, "--max-restarts", "1")
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    os.kill(runner.child_pids()["pricing"], signal.SIGKILL)
    runner.wait_for(r"pricing is back: restarted 1 time\(s\)", BACK_TIMEOUT_S)

    os.kill(runner.child_pids()["pricing"], signal.SIGKILL)

    assert runner.finish() == 1, runner.output
    assert (
        "pricing died from SIGKILL unexpectedly after 1 restart(s)"
        " (at most 1 restart(s) in 60s); stopping the mesh" in runner.output
    )
    assert "catalog exited cleanly" in runner.output
    assert "Traceback" not in runner.output
    assert wait_until_gone({str(pid): pid for pid in _started(runner, "pricing")}, 0) == {}


def test_sigint_during_a_restart_backoff_stops_at_once(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """Ctrl-C while a killed service waits out its backoff abandons the restart: the
    runner stops the rest dependents-first and exits without starting it again."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    os.kill(pids["pricing"], signal.SIGKILL)
    runner.wait_for("pricing died from SIGKILL unexpectedly: restarting it", 10)

    runner.process.send_signal(signal.SIGINT)

    # 1: pricing had died, so the stop is not clean; what matters is that it is prompt.
    assert runner.finish(timeout_s=10) == 1, runner.output
    assert "catalog exited cleanly" in runner.output
    assert _started(runner, "pricing") == [pids["pricing"]]
    assert "Traceback" not in runner.output
    assert wait_until_gone(pids, 0) == {}


async def test_local_mesh_restarts_the_gateway_and_reports_the_count(tmp_path: Path) -> None:
    """The gateway is supervised like a service: killed, it comes back on the same URL,
    ``restarts`` and ``wait_until_serving`` say so, and stop() reports it clean."""
    manifest = load_manifest(write_manifest(tmp_path, gateway=True))
    async with LocalMesh(manifest, data_dir=tmp_path, drain_delay_s=0.1, grace_s=2) as mesh:
        first = mesh.pids["gateway"]
        os.kill(first, signal.SIGKILL)
        await mesh.wait_until_serving("gateway", restarts=1, timeout_s=BACK_TIMEOUT_S)
        assert mesh.pids["gateway"] != first
        assert mesh.restarts == {"catalog": 0, "pricing": 0, "gateway": 1}
        assert mesh.gateway_url is not None
        assert await probe.check_http(mesh.gateway_url + "/healthz") == probe.SERVING
        report = await mesh.stop()
    assert report.clean, report.summary()
    assert [e.name for e in report.exits] == ["gateway", "pricing", "catalog"]


async def test_local_mesh_stop_abandons_a_restart_in_its_backoff(tmp_path: Path) -> None:
    """stop() during a long restart backoff returns within the normal stop budget: the
    restart never happens and nothing is left running."""
    manifest = load_manifest(write_manifest(tmp_path, gateway=False))
    policy = RestartPolicy(initial_backoff_s=60.0, max_backoff_s=60.0)
    backing_off = asyncio.Event()

    def on_event(line: str) -> None:
        if "restarting it in 60s" in line:
            backing_off.set()

    mesh = LocalMesh(
        manifest,
        data_dir=tmp_path,
        drain_delay_s=0.1,
        grace_s=2,
        restart_policy=policy,
        on_event=on_event,
    )
    await mesh.start()
    pids = mesh.pids
    os.kill(pids["pricing"], signal.SIGKILL)
    async with asyncio.timeout(10):
        await backing_off.wait()
    began = time.monotonic()

    report = await mesh.stop()

    assert time.monotonic() - began < 8
    assert mesh.pids == pids  # no new pricing was started
    assert [e.describe() for e in report.exits] == [
        "pricing died from SIGKILL",
        "catalog exited cleanly",
    ]
    assert wait_until_gone(pids, 0) == {}


async def test_local_mesh_without_restarts_ends_on_the_first_death(tmp_path: Path) -> None:
    """With NO_RESTARTS, wait_for_exit returns the first unexpected exit and nothing is
    started again (what tests and load tests that want the old behaviour ask for)."""
    manifest = load_manifest(write_manifest(tmp_path, gateway=False))
    async with LocalMesh(
        manifest, data_dir=tmp_path, drain_delay_s=0.1, grace_s=2, restart_policy=NO_RESTARTS
    ) as mesh:
        pids = mesh.pids
        os.kill(pids["catalog"], signal.SIGKILL)
        async with asyncio.timeout(10):
            gone = await mesh.wait_for_exit()
        assert gone.describe() == "catalog died from SIGKILL"
        assert gone.restarts == 0
        assert mesh.pids == pids
        with pytest.raises(RuntimeError, match="the mesh is ending"):
            await mesh.wait_until_serving("catalog", restarts=1, timeout_s=5)


def test_status_ignores_a_state_file_whose_runner_is_gone(tmp_path: Path) -> None:
    """A state file left by a runner that no longer runs adds no RESTARTS column."""
    manifest = write_manifest(tmp_path, gateway=False)
    state_path(tmp_path).write_text(
        '{"schema": "shopmesh-runner-state/1", "runner_pid": 999999999,'
        ' "processes": {"catalog": {"pid": 1, "restarts": 3}}}'
    )
    assert read_state(state_path(tmp_path)) == {}
    result = run_once("status", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "RESTARTS" not in result.stdout
