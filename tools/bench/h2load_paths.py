"""h2load against both paths: the gateway over HTTP/1.1, the catalog over gRPC.

The gRPC command and the output parsing are ``tools.bench.h2load``'s. What this adds
is the HTTP/1.1 command (N keep-alive connections, one request in flight on each, as
N REST clients would) and a run that reads the CPU of several server processes, since
the gateway path runs in two.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from tools.bench import cpu, h2load
from tools.bench.http_loader import LoopResult
from tools.bench.loader import process_cpu_s
from tools.bench.procs import LOADER_SLACK_S


def http1_command(
    executable: str,
    url: str,
    log: Path,
    *,
    connections: int,
    warmup_s: float,
    duration_s: float,
) -> list[str]:
    """``connections`` HTTP/1.1 keep-alive connections, each with one GET in flight."""
    return [
        executable,
        "--h1",
        f"--clients={connections}",
        "--threads=1",
        "--max-concurrent-streams=1",  # no pipelining: a request waits for the last answer
        f"--warm-up-time={round(warmup_s * 1000)}ms",
        f"--duration={round(duration_s * 1000)}ms",
        f"--log-file={log}",
        url,
    ]


def grpc_command(
    executable: str,
    target: str,
    workdir: Path,
    log: Path,
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> list[str]:
    """``tools.bench.h2load``'s GetProduct command: one connection, N streams in flight."""
    body = workdir / "request.grpc"
    body.write_bytes(h2load.grpc_frame(h2load.bench_payload()))
    return h2load.command(
        executable,
        target,
        body,
        log,
        concurrency=concurrency,
        warmup_s=warmup_s,
        duration_s=duration_s,
    )


def run(
    argv: list[str],
    summary: Path,
    log: Path,
    pids: Mapping[str, int],
    *,
    warmup_s: float,
    duration_s: float,
) -> LoopResult:
    """Runs h2load to completion, reported like a Python loader run; ``argv`` must
    write its per-request log to ``log``. h2load cannot tell the first message apart,
    so ``first_p50_ms`` is the p50."""
    with summary.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        # h2load reports no CPU: read every process from here, inside its window.
        time.sleep(warmup_s + h2load.CPU_EDGE_S)
        before, loader_before = cpu.read(pids), process_cpu_s(proc.pid)
        time.sleep(max(0.0, duration_s - 2 * h2load.CPU_EDGE_S))
        after, loader_after = cpu.read(pids), process_cpu_s(proc.pid)
        proc.wait(timeout=LOADER_SLACK_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = summary.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"h2load failed:\n{output}")
    result = h2load.parse(output, log.read_text().splitlines())
    return LoopResult(
        calls=result.succeeded,
        messages=result.succeeded,
        errors=result.failed + result.non_2xx,
        window_s=duration_s,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        first_p50_ms=result.p50_ms,
        server_cpu_s=cpu.used_between(before, after),
        loader_cpu_s=loader_after - loader_before,
        cpu_interval_s=after.at - before.at,
    )
