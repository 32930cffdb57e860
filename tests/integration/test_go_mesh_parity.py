"""A mesh whose pricing and inventory are the Go implementations does the same business
as the all-Python mesh: the transport-parity scenario (orders that confirm, fail at each
saga step, retry, reuse a key, get cancelled or are malformed) runs through both, each
started by the local runner as real processes, and every answer must be identical."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import grpc
import pytest

from meshkit.manifest import DEFAULT_MANIFEST, load_manifest
from runner import LocalMesh
from tests.integration.mesh_fixture import Mesh
from tests.integration.runner_harness import free_ports
from tests.integration.shop_clients import GrpcShop
from tests.integration.test_transport_parity import _scenario

pytestmark = pytest.mark.slow
PORT_KEY = re.compile(r"^(grpc_port|health_port|rest_port|http_port) = \d+$", re.MULTILINE)


def _shop_manifest_on_free_ports(directory: Path) -> Path:
    """services/mesh.toml, Go tables included, with every port moved to a free one."""
    text = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    ports = iter(free_ports(len(PORT_KEY.findall(text))))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "mesh.toml"
    path.write_text(PORT_KEY.sub(lambda m: f"{m[1]} = {next(ports)}", text), encoding="utf-8")
    return path


async def _run(directory: Path, impl: str) -> tuple[dict[str, Any], dict[str, str]]:
    manifest = load_manifest(_shop_manifest_on_free_ports(directory))
    events: list[str] = []
    mesh = LocalMesh(
        manifest,
        data_dir=directory / "data",
        with_gateway=False,
        drain_delay_s=0,
        grace_s=2,
        impl=impl,
        on_event=events.append,
    )
    async with mesh:
        names = ("orders", "inventory", "payments", "catalog")
        channels = {name: grpc.aio.insecure_channel(mesh.address(name)) for name in names}
        try:
            seen = await _scenario(GrpcShop(Mesh({}, directory), channels))
        finally:
            for channel in channels.values():
                await channel.close()
    report = await mesh.stop()
    assert report.clean, report.summary()
    started = {
        m[1]: m[2] for m in map(re.compile(r"started (\w+) \(pid \d+\): (.*)").search, events) if m
    }
    return seen, started


async def test_a_mesh_with_go_pricing_and_inventory_does_the_same_business(tmp_path: Path) -> None:
    """Orders, events, charges, stock and lookups through a mesh whose pricing and
    inventory are Go binaries equal those through the all-Python mesh."""
    python, python_started = await _run(tmp_path / "python", "")
    go, go_started = await _run(tmp_path / "go", "go")
    assert go_started["pricing"].endswith("(Go)")
    assert go_started["inventory"].endswith("(Go)")
    assert go_started["orders"] == python_started["orders"] == "python -m services.orders"
    for part in ("orders", "events", "charges", "stock", "reads"):
        assert go[part] == python[part], part
    states = [o.get("state") for o in python["orders"] if isinstance(o, dict)]
    assert states.count("CONFIRMED") >= 3
    steps = {
        o["failure"]["step"] for o in python["orders"] if isinstance(o, dict) and "failure" in o
    }
    assert steps == {"lookup", "quote", "reserve", "charge"}
