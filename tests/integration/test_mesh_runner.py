"""``python -m runner`` as a real process: start-up, grpcurl, Ctrl-C, ports, status.

Every test runs catalog and pricing from a temporary manifest on free ports, so it never
meets a developer's own mesh on the default ports.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshkit.manifest import load_manifest
from runner import LocalMesh, probe
from tests.integration.runner_harness import (
    EXIT_TIMEOUT_S,
    FAST_STOP,
    Runner,
    alive,
    run_mesh,
    run_once,
    serving_runner,
    wait_until_gone,
    write_manifest,
)

pytestmark = pytest.mark.slow

GRPCURL = Path(sys.executable).parent / "grpcurl"


def _write_manifest(directory: Path) -> Path:
    return write_manifest(directory, gateway=False)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return _write_manifest(tmp_path)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Runner]]:
    """One mesh, started once and shared by the tests that only look at it."""
    with serving_runner(tmp_path_factory.mktemp("shared-mesh"), gateway=False) as serving:
        yield serving


def test_run_serves_until_sigint_then_exits_zero_leaving_no_child(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """The runner prints the table and grpcurl lines, grpcurl lists through the printed
    address, and SIGINT stops every child dependents-first and exits 0 without a traceback."""
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    assert re.search(r"^SERVICE\s+ADDRESS\s+HEALTHZ\s+STATE\s+PID$", runner.output, re.M)
    assert re.search(
        r"^catalog\s+127\.0\.0\.1:\d+\s+http://\S+/healthz\s+SERVING", runner.output, re.M
    )
    address = runner.wait_for(r"^grpcurl -plaintext (\S+) list$")[1]
    assert ".venv/bin/grpcurl" in runner.output
    listed = subprocess.run(
        [str(GRPCURL), "-plaintext", address, "list"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "shopmesh.catalog.v1.CatalogService" in listed.stdout.split()
    pids = runner.child_pids()
    assert set(pids) == {"catalog", "pricing"}
    assert all(map(alive, pids.values()))

    runner.process.send_signal(signal.SIGINT)

    assert runner.finish() == 0, runner.output
    assert "Traceback" not in runner.output
    assert runner.output.index("stopping pricing") < runner.output.index("stopping catalog")
    assert "stopped 2 service(s)" in runner.output
    assert wait_until_gone(pids, 0) == {}  # the runner waited for them: gone already


def test_run_exits_2_naming_a_port_that_is_already_taken(manifest: Path, tmp_path: Path) -> None:
    """A listener on one manifest port makes the runner exit 2 naming that port and service,
    with no traceback and without starting anything."""
    port = load_manifest(manifest).service("pricing").health_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_once("run", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"port {port} (pricing health)" in output
    assert "already in use" in output
    assert "Traceback" not in output
    assert "started" not in output


def test_second_run_fails_with_the_port_message_while_a_mesh_runs(
    running: tuple[Path, Runner], tmp_path: Path
) -> None:
    """Starting the same manifest again exits 2 saying another mesh may be running, and the
    first mesh keeps serving."""
    manifest, first = running
    result = run_once("run", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "already in use" in output
    assert "another mesh may already be running" in output
    assert "Traceback" not in output
    assert first.process.poll() is None
    assert run_once("status", "--manifest", str(manifest)).returncode == 0


def test_status_exits_0_and_shows_serving_while_the_mesh_runs(
    running: tuple[Path, Runner],
) -> None:
    """``status`` prints every service as SERVING and exits 0 while the mesh runs."""
    manifest, _ = running
    result = run_once("status", "--manifest", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^catalog\s.*\sSERVING$", result.stdout, re.MULTILINE)
    assert re.search(r"^pricing\s.*\sSERVING$", result.stdout, re.MULTILINE)


def test_status_exits_1_when_no_mesh_runs(manifest: Path) -> None:
    """``status`` against ports nothing listens on reports UNREACHABLE and exits 1."""
    result = run_once("status", "--manifest", str(manifest))
    assert result.returncode == 1
    assert result.stdout.count("UNREACHABLE") == 2
    assert "is the mesh running?" in result.stderr


def test_second_sigint_kills_services_at_once(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A second SIGINT during a slow drain SIGKILLs the services and exits 1 at once."""
    runner = run_mesh(manifest, tmp_path, "--drain-delay-s", "30")
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    runner.process.send_signal(signal.SIGINT)
    runner.wait_for("stopping pricing")
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish(timeout_s=10) == 1, runner.output  # far less than the 30 s drain
    assert "killing every service now" in runner.output
    assert "Traceback" not in runner.output
    assert "pricing was killed" in runner.output
    assert wait_until_gone(pids, 0) == {}


def test_services_stop_when_the_runner_is_killed(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """SIGKILL on the runner still stops its children (the guard sees stdin close)."""
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    runner.process.kill()
    runner.process.wait(timeout=EXIT_TIMEOUT_S)
    assert wait_until_gone(pids, EXIT_TIMEOUT_S) == {}


def test_run_exits_1_with_last_lines_when_a_service_fails_to_start(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A service that exits during start-up is named with its last output lines; its
    dependents never start and the runner exits 1."""
    runner = run_mesh(
        manifest,
        tmp_path,
        env={"SHOPMESH_PRODUCT_COUNT": "0"},  # every service rejects this setting
    )
    start_runner.append(runner)
    assert runner.finish() == 1, runner.output
    assert "catalog failed to start: exited with code 2" in runner.output
    assert "configuration error" in runner.output
    assert "PRODUCT_COUNT" in runner.output
    assert "started pricing" not in runner.output
    assert "Traceback" not in runner.output


async def test_local_mesh_gives_serving_addresses_and_stops_cleanly(
    manifest: Path, tmp_path: Path
) -> None:
    """``async with LocalMesh`` yields addresses that answer SERVING; stop() reports every
    service clean and leaves no child running."""
    async with LocalMesh(load_manifest(manifest), data_dir=tmp_path, drain_delay_s=0.1) as mesh:
        assert set(mesh.addresses) == {"catalog", "pricing"}
        for address in mesh.addresses.values():
            assert await probe.check_once(address) == probe.SERVING
        pids = mesh.pids
        report = await mesh.stop()
    assert report.clean
    assert [e.name for e in report.exits] == ["pricing", "catalog"]
    assert wait_until_gone(pids, 0) == {}


def test_run_exits_1_when_a_service_dies_while_running_with_restarts_off(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """With restarts off, a service killed behind the runner's back is reported by name,
    the others are stopped cleanly and the runner exits 1 (restarts: test_mesh_runner_restarts)."""
    runner = run_mesh(manifest, tmp_path, *FAST_STOP, "--max-restarts", "0")
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    os.kill(pids["pricing"], signal.SIGKILL)
    assert runner.finish() == 1, runner.output
    assert "pricing died from SIGKILL unexpectedly" in runner.output
    assert "catalog exited cleanly" in runner.output
    assert "Traceback" not in runner.output
    assert wait_until_gone(pids, 0) == {}


def test_sigint_during_start_up_stops_what_started_and_exits_zero(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """Ctrl-C while services are still starting stops them without a traceback, exit 0."""
    runner = run_mesh(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"started catalog \(pid \d+\)")
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() == 0, runner.output
    assert "Traceback" not in runner.output
    assert "ready" not in runner.output
    assert wait_until_gone(runner.child_pids(), 0) == {}
