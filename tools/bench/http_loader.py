"""Python loaders for the gateway benchmark: ``python -m tools.bench.http_loader KIND ...``.

Four kinds, two per question, each pair driven by the same closed loop so that only
the call differs:

- ``rest-unary`` (aiohttp ``GET /v1/products/SKU-00042`` through the gateway, keep-alive)
  and ``grpc-unary`` (grpc.aio ``GetProduct`` straight to the catalog);
- ``rest-stream`` (aiohttp ``GET /v1/products?limit=N``, reading every NDJSON line) and
  ``grpc-stream`` (grpc.aio ``ListProducts{limit: N}``, reading every message).

Either a number of calls after a number of warm-up calls (``--calls``), or a time
window after a warm-up time (``--duration``). The first call is checked in full and
fails the run if wrong; after that a call counts as an error if it answers anything but
200/OK, or a stream of other than N messages. It prints one JSON line (``LoopResult``).
It runs in its own process so that the servers never share a GIL with their load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import grpc
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from tools.bench import cpu
from tools.bench.loader import BENCH_SKU, CALL_DEADLINE_S
from tools.bench.stats import percentile

REST_UNARY = "rest-unary"
GRPC_UNARY = "grpc-unary"
REST_STREAM = "rest-stream"
GRPC_STREAM = "grpc-stream"
KINDS = (REST_UNARY, GRPC_UNARY, REST_STREAM, GRPC_STREAM)
DEFAULT_STREAM_LIMIT = 100


class CallFailed(Exception):
    """A call answered, but not with what the benchmark asked for."""


@dataclass(frozen=True)
class Outcome:
    """One successful call: how many messages it carried and when the first arrived."""

    messages: int
    first_at: float
    """``time.perf_counter()`` when the first message (or the whole reply) was read."""


Call = Callable[[], Awaitable[Outcome]]


@dataclass(frozen=True)
class LoopResult:
    """What one loader run measured; the parent turns it into samples."""

    calls: int
    """Successful calls that completed inside the measured window."""
    messages: int
    errors: int
    window_s: float
    p50_ms: float
    """Latency to the call's end: the whole reply, or a stream's last message."""
    p99_ms: float
    first_p50_ms: float
    """Latency to the first message (for unary calls, the same as ``p50_ms``)."""
    server_cpu_s: dict[str, float]
    loader_cpu_s: float
    cpu_interval_s: float


@dataclass
class _Window:
    """Calls completing inside ``[start, end)``; a counted run moves ``end`` when done."""

    start: float
    end: float
    latencies_s: list[float] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)
    messages: int = 0
    errors: int = 0

    def record(self, sent: float, done: float, outcome: Outcome | None) -> None:
        if not self.start <= done < self.end:
            return
        if outcome is None:
            self.errors += 1
            return
        self.latencies_s.append(done - sent)
        self.first_s.append(outcome.first_at - sent)
        self.messages += outcome.messages


async def _attempt(call: Call) -> Outcome | None:
    """The call's outcome, or None if it failed in any way a server can make it fail
    (a bad status, a broken or unparsable body, a wrong answer, a timeout)."""
    try:
        return await call()
    except (CallFailed, aiohttp.ClientError, grpc.aio.AioRpcError, TimeoutError, ValueError):
        return None


async def _worker(call: Call, window: _Window) -> None:
    clock = time.perf_counter
    while (sent := clock()) < window.end:
        outcome = await _attempt(call)
        window.record(sent, clock(), outcome)


async def timed_loop(
    call: Call, *, concurrency: int, warmup_s: float, duration_s: float, pids: Mapping[str, int]
) -> LoopResult:
    """``concurrency`` workers, each calling again as soon as its call returns; calls
    completing in the ``duration_s`` after ``warmup_s`` are measured."""
    start = time.perf_counter() + warmup_s
    window = _Window(start, start + duration_s)
    workers = [asyncio.create_task(_worker(call, window)) for _ in range(concurrency)]
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    before, loader_before = cpu.read(pids), time.process_time()
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    after, loader_after = cpu.read(pids), time.process_time()
    await asyncio.gather(*workers)
    return _result(window, duration_s, before, after, loader_after - loader_before)


async def counted_loop(
    call: Call, *, warmup_calls: int, calls: int, pids: Mapping[str, int]
) -> LoopResult:
    """One call at a time: ``warmup_calls`` unmeasured, then ``calls`` measured."""
    clock = time.perf_counter
    for _ in range(warmup_calls):
        await _attempt(call)
    window = _Window(clock(), float("inf"))
    before, loader_before = cpu.read(pids), time.process_time()
    for _ in range(calls):
        sent = clock()
        outcome = await _attempt(call)
        window.record(sent, clock(), outcome)
    after, loader_after = cpu.read(pids), time.process_time()
    return _result(window, after.at - before.at, before, after, loader_after - loader_before)


def _result(
    window: _Window, window_s: float, before: cpu.CpuReading, after: cpu.CpuReading, loader_s: float
) -> LoopResult:
    latencies_ms = [s * 1000 for s in window.latencies_s] or [float("nan")]
    first_ms = [s * 1000 for s in window.first_s] or [float("nan")]
    return LoopResult(
        calls=len(window.latencies_s),
        messages=window.messages,
        errors=window.errors,
        window_s=window_s,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        first_p50_ms=percentile(first_ms, 50),
        server_cpu_s=cpu.used_between(before, after),
        loader_cpu_s=loader_s,
        cpu_interval_s=after.at - before.at,
    )


def check_product(document: Any, sku: str | None = None) -> None:
    """A product as the gateway renders it (proto3 JSON), with the expected SKU if given."""
    product = document.get("product") if isinstance(document, dict) else None
    found = product.get("sku") if isinstance(product, dict) else None
    if not isinstance(found, str) or not found.startswith("SKU-") or (sku and found != sku):
        raise CallFailed(f"expected a product{f' {sku}' if sku else ''}, got {document!r:.200}")


def check_stream(lines: list[Any], limit: int) -> None:
    """``limit`` NDJSON lines, each ``{"result": <product>}``."""
    if len(lines) != limit:
        raise CallFailed(f"expected {limit} NDJSON lines, got {len(lines)}")
    for line in lines:
        if not isinstance(line, dict) or set(line) != {"result"}:
            raise CallFailed(f"expected a result line, got {line!r:.200}")
        check_product(line["result"])


def rest_unary(session: aiohttp.ClientSession, url: str) -> Call:
    async def call() -> Outcome:
        async with session.get(url) as answer:
            body = await answer.read()
            if answer.status != 200:
                raise CallFailed(f"HTTP {answer.status}")
        check_product(json.loads(body), BENCH_SKU)
        return Outcome(1, time.perf_counter())

    return call


def rest_stream(session: aiohttp.ClientSession, url: str, limit: int) -> Call:
    async def call() -> Outcome:
        first_at, count = 0.0, 0
        async with session.get(url) as answer:
            if answer.status != 200:
                raise CallFailed(f"HTTP {answer.status}")
            async for line in answer.content:
                if not count:
                    first_at = time.perf_counter()
                # Parsed as a client would; an error line ends the stream as a failure.
                if "result" not in json.loads(line):
                    raise CallFailed(f"error line in stream: {line!r:.200}")
                count += 1
        if count != limit:
            raise CallFailed(f"expected {limit} lines, got {count}")
        return Outcome(count, first_at)

    return call


def grpc_unary(stub: catalog_pb2_grpc.CatalogServiceAsyncStub) -> Call:
    request = catalog_pb2.GetProductRequest(sku=BENCH_SKU)

    async def call() -> Outcome:
        reply = await stub.GetProduct(request, timeout=CALL_DEADLINE_S)
        if reply.product.sku != BENCH_SKU:
            raise CallFailed(f"answered {reply.product.sku!r} for {BENCH_SKU}")
        return Outcome(1, time.perf_counter())

    return call


def grpc_stream(stub: catalog_pb2_grpc.CatalogServiceAsyncStub, limit: int) -> Call:
    request = catalog_pb2.ListProductsRequest(limit=limit)

    async def call() -> Outcome:
        first_at, count = 0.0, 0
        async for _reply in stub.ListProducts(request, timeout=CALL_DEADLINE_S):
            if not count:
                first_at = time.perf_counter()
            count += 1
        if count != limit:
            raise CallFailed(f"expected {limit} messages, got {count}")
        return Outcome(count, first_at)

    return call


async def _check_first_rest(session: aiohttp.ClientSession, url: str, limit: int | None) -> None:
    async with session.get(url) as answer:
        text = await answer.text()
        if answer.status != 200:
            raise CallFailed(f"GET {url}: HTTP {answer.status}: {text:.200}")
    if limit is None:
        check_product(json.loads(text), BENCH_SKU)
    else:
        check_stream([json.loads(line) for line in text.splitlines()], limit)


async def _check_first_grpc(
    stub: catalog_pb2_grpc.CatalogServiceAsyncStub, limit: int | None
) -> None:
    if limit is None:
        reply = await stub.GetProduct(
            catalog_pb2.GetProductRequest(sku=BENCH_SKU), timeout=CALL_DEADLINE_S
        )
        if reply.product.sku != BENCH_SKU:
            raise CallFailed(f"GetProduct answered {reply.product.sku!r} for {BENCH_SKU}")
        return
    request = catalog_pb2.ListProductsRequest(limit=limit)
    skus = [r.product.sku async for r in stub.ListProducts(request, timeout=CALL_DEADLINE_S)]
    if len(skus) != limit or not all(s.startswith("SKU-") for s in skus):
        raise CallFailed(f"ListProducts answered {len(skus)} products for limit {limit}")


@asynccontextmanager
async def checked_call(kind: str, target: str, concurrency: int, limit: int) -> AsyncIterator[Call]:
    """The call for ``kind``, on a client opened for ``concurrency`` callers, after one
    fully checked call. ``target`` is the gateway's base URL or the catalog's host:port."""
    streams = kind in (REST_STREAM, GRPC_STREAM)
    if kind in (REST_UNARY, REST_STREAM):
        url = (
            f"{target}/v1/products?limit={limit}"
            if streams
            else f"{target}/v1/products/{BENCH_SKU}"
        )
        connector = aiohttp.TCPConnector(limit=concurrency)  # one keep-alive connection per caller
        timeout = aiohttp.ClientTimeout(total=CALL_DEADLINE_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await _check_first_rest(session, url, limit if streams else None)
            yield rest_stream(session, url, limit) if streams else rest_unary(session, url)
        return
    async with grpc.aio.insecure_channel(target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        await _check_first_grpc(stub, limit if streams else None)
        yield grpc_stream(stub, limit) if streams else grpc_unary(stub)


async def run(args: argparse.Namespace) -> LoopResult:
    pids: dict[str, int] = dict(args.pid)
    async with checked_call(args.kind, args.target, args.concurrency, args.limit) as call:
        if args.calls is not None:
            return await counted_loop(
                call, warmup_calls=args.warmup_calls, calls=args.calls, pids=pids
            )
        return await timed_loop(
            call,
            concurrency=args.concurrency,
            warmup_s=args.warmup,
            duration_s=args.duration,
            pids=pids,
        )


def _named_pid(text: str) -> tuple[str, int]:
    name, _, pid = text.partition("=")
    if not name or not pid.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PID, got {text!r}")
    return name, int(pid)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("target", help="gateway base URL (rest-*) or catalog host:port (grpc-*)")
    parser.add_argument("--concurrency", type=int, default=1, help="calls in flight")
    parser.add_argument("--limit", type=int, default=DEFAULT_STREAM_LIMIT, help="stream length")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured")
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds")
    parser.add_argument("--calls", type=int, help="measure this many calls, one at a time")
    parser.add_argument("--warmup-calls", type=int, default=200, help="with --calls")
    parser.add_argument(
        "--pid", type=_named_pid, action="append", default=[], help="NAME=PID of a server"
    )
    args = parser.parse_args(argv)
    if args.calls is not None and args.concurrency != 1:
        parser.error("--calls measures one call at a time: use --concurrency 1")
    return args


def main() -> None:
    print(json.dumps(asdict(asyncio.run(run(parse_args())))))


if __name__ == "__main__":
    main()
