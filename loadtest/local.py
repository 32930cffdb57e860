"""Starts what the arms need on this machine: the gRPC mesh with its gateway and a
per-item orders, the REST mesh with a batch and a new-connection orders, all on free
ports, access logs off, from the manifest; and, for the Go arms, the same two meshes
again with pricing and inventory running their Go implementations (orders and its batch
variant only, no gateway), on ports and data directories of their own.

Access logs are off on both sides: the runner would read every line in this process,
and the loader's CPU must go to the load. The gateway's per-client rate limit is off: the
loader is one client. Everything else is as ``make run`` starts it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from loadtest.arms import GO_ORDERS
from loadtest.targets import ORDERS_VARIANTS, Targets
from meshkit.manifest import GO, PYTHON, Manifest, ServiceSpec, load_manifest
from runner import GRPC, REST, LocalMesh, MeshGroup, StopReport, process_name

HOST = "127.0.0.1"
QUIET_ENV = {
    "SHOPMESH_ACCESS_LOG": "0",
    "SHOPMESH_LOG_LEVEL": "WARNING",
    # The loader is one client: the edge's per-client rate limit would cap the arm.
    "GATEWAY_RATE_LIMIT_PER_S": "0",
}
FIXED_PORT_SHIFT = {PYTHON: 0, GO: 2000}
"""Without free ports, the Go meshes keep this far from the Python ones' ports."""


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def load_manifest_with_variants(
    manifest: Manifest, *, free_ports: bool, taken: set[int] | None = None, shift: int = 0
) -> Manifest:
    """The manifest plus the orders variants; with ``free_ports`` every port is one the
    kernel picked just now and not in ``taken`` (so a `make run` elsewhere on this
    machine, or another mesh of this run, cannot clash); without, the manifest's ports
    moved by ``shift``."""
    taken = set() if taken is None else taken

    def placed(spec: ServiceSpec) -> ServiceSpec:
        if not free_ports:
            return dataclasses.replace(
                spec,
                grpc_port=spec.grpc_port + shift,
                health_port=spec.health_port + shift,
                rest_port=spec.rest_port + shift if spec.rest_port else spec.rest_port,
            )
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


def _meshes(
    manifest: Manifest,
    impl: str,
    data_dir: Path,
    env: Mapping[str, str],
    on_event: Callable[[str], None],
) -> list[LocalMesh]:
    """The gRPC and the REST mesh of one implementation choice: with Python services,
    every orders variant (and the gateway); with Go pricing and inventory, the orders
    processes the Go arms drive."""
    variants: dict[str, list[str]] = {GRPC: [], REST: []}
    for name, (transports, _) in ORDERS_VARIANTS.items():
        for transport in transports:
            variants[transport].append(name)
    return [
        LocalMesh(
            manifest,
            host=HOST,
            data_dir=data_dir,
            only=("orders", *variants[transport]) if impl == PYTHON else GO_ORDERS,
            with_gateway=transport == GRPC and impl == PYTHON,
            base_env=env,
            on_event=on_event,
            transport=transport,
            drain_delay_s=0.0,
            grace_s=2.0,
            impl=impl,
        )
        for transport in (GRPC, REST)
    ]


@asynccontextmanager
async def local_meshes(
    data_dir: Path,
    base_env: Mapping[str, str],
    *,
    impls: Collection[str] = (PYTHON,),
    on_event: Callable[[str], None] = lambda _: None,
    on_stopped: Callable[[str], None] = lambda _: None,
    free_ports: bool = True,
) -> AsyncIterator[Targets]:
    """Runs both meshes (and the variants), and both again with Go services when ``impls``
    has ``go``, until the block ends; yields their targets (the Go ones under
    ``alternatives``); ``on_stopped`` hears how the stop went ("stopped 27 service(s) in
    3.1s: 27 cleanly"). Nothing starts unless every mesh passes its pre-flight (a Go
    binary not built raises ``runner.PreflightError``)."""
    env = {**base_env, **QUIET_ENV}
    taken: set[int] = set()
    chosen = [PYTHON, *(impl for impl in impls if impl != PYTHON)]
    pairs = {
        impl: _meshes(
            load_manifest_with_variants(
                load_manifest(), free_ports=free_ports, taken=taken, shift=FIXED_PORT_SHIFT[impl]
            ),
            impl,
            data_dir if impl == PYTHON else data_dir / impl,
            env,
            on_event,
        )
        for impl in chosen
    }
    # One group per implementation: process names repeat across them ("pricing").
    groups = [MeshGroup(meshes) for meshes in pairs.values()]
    for mesh in (mesh for group in groups for mesh in group.meshes):
        mesh.preflight()
    try:
        await _start_all(groups)
        targets = _targets(pairs[PYTHON])
        alternatives = {impl: _targets(meshes) for impl, meshes in pairs.items() if impl != PYTHON}
        yield dataclasses.replace(targets, alternatives=alternatives)
    finally:
        reports = await asyncio.shield(asyncio.gather(*(group.stop() for group in groups)))
        exits = tuple(service_exit for report in reports for service_exit in report.exits)
        on_stopped(StopReport(exits, max(report.seconds for report in reports)).summary())


async def _start_all(groups: Sequence[MeshGroup]) -> None:
    """Starts the groups together; if one fails, the others' start-ups are cancelled
    (the caller still stops every group) and the first failure is raised."""
    starts = [asyncio.create_task(group.start()) for group in groups]
    try:
        await asyncio.gather(*starts)
    finally:
        for start in starts:
            start.cancel()
        await asyncio.gather(*starts, return_exceptions=True)


def _targets(meshes: list[LocalMesh]) -> Targets:
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
