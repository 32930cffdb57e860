"""The signing proxy as a user runs it: its command line in its own process, and the real
grpcurl binary through it (reflection's bidi stream and a unary call), to a local TLS
server that refuses any call without a valid SigV4 signature."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from tests.integration.processes import free_port
from tests.unit.test_sigv4_proxy import ACCESS_KEY, REGION, SECRET_KEY, SigV4Verifier
from tests.unit.test_sigv4_proxy import self_signed_for_loopback as tls_identity

GRPCURL = Path(sys.executable).parent / "grpcurl"
TIMEOUT_S = 20.0


@dataclass
class Running:
    verifier: SigV4Verifier
    proxy: str


async def _run(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(TIMEOUT_S):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    identity = tls_identity()
    verifier = SigV4Verifier(authority="")
    server = grpc.aio.server(interceptors=(verifier,))
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)  # type: ignore[no-untyped-call]
    reflection.enable_server_reflection(  # type: ignore[no-untyped-call]
        ["grpc.health.v1.Health", reflection.SERVICE_NAME], server
    )
    port = server.add_secure_port(
        "127.0.0.1:0", grpc.ssl_server_credentials([(identity.key_pem, identity.cert_pem)])
    )
    await server.start()
    verifier.authority = f"127.0.0.1:{port}"
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(identity.cert_pem)
    listen = f"127.0.0.1:{free_port()}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}
    }
    environment.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    proxy = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cloudformation.sigv4_proxy",
        "--listen", listen, "--target", verifier.authority,
        "--region", REGION, "--ca-file", str(ca_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=environment,
    )  # fmt: skip
    try:
        assert proxy.stdout is not None
        async with asyncio.timeout(TIMEOUT_S):
            ready = await proxy.stdout.readline()
        assert b"signing proxy on" in ready, ready
        yield Running(verifier, listen)
        proxy.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT_S):
            assert await proxy.wait() == 0
    finally:
        if proxy.returncode is None:
            proxy.kill()
            await proxy.wait()
        await server.stop(1.0)


async def test_grpcurl_lists_and_calls_through_the_proxy(running: Running) -> None:
    """grpcurl, plaintext to the proxy, lists the services over reflection (a bidi stream)
    and calls Health/Check; every call reached the server signed; SIGTERM exits 0."""
    code, out, err = await _run(str(GRPCURL), "-plaintext", running.proxy, "list")
    assert code == 0, err
    assert "grpc.health.v1.Health" in out.split()
    code, out, err = await _run(
        str(GRPCURL), "-plaintext", "-d", "{}", running.proxy, "grpc.health.v1.Health/Check"
    )
    assert code == 0, err
    assert json.loads(out) == {"status": "SERVING"}
    assert "/grpc.health.v1.Health/Check" in running.verifier.accepted
    assert any("ServerReflection" in method for method in running.verifier.accepted)


async def test_grpcurl_straight_to_the_server_is_refused_unsigned(running: Running) -> None:
    """Without the proxy, the same call over TLS is refused: it carries no signature."""
    code, _, err = await _run(
        str(GRPCURL), "-insecure", "-d", "{}", running.verifier.authority,
        "grpc.health.v1.Health/Check",
    )  # fmt: skip
    assert code != 0
    assert "Unauthenticated" in err
