"""ghz, the Go gRPC load tool, as a second independent gRPC loader beside h2load.

Unlike h2load, ghz speaks gRPC: it encodes the request from JSON with the contracts'
descriptor set, reads every reply and counts calls by gRPC status, not HTTP status. It
runs ``concurrency`` workers on one connection (``--connections=1``), as our loader's
one channel and h2load's streams, with the same 10 s deadline, and prints one JSON
document (``--format=json``) that ``parse_ghz`` reads.

A timed ghz run ends by closing its connection under the calls still in flight, which it
then counts as errors ("use of closed network connection", "the client connection is
closing": bojand/ghz#370). Up to one per worker is that artefact, reported apart as
``cut_off``; any more, or any other error, is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loadtest.independent import LoaderFigures

REPO_ROOT = Path(__file__).resolve().parents[1]
PINNED_GHZ = REPO_ROOT / "build" / "go" / "bin" / "ghz"
"""Where ``make ghz`` installs the pinned version; a ghz on PATH is the fallback."""
DESCRIPTORS = REPO_ROOT / "gen" / "descriptors.binpb"
CUT_AT_END = ("use of closed network connection", "the client connection is closing")
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def executable() -> str | None:
    """The pinned ghz if built, else one on PATH, else None."""
    if PINNED_GHZ.is_file() and os.access(PINNED_GHZ, os.X_OK):
        return str(PINNED_GHZ)
    return shutil.which("ghz")


def ghz_command(
    ghz: str,
    target: str,
    method: str,
    request: Mapping[str, Any],
    *,
    concurrency: int,
    duration_s: float,
    protoset: Path = DESCRIPTORS,
    deadline_s: float = 10.0,
) -> list[str]:
    """One connection, ``concurrency`` workers, a timed run; ``method`` as
    ``/package.Service/Method`` (ghz wants ``package.Service.Method``)."""
    service, _, name = method.strip("/").rpartition("/")
    return [
        ghz,
        "--insecure",
        f"--protoset={protoset}",
        f"--call={service}.{name}",
        f"--data={json.dumps(dict(request), separators=(',', ':'))}",
        f"--concurrency={concurrency}",
        "--connections=1",
        f"--duration={round(duration_s * 1000)}ms",
        f"--timeout={round(deadline_s * 1000)}ms",
        "--format=json",
        target,
    ]


def parse_ghz(document: Mapping[str, Any], concurrency: int) -> LoaderFigures:
    """ghz's JSON report: the median from its latency distribution, throughput as OK
    calls over its own measured time, failures by gRPC status less the calls it cut off
    at the end (at most one per worker)."""
    try:
        statuses: Mapping[str, int] = document["statusCodeDistribution"] or {}
        errors: Mapping[str, int] = document["errorDistribution"] or {}
        total_ns = int(document["total"])
        distribution = document["latencyDistribution"] or []
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unrecognised ghz output: {exc!r}") from None
    ok = int(statuses.get("OK", 0))
    not_ok = sum(int(count) for code, count in statuses.items() if code != "OK")
    cut = sum(int(n) for text, n in errors.items() if any(m in text for m in CUT_AT_END))
    cut_off = cut if cut <= concurrency else 0
    median = next((p["latency"] for p in distribution if p.get("percentage") == 50), None)
    return LoaderFigures(
        loader="ghz",
        p50_ms=float("nan") if median is None else int(median) / _NS_PER_MS,
        throughput_per_s=ok / (total_ns / _NS_PER_S) if total_ns else 0.0,
        ok=ok,
        failed=not_ok - cut_off,
        cut_off=cut_off,
    )


def run_ghz(
    target: str,
    method: str,
    request: Mapping[str, Any],
    *,
    concurrency: int,
    duration_s: float,
) -> LoaderFigures | None:
    """None when ghz is not installed (``make ghz``)."""
    ghz = executable()
    if ghz is None:
        return None
    argv = ghz_command(ghz, target, method, request, concurrency=concurrency, duration_s=duration_s)
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, capture_output=True, text=True, check=True, timeout=duration_s + 30
    )
    return parse_ghz(json.loads(done.stdout), concurrency)


def version(ghz: str) -> str:
    """The ghz module version the binary was built from (``go version -m``; ``ghz
    --version`` says only "dev" for a ``go install`` build), or "unknown"."""
    go = shutil.which("go")
    if go is None:
        return "unknown"
    done = subprocess.run(  # noqa: S603 - our own argv
        [go, "version", "-m", ghz], capture_output=True, text=True, check=False, timeout=30
    )
    return module_version(done.stdout)


def module_version(build_info: str) -> str:
    """The main module's version from ``go version -m`` output, or "unknown"."""
    for line in build_info.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod":
            return f"{fields[1]} {fields[2]}"
    return "unknown"
