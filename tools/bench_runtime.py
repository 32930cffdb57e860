"""Runtime overhead: GetProduct through ServiceHost versus a bare grpc.aio servicer.

``python -m tools.bench_runtime`` (``make bench-runtime``) runs three server arms, each
in its own process — ``bare`` (generated servicer answering prebuilt responses, nothing
else), ``runtime`` (ServiceHost with the real catalog, access log on, tracing off) and
``runtime+tracing`` (the same with real OpenTelemetry spans, exported nowhere) — and
drives each with the same loaders in another process. Rounds interleave the arms and
ratios pair arms within a round, so drift on a noisy machine hits every arm alike.
It prints a table, writes raw numbers as JSON and refreshes the section of
docs/benchmarks.md between its markers.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

from tools.bench import h2load, report
from tools.bench.checks import ServerCheck, access_log_counts, notes
from tools.bench.loader import LoadResult
from tools.bench.procs import REPO_ROOT, ServerProcess, run_python_loader, running_server
from tools.bench.server import ARMS, BARE, RUNTIME
from tools.bench.session import exit_on_sigterm, workdir
from tools.bench.stats import Sample, counts_argument, ratios, summarize

DEFAULT_ROUNDS = 3
DEFAULT_CONCURRENCY = (16, 64)
DEFAULT_H2LOAD_CONCURRENCY = (64,)
DEFAULT_WARMUP_S = 1.0
DEFAULT_DURATION_S = 3.0
DEFAULT_JSON = Path("build/bench/runtime.json")
DEFAULT_DOCS = Path("docs/benchmarks.md")
GOAL_RATIO = 0.7
"""The issue's target: the runtime keeps this share of bare requests/s, tracing off."""
PYTHON_LOADER = "python"
H2LOAD_LOADER = "h2load"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument(
        "--concurrency",
        type=counts_argument,
        default=DEFAULT_CONCURRENCY,
        help="calls in flight for the Python loader, comma-separated (default 16,64)",
    )
    parser.add_argument(
        "--h2load-concurrency",
        type=counts_argument,
        default=DEFAULT_H2LOAD_CONCURRENCY,
        help="streams in flight for h2load, comma-separated; empty to skip (default 64)",
    )
    parser.add_argument("--warmup", type=float, default=DEFAULT_WARMUP_S, help="seconds")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="raw numbers")
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="Markdown to update")
    parser.add_argument("--no-docs", action="store_true", help="leave the docs alone")
    parser.add_argument("--log-dir", type=Path, help="keep server logs here (default: temp)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0 or not args.concurrency:
        parser.error("need rounds >= 1, duration > 0, warmup >= 0 and a concurrency")
    return args


def _sample(loader: str, arm: str, round_: int, concurrency: int, run: LoadResult) -> Sample:
    rps = run.requests / run.duration_s
    server_cores = run.server_cpu_s / run.cpu_interval_s
    return Sample(
        loader=loader,
        arm=arm,
        round=round_,
        concurrency=concurrency,
        requests=run.requests,
        errors=run.errors,
        duration_s=run.duration_s,
        rps=rps,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        server_cpu_us_per_request=server_cores / rps * 1e6 if rps else math.nan,
        loader_cpu_util=run.loader_cpu_s / run.cpu_interval_s,
    )


def _drive(
    server: ServerProcess,
    round_: int,
    args: argparse.Namespace,
    workdir: Path,
    h2load_exe: str | None,
) -> list[Sample]:
    """Every loader run against one server process."""
    samples = []
    timing = {"warmup_s": args.warmup, "duration_s": args.duration}
    for concurrency in args.concurrency:
        run = run_python_loader(server, concurrency=concurrency, **timing)
        samples.append(_sample(PYTHON_LOADER, server.arm, round_, concurrency, run))
        _progress(samples[-1])
    if h2load_exe and args.h2load_concurrency:
        h2load.verify_payload(server.target, h2load.bench_payload())
        for concurrency in args.h2load_concurrency:
            run = h2load.run(h2load_exe, server, workdir, concurrency=concurrency, **timing)
            samples.append(_sample(H2LOAD_LOADER, server.arm, round_, concurrency, run))
            _progress(samples[-1])
    return samples


def _progress(sample: Sample) -> None:
    print(
        f"round {sample.round} {sample.arm:<16} {sample.loader:<6} c{sample.concurrency:<4}"
        f" {sample.rps:8,.0f} req/s  p99 {sample.p99_ms:6.2f} ms  errors {sample.errors}",
        file=sys.stderr,
        flush=True,
    )


def run_rounds(
    args: argparse.Namespace, workdir: Path, h2load_exe: str | None
) -> tuple[list[Sample], list[ServerCheck]]:
    """All rounds; each starts the arms in a rotated order so none always goes first."""
    samples: list[Sample] = []
    checks: list[ServerCheck] = []
    for round_ in range(1, args.rounds + 1):
        shift = (round_ - 1) % len(ARMS)
        for arm in ARMS[shift:] + ARMS[:shift]:
            tag = f"round{round_}-{arm}"
            with running_server(arm, workdir, tag) as server:
                samples += _drive(server, round_, args, workdir, h2load_exe)
            lines, not_ok = access_log_counts(server.log)
            checks.append(ServerCheck(round_, arm, server.spans or 0, lines, not_ok))
    return samples, checks


def write_outputs(
    args: argparse.Namespace,
    argv: list[str] | None,
    facts: dict[str, str],
    when: str,
    samples: list[Sample],
    checks: list[ServerCheck],
) -> None:
    """The table on stdout, the JSON file and (unless --no-docs) the docs section."""
    summaries, paired = summarize(samples), ratios(samples, BARE)
    table = report.rows(summaries, paired)
    goal = report.goal_line(paired, RUNTIME, GOAL_RATIO)
    print(report.text_table(table))
    command = shlex.join([".venv/bin/python", "-m", "tools.bench_runtime", *(argv or sys.argv[1:])])
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    settings |= {"command": command, "started": when}
    report.write_json(
        REPO_ROOT / args.json,
        facts=facts,
        settings=settings,
        samples=samples,
        summaries=summaries,
        ratios=paired,
        checks=checks,
    )
    if not args.no_docs:
        docs = REPO_ROOT / args.docs
        lines = notes(samples, checks, logs_kept=args.log_dir is not None)
        block = report.docs_block(
            command=command, when=when, goal=goal, facts=facts, table=table, notes=lines
        )
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(report.update_docs(docs.read_text() if docs.exists() else "", block))
    print(f"\n{goal} (tracing off)")
    print(f"JSON: {args.json}" + ("" if args.no_docs else f"; docs: {args.docs}"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    h2load_exe = h2load.available() if args.h2load_concurrency else None
    if args.h2load_concurrency and not h2load_exe:
        print("h2load not found: Python loader only", file=sys.stderr)
    facts = report.machine_facts(h2load_exe)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with workdir("bench-runtime-", args.log_dir) as folder:
        samples, checks = run_rounds(args, folder, h2load_exe)
    write_outputs(args, argv, facts, when, samples, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
