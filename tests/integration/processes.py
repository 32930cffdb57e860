"""Helpers for tests that run a service as a real process (signals, exits, restarts)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServiceProcess:
    process: asyncio.subprocess.Process
    grpc_port: int
    health_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


async def health_status(address: str, timeout_s: float = 1.0) -> int | None:
    """The server's overall health, or None if it does not answer."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.aio.AioRpcError:
            return None
        return int(reply.status)


@asynccontextmanager
async def service_process(
    module: str, data_dir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[ServiceProcess]:
    """Starts ``python -m module`` on free ports, waits for SERVING, kills it at the end."""
    grpc_port, health_port = free_port(), free_port()
    environment = {
        **os.environ,
        "SHOPMESH_HOST": "127.0.0.1",
        "SHOPMESH_GRPC_PORT": str(grpc_port),
        "SHOPMESH_HEALTH_PORT": str(health_port),
        "SHOPMESH_DATA_DIR": str(data_dir),
        "SHOPMESH_ACCESS_LOG": "0",
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, env=environment, stderr=asyncio.subprocess.PIPE
    )
    running = ServiceProcess(process, grpc_port, health_port)
    try:
        async with asyncio.timeout(20):
            while await health_status(running.address) != health_pb2.HealthCheckResponse.SERVING:
                if process.returncode is not None:
                    raise RuntimeError(f"{module} exited with {process.returncode}")
                await asyncio.sleep(0.05)
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
