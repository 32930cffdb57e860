"""Gateway overhead: the catalog through REST → gateway → gRPC versus gRPC direct.

``python -m tools.bench_gateway`` (``make bench-gateway``) starts the catalog service and
the gateway in front of it, both as deployed (``python -m services.catalog`` with its
access log on, ``python -m gateway``), and beside it, as the outside reference,
grpc-gateway generated for the same protos (``tools/grpcgateway``; when it is not built
the run says so and goes on without it). It measures three things on every path,
always with the same loader on each side:

- ``unary``: GetProduct under load with h2load, N keep-alive HTTP/1.1 connections to
  an edge against N gRPC streams on one HTTP/2 connection to the catalog;
- ``latency``: GetProduct one call at a time, a Python loop (aiohttp against grpc.aio);
- ``stream``: ListProducts (100 products), NDJSON against a gRPC server stream, Python
  loaders reading every message.

Each round starts fresh processes and runs the paths of each scenario back to back, in
an order that rotates between rounds; ratios and differences pair the paths within a
round, so drift on a noisy machine hits them alike. It prints the tables,
writes raw numbers as JSON and refreshes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshkit.manifest import load_manifest
from tools.bench import gateway_report, gateway_stats, h2load, h2load_paths
from tools.bench.gateway_stack import (
    CATALOG,
    GATEWAY,
    Stack,
    grpc_gateway_problem,
    grpc_gateway_version,
    running_stack,
)
from tools.bench.gateway_stats import (
    DIRECT,
    EDGES,
    GRPC_GATEWAY,
    LATENCY,
    STREAM,
    UNARY,
    PathSample,
)
from tools.bench.http_loader import (
    GRPC_STREAM,
    GRPC_UNARY,
    REST_STREAM,
    REST_UNARY,
    LoopResult,
    check_product,
)
from tools.bench.loader import BENCH_SKU, CALL_DEADLINE_S
from tools.bench.procs import LOADER_SLACK_S, REPO_ROOT
from tools.bench.session import exit_on_sigterm, workdir
from tools.bench.stats import counts_argument

DEFAULT_ROUNDS = 3
DEFAULT_UNARY_CONCURRENCY = (16, 64)
DEFAULT_STREAM_CONCURRENCY = (1, 8)
DEFAULT_LATENCY_CALLS = 2000
DEFAULT_LATENCY_WARMUP_CALLS = 200
DEFAULT_STREAM_LIMIT = 100
DEFAULT_WARMUP_S = 1.0
DEFAULT_DURATION_S = 3.0
DEFAULT_JSON = Path("build/bench/gateway.json")
DEFAULT_DOCS = Path("docs/benchmarks.md")
GOAL_RATIO = 0.6
"""The issue's targets: the gateway keeps this share of the direct path's requests/s,"""
GOAL_ADDED_P50_MS = 0.5
"""and adds at most this much to the p50 at light load."""
COUNTED_CALL_ALLOWANCE_S = 0.02
"""Per call of a counted loader run, on top of ``LOADER_SLACK_S``, before it is killed."""
KINDS = {
    (LATENCY, DIRECT): GRPC_UNARY,
    (LATENCY, GATEWAY): REST_UNARY,
    (LATENCY, GRPC_GATEWAY): REST_UNARY,
    (STREAM, DIRECT): GRPC_STREAM,
    (STREAM, GATEWAY): REST_STREAM,
    (STREAM, GRPC_GATEWAY): REST_STREAM,
}


@dataclass
class RunChecks:
    """Evidence gathered beside the figures, over every round."""

    loader_errors: int = 0
    catalog_access_lines: int = 0
    catalog_not_ok: int = 0
    warnings: int = 0
    """Log lines at WARNING or above, catalog and gateway."""
    grpc_gateway_not_run: str | None = None
    """Why grpc-gateway did not run (None: it ran)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument(
        "--unary-concurrency",
        type=counts_argument,
        default=DEFAULT_UNARY_CONCURRENCY,
        help="h2load: connections to the gateway = streams to the catalog (default 16,64)",
    )
    parser.add_argument(
        "--stream-concurrency",
        type=counts_argument,
        default=DEFAULT_STREAM_CONCURRENCY,
        help="ListProducts streams in flight, comma-separated (default 1,8)",
    )
    parser.add_argument("--latency-calls", type=int, default=DEFAULT_LATENCY_CALLS)
    parser.add_argument("--latency-warmup-calls", type=int, default=DEFAULT_LATENCY_WARMUP_CALLS)
    parser.add_argument("--stream-limit", type=int, default=DEFAULT_STREAM_LIMIT)
    parser.add_argument("--warmup", type=float, default=DEFAULT_WARMUP_S, help="seconds")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="raw numbers")
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="Markdown to update")
    parser.add_argument("--no-docs", action="store_true", help="leave the docs alone")
    parser.add_argument("--log-dir", type=Path, help="keep server logs here (default: temp)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0 or args.latency_calls < 1:
        parser.error("need rounds >= 1, duration > 0, warmup >= 0 and latency calls >= 1")
    if args.stream_limit < 1 or not args.stream_concurrency:
        parser.error("need a stream limit >= 1 and a stream concurrency")
    return args


def stack_paths(stack: Stack) -> tuple[str, ...]:
    """The paths a running stack serves: direct, our gateway, and grpc-gateway if it runs."""
    return (DIRECT, GATEWAY, GRPC_GATEWAY) if stack.grpc_gateway_url else (DIRECT, GATEWAY)


def path_order(round_: int, paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths rotated by one per round: each goes first in turn (with two, the direct
    one first in odd rounds and the gateway first in even ones)."""
    shift = (round_ - 1) % len(paths)
    return paths[shift:] + paths[:shift]


def loader_argv(
    args: argparse.Namespace, scenario: str, path: str, stack: Stack, concurrency: int
) -> list[str]:
    """The ``tools.bench.http_loader`` command for one Python-loader run."""
    target = stack.edge_url(path) if path in EDGES else stack.grpc_target
    argv = [sys.executable, "-m", "tools.bench.http_loader", KINDS[scenario, path], target]
    argv += [f"--pid={name}={pid}" for name, pid in stack.pids.items()]
    if scenario == LATENCY:
        return [
            *argv,
            f"--calls={args.latency_calls}",
            f"--warmup-calls={args.latency_warmup_calls}",
        ]
    return [
        *argv,
        f"--concurrency={concurrency}",
        f"--limit={args.stream_limit}",
        f"--warmup={args.warmup}",
        f"--duration={args.duration}",
    ]


def _run_loader(argv: list[str], timeout_s: float) -> LoopResult:
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        argv, capture_output=True, check=False, cwd=REPO_ROOT, timeout=timeout_s
    )
    if done.returncode != 0:
        raise RuntimeError(f"loader failed: {shlex.join(argv)}\n{done.stderr.decode()}")
    return LoopResult(**json.loads(done.stdout))


def _python_run(
    args: argparse.Namespace, scenario: str, path: str, stack: Stack, concurrency: int
) -> LoopResult:
    if scenario == LATENCY:
        calls = args.latency_calls + args.latency_warmup_calls
        timeout = LOADER_SLACK_S + calls * COUNTED_CALL_ALLOWANCE_S
    else:
        timeout = LOADER_SLACK_S + args.warmup + args.duration
    return _run_loader(loader_argv(args, scenario, path, stack, concurrency), timeout)


def _h2load_run(
    args: argparse.Namespace,
    exe: str,
    path: str,
    stack: Stack,
    concurrency: int,
    workdir: Path,
    round_: int,
) -> LoopResult:
    stem = workdir / f"h2load-round{round_}-{path}-c{concurrency}"
    log = stem.with_suffix(".tsv")
    timing = {"warmup_s": args.warmup, "duration_s": args.duration}
    if path in EDGES:
        url = f"{stack.edge_url(path)}/v1/products/{BENCH_SKU}"
        argv = h2load_paths.http1_command(exe, url, log, connections=concurrency, **timing)
    else:
        argv = h2load_paths.grpc_command(
            exe, stack.grpc_target, workdir, log, concurrency=concurrency, **timing
        )
    return h2load_paths.run(argv, stem.with_suffix(".txt"), log, stack.pids, **timing)


def check_paths(stack: Stack) -> None:
    """h2load sees only HTTP statuses, so the exact requests it will send are checked
    first: the gRPC frame through a Python channel, the GET to each edge through urllib."""
    h2load.verify_payload(stack.grpc_target, h2load.bench_payload())
    for path in stack_paths(stack):
        if path not in EDGES:
            continue
        url = f"{stack.edge_url(path)}/v1/products/{BENCH_SKU}"
        with urllib.request.urlopen(url, timeout=CALL_DEADLINE_S) as answer:  # noqa: S310 - our own loopback URL
            if answer.status != 200:
                raise RuntimeError(f"GET {url}: HTTP {answer.status}")
            check_product(json.loads(answer.read()), BENCH_SKU)


def _progress(sample: PathSample) -> None:
    s = sample.sample
    print(
        f"round {s.round} {s.loader:<7} {s.arm:<12} c{s.concurrency:<3} {s.rps:8,.0f} calls/s"
        f"  p50 {s.p50_ms:7.3f} ms  p99 {s.p99_ms:7.2f} ms  errors {s.errors}",
        file=sys.stderr,
        flush=True,
    )


def run_round(
    args: argparse.Namespace, round_: int, stack: Stack, workdir: Path, exe: str | None
) -> list[PathSample]:
    """Every scenario against every path of one running stack."""
    check_paths(stack)
    order = path_order(round_, stack_paths(stack))
    samples: list[PathSample] = []

    def record(scenario: str, path: str, concurrency: int, run: LoopResult) -> None:
        samples.append(gateway_stats.make_sample(scenario, path, round_, concurrency, run))
        _progress(samples[-1])

    for concurrency in args.unary_concurrency:
        for path in order:
            if exe is not None:
                run = _h2load_run(args, exe, path, stack, concurrency, workdir, round_)
                record(UNARY, path, concurrency, run)
    for path in order:
        record(LATENCY, path, 1, _python_run(args, LATENCY, path, stack, 1))
    for concurrency in args.stream_concurrency:
        for path in order:
            record(STREAM, path, concurrency, _python_run(args, STREAM, path, stack, concurrency))
    return samples


CATALOG_METHOD_PREFIX = '"rpc_method": "/shopmesh.catalog.v1.CatalogService/'


def log_counts(log: Path) -> tuple[int, int, int]:
    """From one process's JSON log file: (CatalogService access-log lines, those whose
    gRPC code was not OK, lines at WARNING or above). Health Watch lines are left out:
    the gateway's client-side health watch is cancelled, by design, when it stops."""
    calls = not_ok = warnings = 0
    if not log.exists():
        return 0, 0, 0
    with log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if CATALOG_METHOD_PREFIX in line:
                calls += 1
                not_ok += '"grpc_code": "OK"' not in line
            warnings += '"level": "WARNING"' in line or '"level": "ERROR"' in line
    return calls, not_ok, warnings


def run_rounds(
    args: argparse.Namespace, workdir: Path, exe: str | None
) -> tuple[list[PathSample], RunChecks]:
    services = [spec.name for spec in load_manifest().services]
    samples: list[PathSample] = []
    checks = RunChecks(grpc_gateway_not_run=grpc_gateway_problem())
    if checks.grpc_gateway_not_run:
        print(f"grpc-gateway not run: {checks.grpc_gateway_not_run}", file=sys.stderr)
    for round_ in range(1, args.rounds + 1):
        with running_stack(
            workdir,
            f"round{round_}",
            os.environ,
            services,
            with_grpc_gateway=checks.grpc_gateway_not_run is None,
        ) as stack:
            samples += run_round(args, round_, stack, workdir, exe)
        calls, not_ok, warnings = log_counts(stack.logs[CATALOG])
        checks.catalog_access_lines += calls
        checks.catalog_not_ok += not_ok
        checks.warnings += warnings + log_counts(stack.logs[GATEWAY])[2]
    checks.loader_errors = sum(s.sample.errors for s in samples)
    return samples, checks


def notes(checks: RunChecks, args: argparse.Namespace) -> list[str]:
    """One line per check, for the docs."""
    where = "kept in --log-dir" if args.log_dir else "temp files deleted after the run"
    return [
        f"errors seen by the loaders, all scenarios and rounds: {checks.loader_errors}",
        f"catalog access-log lines for CatalogService calls (warm-ups and checks included): "
        f"{checks.catalog_access_lines:,}, not OK: {checks.catalog_not_ok} ({where})",
        f"catalog and gateway log lines at WARNING or above: {checks.warnings}",
        "before h2load in each round, its exact gRPC frame went through a Python channel and "
        "its GET through urllib, both answers checked; every Python loader run checked its "
        f"first answer in full (the product {BENCH_SKU}, or {args.stream_limit} products)",
        "gateway settings: defaults (response cache off, tracing off) except "
        "GATEWAY_RATE_LIMIT_PER_S=0 (rate limiting off: one client at 50/s would get 429s) "
        "and GATEWAY_MAX_CONCURRENCY=1024 (default 512; the limiter still runs)",
        _reference_note(checks),
    ]


def _reference_note(checks: RunChecks) -> str:
    if checks.grpc_gateway_not_run:
        return f"grpc-gateway: not run, {checks.grpc_gateway_not_run}"
    return (
        "grpc-gateway: the reverse proxy protoc-gen-grpc-gateway generates for the same "
        "protos (version below), in tools/grpcgateway (Go), "
        "on grpc-gateway's defaults (no auth, limits, cache or access log), routing the "
        "catalog's RPCs with a 10 s upstream deadline like ours, on the same catalog in the "
        "same rounds, driven by the same loaders"
    )


def write_outputs(
    args: argparse.Namespace,
    argv: Sequence[str],
    facts: Mapping[str, str],
    when: str,
    samples: list[PathSample],
    checks: RunChecks,
) -> None:
    """The tables on stdout, the JSON file and (unless --no-docs) the docs section."""
    summaries = gateway_stats.summarize(samples)
    paired, deltas = gateway_stats.ratios(samples), gateway_stats.added_p50(samples)
    versus = gateway_stats.versus_reference(samples)
    tables = [
        gateway_report.reference_table(summaries, versus, deltas),
        gateway_report.unary_table(summaries, paired),
        gateway_report.latency_table(summaries, deltas),
        gateway_report.stream_table(summaries, paired),
    ]
    goals = gateway_report.goal_lines(
        paired, deltas, min_ratio=GOAL_RATIO, max_added_ms=GOAL_ADDED_P50_MS
    )
    print("\n\n".join(gateway_report.text_table(t) for t in tables if t.rows))
    command = shlex.join([".venv/bin/python", "-m", "tools.bench_gateway", *argv])
    settings: dict[str, Any] = {
        k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
    }
    settings |= {"command": command, "started": when}
    run_notes = notes(checks, args)
    gateway_report.write_json(
        REPO_ROOT / args.json,
        facts=facts,
        settings=settings,
        samples=samples,
        summaries=summaries,
        ratios=paired,
        versus_reference=versus,
        deltas=deltas,
        checks={"notes": run_notes} | vars(checks),
    )
    if not args.no_docs:
        docs = REPO_ROOT / args.docs
        block = gateway_report.docs_block(
            command=command,
            when=when,
            goals=goals,
            tables=[t for t in tables if t.rows],
            notes=run_notes,
            facts=facts,
        )
        docs.parent.mkdir(parents=True, exist_ok=True)
        text = docs.read_text(encoding="utf-8") if docs.exists() else ""
        docs.write_text(gateway_report.update_docs(text, block), encoding="utf-8")
    print("\n" + "\n".join(goals))
    print(f"JSON: {args.json}" + ("" if args.no_docs else f"; docs: {args.docs}"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    exit_on_sigterm()
    exe = h2load.available() if args.unary_concurrency else None
    if args.unary_concurrency and not exe:
        print(
            "h2load not found (apt-get install nghttp2-client): no unary scenario", file=sys.stderr
        )
    facts = gateway_report.machine_facts(exe) | {"grpc-gateway": grpc_gateway_version()}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with workdir("bench-gateway-", args.log_dir) as folder:
        samples, checks = run_rounds(args, folder, exe)
    write_outputs(args, argv, facts, when, samples, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
