"""``python -m loadtest selfcheck``: can our numbers be trusted? The same trivial endpoint
(catalog's product lookup) driven by our loader and by independent loaders at equal
concurrency and duration, closed loop, in one run: h2load (C) and ghz (Go) for gRPC, over
one HTTP/2 connection as our one channel, and wrk (C) for REST, one connection per
concurrent request as our pool. The ratios of their medians and throughputs say how far
our loader's own cost moves the figures (goal: medians within ±15 %); each loader's own
CPU, in cores, says how much of the two shared cores it took from the server."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import uvloop
from rich.console import Console
from rich.table import Table
from shopmesh.catalog.v1 import catalog_pb2

from loadtest import ghz, independent
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
NOT_INSTALLED = {
    "h2load": "h2load not installed (apt-get install nghttp2-client)",
    "ghz": "ghz not installed (make ghz: needs Go)",
    "wrk": "wrk not installed (apt-get install wrk)",
}


@dataclass(frozen=True)
class Comparison:
    """Our loader against one independent loader on the same endpoint."""

    protocol: str
    ours: LoaderFigures
    theirs: LoaderFigures | None
    not_run: str = ""
    """Why ``theirs`` is None."""

    @property
    def p50_ratio(self) -> float | None:
        return None if self.theirs is None else self.ours.p50_ms / self.theirs.p50_ms

    @property
    def throughput_ratio(self) -> float | None:
        if self.theirs is None or not self.theirs.throughput_per_s:
            return None
        return self.ours.throughput_per_s / self.theirs.throughput_per_s

    def within_goal(self) -> bool | None:
        ratio = self.p50_ratio
        return None if ratio is None else abs(ratio - 1) <= GOAL


def run_selfcheck(concurrency: int, duration_s: float, out: Path, console: Console) -> int:
    """Runs every loader, prints the table, writes ``selfcheck.json``; 0 when every
    loader that ran agreed with ours within the goal."""
    rows, facts = uvloop.run(_selfcheck(concurrency, duration_s))
    console.print(comparison_table(rows, concurrency))
    for line in notes(rows, facts):
        console.print(f"note: {line}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "selfcheck.json"
    document = {
        "concurrency": concurrency,
        "duration_s": duration_s,
        "facts": facts,
        "rows": [_row_document(row) for row in rows],
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    console.print(f"report: {path}")
    return 0 if all(row.within_goal() is not False for row in rows) else 1


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _of(
    figures: LoaderFigures | None, read: Callable[[LoaderFigures], float | None], spec: str
) -> str:
    return "—" if figures is None else _num(read(figures), spec)


def comparison_table(rows: list[Comparison], concurrency: int) -> Table:
    """One line per independent loader, ours beside it."""
    table = Table(title=f"self-check: GetProduct, closed loop, concurrency {concurrency}")
    headers = (
        "protocol",
        "ours p50 ms",
        "theirs p50 ms",
        "p50 ratio",
        "ours req/s",
        "theirs req/s",
        "throughput ratio",
        "ours cores",
        "theirs cores",
        f"p50 within ±{GOAL:.0%}",
    )
    for header in headers:
        table.add_column(header, justify="right")
    for row in rows:
        theirs = row.theirs
        verdict = row.within_goal()
        table.add_row(
            row.protocol,
            f"{row.ours.p50_ms:.3f}",
            _of(theirs, lambda f: f.p50_ms, ".3f"),
            _num(row.p50_ratio, ".2f"),
            f"{row.ours.throughput_per_s:,.0f}",
            _of(theirs, lambda f: f.throughput_per_s, ",.0f"),
            _num(row.throughput_ratio, ".2f"),
            _num(row.ours.loader_cores, ".2f"),
            _of(theirs, lambda f: f.loader_cores, ".2f"),
            f"not run: {row.not_run}" if verdict is None else "yes" if verdict else "NO",
        )
    return table


def notes(rows: list[Comparison], facts: dict[str, str]) -> list[str]:
    """What a reader needs beside the table: versions, failures, ghz's cut-off calls."""
    lines = [f"{name}: {value}" for name, value in facts.items()]
    for row in rows:
        for figures in (row.ours, row.theirs):
            if figures is not None and figures.failed:
                lines.append(f"{row.protocol}: {figures.loader} saw {figures.failed} failed calls")
            if figures is not None and figures.cut_off:
                lines.append(
                    f"{row.protocol}: {figures.cut_off} calls in flight when ghz's run ended were"
                    " cut off by it (bojand/ghz#370) and are not counted"
                )
    return lines


