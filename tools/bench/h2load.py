"""h2load as a second loader: raw gRPC frames over HTTP/2, driven from C.

h2load knows nothing of gRPC: it POSTs a body file. A gRPC request body is the
length-prefixed message, and a gRPC failure still arrives as HTTP 200 with the error in
the ``grpc-status`` trailer, which h2load ignores. So the same payload is first sent once
through a Python channel (``verify_payload``) to prove the server answers it with OK.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from shopmesh.catalog.v1 import catalog_pb2

from loadtest.independent import grpc_frame as grpc_frame  # re-exported for the bench paths
from loadtest.independent import h2load_command, h2load_counts, h2load_latencies_ms
from tools.bench.loader import BENCH_SKU, CALL_DEADLINE_S, LoadResult, process_cpu_s
from tools.bench.procs import LOADER_SLACK_S, ServerProcess
from tools.bench.stats import percentile

METHOD = "/shopmesh.catalog.v1.CatalogService/GetProduct"
CPU_EDGE_S = 0.1
"""CPU is sampled this far inside h2load's window, so h2load is surely still running."""


@dataclass(frozen=True)
class H2loadResult:
    """Counts from h2load's summary and latencies from its per-request log."""

    succeeded: int
    failed: int
    non_2xx: int
    p50_ms: float
    p99_ms: float


def bench_payload() -> bytes:
    """The serialized GetProductRequest that both loaders send."""
    return catalog_pb2.GetProductRequest(sku=BENCH_SKU).SerializeToString()


def available() -> str | None:
    """The h2load executable, if installed."""
    return shutil.which("h2load")


def verify_payload(target: str, payload: bytes) -> None:
    """Sends the exact bytes h2load will send and fails unless the answer is right."""
    with grpc.insecure_channel(target) as channel:
        # No request serializer: the bytes go on the wire as they are.
        call: grpc.UnaryUnaryMultiCallable[bytes, catalog_pb2.GetProductResponse]
        call = channel.unary_unary(
            METHOD, response_deserializer=catalog_pb2.GetProductResponse.FromString
        )
        response = call(payload, timeout=CALL_DEADLINE_S)
    if response.product.sku != BENCH_SKU:
        raise RuntimeError(f"h2load payload answered with {response.product.sku!r}")


def command(
    executable: str,
    target: str,
    body: Path,
    log: Path,
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> list[str]:
    """One connection with ``concurrency`` streams in flight, like the Python loader, and
    the Python loader's deadline."""
    return h2load_command(
        executable,
        f"http://{target}{METHOD}",
        body,
        log,
        concurrency=concurrency,
        duration_s=duration_s,
        warmup_s=warmup_s,
        deadline_s=CALL_DEADLINE_S,
    )


def parse(summary: str, log_lines: Sequence[str]) -> H2loadResult:
    """h2load's stdout and ``--log-file`` lines (start µs, HTTP status, duration µs)."""
    succeeded, failed, non_2xx = h2load_counts(summary)
    latencies_ms = h2load_latencies_ms(list(log_lines)) or [float("nan")]
    return H2loadResult(
        succeeded=succeeded,
        failed=failed,
        non_2xx=non_2xx,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
    )


def run(
    executable: str,
    server: ServerProcess,
    workdir: Path,
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> LoadResult:
    """One h2load run against ``server``, reported like a Python loader run."""
    body = workdir / "request.grpc"
    body.write_bytes(grpc_frame(bench_payload()))
    stem = workdir / f"h2load-{server.arm}-c{concurrency}"
    log, summary = stem.with_suffix(".tsv"), stem.with_suffix(".txt")
    argv = command(
        executable,
        server.target,
        body,
        log,
        concurrency=concurrency,
        warmup_s=warmup_s,
        duration_s=duration_s,
    )
    with summary.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        # h2load cannot report CPU, so sample both processes from here, inside its window.
        time.sleep(warmup_s + CPU_EDGE_S)
        cpu_from = (time.perf_counter(), process_cpu_s(server.pid), process_cpu_s(proc.pid))
        time.sleep(max(0.0, duration_s - 2 * CPU_EDGE_S))
        cpu_to = (time.perf_counter(), process_cpu_s(server.pid), process_cpu_s(proc.pid))
        proc.wait(timeout=LOADER_SLACK_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"h2load failed:\n{summary.read_text(errors='replace')}")
    result = parse(summary.read_text(errors="replace"), log.read_text().splitlines())
    return LoadResult(
        requests=result.succeeded,
        errors=result.failed + result.non_2xx,
        duration_s=duration_s,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        server_cpu_s=cpu_to[1] - cpu_from[1],
        loader_cpu_s=cpu_to[2] - cpu_from[2],
        cpu_interval_s=cpu_to[0] - cpu_from[0],
    )
