"""Server CPU per message, Python vs Go: ``python -m tools.polyglot_cost``.

Starts pricing in each implementation (access log off), then drives it from one Python
client: QuoteStream with many messages on one stream, and unary Quote calls, a few
concurrently. The figure is the server process's own CPU time (user + system, from
/proc) divided by the messages it answered, so the client's cost is left out; the
wall-clock rate is printed too, though on two shared cores it is the client's as much.
Linux only (/proc). Results go to stdout; docs/POLYGLOT.md quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.manifest import GO, PYTHON, load_manifest

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ITEM = pricing_pb2.QuoteItem(sku="SKU-00003", quantity=12)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _argv(impl: str) -> list[str]:
    spec = load_manifest().service("pricing")
    if impl == GO:
        assert spec.go is not None
        if not spec.go.binary_path.is_file():
            raise SystemExit(f"{spec.go.binary} is not built: run `make go-build`")
        return [str(spec.go.binary_path)]
    return [sys.executable, "-m", spec.module]


async def _serving(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        for _ in range(200):
            try:
                await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                return
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)
    raise SystemExit(f"pricing at {address} never became SERVING")


async def _stream(stub: pricing_pb2_grpc.PricingServiceAsyncStub, messages: int) -> int:
    requests = (
        pricing_pb2.QuoteStreamRequest(line_id=str(n), item=ITEM, region="DE")
        for n in range(messages)
    )
    return len([reply async for reply in stub.QuoteStream(requests, timeout=300)])


async def _unary(
    stub: pricing_pb2_grpc.PricingServiceAsyncStub, calls: int, concurrency: int
) -> int:
    request = pricing_pb2.QuoteRequest(items=[ITEM], region="DE")

    async def worker(count: int) -> int:
        for _ in range(count):
            await stub.Quote(request, timeout=10)
        return count

    done = await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    return sum(done)


async def _measure(pid: int, run: Callable[[], Awaitable[int]]) -> tuple[float, float, int]:
    cpu, wall = _cpu_seconds(pid), time.perf_counter()
    messages = await run()
    return _cpu_seconds(pid) - cpu, time.perf_counter() - wall, messages


async def _one(impl: str, messages: int, calls: int) -> list[tuple[str, str, float, float]]:
    grpc_port, health_port = _free_port(), _free_port()
    with TemporaryDirectory() as data:
        env = {
            **os.environ,
            "SHOPMESH_HOST": "127.0.0.1",
            "SHOPMESH_GRPC_PORT": str(grpc_port),
            "SHOPMESH_HEALTH_PORT": str(health_port),
            "SHOPMESH_DATA_DIR": data,
            "SHOPMESH_ACCESS_LOG": "0",
            "SHOPMESH_DRAIN_DELAY_S": "0",
        }
        process = await asyncio.create_subprocess_exec(
            *_argv(impl), env=env, stderr=asyncio.subprocess.DEVNULL
        )
        address = f"127.0.0.1:{grpc_port}"
        try:
            await _serving(address)
            async with grpc.aio.insecure_channel(address) as channel:
                stub = pricing_pb2_grpc.PricingServiceStub(channel)
                await _stream(stub, 500)  # warm up both paths
                await _unary(stub, 200, 4)
                rows = []
                for name, run in (
                    (
                        f"QuoteStream, {messages} messages on one stream",
                        lambda: _stream(stub, messages),
                    ),
                    (f"Quote, {calls} unary calls, 8 at a time", lambda: _unary(stub, calls, 8)),
                ):
                    cpu, wall, count = await _measure(process.pid, run)
                    rows.append((impl, name, cpu / count * 1e6, count / wall))
                return rows
        finally:
            process.terminate()
            await process.wait()


async def _main(messages: int, calls: int, rounds: int) -> None:
    print(f"{'impl':<7} {'workload':<44} {'server CPU µs/msg':>18} {'msgs/s':>9}")
    for _ in range(rounds):
        for impl in (PYTHON, GO):
            for row in await _one(impl, messages, calls):
                print(f"{row[0]:<7} {row[1]:<44} {row[2]:>18.1f} {row[3]:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(_main(args.messages, args.calls, args.rounds))


if __name__ == "__main__":
    main()
