"""A service as a real process in either implementation (Python module or Go binary), on
free ports, for the cross-language tests: the same cases run against both and the
answers must agree."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # noqa: F401 - registers the detail types for JSON
from grpc_health.v1 import health_pb2

from meshkit.manifest import GO, PYTHON, load_manifest
from meshkit.runtime.error_mapping import status_of_rpc
from tests.integration.processes import free_port, health_status

IMPLEMENTATIONS = (PYTHON, GO)
START_TIMEOUT_S = 20.0
EXIT_TIMEOUT_S = 20.0


def go_binary(name: str) -> Path:
    """The built Go binary of service ``name``; fails the test, saying how to build it,
    when it is missing (``make test`` builds it before pytest runs)."""
    spec = load_manifest().service(name)
    assert spec.go is not None, f"{name} has no Go implementation in the manifest"
    binary = spec.go.binary_path
    if not binary.is_file():
        pytest.fail(f"{spec.go.binary} is not built: run `make go-build` first")
    return binary


def argv(name: str, impl: str) -> list[str]:
    """The command that runs service ``name`` as ``impl``."""
    if impl == GO:
        return [str(go_binary(name))]
    return [sys.executable, "-m", load_manifest().service(name).module]


@dataclass
class Running:
    """A started service process and where it listens."""

    process: asyncio.subprocess.Process
    impl: str
    grpc_port: int
    health_port: int
    rest_port: int
    stderr: list[str]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    async def terminate(self) -> int:
        """SIGTERM, then the exit status (bounded wait)."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(EXIT_TIMEOUT_S):
            return await self.process.wait()


async def _collect(stream: asyncio.StreamReader | None, lines: list[str]) -> None:
    while stream is not None and (line := await stream.readline()):
        lines.append(line.decode(errors="replace").rstrip("\n"))


async def _ready(running: Running, transport: str) -> bool:
    if transport == "rest":
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", running.rest_port)
        except OSError:
            return False
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        line = await reader.readline()
        writer.close()
        return line.startswith(b"HTTP/1.1 200")
    status = await health_status(running.address)
    return status == health_pb2.HealthCheckResponse.SERVING


@asynccontextmanager
async def running_service(
    name: str,
    impl: str,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    transport: str = "grpc",
) -> AsyncIterator[Running]:
    """Starts service ``name`` as ``impl`` on free ports (REST port too over REST), waits
    until it is ready, and kills it at the end if the test did not stop it."""
    ports = free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "SHOPMESH_HOST": "127.0.0.1",
        "SHOPMESH_GRPC_PORT": str(ports[0]),
        "SHOPMESH_HEALTH_PORT": str(ports[1]),
        "SHOPMESH_REST_PORT": str(ports[2]),
        "SHOPMESH_TRANSPORT": transport,
        "SHOPMESH_DATA_DIR": str(data_dir),
        "SHOPMESH_ACCESS_LOG": "0",
        "SHOPMESH_DRAIN_DELAY_S": "0",
        "SHOPMESH_GRACE_S": "2",
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        *argv(name, impl),
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    running = Running(process, impl, *ports, stderr=[])
    reader = asyncio.create_task(_collect(process.stderr, running.stderr))
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not await _ready(running, transport):
                if process.returncode is not None:
                    raise RuntimeError(f"{name} ({impl}) exited: {running.stderr}")
                await asyncio.sleep(0.05)
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        async with asyncio.timeout(5):
            await reader


Outcome = dict[str, object]
"""A call's answer, comparable across implementations: the reply as protobuf JSON, or
the status code, message and google.rpc.Status details."""


def reply_outcome(reply: Message) -> Outcome:
    return {"reply": json_format.MessageToDict(reply)}


def failure_outcome(error: grpc.aio.AioRpcError, *, message: bool = True) -> Outcome:
    """The failure's code, message (unless ``message`` is False: the transport's own text
    differs between gRPC libraries) and decoded details."""
    status = status_of_rpc(error)
    outcome: Outcome = {"code": error.code().name}
    if message:
        outcome["message"] = error.details()
        outcome["details"] = json_format.MessageToDict(status).get("details", [])
    return outcome


async def unary_outcome(call: Awaitable[Message], *, message: bool = True) -> Outcome:
    """The outcome of a unary call."""
    try:
        return reply_outcome(await call)
    except grpc.aio.AioRpcError as error:
        return failure_outcome(error, message=message)
