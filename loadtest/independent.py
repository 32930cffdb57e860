"""Independent loaders written in C, to check ours against: h2load (HTTP/2, here raw gRPC
frames) and wrk (HTTP/1.1). Both run closed loops at a given concurrency; we read their
median latency and throughput the way each one reports them.

h2load prints no percentiles, but its ``--log-file`` has one line per request (start µs,
HTTP status, duration µs); wrk's ``--latency`` prints the 50th percentile. h2load knows
nothing of gRPC: a failure still arrives as HTTP 200 with ``grpc-status`` in a trailer,
so the caller first proves the exact bytes are answered with OK.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

_H2LOAD_REQUESTS = re.compile(
    r"requests: .*?(\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout"
)
_H2LOAD_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
_WRK_P50 = re.compile(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class LoaderFigures:
    """A loader's median latency and throughput over one closed-loop run."""

    loader: str
    p50_ms: float
    throughput_per_s: float
    ok: int
    failed: int
    cut_off: int = 0
    """Calls in flight when a timed run ended that the loader counted as errors (ghz)."""
    loader_cores: float | None = None
    """The loader's own CPU over the run, in cores (None: not measured)."""


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian size."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def h2load_command(
    executable: str,
    url: str,
    body: Path,
    log: Path,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float = 0.0,
    deadline_s: float = 10.0,
) -> list[str]:
    """One connection with ``concurrency`` streams in flight, like a gRPC channel; each
    request carries ``deadline_s`` as grpc-timeout, so the server takes the usual path."""
    # h2load takes whole numbers with a unit, so fractions go as milliseconds.
    warmup = [f"--warm-up-time={round(warmup_s * 1000)}ms"] if warmup_s else []
    return [
        executable,
        "--clients=1",
        "--threads=1",
        f"--max-concurrent-streams={concurrency}",
        *warmup,
        f"--duration={round(duration_s * 1000)}ms",
        f"--data={body}",
        "--header=content-type: application/grpc",
        "--header=te: trailers",
        f"--header=grpc-timeout: {round(deadline_s * 1000)}m",
        f"--log-file={log}",
        url,
    ]


def h2load_counts(summary: str) -> tuple[int, int, int]:
    """(succeeded, failed + errored + timed out, non-2xx) from h2load's summary."""
    requests, status = _H2LOAD_REQUESTS.search(summary), _H2LOAD_STATUS.search(summary)
    if requests is None or status is None:
        raise ValueError(f"unrecognised h2load output:\n{summary}")
    succeeded, failed, errored, timed_out = (int(n) for n in requests.groups())
    return succeeded, failed + errored + timed_out, sum(int(n) for n in status.groups()[1:])


def h2load_latencies_ms(log_lines: list[str]) -> list[float]:
    """The 2xx requests' durations from h2load's ``--log-file`` (start µs, status, µs)."""
    return [
        int(fields[2]) / 1000
        for fields in (line.split("\t") for line in log_lines if line.strip())
        if fields[1].startswith("2")
    ]


def parse_h2load(summary: str, log_lines: list[str], duration_s: float) -> LoaderFigures:
    """h2load's stdout and its per-request log."""
    succeeded, failed, non_2xx = h2load_counts(summary)
    latencies_ms = h2load_latencies_ms(log_lines)
    return LoaderFigures(
        loader="h2load",
        p50_ms=statistics.median(latencies_ms) if latencies_ms else float("nan"),
        throughput_per_s=len(latencies_ms) / duration_s,
        ok=succeeded - non_2xx,
        failed=failed + non_2xx,
    )


def run_h2load(
    url: str, payload: bytes, workdir: Path, *, concurrency: int, duration_s: float
) -> LoaderFigures | None:
    """None when h2load is not installed."""
    executable = shutil.which("h2load")
    if executable is None:
        return None
    body, log = workdir / "request.grpc", workdir / "h2load.tsv"
    body.write_bytes(grpc_frame(payload))
    argv = h2load_command(
        executable, url, body, log, concurrency=concurrency, duration_s=duration_s
    )
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, capture_output=True, text=True, check=True, timeout=duration_s + 30
    )
    return parse_h2load(done.stdout, log.read_text().splitlines(), duration_s)


def wrk_command(executable: str, url: str, *, concurrency: int, duration_s: float) -> list[str]:
    return [
        executable,
        "--threads=1",
        f"--connections={concurrency}",
        f"--duration={max(1, round(duration_s))}s",
        "--latency",
        url,
    ]


def parse_wrk(output: str, duration_s: float) -> LoaderFigures:
    p50, rate = _WRK_P50.search(output), _WRK_RATE.search(output)
    if p50 is None or rate is None:
        raise ValueError(f"unrecognised wrk output:\n{output}")
    throughput = float(rate.group(1))
    failed = sum(int(m.group(1)) for m in _WRK_ERRORS.finditer(output) if m.group(1))
    return LoaderFigures(
        loader="wrk",
        p50_ms=float(p50.group(1)) * _UNIT_MS[p50.group(2)],
        throughput_per_s=throughput,
        ok=round(throughput * duration_s) - failed,
        failed=failed,
    )


def run_wrk(url: str, *, concurrency: int, duration_s: float) -> LoaderFigures | None:
    """None when wrk is not installed."""
    executable = shutil.which("wrk")
    if executable is None:
        return None
    argv = wrk_command(executable, url, concurrency=concurrency, duration_s=duration_s)
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, capture_output=True, text=True, check=True, timeout=duration_s + 30
    )
    return parse_wrk(done.stdout, max(1, round(duration_s)))
