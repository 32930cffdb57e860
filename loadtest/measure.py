"""One arm, measured: stock topped up, the load run, and every figure taken from the
window after the warm-up (histograms, hop counters, kernel counters, CPU)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc

from loadtest import hops, kernel
from loadtest.arms import Arm
from loadtest.clients import REQUEST_TIMEOUT_S, GrpcChannels, HttpClient
from loadtest.operations import ACTIVE_PRODUCTS, TAG_LIMIT, Shop
from loadtest.results import ArmResult, Chattiness, Cpu
from loadtest.schedule import Recording, Window, run_closed, run_open
from loadtest.targets import Targets


@dataclass(frozen=True)
class Load:
    """How hard and how long to drive each arm."""

    model: str = "open"
    rate_per_s: float = 20.0
    concurrency: int = 8
    duration_s: float = 10.0
    warmup_s: float = 2.0
    max_operations: int = 0

    def expected_operations(self) -> int:
        if self.max_operations:
            return self.max_operations + int(self.rate_per_s * self.warmup_s)
        if self.model == "open":
            return int(self.rate_per_s * (self.duration_s + self.warmup_s)) + 1
        return int(500 * (self.duration_s + self.warmup_s))  # generous: stock only


@dataclass
class _Snapshot:
    at: float
    net: kernel.NetCounters | None
    cpu: dict[str, float]
    loader_cpu: float


def _snapshot(targets: Targets, netns: bool) -> _Snapshot:
    return _Snapshot(
        at=time.monotonic(),
        net=kernel.read_net_counters() if netns else None,
        cpu=kernel.cpu_by_process(targets.pids),
        loader_cpu=kernel.cpu_seconds(os.getpid()) or 0.0,
    )


async def restock(arm: Arm, targets: Targets, http: HttpClient, units: int) -> None:
    """Adds ``units`` of every active product to the inventory this arm's orders use."""
    deliveries = [(f"SKU-{n:05d}", units) for n in ACTIVE_PRODUCTS]
    if arm.protocol == "rest":
        body = {"deliveries": [{"sku": s, "quantity": q} for s, q in deliveries]}
        status, _ = await http.request(
            "POST", targets.rest["inventory"] + "/v1/stock/restock", body
        )
        if status != 200:
            raise RuntimeError(f"restocking the REST inventory failed: HTTP {status}")
        return
    channels = GrpcChannels(targets)
    try:
        stub = inventory_pb2_grpc.InventoryServiceStub(channels[targets.grpc["inventory"]])
        requests = (inventory_pb2.RestockRequest(sku=s, quantity=q) for s, q in deliveries)
        await stub.Restock(requests, timeout=REQUEST_TIMEOUT_S)
    finally:
        await channels.close()


async def measure_arm(
    shop: Shop,
    targets: Targets,
    arm: Arm,
    scenario: str,
    items: int,
    load: Load,
    tag: str,
    *,
    netns: bool,
    pooled: HttpClient,
    on_progress: Callable[[Recording], None] | None = None,
) -> ArmResult:
    """Runs ``arm`` for ``scenario`` under ``load``; every figure it can measure."""
    if scenario in ("checkout", "mix"):
        per_sku = load.expected_operations() * items // len(ACTIVE_PRODUCTS) + 10
        await restock(arm, targets, pooled, 2 * per_sku)
    operation = shop.operation(scenario, arm, items, tag)
    window = Window(load.duration_s, load.warmup_s, load.max_operations)
    snapshots: list[_Snapshot] = []

    async def snapshot_after_warmup() -> None:
        await asyncio.sleep(load.warmup_s)
        snapshots.append(_snapshot(targets, netns))

    marker = asyncio.create_task(snapshot_after_warmup())
    if load.model == "open":
        recording = await run_open(operation, load.rate_per_s, window, on_progress=on_progress)
    else:
        recording = await run_closed(operation, load.concurrency, window, on_progress=on_progress)
    end = _snapshot(targets, netns)
    await marker
    start = snapshots[0]
    result = ArmResult(
        name=arm.name,
        label=arm.label,
        scenario=scenario,
        model=load.model,
        rate_per_s=load.rate_per_s if load.model == "open" else None,
        concurrency=load.concurrency if load.model == "closed" else 0,
        items=1 if scenario == "lookup" else items,
        duration_s=recording.window_s,
        operations=recording.operations,
        ok=recording.ok,
        errors=dict(recording.errors),
        throughput_per_s=recording.ok / recording.window_s if recording.window_s else 0.0,
    )
    result.set_latency("corrected", recording.corrected)
    result.set_latency("uncorrected", recording.uncorrected)
    if load.model == "open":
        result.set_latency("lag", recording.lag)
    if recording.per_message.count:
        result.set_latency("per_message", recording.per_message)
    tagged = min(TAG_LIMIT, max(recording.first_measured, 0) + recording.operations)
    result.chattiness = await _chattiness(targets, arm, scenario, items, tag, tagged)
    _kernel_figures(result, start, end, lambda name: _serves(arm, name))
    return result


