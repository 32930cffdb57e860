"""Starts what the arms need on this machine: the gRPC mesh with its gateway and a
per-item orders, the REST mesh with a batch and a new-connection orders, all on free
ports, access logs off, from the manifest.

Access logs are off on both sides: the runner would read every line in this process,
and the loader's CPU must go to the load. The gateway's per-client rate limit is off: the
loader is one client. Everything else is as ``make run`` starts it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from loadtest.targets import ORDERS_VARIANTS, Targets
from meshkit.manifest import Manifest, ServiceSpec, load_manifest
from runner import GRPC, REST, LocalMesh, MeshGroup, process_name

HOST = "127.0.0.1"
QUIET_ENV = {
    "SHOPMESH_ACCESS_LOG": "0",
    "SHOPMESH_LOG_LEVEL": "WARNING",
    # The loader is one client: the edge's per-client rate limit would cap the arm.
    "GATEWAY_RATE_LIMIT_PER_S": "0",
}


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def load_manifest_with_variants(manifest: Manifest, *, free_ports: bool) -> Manifest:
    """The manifest plus the orders variants; with ``free_ports`` every port is one the
    kernel picked just now (so a `make run` elsewhere on this machine cannot clash)."""
    taken: set[int] = set()

    def placed(spec: ServiceSpec) -> ServiceSpec:
        if not free_ports:
            return spec
        return dataclasses.replace(
            spec,
            grpc_port=_free_port(taken),
            health_port=_free_port(taken),
            rest_port=_free_port(taken),
        )

    services = [placed(spec) for spec in manifest.services]
    orders = manifest.service("orders")
    for name, (_, env) in ORDERS_VARIANTS.items():
        variant = dataclasses.replace(orders, name=name, env={**orders.env, **env})
        if not free_ports:  # keep clear of the manifest's own ports
            base = 1000 + len(services)
            variant = dataclasses.replace(
                variant,
                grpc_port=orders.grpc_port + base,
                health_port=orders.health_port + base,
                rest_port=orders.rest_port + base,
            )
        services.append(placed(variant))
    gateway = manifest.gateway
    if gateway is not None and free_ports:
        gateway = dataclasses.replace(gateway, http_port=_free_port(taken))
    return dataclasses.replace(manifest, services=tuple(services), gateway=gateway)


@asynccontextmanager
async def local_meshes(
    data_dir: Path,
    base_env: Mapping[str, str],
    *,
    on_event: Callable[[str], None] = lambda _: None,
    on_stopped: Callable[[str], None] = lambda _: None,
    free_ports: bool = True,
) -> AsyncIterator[Targets]:
    """Runs both meshes (and the variants) until the block ends; yields their targets;
    ``on_stopped`` hears how the stop went ("stopped 15 service(s) in 3.1s: 15 cleanly")."""
    manifest = load_manifest_with_variants(load_manifest(), free_ports=free_ports)
    env = {**base_env, **QUIET_ENV}
    variants = {transport: [] for transport in ("grpc", "rest")}  # type: dict[str, list[str]]
    for name, (transports, _) in ORDERS_VARIANTS.items():
        for transport in transports:
            variants[transport].append(name)
    meshes = [
        LocalMesh(
            manifest,
            host=HOST,
            data_dir=data_dir,
            only=("orders", *variants[transport]),
            with_gateway=transport == "grpc",
            base_env=env,
            on_event=on_event,
            transport=transport,
            drain_delay_s=0.0,
            grace_s=2.0,
        )
        for transport in ("grpc", "rest")
    ]
    group = MeshGroup(meshes)
    try:
        await group.start()
        yield _targets(manifest, meshes)
    finally:
        report = await asyncio.shield(group.stop())
        on_stopped(report.summary())


def _targets(manifest: Manifest, meshes: list[LocalMesh]) -> Targets:
    grpc_mesh, rest_mesh = meshes
    metrics = {}
    for spec in grpc_mesh.services:
        metrics[process_name(spec.name, GRPC)] = f"http://{HOST}:{spec.health_port}/metrics"
    for spec in rest_mesh.services:
        metrics[process_name(spec.name, REST)] = f"http://{HOST}:{spec.rest_port}/metrics"
    pids = {**grpc_mesh.pids, **rest_mesh.pids}
    return Targets(
        grpc=dict(grpc_mesh.addresses),
        rest=dict(rest_mesh.rest_urls),
        gateway=grpc_mesh.gateway_url,
        metrics=metrics,
        pids=pids,
        local=True,
    )
