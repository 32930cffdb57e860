"""``python -m loadtest chaos``: the command line of the chaos suite."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import uvloop

from loadtest.chaos import report
from loadtest.chaos.faults import CATALOGUE, QUICK
from loadtest.chaos.mesh import VARIANTS
from loadtest.chaos.scenario import Settings
from loadtest.chaos.suite import Plan, run_suite

DEFAULT_OUT = Path("build/chaos")
QUICK_SETTINGS = Settings(rate_per_s=10.0, pre_s=1.5, hold_s=2.0, post_s=2.0)
"""The short version CI runs: fewer faults, half the rate, shorter windows."""


def _names(known: Sequence[str]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in text.split(",") if name.strip())
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown: {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return names

    return parse


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("SHOPMESH_"):
        raise argparse.ArgumentTypeError(f"want SHOPMESH_NAME=value, got {text!r}")
    return name, value


def add_parser(commands: Any) -> None:
    """Adds ``chaos`` to ``python -m loadtest``'s subcommands."""
    chaos = commands.add_parser(
        "chaos",
        help="inject faults into a local mesh under checkout load, then check the books",
        description=(
            "Open-loop checkouts against a local mesh while faults are injected (SIGKILL of"
            " each service, SIGTERM, a hung or slow dependency, a cut link, duplicate"
            " deliveries), then invariants read from the services' APIs. Exit 1 on any"
            " violation or unmet expectation."
        ),
    )
    defaults = Settings()
    chaos.add_argument("--variants", type=_names(tuple(VARIANTS)), default=tuple(VARIANTS))
    chaos.add_argument("--faults", type=_names(tuple(CATALOGUE)), default=tuple(CATALOGUE))
    chaos.add_argument(
        "--quick", action="store_true", help=f"the short version: {', '.join(QUICK)}, 10/s"
    )
    for flag, value, what in (
        ("--rate", defaults.rate_per_s, "checkouts per second, open loop"),
        ("--pre-s", defaults.pre_s, "load before the fault"),
        ("--hold-s", defaults.hold_s, "how long a timed fault lasts"),
        ("--post-s", defaults.post_s, "load after the fault"),
        ("--deadline-s", defaults.deadline_s, "each PlaceOrder's deadline"),
    ):
        chaos.add_argument(flag, type=float, help=f"{what} (default: {value:g})")
    chaos.add_argument("--items", type=int, help=f"items per order (default: {defaults.items})")
    chaos.add_argument(
        "--orders-env",
        type=_setting,
        action="append",
        default=[],
        metavar="SHOPMESH_X=V",
        help="a setting for orders alone, e.g. SHOPMESH_ORDERS_SKIP_STOCK_RELEASE=1",
    )
    chaos.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder")
    chaos.add_argument("--name", default="chaos", help="report file stem")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Runs the plan the arguments describe; 0 when everything that ran passed."""
    settings = QUICK_SETTINGS if args.quick else Settings()
    given = {
        "rate_per_s": args.rate,
        "pre_s": args.pre_s,
        "hold_s": args.hold_s,
        "post_s": args.post_s,
        "deadline_s": args.deadline_s,
        "items": args.items,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in given.items() if v is not None})
    faults = args.faults
    if args.quick and faults == tuple(CATALOGUE):
        faults = QUICK
    plan = Plan(args.variants, faults, settings, dict(args.orders_env))

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    result = uvloop.run(run_suite(plan, args.out, say))
    markdown, data = report.write(result, args.out, args.name)
    out.write("\n" + report.render(result))
    out.write(f"report: {markdown}  json: {data}\n")
    return 0 if result.passed else 1
