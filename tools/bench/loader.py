"""The Python loader: ``python -m tools.bench.loader TARGET ...`` prints one JSON result.

A closed loop: ``concurrency`` workers share one grpc.aio channel, each sending its next
GetProduct as soon as the previous one answers. Calls completing during the warm-up are
not counted; the measured window then runs for a fixed time. It runs in its own process
so that the server under test never shares a GIL with its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass

import grpc
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from tools.bench.stats import percentile

BENCH_SKU = "SKU-00042"
CALL_DEADLINE_S = 10.0
"""Every call carries a deadline, as every caller in the mesh must (convention 6)."""


@dataclass(frozen=True)
class LoadResult:
    """What one loader run measured; the parent turns it into a stats.Sample."""

    requests: int
    errors: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float
    loader_cpu_s: float
    cpu_interval_s: float
    """The wall time over which both CPU figures were taken (about the window)."""


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name may hold spaces, but it ends at the last ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 overall
    return ticks / os.sysconf("SC_CLK_TCK")


class _Window:
    """Latencies of the calls that completed inside [start, end)."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.latencies_s: list[float] = []
        self.errors = 0


async def _worker(
    stub: catalog_pb2_grpc.CatalogServiceAsyncStub,
    request: catalog_pb2.GetProductRequest,
    window: _Window,
) -> None:
    clock = time.perf_counter
    while (sent := clock()) < window.end:
        try:
            await stub.GetProduct(request, timeout=CALL_DEADLINE_S)
            failed = False
        except grpc.aio.AioRpcError:
            failed = True
        done = clock()
        if window.start <= done < window.end:
            if failed:
                window.errors += 1
            else:
                window.latencies_s.append(done - sent)


async def run_load(
    target: str, concurrency: int, warmup_s: float, duration_s: float, server_pid: int
) -> LoadResult:
    """Drives ``target`` and measures the window after the warm-up."""
    request = catalog_pb2.GetProductRequest(sku=BENCH_SKU)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        # One checked call first: a server answering wrongly fails the run, not gets timed.
        first = await stub.GetProduct(request, timeout=CALL_DEADLINE_S)
        if first.product.sku != BENCH_SKU:
            raise RuntimeError(f"{target} answered {first.product.sku!r} for {BENCH_SKU}")
        start = time.perf_counter() + warmup_s
        window = _Window(start, start + duration_s)
        workers = [asyncio.create_task(_worker(stub, request, window)) for _ in range(concurrency)]
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        cpu_from = (time.perf_counter(), process_cpu_s(server_pid), time.process_time())
        await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
        cpu_to = (time.perf_counter(), process_cpu_s(server_pid), time.process_time())
        await asyncio.gather(*workers)
    latencies_ms = [latency * 1000 for latency in window.latencies_s] or [float("nan")]
    return LoadResult(
        requests=len(window.latencies_s),
        errors=window.errors,
        duration_s=duration_s,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        server_cpu_s=cpu_to[1] - cpu_from[1],
        loader_cpu_s=cpu_to[2] - cpu_from[2],
        cpu_interval_s=cpu_to[0] - cpu_from[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", help="host:port of the server under test")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=float, required=True, help="seconds not counted")
    parser.add_argument("--duration", type=float, required=True, help="measured seconds")
    parser.add_argument("--server-pid", type=int, required=True, help="for its CPU time")
    args = parser.parse_args()
    result = asyncio.run(
        run_load(args.target, args.concurrency, args.warmup, args.duration, args.server_pid)
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