def _serves(arm: Arm, process: str) -> bool:
    """Whether ``process`` belongs to the mesh this arm drives (CPU is summed over those:
    the other mesh idles meanwhile and is not this arm's cost)."""
    rest = process.endswith("-rest")
    if arm.protocol == "rest":
        return rest
    return not rest and (process != "gateway" or arm.protocol == "gateway")


async def _chattiness(
    targets: Targets, arm: Arm, scenario: str, items: int, tag: str, tagged: int
) -> Chattiness:
    if not targets.metrics or not tagged:
        return Chattiness()
    tallies = await hops.read_tallies(targets.metrics, tag)
    if len(tallies) != len(targets.metrics):
        return Chattiness()  # a hop did not answer: no figure rather than a wrong one
    loader = (hops.loader_traffic(scenario, arm, items, n) for n in range(tagged))
    calls, messages = hops.internal_per_operation(tallies, loader, tagged)
    by_service = {name: t.calls / tagged for name, t in tallies.items() if t.calls}
    return Chattiness(calls=calls, messages=messages, calls_by_service=by_service)


def _kernel_figures(
    result: ArmResult, start: _Snapshot, end: _Snapshot, involved: Callable[[str], bool]
) -> None:
    operations = result.operations
    if start.net is not None and end.net is not None and operations:
        net = end.net.minus(start.net)
        result.chattiness.new_connections = net.active_opens / operations
        result.chattiness.wire_bytes = net.loopback_bytes / operations
        result.chattiness.segments = net.out_segments / operations
    if start.cpu and operations:
        by_process = {
            name: (end.cpu[name] - start.cpu[name]) / operations
            for name in start.cpu
            if name in end.cpu and involved(name)
        }
        server = sum(by_process.values())
        wall = end.at - start.at
        result.cpu = Cpu(
            server_s=server,
            by_process={name: s for name, s in by_process.items() if s > 0},
            loader_s=(end.loader_cpu - start.loader_cpu) / operations,
            server_cores=server * operations / wall if wall > 0 else None,
        )
        if server > 0:
            result.throughput_per_server_core = (result.ok / operations) / server


def describe_method(netns: bool, targets: Targets) -> dict[str, Any]:
    """How each figure was obtained, for the report."""
    method = {
        "latency": (
            "HdrHistogram (µs) per arm. Open loop: from each request's intended send time "
            "(start + i/rate), so stalls are not hidden (coordinated omission); the "
            "uncorrected histogram (from the actual send) and the generator's lag are kept "
            "alongside. Closed loop: from the send. Warm-up excluded."
        ),
        "per_message": (
            "Streams: each reply message from the write of its request message; per-item "
            "arms: each item's request from its send."
        ),
        "calls": (
            f"Every mesh process counts calls and messages per x-operation-id (GET /metrics); "
            f"the first {TAG_LIMIT} operations of an arm are tagged, their tallies summed over "
            "all hops, minus what the loader itself sent to a mesh process."
        ),
        "throughput": "Successful operations / measured window (warm-up excluded).",
    }
    if netns:
        method["connections"] = (
            "Kernel: Tcp ActiveOpens in /proc/net/snmp of the run's private network "
            "namespace (unshare --net), difference over the measured window / operations."
        )
        method["wire_bytes"] = (
            "Kernel: bytes sent on lo (/proc/net/dev) in that namespace over the window / "
            "operations: all hops, loader included, IP and TCP headers included."
        )
    else:
        method["connections"] = "Not measured: no private network namespace for this run."
    if targets.pids:
        method["cpu"] = (
            "utime + stime (/proc/<pid>/stat) of the processes of the mesh the arm drives "
            "(the gRPC mesh, plus the gateway for its arm; or the REST mesh) over the window "
            "/ operations; throughput per server core = operations per server CPU second."
        )
    return method
