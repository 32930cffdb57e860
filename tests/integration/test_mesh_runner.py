"""``python -m services.mesh`` as a real process: start-up, grpcurl, Ctrl-C, ports, status.

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
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.manifest import load_manifest
from services.mesh import LocalMesh, probe

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GRPCURL = Path(sys.executable).parent / "grpcurl"
READY_TIMEOUT_S = 40.0
EXIT_TIMEOUT_S = 20.0
"""Two services, each drain (0.1 s) + grace (2 s) + margin, with room to spare."""
FAST_STOP = ("--drain-delay-s", "0.1", "--grace-s", "2")
STARTED = re.compile(r"started (\w+) \(pid (\d+)\)")


def _free_ports(count: int) -> list[int]:
    """Distinct ports nothing listens on now (all held open together while picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe_socket in sockets:
            probe_socket.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for probe_socket in sockets:
            probe_socket.close()


def _write_manifest(directory: Path) -> Path:
    """catalog, then pricing depending on it (so start and stop order are observable)."""
    catalog_grpc, catalog_health, pricing_grpc, pricing_health = _free_ports(4)
    path = directory / "mesh.toml"
    path.write_text(
        f"""
[mesh]
name = "runner-test"

[services.catalog]
module = "services.catalog"
grpc_port = {catalog_grpc}
health_port = {catalog_health}
proto_services = ["shopmesh.catalog.v1.CatalogService"]

[services.pricing]
module = "services.pricing"
grpc_port = {pricing_grpc}
health_port = {pricing_health}
proto_services = ["shopmesh.pricing.v1.PricingService"]
depends_on = ["catalog"]
""",
        encoding="utf-8",
    )
    return path


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie nobody reaps (PID 1 here may not) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if not stat.parent.parent.is_dir():  # no /proc (macOS): os.kill is all there is
        return True
    try:
        # The state letter follows the parenthesised command name.
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Runner:
    """``python -m services.mesh ...`` with its combined output collected line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.mesh", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float = READY_TIMEOUT_S) -> re.Match[str]:
        """The first output line matching ``pattern``, waiting up to ``timeout_s``."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next(filter(None, map(regex.search, self.lines)), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self._eof, timeout_s)
            match = found()
        assert match is not None, f"no line matching {pattern!r} in:\n{self.output}"
        return match

    def finish(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        """Waits for exit and for the last output line; returns the exit status."""
        returncode = self.process.wait(timeout=timeout_s)
        with self._changed:
            self._changed.wait_for(lambda: self._eof, timeout_s)
        return returncode

    def close(self) -> None:
        """Kills the runner if a test left it running (its guard stops the children)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def child_pids(self) -> dict[str, int]:
        return {m[1]: int(m[2]) for m in map(STARTED.search, self.lines) if m is not None}


def _run_once(*args: str, timeout_s: float = EXIT_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.mesh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _wait_until_gone(pids: dict[str, int], timeout_s: float) -> dict[str, int]:
    """The pids still alive after up to ``timeout_s`` of polling."""
    deadline = time.monotonic() + timeout_s
    while (alive := {n: p for n, p in pids.items() if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return _write_manifest(tmp_path)


@pytest.fixture
def start_runner() -> Iterator[list[Runner]]:
    """Runners a test starts; any still running at the end are killed."""
    runners: list[Runner] = []
    yield runners
    for runner in runners:
        runner.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Runner]]:
    """One mesh, started once and shared by the tests that only look at it."""
    directory = tmp_path_factory.mktemp("shared-mesh")
    manifest = _write_manifest(directory)
    runner = Runner("run", "--manifest", str(manifest), "--data-dir", str(directory), *FAST_STOP)
    try:
        runner.wait_for(r"\bready\b")
        yield manifest, runner
        runner.process.send_signal(signal.SIGINT)
        runner.finish()
    finally:
        runner.close()


def test_run_serves_until_sigint_then_exits_zero_leaving_no_child(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """The runner prints the table and grpcurl lines, grpcurl lists through the printed
    address, and SIGINT stops every child dependents-first and exits 0 without a traceback."""
    runner = Runner("run", "--manifest", str(manifest), "--data-dir", str(tmp_path), *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    assert re.search(r"^SERVICE\s+GRPC\s+HEALTHZ\s+STATE\s+PID$", runner.output, re.MULTILINE)
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
    assert all(map(_alive, pids.values()))

    runner.process.send_signal(signal.SIGINT)

    assert runner.finish() == 0, runner.output
    assert "Traceback" not in runner.output
    assert runner.output.index("stopping pricing") < runner.output.index("stopping catalog")
    assert "stopped 2 service(s)" in runner.output
    assert _wait_until_gone(pids, 0) == {}  # the runner waited for them: gone already


def test_run_exits_2_naming_a_port_that_is_already_taken(manifest: Path, tmp_path: Path) -> None:
    """A listener on one manifest port makes the runner exit 2 naming that port and service,
    with no traceback and without starting anything."""
    port = load_manifest(manifest).service("pricing").health_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = _run_once("run", "--manifest", str(manifest), "--data-dir", str(tmp_path))
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
    result = _run_once("run", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "already in use" in output
    assert "another mesh may already be running" in output
    assert "Traceback" not in output
    assert first.process.poll() is None
    assert _run_once("status", "--manifest", str(manifest)).returncode == 0


def test_status_exits_0_and_shows_serving_while_the_mesh_runs(
    running: tuple[Path, Runner],
) -> None:
    """``status`` prints every service as SERVING and exits 0 while the mesh runs."""
    manifest, _ = running
    result = _run_once("status", "--manifest", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^catalog\s.*\sSERVING$", result.stdout, re.MULTILINE)
    assert re.search(r"^pricing\s.*\sSERVING$", result.stdout, re.MULTILINE)


def test_status_exits_1_when_no_mesh_runs(manifest: Path) -> None:
    """``status`` against ports nothing listens on reports UNREACHABLE and exits 1."""
    result = _run_once("status", "--manifest", str(manifest))
    assert result.returncode == 1
    assert result.stdout.count("UNREACHABLE") == 2
    assert "is the mesh running?" in result.stderr


def test_second_sigint_kills_services_at_once(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A second SIGINT during a slow drain SIGKILLs the services and exits 1 at once."""
    runner = Runner(
        "run", "--manifest", str(manifest), "--data-dir", str(tmp_path), "--drain-delay-s", "30"
    )
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
    assert _wait_until_gone(pids, 0) == {}


def test_services_stop_when_the_runner_is_killed(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """SIGKILL on the runner still stops its children (the guard sees stdin close)."""
    runner = Runner("run", "--manifest", str(manifest), "--data-dir", str(tmp_path), *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    runner.process.kill()
    runner.process.wait(timeout=EXIT_TIMEOUT_S)
    assert _wait_until_gone(pids, EXIT_TIMEOUT_S) == {}


def test_run_exits_1_with_last_lines_when_a_service_fails_to_start(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A service that exits during start-up is named with its last output lines; its
    dependents never start and the runner exits 1."""
    runner = Runner(
        "run",
        "--manifest",
        str(manifest),
        "--data-dir",
        str(tmp_path),
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
    assert _wait_until_gone(pids, 0) == {}


def test_run_exits_1_when_a_service_dies_while_running(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A service killed behind the runner's back is reported by name, the others are
    stopped cleanly and the runner exits 1."""
    runner = Runner("run", "--manifest", str(manifest), "--data-dir", str(tmp_path), *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    pids = runner.child_pids()
    os.kill(pids["pricing"], signal.SIGKILL)
    assert runner.finish() == 1, runner.output
    assert "pricing died from SIGKILL unexpectedly" in runner.output
    assert "catalog exited cleanly" in runner.output
    assert "Traceback" not in runner.output
    assert _wait_until_gone(pids, 0) == {}


def test_sigint_during_start_up_stops_what_started_and_exits_zero(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """Ctrl-C while services are still starting stops them without a traceback, exit 0."""
    runner = Runner("run", "--manifest", str(manifest), "--data-dir", str(tmp_path), *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"started catalog \(pid \d+\)")
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() == 0, runner.output
    assert "Traceback" not in runner.output
    assert "ready" not in runner.output
    assert _wait_until_gone(runner.child_pids(), 0) == {}
