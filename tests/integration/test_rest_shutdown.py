"""SIGTERM drains a REST baseline process like a gRPC one: /readyz turns 503 at once
(/healthz, liveness, stays 200), requests keep being served through the drain delay,
then it exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import aiohttp

from tests.integration.processes import free_port

DRAIN_DELAY_S = 1.0


async def test_sigterm_turns_readiness_503_serves_through_the_drain_then_exits_0() -> None:
    """Readiness is 503 right after SIGTERM (liveness still 200) while lookups still
    succeed for the drain delay; the process exits 0 within drain + grace, and no request
    failed before the close."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.catalog",
        env={
            **os.environ,
            "SHOPMESH_TRANSPORT": "rest",
            "SHOPMESH_HOST": "127.0.0.1",
            "SHOPMESH_REST_PORT": str(port),
            "SHOPMESH_DRAIN_DELAY_S": str(DRAIN_DELAY_S),
            "SHOPMESH_GRACE_S": "2",
            "SHOPMESH_ACCESS_LOG": "0",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            async with asyncio.timeout(20):
                while True:
                    try:
                        async with session.get(base + "/healthz") as reply:
                            if reply.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(0.2)
            async with session.get(base + "/readyz") as reply:
                assert reply.status == 503
                assert (await reply.json())["status"] == "NOT_SERVING"
            async with session.get(base + "/healthz") as reply:
                assert reply.status == 200
            served = 0
            while time.monotonic() - signalled < DRAIN_DELAY_S - 0.3:
                async with session.get(base + "/v1/products/SKU-00001") as reply:
                    assert reply.status == 200
                    served += 1
            assert served > 0
            async with asyncio.timeout(10):
                code = await process.wait()
            assert code == 0
            assert time.monotonic() - signalled < DRAIN_DELAY_S + 2 + 2
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
