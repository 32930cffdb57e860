"""``python -m runner status``: one health check per process of the meshes a
``run`` with the same arguments would start, shown as the runner's table (with how many
times each was restarted, when the running runner's state file says so)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from meshkit.manifest import GatewaySpec, ServiceSpec
from runner import plan, probe, table
from runner.console import Console


async def report(
    specs: Sequence[ServiceSpec],
    gateway: GatewaySpec | None,
    transports: Sequence[str],
    host: str,
    console: Console,
    restarts: Mapping[str, int] | None = None,
) -> bool:
    """Checks every service over each of ``transports`` (and the gateway, which belongs to
    the gRPC mesh), prints the table; True when every one answered SERVING. ``restarts``
    (process name → count, from the runner's state file) adds a RESTARTS column once one
    is above zero."""
    checks = {
        plan.process_name(spec.name, transport): _check(spec, host, transport)
        for transport in transports
        for spec in specs
    }
    if gateway is not None:
        checks[gateway.name] = probe.check_http(plan.gateway_healthz_url(gateway, host))
    states = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    rows = [
        row
        for transport in transports
        for row in table.rows(
            specs,
            host,
            states,
            gateway=gateway if transport == plan.GRPC else None,
            transport=transport,
            restarts=restarts,
        )
    ]
    console.block(table.render_table(rows))
    if all(state == probe.UNREACHABLE for state in states.values()):
        run = "python -m runner run"
        if transports != (plan.GRPC,):
            run += f" --transport {'both' if len(transports) > 1 else transports[0]}"
        console.error(f"no service answered: is the mesh running? ({run})")
    return all(state == probe.SERVING for state in states.values())


async def _check(spec: ServiceSpec, host: str, transport: str) -> str:
    if transport == plan.REST:
        return await probe.check_http(plan.readyz_url(spec, host, plan.REST))
    return await probe.check_once(plan.grpc_address(spec, host))
