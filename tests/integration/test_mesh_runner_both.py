"""``python -m runner run --transport both``: the gRPC mesh (with its gateway) and
the REST mesh side by side in one runner, both ready before "ready", both stopped on
Ctrl-C, each dependents first.

Every test runs catalog and pricing (pricing depending on catalog) from a temporary
manifest on free ports, so it never meets a developer's own mesh on the default ports.
"""

from __future__ import annotations

import json
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshkit.manifest import load_manifest
from runner import plan, probe
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
CHECK_TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Runner]]:
    """Both meshes with the gateway, started once and shared by the tests that only look."""
    directory = tmp_path_factory.mktemp("both-meshes")
    with serving_runner(directory, gateway=True, transport="both") as serving:
        yield serving


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - http only
        assert response.status == 200
        return json.loads(response.read())


async def test_both_meshes_answer_on_their_printed_addresses(running: tuple[Path, Runner]) -> None:
    """The table lists the gRPC services, the gateway and the -rest services; a product
    comes back through the gateway (over the gRPC mesh) and from catalog-rest, and gRPC
    health answers SERVING on the gRPC address."""
    manifest, runner = running
    shop = load_manifest(manifest)
    catalog, gateway_spec = shop.service("catalog"), shop.gateway
    assert gateway_spec is not None
    output = runner.output
    for name in ("catalog", "pricing", "gateway", "catalog-rest", "pricing-rest"):
        assert re.search(rf"^{name}\s+\S+\s+http://\S+/healthz\s+SERVING\s+\d+$", output, re.M)
    assert re.search(
        r"\bready: 2 service\(s\) SERVING, gateway on http://\S+; 2 service\(s\)"
        r" SERVING over REST; Ctrl-C stops them$",
        output,
        re.M,
    )
    assert "# gateway (REST/JSON)" in output
    assert "# catalog-rest (REST/JSON baseline)" in output
    gateway = plan.gateway_url(gateway_spec, "127.0.0.1")
    rest = plan.rest_url(catalog, "127.0.0.1")
    for base in (gateway, rest):
        assert f"curl -s {base}/v1/products/SKU-00042" in runner.lines

    assert _get_json(f"{gateway}/v1/products/SKU-00042")["product"]["sku"] == "SKU-00042"
    assert _get_json(f"{rest}/v1/products/SKU-00042")["sku"] == "SKU-00042"
    address = plan.grpc_address(catalog, "127.0.0.1")
    assert await probe.check_once(address, CHECK_TIMEOUT_S) == probe.SERVING


def test_status_both_checks_every_process_of_both_meshes(running: tuple[Path, Runner]) -> None:
    """``status --transport both`` shows all five processes SERVING and exits 0."""
    manifest, _ = running
    result = run_once("status", "--manifest", str(manifest), "--transport", "both")
    assert result.returncode == 0, result.stdout + result.stderr
    serving = re.findall(r"^(\S+)\s.*\sSERVING$", result.stdout, re.MULTILINE)
    assert serving == ["catalog", "pricing", "gateway", "catalog-rest", "pricing-rest"]


def test_sigint_stops_both_meshes_dependents_first_and_exits_zero(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """SIGINT stops each mesh in its own order (pricing before catalog, pricing-rest
    before catalog-rest), every process exits cleanly and the runner exits 0."""
    manifest = write_manifest(tmp_path, gateway=False)
    runner = run_mesh(
        manifest,
        tmp_path,
        "--transport",
        "both",
        *FAST_STOP,
    )
    start_runner.append(runner)
    runner.wait_for(r"\bready: 2 service\(s\) SERVING; 2 service\(s\) SERVING over REST;")
    pids = runner.child_pids()
    assert set(pids) == {"catalog", "pricing", "catalog-rest", "pricing-rest"}

    runner.process.send_signal(signal.SIGINT)

    assert runner.finish() == 0, runner.output
    output = runner.output
    assert "Traceback" not in output
    assert output.index("stopping pricing (") < output.index("stopping catalog (")
    assert output.index("stopping pricing-rest") < output.index("stopping catalog-rest")
    assert "stopped 4 service(s)" in output
    assert ": 4 cleanly" in output
    assert wait_until_gone(pids, 0) == {}


def test_both_stops_the_rest_mesh_too_when_the_grpc_mesh_fails_to_start(
    tmp_path: Path, start_runner: list[Runner]
) -> None:
    """A gateway that rejects its settings fails the gRPC mesh's start-up; the REST mesh
    started beside it is stopped as well, cleanly, and the runner exits 1 without "ready"."""
    manifest = write_manifest(tmp_path, gateway=True)
    runner = run_mesh(
        manifest,
        tmp_path,
        "--transport",
        "both",
        *FAST_STOP,
        env={"GATEWAY_MAX_BODY_BYTES": "lots"},  # only the gateway reads GATEWAY_*
    )
    start_runner.append(runner)
    assert runner.finish() == 1, runner.output
    output = runner.output
    assert "gateway failed to start: exited with code 2" in output
    for name in ("catalog", "pricing", "catalog-rest", "pricing-rest"):
        assert f"{name} exited cleanly" in output
    assert "ready" not in output
    assert "Traceback" not in output
    assert wait_until_gone(runner.child_pids(), 0) == {}
