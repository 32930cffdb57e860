"""The transcoding gateway under real uvicorn on 127.0.0.1 port 0, over the real mesh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from gateway.app import TranscoderConfig
from gateway.config import GatewayConfig
from gateway.edge.config import Credential, EdgeConfig
from gateway.edge.drain import Drain
from gateway.server import build_gateway
from meshkit.manifest import load_manifest
from tests.integration.mesh_fixture import Mesh, running_mesh

ADMIN_KEY = "admin-key-0123456789abcdef"
"""The API key of the admin client the fixtures configure when admin routes are on."""
ADMIN_HEADERS = {"x-api-key": ADMIN_KEY}
ADMIN_CREDENTIALS = (Credential("admin", ADMIN_KEY),)


@dataclass
class Gateway:
    base_url: str
    session: aiohttp.ClientSession
    mesh: Mesh
    drain: Drain


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Runs ``app`` under uvicorn on a free port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def upstream_targets(mesh: Mesh) -> dict[str, str]:
    """Each public gRPC service's address in the running mesh, from the manifest."""
    return {
        proto: mesh.address(spec.name)
        for spec in load_manifest().services
        for proto in spec.proto_services
    }


@asynccontextmanager
async def running_gateway(
    data_dir: Path,
    edge: EdgeConfig | None = None,
    transcoder: TranscoderConfig | None = None,
    *,
    admin_routes: bool = False,
    **mesh_options: Any,
) -> AsyncIterator[Gateway]:
    """The whole gateway as ``python -m gateway`` builds it (edge, docs, transcoder);
    rate limiting off unless ``edge`` says otherwise. Public routes only, unless
    ``admin_routes``: then admin routes too, behind ``ADMIN_KEY`` by default."""
    async with running_mesh(data_dir, **mesh_options) as mesh:
        keys = ADMIN_CREDENTIALS if admin_routes else ()
        config = GatewayConfig(
            upstreams=upstream_targets(mesh),
            edge=edge or EdgeConfig(rate_per_s=0.0, api_keys=keys),
            transcoder=transcoder or TranscoderConfig(),
            admin_routes=admin_routes,
        )
        gateway = build_gateway(config)
        async with serving(gateway.app) as base_url, aiohttp.ClientSession() as session:
            yield Gateway(base_url, session, mesh, gateway.drain)