def _row_document(row: Comparison) -> dict[str, Any]:
    return {
        "protocol": row.protocol,
        "ours": asdict(row.ours),
        "theirs": None if row.theirs is None else asdict(row.theirs),
        "not_run": row.not_run or None,
        "p50_ratio": row.p50_ratio,
        "throughput_ratio": row.throughput_ratio,
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _theirs(
    name: str, protocol: str, ours: LoaderFigures, run: Callable[[], LoaderFigures | None]
) -> Comparison:
    """Runs an independent loader in a thread; its CPU is what this process's waited-for
    children used meanwhile (the mesh's children are still running, so not among them)."""
    cpu, started = _children_cpu_s(), time.perf_counter()
    figures = await asyncio.to_thread(run)
    if figures is None:
        return Comparison(protocol, ours, None, NOT_INSTALLED[name])
    cores = (_children_cpu_s() - cpu) / (time.perf_counter() - started)
    return Comparison(protocol, ours, replace(figures, loader_cores=cores))


async def _selfcheck(
    concurrency: int, duration_s: float
) -> tuple[list[Comparison], dict[str, str]]:
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
        sku = skus_for(0, 1)[0]
        ours_grpc = await _ours(targets, "grpc-unary", concurrency, duration_s)
        with tempfile.TemporaryDirectory() as workdir:
            payload = catalog_pb2.GetProductRequest(sku=sku).SerializeToString()
            rows = [
                await _theirs(
                    "h2load",
                    "gRPC vs h2load",
                    ours_grpc,
                    lambda: independent.run_h2load(
                        f"http://{grpc_address}{METHOD}",
                        payload,
                        Path(workdir),
                        concurrency=concurrency,
                        duration_s=duration_s,
                    ),
                )
            ]
        rows.append(
            await _theirs(
                "ghz",
                "gRPC vs ghz",
                ours_grpc,
                lambda: ghz.run_ghz(
                    grpc_address,
                    METHOD,
                    {"sku": sku},
                    concurrency=concurrency,
                    duration_s=duration_s,
                ),
            )
        )
        ours_rest = await _ours(targets, "rest-item", concurrency, duration_s)
        rows.append(
            await _theirs(
                "wrk",
                "REST vs wrk",
                ours_rest,
                lambda: independent.run_wrk(
                    f"{rest_url}/v1/products/{sku}", concurrency=concurrency, duration_s=duration_s
                ),
            )
        )
    finally:
        await group.stop()
    found = ghz.executable()
    return rows, {"ghz": ghz.version(found) if found else "not installed"}


async def _ours(targets: Targets, arm: str, concurrency: int, duration_s: float) -> LoaderFigures:
    """Our closed loop on the same single SKU the other loaders ask for; its CPU is this
    process's over the measured window (the mesh's supervisor idles meanwhile)."""
    channels = GrpcChannels(targets)
    pooled = HttpClient(targets, new_connection=False)
    fresh = HttpClient(targets, new_connection=True)
    cpu: list[float] = []

    async def mark_window() -> None:
        await asyncio.sleep(WARMUP_S)
        cpu.append(time.process_time())

    try:
        lookup = Shop(targets, channels, pooled, fresh).operation("lookup", ARMS[arm], 1, "self")
        marker = asyncio.create_task(mark_window())
        recording = await run_closed(lambda _: lookup(0), concurrency, Window(duration_s, WARMUP_S))
        await marker
        cores = (time.process_time() - cpu[0]) / recording.window_s
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
        loader_cores=cores,
    )
