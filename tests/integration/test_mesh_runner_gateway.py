"""``python -m runner`` with the REST/JSON gateway: it starts last, is health-gated
on ``/healthz``, serves the API at the printed URL, stops first, and has its port checked.

Every test runs catalog, pricing and the gateway in front of them from a temporary manifest
on free ports, so it never meets a developer's own mesh on the default ports.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshkit.manifest import load_manifest
from runner import LocalMesh, probe
from tests.integration.runner_harness import (
    FAST_STOP,
    Runner,
    run_mesh,
    run_once,
    serving_runner,
    wait_until_gone,
    write_manifest,
)

pytestmark = pytest.mark.slow

HTTP_TIMEOUT_S = 10.0


def _write_manifest(directory: Path) -> Path:
    return write_manifest(directory, gateway=True)


def _gateway_port(manifest: Path) -> int:
    gateway = load_manifest(manifest).gateway
    assert gateway is not None
    return gateway.http_port


def _get(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of one GET."""
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - http only
        return response.status, response.headers.get_content_type(), response.read()


def _run(manifest: Path, data_dir: Path, *extra: str) -> Runner:
    return run_mesh(manifest, data_dir, *extra)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return _write_manifest(tmp_path)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Runner]]:
    """One mesh with its gateway, started once and shared by the tests that only look."""
    with serving_runner(tmp_path_factory.mktemp("shared-gateway-mesh"), gateway=True) as serving:
        yield serving


def test_printed_gateway_url_serves_the_api_and_healthz(running: tuple[Path, Runner]) -> None:
    """The table lists the gateway with its URL, /healthz and pid, and the URL printed in
    the curl block answers GET /v1/products/SKU-00042 and /healthz with 200 JSON."""
    manifest, runner = running
    port = _gateway_port(manifest)
    base = f"http://127.0.0.1:{port}"
    row = rf"^gateway\s+{re.escape(base)}\s+{re.escape(base)}/healthz\s+SERVING\s+\d+$"
    assert re.search(row, runner.output, re.MULTILINE), runner.output
    assert "# gateway (REST/JSON)" in runner.output
    printed = runner.wait_for(r"^curl -s (http://\S+)/v1/products/SKU-00042$")[1]
    assert printed == base

    status, kind, body = _get(f"{printed}/v1/products/SKU-00042")
    assert (status, kind) == (200, "application/json")
    assert json.loads(body)["product"]["sku"] == "SKU-00042"
    status, _, body = _get(f"{printed}/healthz")
    assert (status, json.loads(body)) == (200, {"status": "SERVING"})


def test_status_reports_the_gateway_serving(running: tuple[Path, Runner]) -> None:
    """``status`` checks the gateway's /healthz as well and exits 0 while all serve."""
    manifest, _ = running
    result = run_once("status", "--manifest", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^gateway\s+http://\S+\s+http://\S+/healthz\s+SERVING$", result.stdout, re.M)


def test_status_without_a_mesh_counts_the_gateway_unless_left_out(manifest: Path) -> None:
    """With nothing running the gateway is UNREACHABLE too; --no-gateway leaves its row out."""
    result = run_once("status", "--manifest", str(manifest))
    assert result.returncode == 1
    assert re.search(r"^gateway\s.*\sUNREACHABLE$", result.stdout, re.MULTILINE)
    assert result.stdout.count("UNREACHABLE") == 3
    without = run_once("status", "--manifest", str(manifest), "--no-gateway")
    assert without.stdout.count("UNREACHABLE") == 2
    assert "gateway" not in without.stdout


def test_run_starts_the_gateway_last_and_sigint_stops_it_first(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """The gateway starts once its upstreams are SERVING; SIGINT stops it before them, and
    everything exits cleanly with status 0, no traceback and no process left."""
    runner = _run(manifest, tmp_path, *FAST_STOP)
    start_runner.append(runner)
    runner.wait_for(r"\bready: 2 service\(s\) SERVING, gateway on http://")
    pids = runner.child_pids()
    assert set(pids) == {"catalog", "pricing", "gateway"}
    output = runner.output
    assert output.index("pricing SERVING on") < output.index("started gateway")
    assert re.search(r"^mesh\s+\| gateway SERVING on http://127\.0\.0\.1:\d+ after", output, re.M)
    assert re.search(r"^gateway\s+\| INFO gateway serving", output, re.MULTILINE)

    runner.process.send_signal(signal.SIGINT)

    assert runner.finish() == 0, runner.output
    output = runner.output
    assert "Traceback" not in output
    assert output.index("stopping gateway") < output.index("stopping pricing")
    assert "gateway exited cleanly" in output
    assert "stopped 3 service(s)" in output
    assert wait_until_gone(pids, 0) == {}


def test_run_exits_2_naming_the_gateway_port_when_it_is_taken(
    manifest: Path, tmp_path: Path
) -> None:
    """A listener on the gateway's port makes the runner exit 2 naming it, starting nothing."""
    port = _gateway_port(manifest)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_once("run", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"port {port} (gateway HTTP) on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    assert "started" not in output


@pytest.mark.parametrize("selection", [("--only", "catalog"), ("--no-gateway",)])
def test_run_leaves_the_gateway_out_when_not_all_upstreams_run_or_asked_to(
    manifest: Path, tmp_path: Path, start_runner: list[Runner], selection: tuple[str, ...]
) -> None:
    """--only catalog (pricing, an upstream, not selected) and --no-gateway start no
    gateway and print no curl block."""
    runner = _run(manifest, tmp_path, *FAST_STOP, *selection)
    start_runner.append(runner)
    runner.wait_for(r"\bready\b")
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() == 0, runner.output
    assert "gateway" not in set(runner.child_pids())
    assert "# gateway (REST/JSON)" not in runner.output
    assert "; Ctrl-C stops them" in runner.output
    assert "gateway on" not in runner.output


def test_run_exits_1_naming_the_gateway_when_its_configuration_is_bad(
    manifest: Path, tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A gateway that rejects its settings fails start-up by name with its one-line error;
    the services it would front stop cleanly and the runner exits 1."""
    runner = run_mesh(
        manifest,
        tmp_path,
        *FAST_STOP,
        env={"GATEWAY_MAX_BODY_BYTES": "lots"},  # only the gateway reads GATEWAY_*
    )
    start_runner.append(runner)
    assert runner.finish() == 1, runner.output
    output = runner.output
    assert "gateway failed to start: exited with code 2" in output
    assert "configuration error: GATEWAY_MAX_BODY_BYTES" in output
    assert "catalog exited cleanly" in output
    assert "pricing exited cleanly" in output
    assert "ready" not in output
    assert "Traceback" not in output
    assert wait_until_gone(runner.child_pids(), 0) == {}


async def test_local_mesh_runs_the_gateway_and_stops_it_first(
    manifest: Path, tmp_path: Path
) -> None:
    """``async with LocalMesh`` gives a gateway URL whose /healthz is SERVING; stop()
    stops the gateway first and reports everything clean."""
    mesh = LocalMesh(load_manifest(manifest), data_dir=tmp_path, drain_delay_s=0.1, grace_s=2)
    async with mesh:
        assert mesh.gateway_url is not None
        assert await probe.check_http(f"{mesh.gateway_url}/healthz") == probe.SERVING
        pids = mesh.pids
        report = await mesh.stop()
    assert report.clean, report.summary()
    assert [e.name for e in report.exits] == ["gateway", "pricing", "catalog"]
    assert wait_until_gone(pids, 0) == {}
