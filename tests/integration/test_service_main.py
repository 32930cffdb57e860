"""A service process refuses bad settings and taken ports with one clear line."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from tests.integration.processes import free_port


async def _run(module: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        env={**os.environ, "SHOPMESH_HOST": "127.0.0.1", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(20):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_bad_setting_exits_2_naming_it() -> None:
    """A malformed variable stops the service with exit 2 and the variable's name."""
    code, out = await _run("services.catalog", {"SHOPMESH_GRACE_S": "soon"})
    assert code == 2
    assert "SHOPMESH_GRACE_S" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("which", ["grpc", "health"])
async def test_taken_port_exits_2_with_a_clear_message(which: str) -> None:
    """A port already bound by someone else stops the service with exit 2, no traceback."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = {"grpc": free_port(), "health": free_port(), which: taken}
        code, out = await _run(
            "services.pricing",
            {
                "SHOPMESH_GRPC_PORT": str(ports["grpc"]),
                "SHOPMESH_HEALTH_PORT": str(ports["health"]),
            },
        )
    assert code == 2
    assert f"127.0.0.1:{taken}" in out
    assert "Traceback" not in out


async def test_taken_rest_port_exits_2_with_a_clear_message() -> None:
    """In REST mode too, a taken port is exit 2 and one line naming the address."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        code, out = await _run(
            "services.pricing", {"SHOPMESH_TRANSPORT": "rest", "SHOPMESH_REST_PORT": str(taken)}
        )
    assert code == 2
    assert f"cannot listen for REST on 127.0.0.1:{taken}" in out
    assert "Traceback" not in out


async def test_unknown_transport_exits_2_naming_the_variable() -> None:
    """SHOPMESH_TRANSPORT accepts grpc or rest only."""
    code, out = await _run("services.catalog", {"SHOPMESH_TRANSPORT": "soap"})
    assert code == 2
    assert "SHOPMESH_TRANSPORT" in out
