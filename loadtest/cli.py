"""``python -m loadtest``: run, compare, demo, diff, merge, selfcheck, chaos.

``run`` drives the chosen scenarios and arms and writes the JSON report (encoded
histograms), Markdown and an HTML chart; ``compare`` is ``run`` with the standard
settings (Python and Go services, and the server CPU per message of each); ``demo`` a
short one (Python services). When they start the meshes themselves they first re-run
under ``unshare --net`` (when this machine allows it) so the kernel's connection and byte
counters describe this run's traffic alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import uvloop
from rich.console import Console

from loadtest import kernel
from loadtest.arms import ARMS, SCENARIOS
from loadtest.chaos import cli as chaos_cli
from loadtest.measure import Load
from loadtest.message_cost import CostPlan
from loadtest.results import RunResult
from loadtest.run import Plan, execute, reach
from loadtest.targets import Targets
from meshkit.manifest import GO, IMPLEMENTATIONS, PYTHON
from runner import PreflightError

DEFAULT_OUT = Path("build/loadtest")
STANDARD_RATES = {"lookup": 200.0, "checkout": 20.0, "quote-stream": 100.0, "mix": 60.0}
"""Open-loop rates of ``compare`` on a 2-core machine: well inside what every arm
sustains, so latency is measured at a load, not at saturation."""
DEMO_RATES = {"lookup": 100.0, "checkout": 10.0}
PIPED_WIDTH = 220
STANDARD_COST_MESSAGES = 20_000
"""QuoteStream messages per implementation in ``compare``'s message-cost measurement."""
CALLS_PER_STREAM_MESSAGE = 0.2
"""Unary and REST calls cost more each: a fifth as many keeps each workload a few seconds."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _add_run_options(command: argparse.ArgumentParser, *, defaults: Mapping[str, object]) -> None:
    command.add_argument(
        "--scenarios",
        type=_names,
        default=defaults["scenarios"],
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default: %(default)s)",
    )
    command.add_argument(
        "--arms", type=_names, default=(), help=f"only these arms, of {', '.join(ARMS)}"
    )
    command.add_argument("--items", type=int, default=10, help="line items per checkout/quote")
    command.add_argument("--model", choices=("open", "closed"), default="open")
    command.add_argument(
        "--rate", type=float, default=None, help="open loop: operations/s (default per scenario)"
    )
    command.add_argument("--concurrency", type=int, default=8, help="closed loop: workers")
    command.add_argument("--duration", type=float, default=defaults["duration"], help="seconds")
    command.add_argument("--warmup", type=float, default=defaults["warmup"], help="seconds")
    command.add_argument("--max-ops", type=int, default=0, help="cap measured operations")
    command.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder")
    command.add_argument("--name", default=str(defaults["name"]), help="report file stem")
    command.add_argument("--data-dir", type=Path, default=Path("data/loadtest"))
    command.add_argument(
        "--targets",
        type=Path,
        help="JSON file of running targets (grpc, rest, gateway, metrics; tls, authority,"
        " ca_file) instead of starting the meshes here",
    )
    command.add_argument(
        "--no-netns", action="store_true", help="do not re-run in a private network namespace"
    )
    command.add_argument(
        "--impls",
        type=_names,
        default=defaults["impls"],
        help="run the arms whose pricing and inventory are these implementations, of"
        f" {', '.join(IMPLEMENTATIONS)} (default: %(default)s; go needs `make go-build`)",
    )
    command.add_argument(
        "--cost-messages",
        type=int,
        default=defaults["cost_messages"],
        help="measure each pricing's server CPU per message with this many QuoteStream"
        " messages (and a fifth as many unary and REST calls); 0: skip (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest",
        description="Measure chattiness and latency of the gRPC mesh against the REST baseline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="drive scenarios and arms, write the reports")
    _add_run_options(
        run,
        defaults={
            "scenarios": ("checkout",),
            "duration": 10.0,
            "warmup": 2.0,
            "name": "run",
            "impls": (PYTHON, GO),
            "cost_messages": 0,
        },
    )
    compare = commands.add_parser("compare", help="the standard comparison (about 6 minutes)")
    _add_run_options(
        compare,
        defaults={
            "scenarios": ("lookup", "checkout", "quote-stream"),
            "duration": 10.0,
            "warmup": 2.0,
            "name": "compare",
            "impls": (PYTHON, GO),
            "cost_messages": STANDARD_COST_MESSAGES,
        },
    )
    demo = commands.add_parser("demo", help="a short comparison (about a minute)")
    _add_run_options(
        demo,
        defaults={
            "scenarios": ("lookup", "checkout"),
            "duration": 3.0,
            "warmup": 1.0,
            "name": "demo",
            "impls": (PYTHON,),
            "cost_messages": 0,
        },
    )
    diff = commands.add_parser("diff", help="compare two JSON reports arm by arm")
    diff.add_argument("first", type=Path)
    diff.add_argument("second", type=Path)
    merge = commands.add_parser("merge", help="merge repeated runs into one report, losslessly")
    merge.add_argument("reports", type=Path, nargs="+")
    merge.add_argument("-o", "--output", type=Path, required=True)
    selfcheck = commands.add_parser(
        "selfcheck", help="our loader against h2load and ghz (gRPC) and wrk (REST) on one endpoint"
    )
    selfcheck.add_argument("--concurrency", type=int, default=16)
    selfcheck.add_argument("--duration", type=float, default=5.0)
    selfcheck.add_argument("--out", type=Path, default=DEFAULT_OUT)
    chaos_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> int:
    args = build_parser().parse_args(argv)
    # Piped output has no width to follow: wide enough that the arm table stays a table.
    width = None if out.isatty() else PIPED_WIDTH
    console = Console(file=out, no_color="NO_COLOR" in env, width=width)
    if args.command == "diff":
        from loadtest.report import render_diff

        out.write(render_diff(RunResult.load(args.first), RunResult.load(args.second)))
        return 0
    if args.command == "merge":
        from loadtest.report import merge_runs

        merge_runs([RunResult.load(path) for path in args.reports]).save(args.output)
        out.write(f"merged {len(args.reports)} run(s) into {args.output}\n")
        return 0
    if args.command == "selfcheck":
        from loadtest.selfcheck import run_selfcheck

        return run_selfcheck(args.concurrency, args.duration, args.out, console)
    if args.command == "chaos":
        return chaos_cli.run(args, out)
    return _run(args, argv, env, console)


def _run(
    args: argparse.Namespace, argv: Sequence[str], env: Mapping[str, str], console: Console
) -> int:
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        console.print(f"unknown scenario(s): {', '.join(unknown)}")
        return 2
    unknown = sorted(set(args.impls) - set(IMPLEMENTATIONS))
    if unknown or not args.impls:
        console.print(f"--impls takes {', '.join(IMPLEMENTATIONS)}; got {', '.join(args.impls)}")
        return 2
    targets = _targets_file(args.targets) if args.targets else None
    notes: list[str] = []
    in_netns = kernel.in_private_netns(env)
    if targets is None and not in_netns and not args.no_netns:
        rerun = kernel.private_netns_argv(
            [sys.executable, "-m", "loadtest", *argv], os.geteuid() == 0
        )
        if rerun is not None and _can_unshare(rerun):
            return subprocess.call(rerun, env={**env, kernel.NETNS_ENV: "1"})  # noqa: S603
        notes.append(
            "No private network namespace here (unshare unavailable or not permitted):"
            " connection and byte counts were not measured."
        )
    if in_netns:
        kernel.bring_loopback_up()
    load = Load(
        model=args.model,
        rate_per_s=args.rate or 20.0,
        concurrency=args.concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
        max_operations=args.max_ops,
    )
    rates = None if args.rate else (DEMO_RATES if args.command == "demo" else STANDARD_RATES)
    plan = Plan(
        tuple(args.scenarios),
        args.items,
        load,
        tuple(args.arms),
        rates,
        impls=tuple(impl for impl in IMPLEMENTATIONS if impl in args.impls),
        cost=_cost_plan(args.cost_messages),
    )
    try:
        plan.needed_impls()  # refuses an arm of an implementation not chosen
    except ValueError as exc:
        console.print(str(exc))
        return 2
    try:
        # uvloop: the loader's own cost per request is what the self-check measures.
        result = uvloop.run(_drive(plan, targets, args.data_dir, env, console, in_netns, notes))
    except PreflightError as exc:
        console.print(f"cannot start the meshes: {exc}; or pass --impls {PYTHON}")
        return 2
    return _report(result, args.out, args.name, console)


def _cost_plan(messages: int) -> CostPlan | None:
    if messages <= 0:
        return None
    calls = max(1, round(messages * CALLS_PER_STREAM_MESSAGE))
    return CostPlan(stream_messages=messages, unary_calls=calls, rest_calls=calls)


async def _drive(
    plan: Plan,
    targets: Targets | None,
    data_dir: Path,
    env: Mapping[str, str],
    console: Console,
    netns: bool,
    notes: list[str],
) -> RunResult:
    async with reach(targets, data_dir, env, console, plan.needed_impls()) as reached:
        return await execute(plan, reached, console, netns=netns and reached.local, notes=notes)


def _report(result: RunResult, folder: Path, name: str, console: Console) -> int:
    from loadtest.report import render_terminal, write_chart, write_markdown

    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{name}.{kind}" for kind in ("json", "md", "html")}
    result.save(paths["json"])
    write_markdown(result, paths["md"])
    write_chart(result, paths["html"])
    render_terminal(result, console)
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"report: {paths['json']}  markdown: {paths['md']}  chart: {paths['html']}")
    failed = sum(arm.operations - arm.ok for arm in result.arms)
    return 0 if failed == 0 else 1


def _can_unshare(rerun: Sequence[str]) -> bool:
    """Whether ``unshare`` works here (containers often forbid it)."""
    probe = [*rerun[: rerun.index("--")], "--", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0  # noqa: S603


def _targets_file(path: Path) -> Targets:
    """A targets file; a ``"go"`` key holds the same shape for the Go arms' meshes."""
    raw = json.loads(path.read_text())
    alternatives = {GO: _targets_of(raw.pop(GO))} if GO in raw else {}
    return dataclasses.replace(_targets_of(raw), alternatives=alternatives)


def _targets_of(raw: dict[str, object]) -> Targets:
    if raw.get("ca_file"):
        raw["ca_file"] = Path(str(raw["ca_file"]))
    return Targets(**raw)  # type: ignore[arg-type]
