"""``python -m runner run --transport rest`` as a real process: the shop's services
serve their REST/JSON baseline, health-gated on ``/healthz``, every printed curl line
works, and SIGTERM stops them dependents first.

Every test runs from a temporary manifest on free ports, so it never meets a developer's
own mesh on the default ports.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshkit.examples import CurlExample, load_examples
from meshkit.manifest import load_manifest
from meshkit.probes import LIVENESS_PATH, METRICS_PATH
from runner import LocalMesh, plan, preflight, probe, table
from tests.integration.runner_harness import (
    FAST_STOP,
    Runner,
    run_mesh,
    run_once,
    serving_runner,
    wait_until_gone,
    write_manifest,
    write_shop_manifest,
)

pytestmark = pytest.mark.slow

HTTP_TIMEOUT_S = 10.0
REST_CASES = [
    pytest.param(name, index, id=f"{name} {example.method} {example.path}")
    for name, examples in load_examples().rest.items()
    for index, example in enumerate(examples)
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Runner]]:
    """The whole shop over REST, started once and shared by the tests that only call it:
    (manifest, data dir, runner)."""
    directory = tmp_path_factory.mktemp("rest-shop")
    manifest = write_shop_manifest(directory)
    with serving_runner(directory, transport="rest", manifest=manifest) as (_, runner):
        yield manifest, directory, runner


def _send(base_url: str, example: CurlExample) -> tuple[int, Any]:
    """The example's request as curl sends it; its status and JSON reply."""
    headers = dict(example.headers)
    if example.content_type is not None:
        headers["content-type"] = example.content_type
    request = urllib.request.Request(  # noqa: S310 - a plain-HTTP loopback URL
        base_url + example.path,
        data=None if example.data is None else example.data.encode(),
        headers=headers,
        method=example.method,
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _get(url: str) -> tuple[int, Any]:
    return _send(url, CurlExample("GET", ""))


def test_rest_run_serves_every_service_over_rest_only(shop: tuple[Path, Path, Runner]) -> None:
    """The table lists each service as <name>-rest at its REST URL, SERVING with a pid;
    there is no gateway and no gRPC port open, and stateful services keep their data
    under DATA_DIR/rest."""
    manifest, directory, runner = shop
    specs = load_manifest(manifest).services
    for spec in specs:
        base = re.escape(plan.rest_url(spec, "127.0.0.1"))
        row = rf"^{spec.name}-rest\s+{base}\s+{base}/healthz\s+SERVING\s+\d+$"
        assert re.search(row, runner.output, re.MULTILINE), runner.output
        assert preflight.port_is_free("127.0.0.1", spec.grpc_port)
        assert preflight.port_is_free("127.0.0.1", spec.health_port)
    assert set(runner.child_pids()) == {f"{spec.name}-rest" for spec in specs}
    assert "ready: 5 service(s) SERVING over REST; Ctrl-C stops them" in runner.output
    assert "grpcurl" not in runner.output
    assert "# gateway" not in runner.output
    stateful = {spec.name for spec in specs if spec.stateful}
    assert {p.name for p in (directory / "rest").iterdir()} == stateful
    assert not any((directory / name).exists() for name in stateful)


@pytest.mark.parametrize(("service", "index"), REST_CASES)
def test_every_rest_curl_example_the_runner_prints_works(
    shop: tuple[Path, Path, Runner], service: str, index: int
) -> None:
    """Each printed REST curl line is in the output and its request answers 200 with a JSON
    object (the service's earlier examples are sent first, as a reader pasting them would:
    a reservation before its release)."""
    manifest, _, runner = shop
    base = plan.rest_url(load_manifest(manifest).service(service), "127.0.0.1")
    examples = load_examples().rest[service]
    assert table.curl_command(base, examples[index]) in runner.lines
    for earlier in examples[:index]:
        _send(base, earlier)
    status, document = _send(base, examples[index])
    assert status == 200, document
    assert isinstance(document, dict)
    assert document


def test_printed_rest_healthz_and_metrics_urls_answer(shop: tuple[Path, Path, Runner]) -> None:
    """Each service's printed /healthz answers 200 SERVING and its /metrics 200 with its
    counters, named after the service."""
    manifest, _, runner = shop
    for spec in load_manifest(manifest).services:
        base = plan.rest_url(spec, "127.0.0.1")
        for path in (LIVENESS_PATH, METRICS_PATH):
            assert f"curl -s {base}{path}" in runner.lines
        status, health = _get(base + LIVENESS_PATH)
        assert (status, health["status"]) == (200, "SERVING")
        status, metrics = _get(base + METRICS_PATH)
        assert (status, metrics["service"]) == (200, spec.name)


def test_status_over_rest_reports_every_service_serving(shop: tuple[Path, Path, Runner]) -> None:
    """``status --transport rest`` checks each /healthz and exits 0 while all serve; plain
    ``status`` (gRPC) finds nothing, as no gRPC mesh runs."""
    manifest, _, _ = shop
    result = run_once("status", "--manifest", str(manifest), "--transport", "rest")
    assert result.returncode == 0, result.stdout + result.stderr
    serving = re.findall(
        r"^(\S+)\s+http://\S+\s+http://\S+/healthz\s+SERVING$", result.stdout, re.M
    )
    assert serving == [f"{spec.name}-rest" for spec in load_manifest(manifest).services]
    grpc = run_once("status", "--manifest", str(manifest))
    assert grpc.returncode == 1
    assert grpc.stdout.count("UNREACHABLE") == 5


def test_rest_run_from_the_environment_stops_dependents_first_on_sigterm(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """MESH_TRANSPORT=rest runs the REST mesh; SIGTERM stops pricing-rest before the
    catalog-rest it depends on, each exits cleanly, the runner exits 0, nothing is left."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(
        manifest,
        tmp_path,
        *FAST_STOP,
        env={"MESH_TRANSPORT": "rest"},
    )
    start_runner.append(runner)
    runner.wait_for(r"\bready: 2 service\(s\) SERVING over REST")
    pids = runner.child_pids()
    assert set(pids) == {"catalog-rest", "pricing-rest"}

    runner.process.send_signal(signal.SIGTERM)

    assert runner.finish() == 0, runner.output
    output = runner.output
    assert "Traceback" not in output
    assert output.index("stopping pricing-rest") < output.index("stopping catalog-rest")
    assert "catalog-rest exited cleanly" in output
    assert "stopped 2 service(s)" in output
    assert wait_until_gone(pids, 0) == {}


@pytest.mark.parametrize("transport", ["rest", "both"])
def test_a_taken_rest_port_exits_2_starting_nothing(tmp_path: Path, transport: str) -> None:
    """A listener on a REST port makes ``run --transport rest`` (or ``both``) exit 2 naming
    it before either mesh starts anything; over REST alone the hint checks the REST mesh."""
    manifest = write_manifest(tmp_path, gateway=False)
    port = load_manifest(manifest).service("catalog").rest_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_once("run", "--manifest", str(manifest), "--transport", transport)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"port {port} (catalog REST) on 127.0.0.1 is already in use" in output
    if transport == "rest":
        assert "status --transport rest" in output
    assert "started" not in output
    assert "Traceback" not in output


async def test_local_mesh_over_rest_gives_serving_urls_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    """``LocalMesh(transport="rest")`` yields REST URLs whose /healthz is SERVING; stop()
    stops pricing-rest first and reports everything clean."""
    manifest = load_manifest(write_manifest(tmp_path, gateway=True))
    mesh = LocalMesh(manifest, data_dir=tmp_path, drain_delay_s=0.1, grace_s=2, transport="rest")
    async with mesh:
        assert set(mesh.rest_urls) == {"catalog", "pricing"}
        for url in mesh.rest_urls.values():
            assert await probe.check_http(url + LIVENESS_PATH) == probe.SERVING
        pids = mesh.pids
        report = await mesh.stop()
    assert report.clean, report.summary()
    assert [e.name for e in report.exits] == ["pricing-rest", "catalog-rest"]  # no gateway
    assert wait_until_gone(pids, 0) == {}
