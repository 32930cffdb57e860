"""Server CPU per message, Python vs Go, measured in the same run as the arms.

Against each implementation's running pricing (the meshes the run started, access logs
off), the loader sends one quote line per message three ways: ``grpc-stream`` (many
QuoteStream messages on one bidi stream), ``grpc-unary`` (Quote calls, a few in flight)
and ``rest-item`` (POST /v1/quotes to the REST twin, as many in flight). The figure is
the pricing process's own CPU (``/proc/<pid>/stat``) over the messages it answered, so
the loader's cost is left out; messages/s is wall-clock and, on two shared cores, the
loader's limit as much as the server's. Workloads alternate between implementations so
drift on a noisy machine falls on both alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from rich.progress import Progress
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from loadtest import kernel
from loadtest.clients import REQUEST_TIMEOUT_S, GrpcChannels, HttpClient
from loadtest.operations import REGION
from loadtest.results import MessageCost
from loadtest.targets import Targets
from runner import GRPC, REST, process_name

GRPC_STREAM, GRPC_UNARY, REST_ITEM = "grpc-stream", "grpc-unary", "rest-item"
WORKLOADS = (GRPC_STREAM, GRPC_UNARY, REST_ITEM)
SERVICE = "pricing"
SKU = "SKU-00003"
STREAM_TIMEOUT_S = 300.0
WARMUP_SHARE = 10
"""Each workload first sends a tenth of its messages, unmeasured, to warm both paths."""
METHOD = (
    "Server CPU per message: each implementation's pricing (access log off) driven flat out "
    "by the loader, after an unmeasured tenth as warm-up: QuoteStream messages on one bidi "
    "stream, unary Quote calls and REST POST /v1/quotes requests a few in flight, one quote "
    "line each; the pricing process's utime + stime (/proc/<pid>/stat) over the messages "
    "it answered, so the loader's cost is left out. Workloads alternate between "
    "implementations."
)


@dataclass(frozen=True)
class CostPlan:
    """How many messages each workload sends (``make compare``'s defaults)."""

    stream_messages: int = 20_000
    unary_calls: int = 4_000
    rest_calls: int = 4_000
    concurrency: int = 8
    """Calls in flight for the unary and REST workloads."""

    def count(self, workload: str) -> int:
        return {
            GRPC_STREAM: self.stream_messages,
            GRPC_UNARY: self.unary_calls,
            REST_ITEM: self.rest_calls,
        }[workload]


Send = Callable[[int], Awaitable[int]]
"""Sends ``n`` messages; returns how many were answered right."""


async def measure(
    plan: CostPlan,
    targets: Targets,
    impls: Sequence[str],
    channels: GrpcChannels,
    http: HttpClient,
    progress: Progress | None = None,
) -> list[MessageCost]:
    """Every workload against each implementation's pricing, workload by workload."""
    costs = []
    for workload in WORKLOADS:
        for impl in impls:
            mesh = targets.for_impl(impl)
            transport = REST if workload == REST_ITEM else GRPC
            pid = mesh.pids[process_name(SERVICE, transport)]
            send = _sender(workload, mesh, channels, http, plan.concurrency)
            count = plan.count(workload)
            label = f"message cost · {impl} · {workload}"
            task = None if progress is None else progress.add_task(label, total=count)
            await send(max(1, count // WARMUP_SHARE))
            cost = await _measured(workload, impl, pid, send, count)
            if progress is not None and task is not None:
                progress.update(task, completed=count)
            costs.append(cost)
    return costs


async def _measured(workload: str, impl: str, pid: int, send: Send, count: int) -> MessageCost:
    cpu_before, started = kernel.cpu_seconds(pid), time.perf_counter()
    answered = await send(count)
    wall, cpu_after = time.perf_counter() - started, kernel.cpu_seconds(pid)
    if cpu_before is None or cpu_after is None:
        raise RuntimeError(f"{impl} {SERVICE} (pid {pid}) exited while its cost was measured")
    return MessageCost(
        workload=workload,
        impl=impl,
        messages=answered,
        server_cpu_s=cpu_after - cpu_before,
        wall_s=wall,
        errors=count - answered,
    )


def _sender(
    workload: str, mesh: Targets, channels: GrpcChannels, http: HttpClient, concurrency: int
) -> Send:
    if workload == REST_ITEM:
        return _rest_sender(http, mesh.rest[SERVICE] + "/v1/quotes", concurrency)
    stub = pricing_pb2_grpc.PricingServiceStub(channels[mesh.grpc[SERVICE]])
    if workload == GRPC_STREAM:
        return _stream_sender(stub)
    return _unary_sender(stub, concurrency)


def _item() -> pricing_pb2.QuoteItem:
    return pricing_pb2.QuoteItem(sku=SKU, quantity=12)


def _stream_sender(stub: pricing_pb2_grpc.PricingServiceAsyncStub) -> Send:
    async def send(count: int) -> int:
        async def requests() -> AsyncIterator[pricing_pb2.QuoteStreamRequest]:
            for number in range(count):
                yield pricing_pb2.QuoteStreamRequest(
                    line_id=str(number), item=_item(), region=REGION
                )

        answered = 0
        try:
            async for reply in stub.QuoteStream(requests(), timeout=STREAM_TIMEOUT_S):
                answered += reply.WhichOneof("result") == "quote"
        except Exception:
            return answered
        return answered

    return send


async def _spread(count: int, concurrency: int, call: Callable[[], Awaitable[bool]]) -> int:
    """``count`` calls, ``concurrency`` at a time; how many answered right."""

    async def worker(calls: int) -> int:
        answered = 0
        for _ in range(calls):
            try:
                answered += await call()
            except Exception:  # noqa: S112 - a failed call is counted as an error
                continue
        return answered

    shares = [count // concurrency + (n < count % concurrency) for n in range(concurrency)]
    return sum(await asyncio.gather(*(worker(share) for share in shares if share)))


def _unary_sender(stub: pricing_pb2_grpc.PricingServiceAsyncStub, concurrency: int) -> Send:
    request = pricing_pb2.QuoteRequest(items=[_item()], region=REGION)

    async def call() -> bool:
        reply = await stub.Quote(request, timeout=REQUEST_TIMEOUT_S)
        return len(reply.lines) == 1

    return lambda count: _spread(count, concurrency, call)


def _rest_sender(http: HttpClient, url: str, concurrency: int) -> Send:
    body = {"items": [{"sku": SKU, "quantity": 12}], "region": REGION}

    async def call() -> bool:
        status, reply = await http.request("POST", url, body)
        return status == 200 and len((reply or {}).get("lines", ())) == 1

    return lambda count: _spread(count, concurrency, call)
