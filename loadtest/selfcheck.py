"""``python -m loadtest selfcheck``: can our numbers be trusted? The same trivial endpoint
(catalog's product lookup) driven by our loader and by an independent C loader at equal
concurrency, closed loop: h2load for gRPC (raw frames over one HTTP/2 connection, as our
one channel), wrk for REST (one connection per concurrent request, as our pool). The
ratios of their medians and throughputs say how far our loader's own cost moves the
figures (goal: medians within ±15 %)."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import uvloop
from rich.console import Console
from rich.table import Table
from shopmesh.catalog.v1 import catalog_pb2

from loadtest import independent
from loadtest.arms import ARMS
from loadtest.clients import GrpcChannels, HttpClient
from loadtest.independent import LoaderFigures
from loadtest.local import HOST, QUIET_ENV, load_manifest_with_variants
from loadtest.operations import Shop, skus_for
from loadtest.schedule import Window, run_closed
from loadtest.targets import Targets
from meshkit.manifest import load_manifest
from runner import LocalMesh, MeshGroup

WARMUP_S = 1.0
GOAL = 0.15
METHOD = "/shopmesh.catalog.v1.CatalogService/GetProduct"


def run_selfcheck(concurrency: int, duration_s: float, out: Path, console: Console) -> int:
    rows = uvloop.run(_selfcheck(concurrency, duration_s))
    table = Table(title=f"self-check: GetProduct, closed loop, concurrency {concurrency}")
    for header in (
        "protocol",
        "ours p50 ms",
        "theirs p50 ms",
        "p50 ratio",
        "ours req/s",
        "theirs req/s",
        "throughput ratio",
        f"p50 within ±{GOAL:.0%}",
    ):
        table.add_column(header, justify="right")
    document: list[dict[str, Any]] = []
    verdicts = []
    for protocol, ours, theirs in rows:
        if theirs is None:
            table.add_row(
                protocol,
                f"{ours.p50_ms:.3f}",
                "—",
                "—",
                f"{ours.throughput_per_s:,.0f}",
                "—",
                "—",
                "not measured (loader not installed)",
            )
            document.append({"protocol": protocol, "ours": asdict(ours), "theirs": None})
            continue
        p50_ratio = ours.p50_ms / theirs.p50_ms
        rate_ratio = ours.throughput_per_s / theirs.throughput_per_s
        within = abs(p50_ratio - 1) <= GOAL
        verdicts.append(within)
        table.add_row(
            protocol,
            f"{ours.p50_ms:.3f}",
            f"{theirs.p50_ms:.3f}",
            f"{p50_ratio:.2f}",
            f"{ours.throughput_per_s:,.0f}",
            f"{theirs.throughput_per_s:,.0f}",
            f"{rate_ratio:.2f}",
            "yes" if within else "NO",
        )
        document.append(
            {
                "protocol": protocol,
                "ours": asdict(ours),
                "theirs": asdict(theirs),
                "p50_ratio": p50_ratio,
                "throughput_ratio": rate_ratio,
            }
        )
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "selfcheck.json"
    path.write_text(
        json.dumps(
            {"concurrency": concurrency, "duration_s": duration_s, "rows": document}, indent=1
        )
        + "\n"
    )
    console.print(f"report: {path}")
    return 0 if all(verdicts) else 1


async def _selfcheck(
    concurrency: int, duration_s: float
) -> list[tuple[str, LoaderFigures, LoaderFigures | None]]:
    manifest = load_manifest_with_variants(load_manifest(), free_ports=True)
    meshes = [
        LocalMesh(
            manifest,
            host=HOST,
            only=("catalog",),
            with_gateway=False,
            base_env={**os.environ, **QUIET_ENV},
            transport=transport,
            data_dir=Path(tempfile.mkdtemp(prefix="selfcheck-")),
        )
        for transport in ("grpc", "rest")
    ]
    group = MeshGroup(meshes)
    await group.start()
    try:
        grpc_address = meshes[0].addresses["catalog"]
        rest_url = meshes[1].rest_urls["catalog"]
        targets = Targets(grpc={"catalog": grpc_address}, rest={"catalog": rest_url})
        ours_grpc = await _ours(targets, "grpc-unary", concurrency, duration_s)
        ours_rest = await _ours(targets, "rest-item", concurrency, duration_s)
        sku = skus_for(0, 1)[0]
        with tempfile.TemporaryDirectory() as workdir:
            payload = catalog_pb2.GetProductRequest(sku=sku).SerializeToString()
            theirs_grpc = await asyncio.to_thread(
                independent.run_h2load,
                f"http://{grpc_address}{METHOD}",
                payload,
                Path(workdir),
                concurrency=concurrency,
                duration_s=duration_s,
            )
        theirs_rest = await asyncio.to_thread(
            independent.run_wrk,
            f"{rest_url}/v1/products/{sku}",
            concurrency=concurrency,
            duration_s=duration_s,
        )
    finally:
        await group.stop()
    return [("gRPC (h2load)", ours_grpc, theirs_grpc), ("REST (wrk)", ours_rest, theirs_rest)]


async def _ours(targets: Targets, arm: str, concurrency: int, duration_s: float) -> LoaderFigures:
    """Our closed loop on the same single SKU the C loaders ask for."""
    channels = GrpcChannels(targets)
    pooled = HttpClient(targets, new_connection=False)
    fresh = HttpClient(targets, new_connection=True)
    try:
        lookup = Shop(targets, channels, pooled, fresh).operation("lookup", ARMS[arm], 1, "self")
        recording = await run_closed(lambda _: lookup(0), concurrency, Window(duration_s, WARMUP_S))
    finally:
        await channels.close()
        await pooled.close()
        await fresh.close()
    return LoaderFigures(
        loader="ours",
        p50_ms=recording.corrected.percentile_ms(50),
        throughput_per_s=recording.ok / recording.window_s,
        ok=recording.ok,
        failed=recording.operations - recording.ok,
    )
