"""A whole run: start (or reach) the meshes, drive every scenario's arms one after the
other with a progress bar, and collect one ``RunResult``."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import random
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from loadtest.arms import arms_for
from loadtest.clients import GrpcChannels, HttpClient
from loadtest.local import local_meshes
from loadtest.measure import Load, describe_method, measure_arm
from loadtest.operations import Shop
from loadtest.results import ArmResult, RunResult
from loadtest.schedule import Recording
from loadtest.targets import Targets


@dataclass(frozen=True)
class Plan:
    scenarios: Sequence[str]
    items: int
    load: Load
    arms: tuple[str, ...] = ()
    """Only these arms (empty: every arm of each scenario)."""
    rates: Mapping[str, float] | None = None
    """Open-loop rate per scenario, overriding ``load.rate_per_s``."""


@asynccontextmanager
async def reach(
    targets: Targets | None, data_dir: Path, env: Mapping[str, str], console: Console
) -> AsyncIterator[Targets]:
    """The given targets, or meshes started here for the duration of the block."""
    if targets is not None:
        yield targets
        return
    console.print("starting the gRPC mesh, the gateway and the REST mesh ...")
    async with local_meshes(data_dir, env, on_stopped=console.print) as started:
        console.print(f"{len(started.pids)} processes serving")
        yield started


async def execute(
    plan: Plan, targets: Targets, console: Console, *, netns: bool, notes: Sequence[str] = ()
) -> RunResult:
    run_id = f"{random.getrandbits(32):08x}"
    channels = GrpcChannels(targets)
    pooled = HttpClient(targets, new_connection=False)
    fresh = HttpClient(targets, new_connection=True)
    shop = Shop(targets, channels, pooled, fresh)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    arms: list[ArmResult] = []
    try:
        with Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            for scenario in plan.scenarios:
                load = plan.load
                if plan.rates and scenario in plan.rates:
                    load = dataclasses.replace(load, rate_per_s=plan.rates[scenario])
                for arm in arms_for(scenario, plan.arms):
                    expected = _expected_measured(load)
                    task = progress.add_task(f"{scenario} · {arm.name}", total=expected)
                    result = await measure_arm(
                        shop,
                        targets,
                        arm,
                        scenario,
                        plan.items,
                        load,
                        f"{run_id}.{scenario}.{arm.name}",
                        netns=netns,
                        pooled=pooled,
                        on_progress=_advance(progress, task),
                    )
                    progress.update(task, completed=result.operations, total=result.operations)
                    arms.append(result)
    finally:
        await channels.close()
        await pooled.close()
        await fresh.close()
    return RunResult(
        started_at=started_at,
        settings=_settings(plan),
        environment=_environment(netns, targets),
        arms=arms,
        method=describe_method(netns, targets),
        notes=list(notes),
    )


def _advance(progress: Progress, task: TaskID) -> Callable[[Recording], None]:
    def advance(recording: Recording) -> None:
        progress.update(task, completed=recording.operations)

    return advance


def _expected_measured(load: Load) -> int | None:
    if load.max_operations:
        return load.max_operations
    if load.model == "open":
        return int(load.rate_per_s * load.duration_s)
    return None


def _settings(plan: Plan) -> dict[str, Any]:
    load = plan.load
    settings: dict[str, Any] = {
        "scenarios": list(plan.scenarios),
        "items": plan.items,
        "model": load.model,
        "duration_s": load.duration_s,
        "warmup_s": load.warmup_s,
    }
    if load.model == "open":
        settings["rate_per_s"] = dict(plan.rates) if plan.rates else load.rate_per_s
    else:
        settings["concurrency"] = load.concurrency
    if load.max_operations:
        settings["max_operations"] = load.max_operations
    if plan.arms:
        settings["arms"] = list(plan.arms)
    return settings


def _environment(netns: bool, targets: Targets) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "platform": platform.platform(),
        "targets": "started locally" if targets.local else "given",
        "private_netns": netns,
        "argv": " ".join(sys.argv[1:]),
    }
